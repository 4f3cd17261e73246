"""The ConvScope page (layout and event wiring): a live drawing pad, the prediction, the inside of the network.

``build_app(classifier)`` returns the ``gr.Blocks``; ``demo/app.py`` and ``python -m demo`` launch it. The model is
loaded once by the caller; the event handlers are pure functions of their inputs (no per-user data in module
globals). Named API endpoints, for programs: ``/predict`` (an image file -> ``{"label", "probs"}``) and ``/draw``
(the pad's stroke JSON -> the seven live views as HTML). The page's own events are private: they also carry the
visible lesson (demo/page/lesson_tabs.py), computed in the same event so a drawing costs one round trip.

The first screen holds the pad, the answer and the network at a glance (demo/views/overview.py); a click on any value
there or in the feature maps asks, through a private event, how it was made (the inspector,
demo/views/tabs/inspector.py, on the model input the page holds for the lessons).
"""

from __future__ import annotations

import itertools
import json
import logging
import os
from typing import Any

import gradio as gr
import numpy as np

from demo.core.classifier import Classifier
from demo.server.live_route import LiveService, add_live_routes
from demo.server.room import Room, room_urls
from demo.server.room_routes import add_room_routes
from demo.views import panels, theme
from demo.views.live import (
    LIVE_VIEWS,
    UnusableFileError,
    ViewUpdate,
    decode_input,
    guarded_views,
    predict_file,
    views_for_drawing,
    views_for_file,
    views_for_image,
)
from demo.views.overview import overview_html
from demo.views.tabs.inspector import inspector_html

from .assets import asset
from .classroom import CLASSROOM_CSS, ROOM_CSS, room_panel, send_bar, toolbar
from .insight_tabs import Insights
from .lesson_tabs import add_lesson_tabs
from .pad import PAD_CSS, PAD_HTML, PAD_JS, empty_drawing, pad_props
from .sessions import use_lazy_sessions
from .uploads import UploadedFile, count_uploads, discard_upload

log = logging.getLogger("convscope")
PAGE_CSS = "\n".join(asset(name) for name in ("app.css", "overview.css", "inspector.css", "insights.css"))
INSPECTOR_JS = asset("inspector.js")
INSPECTOR_CLOSED = '<div id="inspector" class="inspector" data-state="closed" hidden></div>'
TITLE = "ConvScope: watch a CNN read your handwriting"
# Gradio 6's queue rebuilds a pandas summary of its last GRADIO_ANALYTICS_MAX_EVENTS (default 10,000) events after
# *every* event (GRADIO_ANALYTICS_CACHE_FREQUENCY default 1), so each event costs more the more were served: with the
# defaults, bench/load.py --rounds 4 saw the median latency climb from 208 to 565 ms over 4,000 requests. Only
# Gradio's monitoring view reads that summary; a short history, summarised every 100 events, keeps it flat. Telemetry
# is off. Gradio reads these when they are used (the queue's when demo.queue() creates it in build_app); an
# operator's own settings win.
GRADIO_SETTINGS = {"GRADIO_ANALYTICS_ENABLED": "False", "GRADIO_ANALYTICS_MAX_EVENTS": "500",
                   "GRADIO_ANALYTICS_CACHE_FREQUENCY": "100"}
# launch() options for every way of starting the app. run_history=False: Gradio 6 otherwise keeps every call in the
# browser's localStorage, slowing each update as it grows. state_session_capacity: every call without a session (a
# REST client) gets a new Gradio session holding a copy of the page config (~175 kB here, measured with tracemalloc).
# The app keeps nothing in server sessions (even the lessons' state lives in the page: demo/page/lesson_tabs.py), so
# evicting one costs nothing, and a small cap bounds that memory.
# max_file_size: a digit drawing is kilobytes; refusing big uploads early bounds disk and decode time.
LAUNCH_OPTIONS = {"run_history": False, "state_session_capacity": 50, "max_file_size": "20mb"}
# Gradio's queue (uploads, samples, lessons, the API; the pad's live updates bypass it, demo/server/live_route.py): 4
# events run at once. An upload's event mostly waits for a live worker, so a few more than the 2 cores keeps the
# workers fed without piling up threads. Beyond QUEUE_SIZE waiting events a new one is refused at once with "busy,
# try again" (HTTP 503 for REST clients, a toast in the page) rather than hanging. 50 users drawing at once keep
# well under it (bench/load.py).
CONCURRENCY = 4
QUEUE_SIZE = 200
# Uploads nobody read (posted to /gradio_api/upload only) are deleted after 5 minutes, checked every minute; the
# ones the app reads are deleted straight away (demo/page/uploads.py).
DELETE_CACHE = (60, 300)


def build_app(clf: Classifier, mnist_samples: list[tuple[np.ndarray, int]] | None = None, *,
              mlp: Classifier | None = None, robustness: dict[str, Any] | None = None,
              classroom: bool = False, workers: LiveService | None = None, room: Room | None = None,
              insights: Insights | None = None) -> gr.Blocks:
    """The page for a loaded classifier.

    ``mnist_samples`` (uint8 image, label) adds clickable MNIST examples; ``mlp`` (a plain fully connected network)
    and ``robustness`` (weights/robustness.json) feed the CNN-vs-MLP lesson; ``classroom`` switches to large type,
    high contrast and the layer-by-layer stepper; ``workers`` (the live route's pool,
    demo/server/live_route.py) computes the uploads' work in its processes, so this process stays free for the class's
    requests; ``room`` (classroom mode's class room, demo/server/room.py) adds the pupils' send bar and the teacher's
    gallery (served by :func:`launch`);
    ``insights`` (demo/page/insight_tabs.py) feed Watch it learn, Nearest digits and What filters look for.
    """

    def predict(image_file: str) -> dict[str, Any]:
        """Classify an image file: {"label": 0-9 or null (no digit), "probs": [10 floats], "looks_like_digit": bool,
        "digit_score": float}; the label is the network's top class even for a drawing that is not a digit."""
        try:
            return workers.file_work("predict_file", image_file) if workers else predict_file(clf, image_file)
        except UnusableFileError as error:
            raise gr.Error(str(error)) from None
        except Exception:  # a bug: logged, and the caller gets a clear message, not a hang
            log.exception("unexpected error in /predict")
            raise gr.Error("internal error while classifying this file (logged); please try again") from None
        finally:
            discard_upload(image_file)

    head = f"<style>{theme.css_variables()}\n{PAGE_CSS}</style>"
    room = room if classroom else None
    if classroom:
        head += f"<style>{CLASSROOM_CSS}</style>"
    if room is not None:
        head += f"<style>{ROOM_CSS}</style>"
    live: dict[str, gr.HTML] = {}  # the live views by name (demo.views.live.LIVE_VIEWS)
    update_numbers = itertools.count(1)

    def layers_tab() -> None:
        gr.HTML(panels.how_it_works_html(clf.model))  # static: never re-sent with the live updates
        live["feature_maps"] = gr.HTML(panels.feature_maps_html(None, clf.model), elem_id="live-feature-maps")
        live["pooled_maps"] = gr.HTML(panels.pooled_maps_html(None, clf.model), elem_id="live-pooled-maps")
        with gr.Accordion("Kernels: the weights the network learned", open=False):
            gr.HTML(panels.kernels_html(clf.model))

    with gr.Blocks(title=TITLE, delete_cache=DELETE_CACHE, analytics_enabled=False) as demo:
        gr.HTML('<div class="header"><h1>ConvScope</h1><p>Draw a digit. A convolutional network trained on '
                'MNIST reads it live, and every layer shows what it made of your drawing.</p></div>', head=head,
                elem_classes=["classroom"] if classroom else None)
        # The first screen: the pad, the answer and the whole network at a glance side by side (on a phone: one
        # under the other, in that order).
        with gr.Row(equal_height=False, elem_id="first-screen"):
            with gr.Column(scale=3, min_width=280, elem_id="pad-column"):
                pad = gr.HTML(value=empty_drawing(), html_template=PAD_HTML, css_template=PAD_CSS, js_on_load=PAD_JS,
                              elem_id="pad-component", apply_default_css=False, **pad_props())
                upload = UploadedFile(label="Upload an image of a digit", file_types=["image"], type="filepath",
                                      elem_id="upload", height=56)
            with gr.Column(scale=2, min_width=200, elem_id="answer-column"):
                live["prediction"] = gr.HTML(panels.prediction_html(None), elem_id="live-prediction")
                if room is not None:  # a pupil sends the drawing the answer is about
                    send_bar(room)
                live["probabilities"] = gr.HTML(panels.probabilities_html(None), elem_id="live-probabilities")
                live["notice"] = gr.HTML(panels.notice_html(), elem_id="live-notice")
            with gr.Column(scale=8, min_width=300, elem_id="overview-column"):
                if classroom:  # the layer-by-layer stepper works on the overview (and the Layer by layer tab)
                    toolbar(room)
                live["overview"] = gr.HTML(overview_html(None, clf.model), elem_id="live-overview")
        if room is not None:
            room_panel()
        inspect_request = gr.HTML("", html_template="<span hidden></span>", js_on_load=INSPECTOR_JS,
                                  elem_id="inspect-request", apply_default_css=False)
        inspector = gr.HTML(INSPECTOR_CLOSED, elem_id="live-inspector")
        live["model_input"] = gr.HTML(panels.model_input_html(None), elem_id="live-model-input")
        if mnist_samples:
            samples = gr.Gallery([img for img, _ in mnist_samples], label="Real MNIST test digits: click one",
                                 columns=len(mnist_samples), height=110, allow_preview=False, elem_id="mnist-samples",
                                 object_fit="contain", buttons=[], interactive=False)
        tabs = add_lesson_tabs(clf, mlp, robustness, layers_tab, classroom, insights)
        api_file = UploadedFile(visible=False)
        api_result = gr.JSON(visible=False)
        api_button = gr.Button(visible=False)
        api_drawing = gr.Textbox(visible=False)
        api_draw_button = gr.Button(visible=False)

        live_views = [live[name] for name in LIVE_VIEWS]
        page_outputs = [*live_views, *tabs.outputs]

        def page_update(update: ViewUpdate, values: dict[Any, Any]) -> dict[Any, Any]:
            """One update of the page: the live views that changed, then the lessons (in the same event).

            The live route also writes these views in the page, behind Gradio's back, so Gradio's copy of a view may
            equal the new HTML while the page shows another drawing; a marker unique to this update makes Gradio
            draw it in any case."""
            marker = f"<!-- update {next(update_numbers)} -->"
            views_html = {live[name]: html + marker for name, html in update.html.items()}
            return {**views_html, **tabs.after_update(update, values)}

        def on_pad(values: dict[Any, Any]) -> dict[Any, Any]:
            text = values[pad]
            model_input = lesson_input(text)
            if model_input is not None:  # the views came from the live route; only the open lesson is left
                return tabs.after_update(ViewUpdate({}, decode_input(model_input)), values)
            return page_update(guarded_views(views_for_drawing, clf, text), values)

        def on_file(values: dict[Any, Any]) -> dict[Any, Any]:
            path = values[upload]
            try:
                if workers is not None:
                    update = guarded_views(workers.file_work, "views_for_file", path)
                else:
                    update = guarded_views(views_for_file, clf, path)
            finally:
                discard_upload(path)
            # The file box is emptied again, so the next file can be dropped straight away.
            return {**page_update(update, values), upload: None}

        def on_sample(values: dict[Any, Any], evt: gr.SelectData) -> dict[Any, Any]:
            image, _ = mnist_samples[evt.index]
            return page_update(guarded_views(views_for_image, clf, image), values)

        def on_inspect(values: dict[Any, Any]) -> str:
            """A click on a value of the overview or the feature maps -> how that value was made."""
            request = inspect_request_from(values[inspect_request])
            if request is None:
                return INSPECTOR_CLOSED
            # A marker unique to this answer: the page may have closed the panel showing the same HTML.
            marker = f"<!-- inspection {next(update_numbers)} -->"
            return inspector_html(clf.model, decode_input(values[tabs.current]), *request) + marker

        def draw(drawing_json: str) -> dict[Any, Any]:
            """The pad's stroke JSON -> the seven live views (prediction, probabilities, model input, feature maps,
            pooled maps, notice, the network overview), as HTML; a view that does not change is skipped."""
            update = guarded_views(views_for_drawing, clf, drawing_json)
            return {live[name]: html for name, html in update.html.items()}

        pad.change(on_pad, inputs={pad, *tabs.inputs}, outputs=page_outputs, api_visibility="private",
                   trigger_mode="always_last", show_progress="hidden", concurrency_limit=None)
        upload.upload(on_file, inputs={upload, *tabs.inputs}, outputs=[*page_outputs, upload],
                      api_visibility="private", show_progress="hidden")
        inspect_request.change(on_inspect, inputs={inspect_request, tabs.current}, outputs=inspector,
                               api_visibility="private", trigger_mode="always_last", show_progress="hidden")
        if mnist_samples:
            samples.select(on_sample, inputs=tabs.inputs, outputs=page_outputs, api_visibility="private",
                           show_progress="hidden")
        # For programs (and bench/load.py): the same work as the pad's event, without the page's lesson state.
        api_draw_button.click(draw, inputs=api_drawing, outputs=live_views, api_name="draw", concurrency_limit=None)
        api_button.click(predict, inputs=api_file, outputs=api_result, api_name="predict")
    count_uploads(demo)  # identical uploads share a path: each is answered before the file goes
    use_lazy_sessions()  # a REST call's new session no longer snapshots every block (demo/page/sessions.py)
    for name, value in GRADIO_SETTINGS.items():
        os.environ.setdefault(name, value)
    demo.queue(default_concurrency_limit=CONCURRENCY, max_size=QUEUE_SIZE)
    return demo


def launch(demo: gr.Blocks, service: LiveService | None = None, room: Room | None = None,
           public_url: str | None = None, **options: Any) -> None:
    """Serves the page until stopped, with the live route (demo/server/live_route.py) when ``service`` is given, and the
    class room's routes (demo/server/room_routes.py) when ``room`` is too, printing the pupils' and the teacher's
    addresses (``public_url``, else the share link, else this server's); the workers start in the background
    while the page is already served. The caller owns ``room`` (and closes it)."""
    try:
        demo.launch(prevent_thread_lock=True, **{**LAUNCH_OPTIONS, **options})
        if service is not None:
            if room is not None:  # before the live routes: once /convscope/health answers, these are there too
                add_room_routes(demo.server_app, room, service)
                students, teacher = room_urls(options.get("server_name") or "127.0.0.1", demo.server_port,
                                              public_url or demo.share_url, room.token)
                room.join_url = students
                print(f"Students: {students}\nTeacher: {teacher}", flush=True)
            add_live_routes(demo.server_app, service)
            service.warm_up_in_background()
        demo.block_thread()
    finally:
        if service is not None:
            service.close()


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
