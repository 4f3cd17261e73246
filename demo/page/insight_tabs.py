"""The tabs that go beyond the tutorial: Watch it learn, Nearest digits, What filters look for, Break it, and the
printable handout. Each works on the learner's own drawing and, like every lesson (demo/page/lesson_wiring.py), is
computed only while its tab is the visible one.

What they need beyond the classifier (:class:`Insights`) is optional: a missing snapshot file, atlas or MNIST folder
turns one tab into a note saying how to get it, never stops the app.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from demo.core.classifier import Classifier
from demo.core.model import CONV, stage_kind
from demo.teaching.atlas import Atlas, load_atlas
from demo.teaching.lessons import break_it
from demo.teaching.nearest import NearestDigits, NearestHandle
from demo.teaching.snapshots import Snapshots, load_snapshots
from demo.texts import plain, say
from demo.views import handout
from demo.views.live import decode_input
from demo.views.panels import notice_html
from demo.views.tabs.break_it import break_it_html
from demo.views.tabs.filter_atlas import filter_atlas_html
from demo.views.tabs.learning import learning_html
from demo.views.tabs.nearest import nearest_html

from .assets import asset
from .language import again, again_html, button, in_request_language, labelled, tab, word
from .lesson_wiring import RECOMPUTED, Lesson, LessonTabs, follow, plain_tab, register

log = logging.getLogger("convscope")

PLAY_SECONDS = 1.2  # Watch it learn: one snapshot per tick while playing, time to read each
HANDOUT_FORMATS = ("PDF", "PNG")
HANDOUT_KEEP_SECONDS = 600  # a made handout waits this long for its download, then the next one sweeps it away


@dataclass
class Insights:
    """What the insight tabs read besides the classifier; any may be None (that tab then says how to get it)."""

    snapshots: Snapshots | None = None
    nearest: NearestHandle | None = None
    atlas: Atlas | None = None


def load_insights(clf: Classifier, data_dir: str | None) -> Insights:
    """The shipped snapshots and atlas for ``clf``, and the nearest-digit index, built or read from its cache in a
    background thread (the page is up at once; the tab says "preparing" until it is ready)."""
    return Insights(load_snapshots(clf.model, clf.path, clf.report), NearestDigits.start_in_background(data_dir, clf),
                    load_atlas(clf))


def pick_from(text: str | None) -> dict[str, Any] | None:
    """The page's click request (demo/page/static/insight_pick.js) as a dict, or None for anything else."""
    try:
        message = json.loads(text or "")
    except (ValueError, RecursionError):
        return None
    return message if isinstance(message, dict) else None


def _pick_request(kind: str) -> gr.HTML:
    return gr.HTML("", html_template="<span hidden></span>", js_on_load=f"const PICK_KIND = '{kind}';\n"
                   + asset("insight_pick.js"), elem_id=f"{kind}-pick", apply_default_css=False)


def _learning_tab(tabs: LessonTabs, snaps: Snapshots | None) -> None:
    last = len(snaps) - 1 if snaps is not None else 0
    with tab("page.insight_tabs.tab_learning", id="learning", elem_id="tab-learning",
             elem_classes=RECOMPUTED) as t:
        with gr.Row(equal_height=True):
            step = labelled(gr.Slider, "page.insight_tabs.learning_step", 0, max(last, 1), value=0, step=1,
                            elem_id="learning-step", interactive=snaps is not None, scale=4)
            play = button("page.insight_tabs.play", elem_id="learning-play", scale=1, interactive=snaps is not None)
        html = gr.HTML(learning_html(snaps, None, 0))
        pick = _pick_request("learning")
        timer = gr.Timer(PLAY_SECONDS, active=False)
        playing = gr.State(False)  # the button's words are the visitor's language's: the state says which it is
    register(tabs, Lesson("learning", html, {"index": step},
                          lambda current, index: learning_html(snaps, current, int(index or 0))), t)

    def stopped() -> dict[Any, Any]:
        return {timer: gr.Timer(active=False), play: gr.Button(plain("page.insight_tabs.play")), playing: False}

    def toggle(values: dict[Any, Any]) -> dict[Any, Any]:
        if values[playing]:
            return stopped()
        at = int(values[step] or 0)
        return {timer: gr.Timer(active=True), play: gr.Button(plain("page.insight_tabs.pause")), playing: True,
                step: 0 if at >= last else at}

    def tick(values: dict[Any, Any]) -> dict[Any, Any]:
        at = int(values[step] or 0)
        if at >= last or values[tabs.active] != "learning":  # the end, or the learner left the tab: stop
            return stopped()
        return {step: at + 1}

    def picked(values: dict[Any, Any]) -> dict[Any, Any]:
        request = pick_from(values[pick])
        try:
            return {step: min(max(int(request["index"]), 0), last)} if request else {}
        except (KeyError, TypeError, ValueError, OverflowError):
            return {}

    play.click(in_request_language(toggle), inputs={playing, step}, outputs=[timer, play, playing, step],
               show_progress="hidden", api_visibility="private")
    timer.tick(in_request_language(tick), inputs={step, tabs.active}, outputs=[timer, play, playing, step],
               show_progress="hidden", api_visibility="private")
    pick.change(picked, inputs={pick}, outputs=[step], show_progress="hidden", api_visibility="private")


def _nearest_tab(tabs: LessonTabs, handle: NearestHandle | None) -> None:
    with tab("page.insight_tabs.tab_nearest", id="nearest", elem_id="tab-nearest",
             elem_classes=RECOMPUTED) as t:
        html = gr.HTML(nearest_html(handle, None))
    register(tabs, Lesson("nearest", html, {}, lambda current: nearest_html(handle, current)), t)


def _filters_tab(tabs: LessonTabs, clf: Classifier, atlas: Atlas | None) -> None:
    convs = {name: m.out_channels for name, m in clf.model.named_children() if stage_kind(m) == CONV}
    first = next(iter(convs))

    def view(current, layer, channel):
        layer = layer if layer in convs else first
        return filter_atlas_html(clf, atlas, current, layer, min(max(int(channel or 0), 0), convs[layer] - 1))

    with tab("page.insight_tabs.tab_filters", id="filters", elem_id="tab-filters",
             elem_classes=RECOMPUTED) as t:
        with gr.Row():
            controls = {"layer": labelled(gr.Dropdown, "page.insight_tabs.filters_layer", list(convs), value=first,
                                          elem_id="atlas-layer"),
                        "channel": labelled(gr.Slider, "page.insight_tabs.filters_channel", 0, convs[first] - 1,
                                            value=0, step=1, elem_id="atlas-channel-number")}
        html = gr.HTML(view(None, first, 0))
        pick = _pick_request("atlas")
    register(tabs, Lesson("filters", html, controls, view), t)
    follow(controls, ["layer"], ["channel"], lambda layer: (convs.get(layer, convs[first]),))

    def picked(values: dict[Any, Any]) -> dict[Any, Any]:
        request = pick_from(values[pick])
        try:
            layer, channel = str(request["layer"]), int(request["channel"])
        except (KeyError, TypeError, ValueError, OverflowError):
            return {}
        if layer not in convs:
            return {}
        return {controls["layer"]: layer, controls["channel"]: gr.Slider(
            maximum=convs[layer] - 1, value=min(max(channel, 0), convs[layer] - 1))}

    pick.change(picked, inputs={pick}, outputs=list(controls.values()), show_progress="hidden",
                api_visibility="private")


def _break_tab(tabs: LessonTabs, clf: Classifier) -> None:
    model = clf.model
    layer, channels, noise, seed = break_it.reset_settings(model)
    with tab("page.insight_tabs.tab_break", id="break", elem_id="tab-break", elem_classes=RECOMPUTED) as t:
        with gr.Row():
            controls = {
                "layer": labelled(gr.Dropdown, "page.insight_tabs.break_layer", break_it.layer_choices(model),
                                  value=layer, elem_id="break-layer"),
                "channels_text": gr.Textbox(channels, label=word("page.insight_tabs.break_channels"),
                                            placeholder=word("page.insight_tabs.break_channels_placeholder"),
                                            elem_id="break-channels", max_length=200),
                "noise": labelled(gr.Slider, "page.insight_tabs.break_noise", 0, break_it.MAX_NOISE, value=noise,
                                  step=break_it.NOISE_STEP, elem_id="break-noise"),
                "seed": labelled(gr.Number, "page.insight_tabs.break_seed", seed, precision=0, minimum=0,
                                 elem_id="break-seed"),
            }
            again(controls["channels_text"], lambda: gr.Textbox(
                label=plain("page.insight_tabs.break_channels"),
                placeholder=plain("page.insight_tabs.break_channels_placeholder")), words=True)
            reset = button("page.insight_tabs.break_reset", elem_id="break-reset", scale=0)
        html = gr.HTML(break_it_html(clf, None, layer, channels, noise, seed))
    register(tabs, Lesson("break", html, controls,
                          lambda current, **v: break_it_html(clf, current, **v)), t)
    reset.click(lambda: dict(zip(controls.values(), break_it.reset_settings(model), strict=True)),
                outputs=list(controls.values()), show_progress="hidden", api_visibility="private")


def handout_file(data: bytes, suffix: str, answer: int | None) -> Path:
    """Writes a made handout where Gradio can serve it, in a folder of its own (so each download keeps a plain
    name), after sweeping away the ones older than ``HANDOUT_KEEP_SECONDS``."""
    root = Path(os.environ.get("GRADIO_TEMP_DIR") or tempfile.gettempdir()) / "convscope-handouts"
    root.mkdir(parents=True, exist_ok=True)
    for old in root.iterdir():
        try:
            if time.time() - old.stat().st_mtime > HANDOUT_KEEP_SECONDS:
                shutil.rmtree(old, ignore_errors=True)
        except OSError:  # another copy of the app swept it first
            pass
    folder = root / uuid.uuid4().hex
    folder.mkdir()
    name = f"convscope-handout-{answer}.{suffix}" if answer is not None else f"convscope-handout.{suffix}"
    path = folder / name
    path.write_bytes(data)
    return path


def _handout_tab(tabs: LessonTabs, clf: Classifier) -> None:
    with tab("page.insight_tabs.tab_handout", id="handout", elem_id="tab-handout") as t:
        again_html(gr.HTML(handout_intro()), handout_intro)
        with gr.Row():
            kind = labelled(gr.Radio, "page.insight_tabs.handout_format", list(HANDOUT_FORMATS), value="PDF",
                            elem_id="handout-format")
            make = button("page.insight_tabs.handout_make", elem_id="make-handout", variant="primary")
            download = gr.DownloadButton(plain("page.insight_tabs.handout_download"), visible=False,
                                         elem_id="handout-download")
        status = gr.HTML(notice_html(), elem_id="handout-status")
    plain_tab(tabs, "handout", t)

    def made(values: dict[Any, Any]) -> dict[Any, Any]:
        input28 = decode_input(values[tabs.current])
        pdf = values[kind] != "PNG"
        try:
            data = (handout.handout_pdf if pdf else handout.handout_png)(clf, input28)
        except handout.NothingDrawnError:
            return {status: notice_html(plain("page.insight_tabs.handout_nothing_drawn"), "warning"),
                    download: gr.DownloadButton(visible=False)}
        except Exception:  # a bug must not cost the page its views: logged, and said
            log.exception("handout failed")
            return {status: notice_html(plain("page.insight_tabs.handout_failed"), "warning"),
                    download: gr.DownloadButton(visible=False)}
        answer = int(clf.forward_staged(input28)[0].argmax())
        path = handout_file(data, "pdf" if pdf else "png", answer)
        ready = plain("page.insight_tabs.handout_ready", name=path.name, kilobytes=len(data) / 1024)
        return {status: notice_html(ready),
                download: gr.DownloadButton(plain("page.insight_tabs.handout_download_file", name=path.name),
                                            value=str(path), visible=True)}

    # One handout at a time per copy of the app: a class pressing at once queues rather than slowing live drawing.
    make.click(in_request_language(made), inputs={kind, tabs.current}, outputs=[status, download],
               api_visibility="private", concurrency_limit=1, concurrency_id="handout")


def add_insight_tabs(tabs: LessonTabs, clf: Classifier, insights: Insights | None) -> None:
    """The insight tabs, inside the page's ``gr.Tabs`` (demo/page/lesson_tabs.py calls this); without ``insights``,
    the shipped snapshots and atlas, and no nearest digits (they need MNIST)."""
    insights = insights if insights is not None else load_insights(clf, None)
    _learning_tab(tabs, insights.snapshots)
    _nearest_tab(tabs, insights.nearest)
    _filters_tab(tabs, clf, insights.atlas)
    _break_tab(tabs, clf)
    _handout_tab(tabs, clf)


def handout_intro() -> str:
    return f'<div class="view-note">{say("page.insight_tabs.handout_intro")}</div>'
