"""The teaching views' HTML: the numbers they carry equal the model's own, and hidden lessons are not computed."""

from __future__ import annotations

import re

import gradio as gr
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from demo.core.classifier import Prediction, load_classifier
from demo.core.examples import example_image
from demo.core.model import count_parameters
from demo.core.paths import WEIGHTS_DIR
from demo.core.preprocess import preprocess
from demo.core.transform import shift_rotate
from demo.page.lesson_tabs import add_lesson_tabs, decode_input, encode_input
from demo.views.live import ViewUpdate
from demo.views.tabs import architecture, convolution, model_card, network, one_value, pooling, saliency, versus


@pytest.fixture(scope="module")
def mlp():
    return load_classifier(WEIGHTS_DIR / "mlp.safetensors")


@pytest.fixture(scope="module")
def input28():
    return preprocess(example_image(3, 0, 280, 20)).input28


def data(html: str) -> dict[str, str]:
    """The data-* attributes of the view's outer element."""
    head = html[:html.index(">")]
    return {k: v for k, v in re.findall(r'data-([\w-]+)="([^"]*)"', head)}


@pytest.mark.parametrize("k, mode, stride", [(2, "same", 1), (4, "full", 3), (7, "valid", 2), (5, "same", 2)])
def test_playground_output_size_is_torchs(clf, input28, k, mode, stride):
    d = data(convolution.conv_playground_html(input28, clf.model, "blur (box)", k, mode, stride))
    pad = {"valid": (0, 0), "same": ((k - 1) // 2, k - 1 - (k - 1) // 2), "full": (k - 1, k - 1)}[mode]
    x = F.pad(torch.from_numpy(input28)[None, None], (pad[0], pad[1], pad[0], pad[1]))
    out = F.conv2d(x, torch.ones(1, 1, k, k) / k ** 2, stride=stride)
    assert d["out"] == f"{out.shape[2]}x{out.shape[3]}" and d["k"] == str(k)


def test_learned_kernel_ignores_the_size_slider(clf, input28):
    html = convolution.conv_playground_html(input28, clf.model, f"{convolution.LEARNED_PREFIX}3", 2, "same", 1)
    assert data(html)["k"] == str(clf.model.conv1.kernel_size[0]) and "does not apply" in html


@pytest.mark.parametrize("layer, channel, row, col", [("conv1", 0, 0, 0), ("conv1", 31, 14, 9), ("conv2", 5, 13, 0),
                                                      ("conv3", 63, 6, 6)])
def test_one_value_equals_the_models_activation(clf, input28, layer, channel, row, col):
    d = data(one_value.one_value_html(input28, clf, layer, channel, row, col))
    _, activations = clf.forward_staged(input28)
    relu = {"conv1": "relu1", "conv2": "relu2", "conv3": "relu3"}[layer]
    assert float(d["value"]) == pytest.approx(float(activations[relu][channel, row, col]), abs=1e-5)
    assert float(d["model-value"]) == pytest.approx(float(d["value"]), abs=1e-5)


def test_max_pooling_view_equals_the_networks_own_pool(clf, input28):
    _, activations = clf.forward_staged(input28)
    pool1 = activations["pool1"]
    channel, row, col = np.unravel_index(int(pool1.argmax()), pool1.shape)
    d = data(pooling.pooling_html(input28, clf, "relu1", int(channel), "max", 2, 2, int(row), int(col)))
    assert float(d["kept"]) == pytest.approx(float(pool1[channel, row, col]), abs=1e-5)
    assert d["out"] == f"{pool1.shape[1]}x{pool1.shape[2]}"


def test_cnn_vs_ann_reads_the_moved_digit(clf, mlp, input28):
    d = data(versus.cnn_vs_mlp_html(input28, clf, mlp, 6, -2, 15, None))
    moved = shift_rotate(input28, 6, -2, 15)
    assert d["cnn-label"] == str(int(clf.predict_mnist(moved[None])[0].argmax()))
    assert d["mlp-label"] == str(int(mlp.predict_mnist(moved[None])[0].argmax()))
    assert data(versus.cnn_vs_mlp_html(input28, clf, None, 0, 0, 0, None))["state"] == "no-mlp"


def test_saliency_explains_the_chosen_class(clf, input28):
    assert data(saliency.saliency_html(input28, clf.model, None, "gradient × input"))["target"] == "3"
    assert data(saliency.saliency_html(input28, clf.model, 8, "Grad-CAM"))["target"] == "8"


def test_architecture_and_model_card(clf, mlp):
    assert int(data(architecture.architecture_html(clf.model, mlp.model))["total"]) == count_parameters(clf.model)
    card = model_card.model_card_html(clf.report, None, mlp.report)
    assert float(data(card)["accuracy"]) == clf.report["test_accuracy"] and card.count("<tr>") >= 11
    assert data(model_card.model_card_html({}, None, None))["state"] == "empty"


def test_network_view_has_one_step_per_stage(clf, input28):
    probs, activations = clf.forward_staged(input28)
    html = network.network_html(Prediction(3, probs.tolist(), input28, activations), clf.model)
    steps = int(re.search(r'data-steps="(\d+)"', html).group(1))
    # input, every recorded stage and the flatten step between the maps and the fully connected layers, the answer
    assert steps == len(activations) + 3 == html.count('class="net-step"')


def test_only_the_visible_lesson_is_computed(clf, mlp, input28):
    with gr.Blocks():
        tabs = add_lesson_tabs(clf, mlp, None, lambda: None)
    defaults = {c: c.value for c in tabs.controls}
    views = {name: lesson.html for name, lesson in tabs.lessons.items()}
    for active in ("conv", "versus", "layers"):
        out = tabs.after_update(ViewUpdate({}, input28), {**defaults, tabs.active: active})
        assert set(out) <= set(tabs.outputs)
        computed = [name for name, html in views.items() if html in out]
        assert computed == ([] if active == "layers" else [active])
        assert decode_input(out[tabs.current]) is not None
        if active != "layers":
            assert 'data-state="ready"' in out[views[active]]
    kept = tabs.after_update(ViewUpdate({}, None, kept=True), {**defaults, tabs.active: "conv"})
    assert kept == {}  # a drawing that was not used leaves the lessons and their input as they are


def test_the_input_the_page_holds_round_trips_exactly_and_junk_is_refused(input28):
    assert np.array_equal(decode_input(encode_input(input28)), input28)
    assert encode_input(None) == "" and decode_input("") is None
    for junk in ("not base64!", encode_input(input28)[:-8], "AAAA", encode_input(np.full((28, 28), np.nan))):
        assert decode_input(junk) is None
    assert decode_input(encode_input(np.full((28, 28), 7.0))).max() == 1.0  # clipped into [0, 1]


def test_a_failing_lesson_gives_a_notice_not_an_error(clf, mlp, input28, caplog):
    with gr.Blocks():
        tabs = add_lesson_tabs(clf, mlp, None, lambda: None)
    values = {c: c.value for c in tabs.controls}
    conv = tabs.lessons["conv"]
    values[conv.controls["kernel"]] = "no such kernel"  # the playground's kernel menu: a value no page offers
    out = tabs.after_update(ViewUpdate({}, input28), {**values, tabs.active: "conv"})
    assert 'data-state="error"' in out[conv.html] and "could not be computed" in out[conv.html]
    assert any("lesson conv failed" in r.message for r in caplog.records)
