"""The teaching tabs (layout and wiring): each lesson is computed only while its tab is visible.

:func:`add_lesson_tabs` is called inside the page's ``gr.Blocks``. Per user, two values drive it: the
current 28×28 model input (set by every drawing, upload or sample) and the name of the visible lesson. A lesson
is recomputed when its tab is opened, when one of its controls moves, and after each drawing update, but only if
it is the visible one; the others are left alone, so the live prediction pays nothing for tabs nobody looks at.

Both values live in the page (hidden textboxes), not in Gradio's server-side session: the server evicts sessions
beyond ``state_session_capacity`` (sessionless REST calls each make one), and a pupil whose session was evicted
would otherwise find the lessons reset. What the page sends back is checked (:func:`decode_input`).

Events name their inputs and outputs: handlers receive ``{component: value}`` (Gradio's set-of-inputs form) and
return ``{component: new value}``, so no handler depends on the position of a value in a list.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import gradio as gr
import numpy as np

from .assets import asset
from .classifier import Classifier, Prediction
from .lesson_views import (
    architecture,
    convolution,
    digit_or_not,
    model_card,
    network,
    one_value,
    pooling,
    saliency,
    versus,
)
from .lessons import architecture as stages
from .lessons import convolution as conv_lessons
from .lessons import pooling as pool_lessons
from .live import ViewUpdate, decode_input, encode_input
from .model import CONV, stage_kind

log = logging.getLogger("convscope")

LAYERS = "layers"  # the always-live feature maps tab: nothing extra to compute
NETWORK = "network"  # classroom mode's layer-by-layer tab
RECOMPUTED = ["recomputed-lesson"]  # the class of tabs recomputed after each drawing (demo/static/pad.js looks)
ERROR_HTML = ('<div class="lesson notice warning" data-state="error">This lesson could not be computed for these '
              'settings (the error is logged). Try other settings or another drawing.</div>')


@dataclass
class Lesson:
    """One lazily computed lesson: its view, its controls (by parameter name) and the function that draws it."""

    name: str
    html: gr.HTML
    controls: dict[str, Any]  # parameter name of ``compute`` -> the Gradio control that sets it
    compute: Callable[..., str]  # (model input or None, **control values) -> the view's HTML

    def render(self, input28: np.ndarray | None, values: dict[Any, Any]) -> str:
        """The view for ``input28`` and the controls' values in ``values`` ({control: value}); a failure (a bug
        or a setting no page offers) is logged and shown as a notice, never raised into the page's event."""
        try:
            return self.compute(input28, **{name: values[c] for name, c in self.controls.items()})
        except Exception:  # a broken lesson must not cost the page its live views
            log.exception("lesson %s failed", self.name)
            return ERROR_HTML


@dataclass
class LessonTabs:
    """What the page needs to wire the lessons to drawing updates."""

    current: gr.HTML  # the (28, 28) model input now shown (encode_input), or "": held by the page, never drawn
    active: gr.Textbox  # name of the visible lesson
    lessons: dict[str, Lesson] = field(default_factory=dict)  # the lazily computed lessons, by name

    @property
    def controls(self) -> set[Any]:
        """Every lesson's controls."""
        return {c for lesson in self.lessons.values() for c in lesson.controls.values()}

    @property
    def inputs(self) -> set[Any]:
        """What a drawing update reads to refresh the visible lesson: its name and every control."""
        return {self.active, *self.controls}

    @property
    def outputs(self) -> list[Any]:
        """What a drawing update may change: the lessons' input and every lesson's view."""
        return [self.current, *(lesson.html for lesson in self.lessons.values())]

    def after_update(self, update: ViewUpdate, values: dict[Any, Any]) -> dict[Any, Any]:
        """The lessons' part of a drawing update, in the same event (no second round trip): their new input and
        the visible lesson recomputed for it. Nothing changes when the drawing was not used."""
        if update.kept:
            return {}
        out: dict[Any, Any] = {self.current: encode_input(update.model_input)}
        lesson = self.lessons.get(values[self.active])
        if lesson is not None:
            out[lesson.html] = lesson.render(update.model_input, values)
        return out


def _clamp(value: float | None, low: int, high: int) -> int:
    return int(min(max(int(value or 0), low), high))


def _register(tabs: LessonTabs, lesson: Lesson, tab: gr.Tab) -> None:
    """Computes ``lesson`` when its tab opens and when its controls move."""
    tabs.lessons[lesson.name] = lesson
    inputs = {tabs.current, *lesson.controls.values()}

    def computed(values: dict[Any, Any]) -> str:
        return lesson.render(decode_input(values[tabs.current]), values)

    def opened(values: dict[Any, Any]) -> dict[Any, Any]:
        return {lesson.html: computed(values), tabs.active: lesson.name}

    tab.select(opened, inputs=inputs, outputs=[lesson.html, tabs.active], show_progress="hidden",
               api_visibility="private")
    for control in lesson.controls.values():
        control.change(computed, inputs=inputs, outputs=lesson.html, show_progress="hidden",
                       api_visibility="private", trigger_mode="always_last")


def _follow(controls: dict[str, Any], sources: list[str], sliders: list[str],
            sizes: Callable[..., tuple[int, ...]]) -> None:
    """Keeps ``sliders`` within the chosen layer's real size: when a ``sources`` control changes, each slider's
    maximum becomes ``sizes(*source values)[i] - 1`` and its value is moved inside if it was beyond."""
    def follow(values: dict[Any, Any]) -> dict[Any, Any]:
        limits = sizes(*(values[controls[name]] for name in sources))
        return {controls[name]: gr.Slider(maximum=limit - 1, value=min(int(values[controls[name]] or 0), limit - 1))
                for name, limit in zip(sliders, limits, strict=True)}

    inputs = {controls[name] for name in [*sources, *sliders]}
    for name in sources:
        controls[name].change(follow, inputs=inputs, outputs=[controls[n] for n in sliders], show_progress="hidden",
                              api_visibility="private")


def _plain_tab(tabs: LessonTabs, name: str, tab: gr.Tab) -> None:
    """A tab with nothing to compute per drawing: opening it only records that it is the visible one."""
    tab.select(lambda: name, None, tabs.active, show_progress="hidden", api_visibility="private")


def add_lesson_tabs(clf: Classifier, mlp: Classifier | None, robustness: dict[str, Any] | None,
                    layers_tab: Callable[[], None], classroom: bool = False) -> LessonTabs:
    """Builds the tabs (``layers_tab()`` fills the first one) and returns what drawing updates must refresh."""
    model = clf.model
    shapes = {row.name: row.output_shape for row in stages.architecture(model)}
    conv_layers = [name for name, m in model.named_children() if stage_kind(m) == CONV]
    # Pooling is explored on the feature maps after each conv's ReLU (what the network's own pooling sees).
    map_stages = [name for name in clf.recorded_stages if name.startswith("relu") and len(shapes[name]) == 3]

    def pooled_side(stage: str, window: float, stride: float) -> int:
        """Rows (= columns) of ``stage``'s maps pooled with this window and stride, as the pooling lesson clamps."""
        h = shapes[stage][1]
        window = _clamp(window, 1, min(h, pool_lessons.MAX_POOL_WINDOW))
        return (h - window) // _clamp(stride, 1, pool_lessons.MAX_POOL_STRIDE) + 1

    def conv(current, kernel, size, mode, stride):
        return convolution.conv_playground_html(current, model, kernel, int(size), mode, int(stride))

    def pool(current, stage, channel, kind, window, stride, row, col):
        c, h, w = shapes[stage]
        window = _clamp(window, 1, min(h, pool_lessons.MAX_POOL_WINDOW))
        stride = _clamp(stride, 1, pool_lessons.MAX_POOL_STRIDE)
        out_h, out_w = (h - window) // stride + 1, (w - window) // stride + 1
        return pooling.pooling_html(current, clf, stage, _clamp(channel, 0, c - 1), kind, window, stride,
                                    _clamp(row, 0, out_h - 1), _clamp(col, 0, out_w - 1))

    def one(current, layer, channel, row, col):
        c, h, w = shapes[layer]  # the sliders follow the layer (_follow); clamping guards what a page may send
        return one_value.one_value_html(current, clf, layer, _clamp(channel, 0, c - 1), _clamp(row, 0, h - 1),
                                        _clamp(col, 0, w - 1))

    def compare(current, dx, dy, angle):
        return versus.cnn_vs_mlp_html(current, clf, mlp, int(dx), int(dy), float(angle), robustness)

    def explain(current, target, method):
        return saliency.saliency_html(current, model, None if target == "predicted" else int(target), method)

    def layer_by_layer(current):
        if current is None:
            return network.network_html(None, model)
        probs, activations = clf.forward_staged(current)
        return network.network_html(Prediction(int(probs.argmax()), probs.tolist(), current, activations), model)

    tabs = LessonTabs(current=gr.HTML("", html_template="<span hidden></span>", js_on_load=asset("lesson_input.js"),
                                      elem_id="lesson-input", apply_default_css=False),
                      active=gr.Textbox(NETWORK if classroom else LAYERS, visible=False, elem_id="lesson-active"))
    with gr.Tabs(elem_id="lessons", selected=NETWORK if classroom else LAYERS):
        if classroom:
            with gr.Tab("Layer by layer", id=NETWORK, elem_id="tab-network", elem_classes=RECOMPUTED) as t:
                net = gr.HTML(layer_by_layer(None))
            _register(tabs, Lesson(NETWORK, net, {}, layer_by_layer), t)
        with gr.Tab("Feature maps", id=LAYERS, elem_id="tab-layers") as t:
            layers_tab()
        _plain_tab(tabs, LAYERS, t)

        with gr.Tab("Convolution", id="conv", elem_id="tab-conv", elem_classes=RECOMPUTED) as t:
            with gr.Row():
                controls = {
                    "kernel": gr.Dropdown(convolution.kernel_choices(model), value="vertical edges", label="kernel",
                                          elem_id="conv-kernel"),
                    "size": gr.Slider(2, 7, value=3, step=1, label="kernel size k", elem_id="conv-size"),
                    "mode": gr.Radio(list(conv_lessons.MODES), value="valid", label="mode", elem_id="conv-mode"),
                    "stride": gr.Slider(1, 3, value=1, step=1, label="stride s", elem_id="conv-stride"),
                }
            html = gr.HTML(conv(None, "vertical edges", 3, "valid", 1))
        _register(tabs, Lesson("conv", html, controls, conv), t)

        with gr.Tab("Pooling", id="pool", elem_id="tab-pool", elem_classes=RECOMPUTED) as t:
            with gr.Row():
                controls = {
                    "stage": gr.Dropdown(map_stages, value=map_stages[0], label="feature maps of",
                                         elem_id="pool-stage"),
                    "channel": gr.Slider(0, shapes[map_stages[0]][0] - 1, value=0, step=1, label="map (channel)",
                                         elem_id="pool-channel"),
                    "kind": gr.Radio(list(pool_lessons.POOL_KINDS), value="max", label="pooling",
                                     elem_id="pool-kind"),
                    "window": gr.Slider(1, pool_lessons.MAX_POOL_WINDOW, value=2, step=1, label="window",
                                        elem_id="pool-window"),
                    "stride": gr.Slider(1, pool_lessons.MAX_POOL_STRIDE, value=2, step=1, label="stride",
                                        elem_id="pool-stride"),
                    "row": gr.Slider(0, pooled_side(map_stages[0], 2, 2) - 1, value=5, step=1, label="output row",
                                     elem_id="pool-row"),
                    "col": gr.Slider(0, pooled_side(map_stages[0], 2, 2) - 1, value=5, step=1,
                                     label="output column", elem_id="pool-col"),
                }
            html = gr.HTML(pool(None, map_stages[0], 0, "max", 2, 2, 5, 5))
        _register(tabs, Lesson("pool", html, controls, pool), t)
        _follow(controls, ["stage", "window", "stride"], ["channel", "row", "col"],
                lambda stage, window, stride: (shapes[stage][0], *(pooled_side(stage, window, stride),) * 2))

        with gr.Tab("One value", id="one", elem_id="tab-one", elem_classes=RECOMPUTED) as t:
            with gr.Row():
                controls = {
                    "layer": gr.Dropdown(conv_layers, value=conv_layers[0], label="layer", elem_id="one-layer"),
                    "channel": gr.Slider(0, shapes[conv_layers[0]][0] - 1, value=0, step=1,
                                         label="feature map (channel)", elem_id="one-channel"),
                    "row": gr.Slider(0, shapes[conv_layers[0]][1] - 1, value=12, step=1, label="row",
                                     elem_id="one-row"),
                    "col": gr.Slider(0, shapes[conv_layers[0]][2] - 1, value=12, step=1, label="column",
                                     elem_id="one-col"),
                }
            html = gr.HTML(one(None, conv_layers[0], 0, 12, 12))
        _register(tabs, Lesson("one", html, controls, one), t)
        _follow(controls, ["layer"], ["channel", "row", "col"], lambda layer: shapes[layer])

        with gr.Tab("CNN vs MLP", id="versus", elem_id="tab-versus", elem_classes=RECOMPUTED) as t:
            with gr.Row():
                controls = {
                    "dx": gr.Slider(-8, 8, value=0, step=1, label="move right (px)", elem_id="versus-dx"),
                    "dy": gr.Slider(-8, 8, value=0, step=1, label="move down (px)", elem_id="versus-dy"),
                    "angle": gr.Slider(-60, 60, value=0, step=5, label="turn (degrees)", elem_id="versus-angle"),
                }
            html = gr.HTML(compare(None, 0, 0, 0))
        _register(tabs, Lesson("versus", html, controls, compare), t)

        with gr.Tab("Saliency", id="saliency", elem_id="tab-saliency", elem_classes=RECOMPUTED) as t:
            with gr.Row():
                controls = {
                    "target": gr.Dropdown(["predicted"] + [str(d) for d in range(10)], value="predicted",
                                          label="explain the score of", elem_id="saliency-target"),
                    "method": gr.Radio(["gradient × input", "Grad-CAM"], value="gradient × input", label="method",
                                       elem_id="saliency-method"),
                }
            html = gr.HTML(explain(None, "predicted", "gradient × input"))
        _register(tabs, Lesson("saliency", html, controls, explain), t)

        with gr.Tab("Digit or not?", id="digit", elem_id="tab-digit", elem_classes=RECOMPUTED) as t:
            html = gr.HTML(digit_or_not.digit_or_not_html(None, clf))
        _register(tabs, Lesson("digit", html, {}, lambda current: digit_or_not.digit_or_not_html(current, clf)), t)

        with gr.Tab("Architecture", id="architecture", elem_id="tab-architecture") as t:
            gr.HTML(architecture.architecture_html(model, mlp.model if mlp else None))  # fixed: built once
        _plain_tab(tabs, "architecture", t)
        with gr.Tab("Model card", id="card", elem_id="tab-card") as t:
            gr.HTML(model_card.model_card_html(clf.report, model_card.curves_uri(clf.path),
                                               mlp.report if mlp else None))
        _plain_tab(tabs, "card", t)
    return tabs
