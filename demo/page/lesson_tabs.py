"""The teaching tabs (layout and wiring): each lesson is computed only while its tab is visible.

:func:`add_lesson_tabs` is called inside the page's ``gr.Blocks``. Per user, two values drive it: the
current 28×28 model input (set by every drawing, upload or sample) and the name of the visible lesson. A lesson
is recomputed when its tab is opened, when one of its controls moves, and after each drawing update, but only if
it is the visible one; the others are left alone, so the live prediction pays nothing for tabs nobody looks at.

Both values live in the page (hidden textboxes), not in Gradio's server-side session: the server evicts sessions
beyond ``state_session_capacity`` (sessionless REST calls each make one), and a pupil whose session was evicted
would otherwise find the lessons reset. What the page sends back is checked (:func:`decode_input`).

The wiring every tab shares (a lesson, its registration, sliders that follow a layer's size) is in
demo/page/lesson_wiring.py; the tabs that go beyond the tutorial (watch it learn, nearest digits, filters, break it) are
in demo/page/insight_tabs.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gradio as gr

from demo.core.classifier import Classifier, Prediction
from demo.core.model import CONV, stage_kind
from demo.teaching.calibration import load_report as load_calibration
from demo.teaching.lessons import architecture as stages
from demo.teaching.lessons import pooling as pool_lessons
from demo.texts import plain
from demo.views.glossary import glossary_html
from demo.views.live import decode_input, encode_input, usual_top  # noqa: F401  (tests import them from here)
from demo.views.tabs import (
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

from .assets import asset
from .insight_tabs import Insights, add_insight_tabs
from .language import again_html, labelled, tab
from .lesson_wiring import LAYERS, NETWORK, RECOMPUTED, Lesson, LessonTabs, clamp, follow, plain_tab, register


def add_lesson_tabs(clf: Classifier, mlp: Classifier | None, robustness: dict[str, Any] | None,
                    layers_tab: Callable[[], None], classroom: bool = False,
                    insights: Insights | None = None) -> LessonTabs:
    """Builds the tabs (``layers_tab()`` fills the first one, ``insights`` feed demo/page/insight_tabs.py) and returns
    what drawing updates must refresh."""
    model = clf.model
    shapes = {row.name: row.output_shape for row in stages.architecture(model)}
    conv_layers = [name for name, m in model.named_children() if stage_kind(m) == CONV]
    # Pooling is explored on the feature maps after each conv's ReLU (what the network's own pooling sees).
    map_stages = [name for name in clf.recorded_stages if name.startswith("relu") and len(shapes[name]) == 3]

    def pooled_side(stage: str, window: float, stride: float) -> int:
        """Rows (= columns) of ``stage``'s maps pooled with this window and stride, as the pooling lesson clamps."""
        h = shapes[stage][1]
        window = clamp(window, 1, min(h, pool_lessons.MAX_POOL_WINDOW))
        return (h - window) // clamp(stride, 1, pool_lessons.MAX_POOL_STRIDE) + 1

    def conv(current, kernel, size, mode, stride):
        return convolution.conv_playground_html(current, model, kernel, int(size), mode, int(stride))

    def pool(current, stage, channel, kind, window, stride, row, col):
        c, h, w = shapes[stage]
        window = clamp(window, 1, min(h, pool_lessons.MAX_POOL_WINDOW))
        stride = clamp(stride, 1, pool_lessons.MAX_POOL_STRIDE)
        out_h, out_w = (h - window) // stride + 1, (w - window) // stride + 1
        return pooling.pooling_html(current, clf, stage, clamp(channel, 0, c - 1), kind, window, stride,
                                    clamp(row, 0, out_h - 1), clamp(col, 0, out_w - 1))

    def one(current, layer, channel, row, col):
        c, h, w = shapes[layer]  # the sliders follow the layer (_follow); clamping guards what a page may send
        return one_value.one_value_html(current, clf, layer, clamp(channel, 0, c - 1), clamp(row, 0, h - 1),
                                        clamp(col, 0, w - 1))

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
            with tab("page.lesson_tabs.tab_network", id=NETWORK, elem_id="tab-network",
                     elem_classes=RECOMPUTED) as t:
                net = gr.HTML(layer_by_layer(None))
            register(tabs, Lesson(NETWORK, net, {}, layer_by_layer), t)
        with tab("page.lesson_tabs.tab_layers", id=LAYERS, elem_id="tab-layers") as t:
            layers_tab()
        plain_tab(tabs, LAYERS, t)

        with tab("page.lesson_tabs.tab_conv", id="conv", elem_id="tab-conv", elem_classes=RECOMPUTED) as t:
            with gr.Row():
                controls = {
                    "kernel": labelled(gr.Dropdown, "page.lesson_tabs.conv_kernel",
                                       choices=lambda: convolution.kernel_choices(model),
                                       value="vertical edges", elem_id="conv-kernel"),
                    "size": labelled(gr.Slider, "page.lesson_tabs.conv_size", 2, 7, value=3, step=1,
                                     elem_id="conv-size"),
                    "mode": labelled(gr.Radio, "page.lesson_tabs.conv_mode", choices=convolution.mode_choices,
                                     value="valid", elem_id="conv-mode"),
                    "stride": labelled(gr.Slider, "page.lesson_tabs.conv_stride", 1, 3, value=1, step=1,
                                       elem_id="conv-stride"),
                }
            html = gr.HTML(conv(None, "vertical edges", 3, "valid", 1))
        register(tabs, Lesson("conv", html, controls, conv), t)

        with tab("page.lesson_tabs.tab_pool", id="pool", elem_id="tab-pool", elem_classes=RECOMPUTED) as t:
            with gr.Row():
                controls = {
                    "stage": labelled(gr.Dropdown, "page.lesson_tabs.pool_stage", map_stages, value=map_stages[0],
                                      elem_id="pool-stage"),
                    "channel": labelled(gr.Slider, "page.lesson_tabs.pool_channel", 0, shapes[map_stages[0]][0] - 1,
                                        value=0, step=1, elem_id="pool-channel"),
                    "kind": labelled(gr.Radio, "page.lesson_tabs.pool_kind", choices=pooling.kind_choices, value="max",
                                     elem_id="pool-kind"),
                    "window": labelled(gr.Slider, "page.lesson_tabs.pool_window", 1, pool_lessons.MAX_POOL_WINDOW,
                                       value=2, step=1, elem_id="pool-window"),
                    "stride": labelled(gr.Slider, "page.lesson_tabs.pool_stride", 1, pool_lessons.MAX_POOL_STRIDE,
                                       value=2, step=1, elem_id="pool-stride"),
                    "row": labelled(gr.Slider, "page.lesson_tabs.pool_row", 0, pooled_side(map_stages[0], 2, 2) - 1,
                                    value=5, step=1, elem_id="pool-row"),
                    "col": labelled(gr.Slider, "page.lesson_tabs.pool_col", 0, pooled_side(map_stages[0], 2, 2) - 1,
                                    value=5, step=1, elem_id="pool-col"),
                }
            html = gr.HTML(pool(None, map_stages[0], 0, "max", 2, 2, 5, 5))
        register(tabs, Lesson("pool", html, controls, pool), t)
        follow(controls, ["stage", "window", "stride"], ["channel", "row", "col"],
                lambda stage, window, stride: (shapes[stage][0], *(pooled_side(stage, window, stride),) * 2))

        with tab("page.lesson_tabs.tab_one", id="one", elem_id="tab-one", elem_classes=RECOMPUTED) as t:
            with gr.Row():
                controls = {
                    "layer": labelled(gr.Dropdown, "page.lesson_tabs.one_layer", conv_layers, value=conv_layers[0],
                                      elem_id="one-layer"),
                    "channel": labelled(gr.Slider, "page.lesson_tabs.one_channel", 0, shapes[conv_layers[0]][0] - 1,
                                        value=0, step=1, elem_id="one-channel"),
                    "row": labelled(gr.Slider, "page.lesson_tabs.one_row", 0, shapes[conv_layers[0]][1] - 1,
                                    value=12, step=1, elem_id="one-row"),
                    "col": labelled(gr.Slider, "page.lesson_tabs.one_col", 0, shapes[conv_layers[0]][2] - 1,
                                    value=12, step=1, elem_id="one-col"),
                }
            html = gr.HTML(one(None, conv_layers[0], 0, 12, 12))
        register(tabs, Lesson("one", html, controls, one), t)
        follow(controls, ["layer"], ["channel", "row", "col"], lambda layer: shapes[layer])

        with tab("page.lesson_tabs.tab_versus", id="versus", elem_id="tab-versus",
                 elem_classes=RECOMPUTED) as t:
            with gr.Row():
                controls = {
                    "dx": labelled(gr.Slider, "page.lesson_tabs.versus_dx", -8, 8, value=0, step=1,
                                   elem_id="versus-dx"),
                    "dy": labelled(gr.Slider, "page.lesson_tabs.versus_dy", -8, 8, value=0, step=1,
                                   elem_id="versus-dy"),
                    "angle": labelled(gr.Slider, "page.lesson_tabs.versus_angle", -60, 60, value=0, step=5,
                                      elem_id="versus-angle"),
                }
            html = gr.HTML(compare(None, 0, 0, 0))
        register(tabs, Lesson("versus", html, controls, compare), t)

        with tab("page.lesson_tabs.tab_saliency", id="saliency", elem_id="tab-saliency",
                 elem_classes=RECOMPUTED) as t:
            with gr.Row():
                controls = saliency_controls()
            html = gr.HTML(explain(None, "predicted", "gradient × input"))
        register(tabs, Lesson("saliency", html, controls, explain), t)

        with tab("page.lesson_tabs.tab_digit", id="digit", elem_id="tab-digit", elem_classes=RECOMPUTED) as t:
            html = gr.HTML(digit_or_not.digit_or_not_html(None, clf))
        register(tabs, Lesson("digit", html, {}, lambda current: digit_or_not.digit_or_not_html(current, clf)), t)

        add_insight_tabs(tabs, clf, insights)
        fixed_tabs(tabs, clf, mlp)
    return tabs


def fixed_tabs(tabs: LessonTabs, clf: Classifier, mlp: Classifier | None) -> None:
    """Architecture, Model card and Glossary: built once, nothing to compute per drawing."""
    model = clf.model
    with tab("page.lesson_tabs.tab_architecture", id="architecture", elem_id="tab-architecture") as t:
        again_html(gr.HTML(architecture.architecture_html(model, mlp.model if mlp else None)),  # fixed: built once
                   lambda: architecture.architecture_html(model, mlp.model if mlp else None))
    plain_tab(tabs, "architecture", t)
    with tab("page.lesson_tabs.tab_card", id="card", elem_id="tab-card") as t:
        def card() -> str:
            return model_card.model_card_html(clf.report, model_card.curves_uri(clf.path),
                                              mlp.report if mlp else None, load_calibration(str(clf.path)))
        again_html(gr.HTML(card()), card)
    plain_tab(tabs, "card", t)
    with tab("page.lesson_tabs.tab_glossary", id="glossary", elem_id="tab-glossary") as t:
        again_html(gr.HTML(glossary_html(model, usual_top(clf))),  # the answer box's figure (demo/views/live.py)
                   lambda: glossary_html(model, usual_top(clf)))
    plain_tab(tabs, "glossary", t)


def saliency_controls() -> dict[str, Any]:
    """Saliency's target and method; (shown name, value) choices: the values name them to the lesson."""
    def targets() -> list[tuple[str, str]]:
        return [(plain("page.lesson_tabs.saliency_target_predicted"), "predicted"),
                *((str(d), str(d)) for d in range(10))]

    def methods() -> list[tuple[str, str]]:
        return [(plain("page.lesson_tabs.saliency_method_gradient"), "gradient × input"),
                (plain("page.lesson_tabs.saliency_method_grad_cam"), "Grad-CAM")]

    controls = {
        "target": labelled(gr.Dropdown, "page.lesson_tabs.saliency_target", choices=targets, value="predicted",
                           elem_id="saliency-target"),
        "method": labelled(gr.Radio, "page.lesson_tabs.saliency_method", choices=methods, value="gradient × input",
                           elem_id="saliency-method"),
    }
    return controls
