"""The page's events: what each one computes (:class:`PageHandlers`) and which components it reads and writes
(:func:`wire_events`).

Named API endpoints, for programs: ``/predict`` (an image file -> ``{"label", "probs", ...}``) and ``/draw`` (the
pad's stroke JSON -> the seven live views as HTML). The page's own events are private: they also carry the visible
lesson (demo/page/lesson_tabs.py), computed in the same event so a drawing costs one round trip. A click on any
value of the overview or the feature maps asks, through a private event, how it was made (the inspector, on the
model input the page holds for the lessons).
"""

from __future__ import annotations

import itertools
import json
import logging
from typing import Any

import gradio as gr
import numpy as np

from demo.core.classifier import Classifier
from demo.server.jobs import page_file, predict_image
from demo.server.work import Busy, JobFailed, WorkPool
from demo.texts import plain
from demo.views.live import (
    ViewUpdate,
    decode_input,
    guarded_views,
    kept_views,
    views_for_drawing,
    views_for_image,
)
from demo.views.tabs.inspector import inspector_html

from .language import in_request_language
from .layout import INSPECTOR_CLOSED, PageLayout

log = logging.getLogger("convscope")


class PageHandlers:
    """The events' work, for one loaded classifier; ``workers`` (the live route's pool) computes the uploads' work
    in its processes, so the web server's process stays free for the class's requests. Nothing per user is kept
    here: every handler is a function of what the event brings."""

    def __init__(self, clf: Classifier, layout: PageLayout, workers: WorkPool | None = None,
                 mnist_samples: list[tuple[np.ndarray, int]] | None = None) -> None:
        self.clf = clf
        self.layout = layout
        self.workers = workers
        self.mnist_samples = mnist_samples or []
        self.update_numbers = itertools.count(1)

    def predict(self, image: bytes | None) -> dict[str, Any]:
        """Classify an image file: {"label": 0-9 or null (no digit), "probs": [10 floats], "looks_like_digit": bool,
        "digit_score": float}; the label is the network's top class even for a drawing that is not a digit."""
        if image is None:
            raise gr.Error(plain("views.live.no_file"))
        try:
            result = self.workers.run_sync(predict_image, image) if self.workers else predict_image(self.clf, image)
        except (Busy, JobFailed) as error:
            raise gr.Error(error.message) from None
        except Exception:  # a bug: logged, and the caller gets a clear message, not a hang
            log.exception("unexpected error in /predict")
            raise gr.Error(plain("page.wiring.predict_failed")) from None
        if "error" in result:
            raise gr.Error(result["error"])
        return result

    def draw(self, drawing_json: str) -> dict[Any, Any]:
        """The pad's stroke JSON -> the seven live views (prediction, probabilities, model input, feature maps,
        pooled maps, notice, the network overview), as HTML; a view that does not change is skipped."""
        update = guarded_views(views_for_drawing, self.clf, drawing_json)
        return {self.layout.live[name]: html for name, html in update.html.items()}

    def page_update(self, update: ViewUpdate, values: dict[Any, Any]) -> dict[Any, Any]:
        """One update of the page: the live views that changed, then the lessons (in the same event).

        The live route also writes these views in the page, behind Gradio's back, so Gradio's copy of a view may
        equal the new HTML while the page shows another drawing; a marker unique to this update makes Gradio draw
        it in any case."""
        marker = f"<!-- update {next(self.update_numbers)} -->"
        views_html = {self.layout.live[name]: html + marker for name, html in update.html.items()}
        return {**views_html, **self.layout.tabs.after_update(update, values)}

    def on_pad(self, values: dict[Any, Any]) -> dict[Any, Any]:
        text = values[self.layout.pad]
        model_input = lesson_input(text)
        if model_input is not None:  # the views came from the live route; only the open lesson is left
            return self.layout.tabs.after_update(ViewUpdate({}, decode_input(model_input)), values)
        return self.page_update(guarded_views(views_for_drawing, self.clf, text), values)

    def on_file(self, values: dict[Any, Any]) -> dict[Any, Any]:
        data = values[self.layout.upload]
        try:
            update = self.workers.run_sync(page_file, data) if self.workers else page_file(self.clf, data)
        except Busy:
            update = kept_views(plain("page.wiring.busy"))
        except JobFailed as error:
            update = kept_views(plain("page.wiring.file_unreadable", reason=error.message))
        # The file box is emptied again, so the next file can be dropped straight away.
        return {**self.page_update(update, values), self.layout.upload: None}

    def on_sample(self, values: dict[Any, Any], evt: gr.SelectData) -> dict[Any, Any]:
        image, _ = self.mnist_samples[evt.index]
        return self.page_update(guarded_views(views_for_image, self.clf, image), values)

    def on_inspect(self, values: dict[Any, Any]) -> str:
        """A click on a value of the overview or the feature maps -> how that value was made."""
        request = inspect_request_from(values[self.layout.inspect_request])
        if request is None:
            return INSPECTOR_CLOSED
        # A marker unique to this answer: the page may have closed the panel showing the same HTML.
        marker = f"<!-- inspection {next(self.update_numbers)} -->"
        return inspector_html(self.clf.model, decode_input(values[self.layout.tabs.current]), *request) + marker


def wire_events(page: PageLayout, handlers: PageHandlers) -> None:
    """Connects the components to the handlers (inside the page's ``gr.Blocks``)."""
    tabs = page.tabs
    page.pad.change(in_request_language(handlers.on_pad), inputs={page.pad, *tabs.inputs}, outputs=page.page_outputs,
                    api_visibility="private", trigger_mode="always_last", show_progress="hidden",
                    concurrency_limit=None)
    page.upload.upload(in_request_language(handlers.on_file), inputs={page.upload, *tabs.inputs},
                       outputs=[*page.page_outputs, page.upload], api_visibility="private", show_progress="hidden")
    page.inspect_request.change(in_request_language(handlers.on_inspect), inputs={page.inspect_request, tabs.current},
                                outputs=page.inspector, api_visibility="private", trigger_mode="always_last",
                                show_progress="hidden")
    if page.samples is not None:
        page.samples.select(in_request_language(handlers.on_sample), inputs=tabs.inputs, outputs=page.page_outputs,
                            api_visibility="private", show_progress="hidden")
    # For programs (and bench/load.py): the same work as the pad's event, without the page's lesson state.
    page.api_draw_button.click(in_request_language(handlers.draw), inputs=page.api_drawing, outputs=page.live_views,
                               api_name="draw", concurrency_limit=None)
    page.api_button.click(in_request_language(handlers.predict), inputs=page.api_file, outputs=page.api_result,
                          api_name="predict")


def lesson_input(text: str | None) -> str | None:
    """The encoded model input when the pad's message is the lesson-input message it sends after a live update
    (``{"kind": "lesson-input", "input": ...}``); None for a drawing (the pad without a live route sends those)."""
    if not text or '"lesson-input"' not in text:
        return None
    try:
        message = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if isinstance(message, dict) and message.get("kind") == "lesson-input" and isinstance(message.get("input"), str):
        return message["input"]
    return None


def inspect_request_from(text: str | None) -> tuple[str, int, int, int] | None:
    """The page's inspector request (``{"stage": "conv2", "unit": 5, "row": 3, "col": 7, ...}``) as (stage, unit,
    row, col); None for anything else (a page can send any text; the inspector then closes)."""
    try:
        message = json.loads(text or "")
        values = (str(message["stage"]), *(int(message[key]) for key in ("unit", "row", "col")))
    except (ValueError, TypeError, KeyError, RecursionError, OverflowError):
        return None
    return values if len(values[0]) <= 40 else None
