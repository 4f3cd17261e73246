"""The teaching tabs (layout and wiring): each lesson is computed only while its tab is visible.

:func:`add_lesson_tabs` is called inside the page's ``gr.Blocks``. Per user, two values drive it: the
current 28×28 model input (set by every drawing, upload or sample) and the name of the visible lesson. A lesson
is recomputed when its tab is opened, when one of its controls moves, and after each drawing update, but only if
it is the visible one; the others are skipped, so the live prediction pays nothing for tabs nobody looks at.

Both values live in the page (hidden textboxes), not in Gradio's server-side session: the server evicts sessions
beyond ``state_session_capacity`` (sessionless REST calls each make one), and a pupil whose session was evicted
would otherwise find the lessons reset. What the page sends back is checked (:func:`decode_input`).
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import gradio as gr
import numpy as np

from . import lesson_views, lessons
from .classifier import Classifier, Prediction
from .model import CONV, stage_kind

log = logging.getLogger("convscope")

LAYERS = "layers"  # the always-live feature maps tab: nothing extra to compute


@dataclass
class LessonTabs:
    """What the page needs to wire the lessons to drawing updates."""

    current: gr.Textbox  # the (28, 28) model input now shown (encode_input), or ""
    active: gr.Textbox  # name of the visible lesson
    outputs: list[gr.HTML] = field(default_factory=list)  # one per lazily computed lesson, in LESSONS order
    inputs: list[Any] = field(default_factory=list)  # [active, current, every lesson control...]
    refresh: Callable[..., tuple[Any, ...]] | None = None  # (active, current, *controls) -> outputs


def encode_input(input28: np.ndarray | None) -> str:
    """The model input as text the page can hold: base64 of its float32 bytes (exact; about 4 kB); "" for none."""
    if input28 is None:
        return ""
    return base64.b64encode(np.ascontiguousarray(input28, dtype=np.float32).tobytes()).decode("ascii")


def decode_input(text: str | None) -> np.ndarray | None:
    """Back from the page: a (28, 28) input in [0, 1], or None for anything that is not one (a page can send any
    text)."""
    if not text or not isinstance(text, str):
        return None
    try:
        data = base64.b64decode(text, validate=True)
    except (ValueError, binascii.Error):
        return None
    if len(data) != 28 * 28 * 4:
        return None
    image = np.frombuffer(data, dtype=np.float32).reshape(28, 28)
    return np.clip(image, 0, 1) if np.isfinite(image).all() else None


def _clamp(value: float | None, low: int, high: int) -> int:
    return int(min(max(int(value or 0), low), high))


def add_lesson_tabs(clf: Classifier, mlp: Classifier | None, robustness: dict[str, Any] | None,
                    layers_tab: Callable[[], None], classroom: bool = False) -> LessonTabs:
    """Builds the tabs (``layers_tab()`` fills the first one) and returns what drawing updates must refresh."""
    model = clf.model
    shapes = {row.name: row.output_shape for row in lessons.architecture(model)}
    conv_layers = [name for name, m in model.named_children() if stage_kind(m) == CONV]
    # Pooling is explored on the feature maps after each conv's ReLU (what the network's own pooling sees).
    map_stages = [name for name in clf.recorded_stages if name.startswith("relu") and len(shapes[name]) == 3]

    def conv(current, kernel, size, mode, stride):
        return lesson_views.conv_playground_html(current, model, kernel, int(size), mode, int(stride))

    def pool(current, stage, channel, kind, window, stride, row, col):
        c, h, w = shapes[stage]
        window, stride = _clamp(window, 1, min(h, lessons.MAX_POOL_WINDOW)), _clamp(stride, 1, lessons.MAX_POOL_STRIDE)
        out_h, out_w = (h - window) // stride + 1, (w - window) // stride + 1
        return lesson_views.pooling_html(current, clf, stage, _clamp(channel, 0, c - 1), kind, window, stride,
                                         _clamp(row, 0, out_h - 1), _clamp(col, 0, out_w - 1))

    def one(current, layer, channel, row, col):
        c, h, w = shapes[layer]  # sliders reach 63 and 27; smaller layers clamp (the view says which it shows)
        return lesson_views.one_value_html(current, clf, layer, _clamp(channel, 0, c - 1), _clamp(row, 0, h - 1),
                                           _clamp(col, 0, w - 1))

    def versus(current, dx, dy, angle):
        return lesson_views.cnn_vs_ann_html(current, clf, mlp, int(dx), int(dy), float(angle), robustness)

    def saliency(current, target, method):
        return lesson_views.saliency_html(current, model, None if target == "predicted" else int(target), method)

    def network(current):
        if current is None:
            return lesson_views.network_html(None, model)
        probs, activations = clf.forward_staged(current)
        return lesson_views.network_html(Prediction(int(probs.argmax()), probs.tolist(), current, activations), model)

    lessons_fns: dict[str, tuple[Callable[..., str], list[Any]]] = {}
    state_current = gr.Textbox("", visible=False, elem_id="lesson-input")
    state_active = gr.Textbox("network" if classroom else LAYERS, visible=False, elem_id="lesson-active")
    outputs: list[gr.HTML] = []

    def tab(name: str, fn: Callable[..., str], controls: list[Any], html: gr.HTML, tab_component: gr.Tab) -> None:
        """Registers a lazily computed lesson: computed when its tab opens and when its controls move."""
        outputs.append(html)

        def computed(current: str, *values: Any) -> str:
            try:
                return fn(decode_input(current), *values)
            except Exception:  # noqa: BLE001 - a broken lesson must not cost the page its live views
                log.exception("lesson %s failed", name)
                return ('<div class="lesson notice warning" data-state="error">This lesson could not be computed '
                        'for these settings (the error is logged). Try other settings or another drawing.</div>')

        lessons_fns[name] = (computed, controls)

        def opened(current, *values):
            return computed(current, *values), name

        tab_component.select(opened, inputs=[state_current, *controls], outputs=[html, state_active],
                             show_progress="hidden", api_visibility="private")
        for control in controls:
            control.change(computed, inputs=[state_current, *controls],
                           outputs=html, show_progress="hidden", api_visibility="private",
                           trigger_mode="always_last")

    with gr.Tabs(elem_id="lessons", selected="network" if classroom else LAYERS):
        if classroom:
            with gr.Tab("Layer by layer", id="network", elem_id="tab-network") as t:
                from .classroom import CONTROLS_HTML, CONTROLS_JS

                gr.HTML(CONTROLS_HTML, js_on_load=CONTROLS_JS, apply_default_css=False, elem_id="classroom-bar")
                net = gr.HTML(network(None))
            tab("network", network, [], net, t)
        with gr.Tab("Feature maps", id=LAYERS, elem_id="tab-layers") as t:
            layers_tab()
        t.select(lambda: LAYERS, None, state_active, show_progress="hidden", api_visibility="private")

        with gr.Tab("Convolution", id="conv", elem_id="tab-conv") as t:
            with gr.Row():
                kernel = gr.Dropdown(lesson_views.kernel_choices(model), value="vertical edges", label="kernel",
                                     elem_id="conv-kernel")
                size = gr.Slider(2, 7, value=3, step=1, label="kernel size k", elem_id="conv-size")
                mode = gr.Radio(list(lessons.MODES), value="valid", label="mode", elem_id="conv-mode")
                stride = gr.Slider(1, 3, value=1, step=1, label="stride s", elem_id="conv-stride")
            html = gr.HTML(conv(None, "vertical edges", 3, "valid", 1))
        tab("conv", conv, [kernel, size, mode, stride], html, t)

        with gr.Tab("Pooling", id="pool", elem_id="tab-pool") as t:
            with gr.Row():
                stage = gr.Dropdown(map_stages, value=map_stages[0], label="feature maps of", elem_id="pool-stage")
                channel = gr.Slider(0, 63, value=0, step=1, label="map (channel)", elem_id="pool-channel")
                kind = gr.Radio(list(lessons.POOL_KINDS), value="max", label="pooling", elem_id="pool-kind")
                window = gr.Slider(1, lessons.MAX_POOL_WINDOW, value=2, step=1, label="window", elem_id="pool-window")
                pstride = gr.Slider(1, lessons.MAX_POOL_STRIDE, value=2, step=1, label="stride",
                                    elem_id="pool-stride")
                row = gr.Slider(0, 27, value=5, step=1, label="output row", elem_id="pool-row")
                col = gr.Slider(0, 27, value=5, step=1, label="output column", elem_id="pool-col")
            html = gr.HTML(pool(None, map_stages[0], 0, "max", 2, 2, 5, 5))
        tab("pool", pool, [stage, channel, kind, window, pstride, row, col], html, t)

        with gr.Tab("One value", id="one", elem_id="tab-one") as t:
            with gr.Row():
                layer = gr.Dropdown(conv_layers, value=conv_layers[0], label="layer", elem_id="one-layer")
                ochannel = gr.Slider(0, 63, value=0, step=1, label="feature map (channel)", elem_id="one-channel")
                orow = gr.Slider(0, 27, value=12, step=1, label="row", elem_id="one-row")
                ocol = gr.Slider(0, 27, value=12, step=1, label="column", elem_id="one-col")
            html = gr.HTML(one(None, conv_layers[0], 0, 12, 12))
        tab("one", one, [layer, ochannel, orow, ocol], html, t)

        with gr.Tab("CNN vs ANN", id="versus", elem_id="tab-versus") as t:
            with gr.Row():
                dx = gr.Slider(-8, 8, value=0, step=1, label="move right (px)", elem_id="versus-dx")
                dy = gr.Slider(-8, 8, value=0, step=1, label="move down (px)", elem_id="versus-dy")
                angle = gr.Slider(-60, 60, value=0, step=5, label="turn (degrees)", elem_id="versus-angle")
            html = gr.HTML(versus(None, 0, 0, 0))
        tab("versus", versus, [dx, dy, angle], html, t)

        with gr.Tab("Saliency", id="saliency", elem_id="tab-saliency") as t:
            with gr.Row():
                target = gr.Dropdown(["predicted"] + [str(d) for d in range(10)], value="predicted",
                                     label="explain the score of", elem_id="saliency-target")
                method = gr.Radio(["gradient × input", "Grad-CAM"], value="gradient × input", label="method",
                                  elem_id="saliency-method")
            html = gr.HTML(saliency(None, "predicted", "gradient × input"))
        tab("saliency", saliency, [target, method], html, t)

        with gr.Tab("Architecture", id="architecture", elem_id="tab-architecture") as t:
            gr.HTML(lesson_views.architecture_html(model, mlp.model if mlp else None))  # fixed: built once
        t.select(lambda: "architecture", None, state_active, show_progress="hidden", api_visibility="private")
        with gr.Tab("Model card", id="card", elem_id="tab-card") as t:
            gr.HTML(lesson_views.model_card_html(clf.report, lesson_views.curves_uri(clf.path),
                                                 mlp.report if mlp else None))
        t.select(lambda: "card", None, state_active, show_progress="hidden", api_visibility="private")

    names = list(lessons_fns)
    controls_all = [c for name in names for c in lessons_fns[name][1]]

    def refresh(active: str, current: str, *values: Any) -> tuple[Any, ...]:
        """After a drawing update: recompute the visible lesson only."""
        out: list[Any] = []
        offset = 0
        for name in names:
            fn, controls = lessons_fns[name]
            mine = values[offset:offset + len(controls)]
            offset += len(controls)
            out.append(fn(current, *mine) if name == active else gr.skip())
        return tuple(out)

    return LessonTabs(state_current, state_active, outputs, [state_active, state_current, *controls_all], refresh)
