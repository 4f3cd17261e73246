"""The inspector recomputes any value of any stage by hand; the oracle is the model itself (staged_forward): every
hand-computed value must be the network's own output at that place, at corners, in the interior, at the strongest
value and at random positions. The HTML carries the exact numbers, and bad requests become messages, not errors."""

from __future__ import annotations

import html as html_lib
import re

import numpy as np
import pytest
import torch

from demo.core.classifier import load_classifier
from demo.core.examples import example_image
from demo.core.model import staged_forward
from demo.core.paths import WEIGHTS_DIR
from demo.core.preprocess import preprocess
from demo.teaching.lessons.inspector import (
    STAGE_INPUT,
    STAGE_PROBABILITIES,
    TOP_CHANNELS,
    TOP_TERMS,
    inspect_value,
    inspectable_stages,
    stage_shape,
)
from demo.views.tabs.inspector import inspector_html

# The shipped CNN's stages; the first test checks that they are what inspectable_stages lists.
STAGES = [STAGE_INPUT, "normalize", "conv1", "relu1", "pool1", "conv2", "relu2", "conv3", "relu3", "pool2", "flatten",
          "fc1", "relu4", "dropout", "fc2", STAGE_PROBABILITIES]


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """One thread, as the app runs (demo/__main__.py): a 28×28 forward pass is too small to share, and on a busy
    machine threads waiting for each other make each of this file's ~250 passes 20× slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def input28() -> np.ndarray:
    return preprocess(example_image(3, 0, 280, 20)).input28


def outputs_of(model, input28) -> dict[str, np.ndarray]:
    """The oracle: every stage's output from the model's own forward pass, and softmax of its logits."""
    with torch.inference_mode():
        logits, outputs = staged_forward(model, torch.from_numpy(np.asarray(input28, np.float32))[None, None])
    reference = {STAGE_INPUT: np.asarray(input28, np.float64)[None]}
    reference.update({name: out[0].double().numpy() for name, out in outputs.items()})
    reference[STAGE_PROBABILITIES] = torch.softmax(logits.double(), dim=1)[0].numpy()
    return reference


@pytest.fixture(scope="module")
def reference(clf, input28) -> dict[str, np.ndarray]:
    return outputs_of(clf.model, input28)


def positions(values: np.ndarray, seed: int, count: int = 3) -> list[tuple[int, int, int]]:
    """(unit, row, col) to check: corners (where conv patches reach into the padding), the interior, the largest and
    smallest values, and ``count`` random places."""
    rng = np.random.default_rng(seed)
    if values.ndim == 1:
        n = len(values)
        units = [0, n - 1, n // 2, int(values.argmax()), int(values.argmin()), *rng.integers(0, n, count)]
        return [(int(u), 0, 0) for u in units]
    c, h, w = values.shape
    places = [(0, 0, 0), (c - 1, h - 1, w - 1), (0, 0, w - 1), (c - 1, h - 1, 0), (c // 2, h // 2, w // 2),
              np.unravel_index(values.argmax(), values.shape), np.unravel_index(values.argmin(), values.shape)]
    places += [(rng.integers(c), rng.integers(h), rng.integers(w)) for _ in range(count)]
    return [tuple(int(v) for v in p) for p in places]


def close(value: float, expected: float) -> bool:
    return abs(value - expected) <= 1e-4 * max(1.0, abs(expected))


def visible_text(fragment: str) -> str:
    fragment = re.sub(r'(src|href)="data:[^"]*"', "", fragment)
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def test_the_stages_are_the_input_every_named_stage_and_the_probabilities(clf):
    assert inspectable_stages(clf.model) == STAGES
    assert inspectable_stages(clf.model)[1:-1] == [name for name, _ in clf.model.named_children()]


def test_stage_shapes_are_the_shapes_of_the_models_outputs(clf, reference):
    for stage in STAGES:
        assert stage_shape(clf.model, stage) == reference[stage].shape, stage
    assert stage_shape(clf.model, STAGE_INPUT) == (1, 28, 28)
    assert stage_shape(clf.model, STAGE_PROBABILITIES) == (10,)
    with pytest.raises(ValueError, match="unknown stage"):
        stage_shape(clf.model, "conv9")


@pytest.mark.parametrize("stage", STAGES)
def test_every_value_is_the_models_own(clf, input28, reference, stage):
    values = reference[stage]
    for unit, row, col in positions(values, seed=STAGES.index(stage)):
        expected = float(values[unit] if values.ndim == 1 else values[unit, row, col])
        ins = inspect_value(clf.model, input28, stage, unit, row, col)
        assert (ins.stage, ins.unit, ins.row, ins.col) == (stage, unit, row, col)
        assert type(ins.value) is float and type(ins.model_value) is float
        assert close(ins.value, expected), (stage, unit, row, col, ins.value, expected)
        assert ins.model_value == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_each_stage_has_its_kind(clf, input28):
    kinds = [inspect_value(clf.model, input28, s, 0).kind for s in STAGES]
    assert kinds == ["input", "normalize", "conv", "activation", "pool", "conv", "activation", "conv", "activation",
                     "pool", "flatten", "fc", "activation", "dropout", "fc", "softmax"]


def test_the_html_carries_the_exact_values(clf, input28, reference):
    for stage in STAGES:
        values = reference[stage]
        unit, row, col = positions(values, seed=0)[5]  # the largest value of the stage
        ins = inspect_value(clf.model, input28, stage, unit, row, col)
        fragment = inspector_html(clf.model, input28, stage, unit, row, col)
        assert fragment.startswith('<div id="inspector" class="inspector" role="dialog"') and fragment.count(
            'id="inspector"') == 1
        assert f'data-state="ready" data-stage="{stage}" data-unit="{unit}" data-row="{row}" data-col="{col}"' \
            in fragment
        assert '<button type="button" class="inspector-close" aria-label="close the inspector">×</button>' in fragment
        value = re.search(r'class="inspector-value" data-value="([^"]+)" data-model-value="([^"]+)"', fragment)
        assert float(value[1]) == ins.value and float(value[2]) == ins.model_value, stage
        assert "They agree" in fragment
        text = visible_text(fragment)
        assert not re.search(r"-\d", text), (stage, text)  # numbers carry a true minus sign


def test_titles_name_the_place_from_zero(clf, input28):
    def title(stage, unit, row=0, col=0):
        return re.search(r'<div class="view-title">([^<]*)</div>', inspector_html(clf.model, input28, stage, unit,
                                                                                    row, col))[1]

    assert title("conv2", 5, 3, 7) == "conv2, map 5, row 3, column 7"
    assert title("normalize", 0, 0, 27) == "normalize, row 0, column 27"
    assert title("fc1", 17) == "fc1, value 17"
    assert title("fc2", 3) == "fc2, value 3 (the score of digit 3)"
    assert title("probabilities", 3) == "probabilities, digit 3"


@pytest.mark.parametrize(("stage", "unit", "row", "col", "message"), [
    ("conv9", 0, 0, 0, "unknown stage 'conv9'"),
    ("conv1", 32, 0, 0, "from 0 to 31, not 32"),
    ("conv1", -1, 0, 0, "from 0 to 31, not -1"),
    ("conv2", 0, 14, 0, "from 0 to 13, not 14"),
    ("pool2", 0, 0, 7, "from 0 to 6, not 7"),
    ("input", 1, 0, 0, "from 0 to 0, not 1"),
    ("conv1", True, 0, 0, "not True"),
    ("conv1", 1.5, 0, 0, "not 1.5"),
    ("flatten", 3136, 0, 0, "from 0 to 3135, not 3136"),
    ("fc1", 3, 1, 0, "row and col must be 0"),
    ("probabilities", 10, 0, 0, "from 0 to 9, not 10"),
    ("<b>", 0, 0, 0, "unknown stage"),
])
def test_bad_requests_raise_and_the_view_shows_the_message(clf, input28, stage, unit, row, col, message):
    with pytest.raises(ValueError, match=re.escape(message)) as raised:
        inspect_value(clf.model, input28, stage, unit, row, col)
    fragment = inspector_html(clf.model, input28, stage, unit, row, col)
    assert 'data-state="error"' in fragment and 'class="inspector-close"' in fragment
    assert html_lib.escape(str(raised.value)) in fragment and "<b>" not in fragment


def test_nothing_drawn_shows_an_invitation(clf):
    fragment = inspector_html(clf.model, None, "conv2", 5, 3, 7)
    assert 'data-state="empty"' in fragment and "draw a digit first" in fragment
    assert 'class="inspector-close"' in fragment and "inspector-value" not in fragment


def test_a_wrong_input_shape_is_a_message(clf):
    assert 'data-state="error"' in inspector_html(clf.model, np.zeros((20, 20), np.float32), "conv1", 0, 0, 0)


@pytest.mark.parametrize("stage", ["fc1", "relu4", "fc2"])
def test_fully_connected_terms_rest_and_bias_add_up_to_the_value(clf, input28, reference, stage):
    linear = clf.model.fc2 if stage == "fc2" else clf.model.fc1
    unit = int(reference[stage].argmax())
    ins = inspect_value(clf.model, input28, stage, unit)
    ws = ins.weighted
    assert len(ws.terms) == TOP_TERMS and ws.rest_count == ws.n_inputs - TOP_TERMS == linear.in_features - TOP_TERMS
    assert sum(t.product for t in ws.terms) + ws.rest + ws.bias == pytest.approx(ws.total, abs=1e-9)
    assert ws.bias == float(linear.bias[unit].detach())
    x = reference[ws.input_stage].reshape(-1)
    products = np.abs(linear.weight[unit].detach().double().numpy() * x)
    smallest_listed = min(abs(t.product) for t in ws.terms)
    assert smallest_listed >= np.delete(products, [t.index for t in ws.terms]).max()
    for t in ws.terms:
        assert t.weight == float(linear.weight[unit, t.index].detach()) and t.x == x[t.index]
        assert t.product == t.weight * t.x
    if stage == "fc2":
        assert ws.origin_stage is None and all(t.origin is None for t in ws.terms)
    else:  # fc1's inputs are pool2's maps laid end to end: name where each came from
        assert ws.origin_stage == "pool2"
        for t in ws.terms:
            c, y, col = t.origin
            assert t.index == c * 49 + y * 7 + col and reference["pool2"][c, y, col] == t.x
        fragment = inspector_html(clf.model, input28, stage, unit)
        c, y, col = ws.terms[0].origin
        assert f"map {c}, row {y}, column {col}" in fragment and f"the other {ws.rest_count:,} inputs" in fragment
    if stage == "relu4":
        assert ins.value == max(0.0, ws.total) and ins.pre_activation == ws.total


@pytest.mark.parametrize("stage", ["conv1", "conv2", "relu3"])
def test_conv_values_show_the_largest_channels_and_add_up_the_rest(clf, input28, reference, stage):
    unit, row, col = positions(reference[stage], seed=1)[5]
    ins = inspect_value(clf.model, input28, stage, unit, row, col)
    ov = ins.conv
    c_in = ov.patch.shape[0]
    assert len(ins.shown_channels) == min(TOP_CHANNELS, c_in)
    sums = np.abs(ov.channel_sums)
    assert min(sums[list(ins.shown_channels)]) >= np.delete(sums, list(ins.shown_channels), 0).max(initial=0)
    shown = sum(ov.channel_sums[c] for c in ins.shown_channels)
    assert shown + ins.other_channels_sum + ov.bias == pytest.approx(ov.pre_activation, abs=1e-9)
    conv = "conv3" if stage == "relu3" else stage
    assert ov.layer == conv and close(ov.pre_activation, float(reference[conv][unit, row, col]))
    if stage == "relu3":
        assert ins.value == max(0.0, ins.pre_activation)
    fragment = inspector_html(clf.model, input28, stage, unit, row, col)
    assert fragment.count("kernel for channel") == len(ins.shown_channels)
    assert (f"the other {c_in - TOP_CHANNELS} add up to" in fragment) == (c_in > TOP_CHANNELS)


def test_relu_of_a_negative_value_is_zero(clf, input28, reference):
    unit, row, col = (int(v) for v in np.unravel_index(reference["conv2"].argmin(), reference["conv2"].shape))
    ins = inspect_value(clf.model, input28, "relu2", unit, row, col)
    assert ins.pre_activation < 0 and ins.value == 0.0 == ins.model_value and ins.function == "ReLU"


def test_pooling_keeps_the_largest_value_of_its_window(clf, input28, reference):
    unit, row, col = positions(reference["pool1"], seed=2)[5]
    ins = inspect_value(clf.model, input28, "pool1", unit, row, col)
    window = reference["relu1"][unit, 2 * row:2 * row + 2, 2 * col:2 * col + 2]
    assert np.array_equal(ins.window.values, window) and ins.value == window.max()
    r, c = ins.window.kept_at
    assert window[r, c] == ins.value and (ins.window.top, ins.window.left) == (2 * row, 2 * col)
    # The explanation names the network's own pooling, read from its module, not a figure written in the text.
    side = clf.model.pool1.kernel_size
    assert f"Max pooling</b> keeps the largest value of each {side}×{side} window" in inspector_html(
        clf.model, input28, "pool1", unit, row, col)


def test_flatten_names_the_map_row_and_column(clf, input28, reference):
    unit = 2 * 49 + 3 * 7 + 5
    ins = inspect_value(clf.model, input28, "flatten", unit)
    assert ins.origin == (2, 3, 5) and ins.source == "pool2" and ins.value == reference["pool2"][2, 3, 5]
    assert "pool2 map 2, row 3, column 5" in inspector_html(clf.model, input28, "flatten", unit)


def test_normalize_dropout_and_softmax_fill_in_their_numbers(clf, input28, reference):
    norm = inspect_value(clf.model, input28, "normalize", 0, 14, 14)
    assert (norm.mean, norm.std) == (clf.model.normalize.mean, clf.model.normalize.std)
    assert norm.source_value == float(input28[14, 14])
    drop = inspect_value(clf.model, input28, "dropout", 7)
    assert drop.dropout_p == clf.model.dropout.p and drop.value == reference["relu4"][7]
    soft = inspect_value(clf.model, input28, STAGE_PROBABILITIES, 3)
    assert np.array_equal(soft.softmax.logits, reference["fc2"]) and soft.source == "fc2"
    assert soft.value == pytest.approx(np.exp(reference["fc2"][3]) / np.exp(reference["fc2"]).sum(), rel=1e-12)
    assert sum(inspect_value(clf.model, input28, STAGE_PROBABILITIES, k).value for k in range(10)) == \
        pytest.approx(1.0, abs=1e-12)


def test_the_mlp_is_explained_too(input28):
    """Nothing is tied to the CNN's stage names: the plain fully connected network is inspected the same way."""
    mlp = load_classifier(WEIGHTS_DIR / "mlp.safetensors").model
    reference = outputs_of(mlp, input28)
    for stage in inspectable_stages(mlp):
        for unit, row, col in positions(reference[stage], seed=3, count=1)[4:]:
            ins = inspect_value(mlp, input28, stage, unit, row, col)
            expected = float(reference[stage][unit] if reference[stage].ndim == 1 else reference[stage][unit, row, col])
            assert close(ins.value, expected), (stage, unit, row, col)
