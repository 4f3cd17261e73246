"""Break it: the damaged network equals PyTorch running a deep copy damaged in place, and the shared model is never
touched, not even while many threads use it at once."""

from __future__ import annotations

import copy
import re
import threading

import numpy as np
import pytest
import torch

from demo.core.classifier import Classifier, load_classifier
from demo.core.examples import example_image
from demo.core.paths import WEIGHTS_DIR
from demo.core.preprocess import preprocess
from demo.teaching.lessons import break_it
from demo.views.tabs.break_it import break_it_html


@pytest.fixture(scope="module")
def input28():
    return preprocess(example_image(3, 0, 280, 20)).input28


@pytest.fixture(scope="module")
def other28():
    return preprocess(example_image(7, 1, 280, 20)).input28


def oracle(clf, input28, layer, channels, noise, seed):
    """The spec, done the plain way: a deep copy of the model, the layer changed in place, the usual forward pass."""
    model = copy.deepcopy(clf.model)
    module = getattr(model, layer)
    with torch.no_grad():
        if noise > 0:
            generator = torch.Generator().manual_seed(seed)
            module.weight.add_(noise * module.weight.std() * torch.randn(module.weight.shape, generator=generator))
        module.weight[list(channels)] = 0
        module.bias[list(channels)] = 0
    return Classifier(model, clf.config, clf.report, clf.path).forward_staged(input28)


def assert_same(result, expected):
    probs, activations = result
    want_probs, want_activations = expected
    np.testing.assert_array_equal(probs, want_probs)
    assert list(activations) == list(want_activations)
    for name in want_activations:
        assert activations[name].shape == want_activations[name].shape, name
        np.testing.assert_array_equal(activations[name], want_activations[name], err_msg=name)


def snapshot(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def assert_unchanged(model, before):
    after = model.state_dict()
    assert list(after) == list(before)
    for k, v in before.items():
        assert torch.equal(after[k], v), f"{k} of the shared model changed"


def data(html: str) -> dict[str, str]:
    head = html[:html.index(">")]
    return dict(re.findall(r'data-([\w-]+)="([^"]*)"', head))


def test_layer_choices_are_the_convs_and_hidden_fc_layers(clf):
    assert break_it.layer_choices(clf.model) == ["conv1", "conv2", "conv3", "fc1"]
    assert [break_it.channel_count(clf.model, name) for name in ["conv1", "conv2", "conv3", "fc1"]] == [32, 64, 64, 128]
    mlp = load_classifier(WEIGHTS_DIR / "mlp.safetensors").model
    assert break_it.layer_choices(mlp) == ["fc1", "fc2"]  # fc3 gives the ten class scores


@pytest.mark.parametrize("layer, channels, noise, seed", [
    ("conv1", [0, 5], 0.0, 0),
    ("conv1", [], 1.0, 4),
    ("conv2", [], 0.5, 1),
    ("conv3", [63, 1, 30], 1.5, 7),
    ("fc1", [0, 127, 40], 0.0, 0),
    ("fc1", [3], 2.0, 3),
    ("conv2", list(range(64)), 0.0, 0),  # every filter off
])
def test_broken_forward_equals_a_copy_changed_in_place(clf, input28, layer, channels, noise, seed):
    before = snapshot(clf.model)
    result = break_it.broken_forward(clf.model, input28, layer, channels, noise, seed)
    assert_same(result, oracle(clf, input28, layer, channels, noise, seed))
    assert result[0].shape == (10,) and result[0].sum() == pytest.approx(1)
    assert_unchanged(clf.model, before)


@pytest.mark.parametrize("layer, stage", [("conv1", "relu1"), ("conv3", "relu3"), ("fc1", "relu4")])
def test_a_channel_switched_off_outputs_zero_even_with_noise(clf, input28, layer, stage):
    _, activations = break_it.broken_forward(clf.model, input28, layer, [2, 9], 3.0, 5)
    assert not activations[stage][[2, 9]].any()
    if layer != "fc1":
        assert not activations[layer][[2, 9]].any()  # before the ReLU too: weights and bias are zero


def test_nothing_broken_is_the_intact_network_exactly(clf, input28, other28):
    for image in (input28, other28):
        for layer in break_it.layer_choices(clf.model):
            assert_same(break_it.broken_forward(clf.model, image, layer, [], 0.0, 123), clf.forward_staged(image))


def test_stages_before_the_broken_layer_are_untouched(clf, input28):
    _, intact = clf.forward_staged(input28)
    _, broken = break_it.broken_forward(clf.model, input28, "conv2", [1], 1.0, 2)
    for name in ("conv1", "relu1", "pool1"):
        np.testing.assert_array_equal(broken[name], intact[name])
    assert not np.array_equal(broken["conv2"], intact["conv2"])


def test_the_seed_decides_the_noise(clf, input28):
    first = break_it.broken_weights(clf.model, "conv2", [], 1.0, 11)
    again = break_it.broken_weights(clf.model, "conv2", [], 1.0, 11)
    other = break_it.broken_weights(clf.model, "conv2", [], 1.0, 12)
    assert torch.equal(first[0], again[0]) and not torch.equal(first[0], other[0])
    assert torch.equal(first[1], clf.model.conv2.bias)  # noise goes on the weights only
    weight = clf.model.conv2.weight.detach()
    std = float((first[0] - weight).std() / weight.std())
    assert std == pytest.approx(1.0, rel=0.05)  # noise std = noise × the layer's own weight std
    assert first[0] is not clf.model.conv2.weight


def test_shared_model_is_never_modified_even_under_concurrent_use(clf, input28, other28):
    before = snapshot(clf.model)
    parameters = {name: (p, p.data_ptr()) for name, p in clf.model.named_parameters()}
    settings = [("conv1", [0, 3], 0.0, 0), ("conv1", [], 5.0, 1), ("conv2", [5], 2.0, 2), ("conv3", [], 3.0, 3),
                ("fc1", list(range(0, 128, 2)), 0.0, 0), ("fc1", [1], 5.0, 4), ("conv2", list(range(64)), 1.0, 5),
                ("conv3", [7, 8], 0.5, 6)]
    images = [input28, other28]
    expected = {(i, k): oracle(clf, images[k], *s) for i, s in enumerate(settings) for k in range(2)}
    intact = [clf.forward_staged(image) for image in images]
    start, failures = threading.Barrier(len(settings)), []

    def worker(i: int) -> None:
        try:
            start.wait()
            for round_ in range(6):
                k = (i + round_) % 2
                assert_same(break_it.broken_forward(clf.model, images[k], *settings[i]), expected[(i, k)])
                assert_same(clf.forward_staged(images[1 - k]), intact[1 - k])  # never sees anyone's broken weights
        except Exception as error:  # noqa: BLE001 - handed to the main thread, which fails the test with it
            failures.append(error)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(settings))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures[0]
    assert_unchanged(clf.model, before)
    for name, p in clf.model.named_parameters():  # the very same tensors, at the same memory: nothing was swapped
        assert p is parameters[name][0] and p.data_ptr() == parameters[name][1]


def test_validate_cleans_and_rejects(clf):
    assert break_it.validate(clf.model, "conv2", [9, 3, 3, np.int64(0)], 1) == ("conv2", [0, 3, 9], 1.0)
    for layer in ["fc2", "relu1", "conv9", None]:
        with pytest.raises(ValueError, match="layer must be one of conv1, conv2, conv3, fc1"):
            break_it.validate(clf.model, layer, [], 0.0)
    for channels in ([32], [-1], [True], [1.5]):
        with pytest.raises(ValueError, match="channel of conv1 must be a whole number from 0 to 31"):
            break_it.validate(clf.model, "conv1", channels, 0.0)
    for noise in (-0.1, 5.01, float("nan"), float("inf"), None, "1", True):
        with pytest.raises(ValueError, match="noise must be a number from 0 to 5"):
            break_it.validate(clf.model, "conv1", [], noise)
    assert break_it.validate(clf.model, "fc1", [], break_it.MAX_NOISE)[2] == 5.0
    assert break_it.check_seed(3.0) == 3 and break_it.check_seed(np.int64(4)) == 4
    for seed in (-1, 1.5, "2", None):
        with pytest.raises(ValueError, match="seed must be a whole number of at least 0, not"):
            break_it.check_seed(seed)
    with pytest.raises(ValueError, match="the seed is too large"):
        break_it.check_seed(2 ** 63)
    with pytest.raises(ValueError):
        break_it.broken_forward(clf.model, np.zeros((28, 28), np.float32), "conv1", [40], 0.0, 0)


def test_parse_channels():
    assert break_it.parse_channels("3, 7-9", 32) == [3, 7, 8, 9]
    assert break_it.parse_channels("9 ,3 3; 7 - 8", 32) == [3, 7, 8, 9]
    assert break_it.parse_channels("0–2", 32) == [0, 1, 2]  # an en dash, as people type ranges
    assert break_it.parse_channels("", 32) == [] == break_it.parse_channels(None, 32) == break_it.parse_channels(
        " , ", 32)
    assert break_it.parse_channels("0-31", 32) == list(range(32))
    for text, message in [("x", "could not read 'x'"), ("3, 1.5", "could not read '1.5'"), ("-1", "could not read"),
                          ("3-", "could not read '3-'"), ("32", "32 .* out of range.*0 to 31"),
                          ("0-99", "out of range"), ("9-7", "runs backwards"), ("1" * 2000, "too long")]:
        with pytest.raises(ValueError, match=message):
            break_it.parse_channels(text, 32)
    with pytest.raises(ValueError, match="text"):
        break_it.parse_channels(3, 32)


def test_reset_settings_give_the_intact_network(clf):
    layer, text, noise, seed = break_it.reset_settings(clf.model)
    assert (layer, text, noise, seed) == ("conv1", "", 0.0, break_it.DEFAULT_SEED)
    assert 0 < break_it.NOISE_STEP < break_it.MAX_NOISE


def test_html_shows_both_answers_and_what_changed(clf, input28):
    html = break_it_html(clf, input28, "conv1", "7, 3", 0.5, 2)
    d = data(html)
    probs, _ = break_it.broken_forward(clf.model, input28, "conv1", [3, 7], 0.5, 2)
    assert html.startswith('<div id="break-it"')
    assert d == {"state": "ready", "layer": "conv1", "channels-off": "3,7", "noise": "0.5", "seed": "2",
                 "answer": str(int(probs.argmax())), "original": str(int(clf.forward_staged(input28)[0].argmax()))}
    assert "switched off conv1 channels 3, 7 · noise 0.50 × the weights" in html
    stages = re.findall(r'data-stage="(\w+)"', html)
    assert stages == ["relu1", "pool1", "relu2", "relu3", "pool2", "relu4"]
    assert "everyone else" in html and "one learned <b>filter</b>" in html


def test_html_heavy_noise_changes_the_answer_and_fc_says_units(clf, input28):
    answers = {data(break_it_html(clf, input28, "conv1", "", 5.0, seed))["answer"] for seed in range(3)}
    assert answers != {data(break_it_html(clf, input28, "conv1", "", 0, 0))["original"]}
    html = break_it_html(clf, input28, "fc1", "4", 0, 0)
    assert "switched off fc1 hidden unit 4" in html and re.findall(r'data-stage="(\w+)"', html) == ["relu4"]


def test_html_with_nothing_broken(clf, input28):
    html = break_it_html(clf, input28, "conv2", "  ", 0.0, None)
    d = data(html)
    assert d["state"] == "ready" and d["answer"] == d["original"] and d["channels-off"] == ""
    assert "nothing is broken yet" in html and 'changed by 0.0 %' in html


@pytest.mark.parametrize("layer, text, noise, message", [
    ("conv1", "3, banana", 0.0, "could not read"),
    ("conv1", "40", 0.0, "out of range"),
    ("fc2", "1", 0.0, "layer must be one of"),
    ("conv2", "1", 9.0, "noise must be a number"),
    ("conv2", "1", None, "noise must be a number"),
    ('<script>"', "1", 0.0, "layer must be one of"),
])
def test_html_notice_for_bad_settings(clf, input28, layer, text, noise, message):
    html = break_it_html(clf, input28, layer, text, noise, 0)
    assert html.startswith('<div id="break-it"') and data(html)["state"] == "error"
    assert '<div class="notice warning" role="status">' in html and message in html
    assert "<script>" not in html


def test_html_placeholder_without_a_drawing(clf):
    html = break_it_html(clf, None, "conv1", "3", 0.5, 0)
    assert html.startswith('<div id="break-it"') and data(html)["state"] == "empty"
