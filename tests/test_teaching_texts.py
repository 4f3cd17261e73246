"""Every figure a teaching text states is tied to the data it comes from (the model, the weights' metadata,
weights/robustness.json), so a text cannot drift from the model again; and the statements a teacher would repeat
are checked against what the computations really do."""

from __future__ import annotations

import copy
import html as html_lib
import json
import re
from collections import OrderedDict

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from demo.core.classifier import load_classifier
from demo.core.examples import example_image
from demo.core.model import ACTIVATION, CONV, FLATTEN, FULLY_CONNECTED, POOL, stage_kind, staged_forward
from demo.core.paths import WEIGHTS_DIR
from demo.core.preprocess import preprocess
from demo.teaching import explanations
from demo.teaching.lessons.architecture import architecture as stage_rows
from demo.teaching.lessons.convolution import learned_feature_map
from demo.teaching.lessons.pooling import pool_map
from demo.teaching.lessons.saliency import grad_cam_layer
from demo.views import panels
from demo.views.tabs import architecture, convolution, model_card, network, one_value, pooling, saliency, versus

ROBUSTNESS = json.loads((WEIGHTS_DIR / "robustness.json").read_text())


@pytest.fixture(scope="module")
def clf():
    return load_classifier()


@pytest.fixture(scope="module")
def mlp():
    return load_classifier(WEIGHTS_DIR / "mlp.safetensors")


@pytest.fixture(scope="module")
def input28():
    return preprocess(example_image(3, 0, 280, 20)).input28


def visible_text(fragment: str) -> str:
    """What a reader sees: tags and picture data removed, entities decoded."""
    fragment = re.sub(r'(src|href)="data:[^"]*"', "", fragment)
    fragment = re.sub(r"<(style|svg)\b.*?</\1>", " ", fragment, flags=re.S)
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def percents(text: str) -> list[float]:
    return [float(p) for p in re.findall(r"(\d+(?:\.\d+)?) %", text)]


def all_views(clf, mlp, input28) -> dict[str, str]:
    pred = clf.predict(example_image(3, 0, 280, 20))
    return {
        "conv": convolution.conv_playground_html(input28, clf.model, "vertical edges", 3, "full", 2),
        "conv-learned": convolution.conv_playground_html(input28, clf.model, "learned: conv1 kernel 5", 3, "same", 1),
        "pool": pooling.pooling_html(input28, clf, "relu2", 3, "mean", 2, 2, 3, 4),
        "one": one_value.one_value_html(input28, clf, "conv1", 4, 0, 3),
        "one-deep": one_value.one_value_html(input28, clf, "conv3", 9, 6, 6),
        "versus": versus.cnn_vs_mlp_html(input28, clf, mlp, -3, 2, -20, ROBUSTNESS),
        "saliency": saliency.saliency_html(input28, clf.model, 5, "gradient × input"),
        "architecture": architecture.architecture_html(clf.model, mlp.model),
        "card": model_card.model_card_html(clf.report, None, mlp.report),
        "network": network.network_html(pred, clf.model),
        "prediction": panels.prediction_html(pred),
        "kernels": panels.kernels_html(clf.model),
        "maps": panels.feature_maps_html(pred, clf.model) + panels.pooled_maps_html(pred, clf.model),
        "how": panels.how_it_works_html(clf.model),
    }


# --- Grad-CAM -------------------------------------------------------------------------------------------------

def test_grad_cam_size_is_the_size_of_the_layer_it_uses(clf, input28):
    layer = grad_cam_layer(clf.model)
    with torch.inference_mode():
        _, outputs = staged_forward(clf.model, torch.from_numpy(input28)[None, None])
    h, w = outputs[layer].shape[-2:]
    for method in ("Grad-CAM", "gradient × input"):
        fragment = saliency.saliency_html(input28, clf.model, None, method)
        assert f'data-cam-layer="{layer}"' in fragment and f'data-cam-size="{h}x{w}"' in fragment
        text = visible_text(fragment)
        assert f"{layer}" in text and f"{h}×{w}" in text
        # No other stage's size (pool2's 7×7, say); 28×28 is the input the heat map is enlarged to.
        other_sizes = {f"{o.shape[-2]}×{o.shape[-1]}" for o in outputs.values() if o.ndim == 4} - {f"{h}×{w}", "28×28"}
        assert other_sizes and not any(size in text for size in other_sizes), other_sizes


def test_saliency_text_makes_no_promise_gradient_x_input_cannot_keep(clf, input28):
    text = visible_text(saliency.saliency_html(input28, clf.model, 8, "gradient × input"))
    assert "would have made the network say" not in text and "dimmed" not in text
    assert "before softmax" in text and "removed" in text
    # And the reason it cannot show a missing stroke: it is exactly 0 wherever the input is 0.
    from demo.teaching.lessons.saliency import saliency as compute

    result = compute(clf.model, input28, 8)
    assert np.all(result.gradient_x_input[input28 == 0] == 0)


# --- CNN vs MLP ------------------------------------------------------------------------------------------------

def test_cnn_vs_mlp_figures_are_robustness_json_and_the_reports(clf, mlp, input28):
    text = visible_text(versus.cnn_vs_mlp_html(input28, clf, mlp, 0, 0, 0, ROBUSTNESS))
    quoted = text[text.index("Moved 3 px"):]
    x, y = ROBUSTNESS["shift_x"], ROBUSTNESS["shift_y"]

    def acc(curve, model, px):
        return round(100 * curve[model][curve["values"].index(px)], 1)

    expected = [acc(x, "mlp", 3), acc(y, "mlp", 3), acc(x, "mlp", 4), acc(y, "mlp", 4), acc(x, "mlp", 5),
                acc(y, "mlp", 5), acc(x, "cnn", 4), acc(y, "cnn", 4), acc(x, "cnn", 5), acc(y, "cnn", 5),
                round(100 * (1 - y["ink_kept"][y["values"].index(8)]), 1)]
    assert percents(quoted) == expected
    assert "collapses" not in text and "every input changes" not in text
    # Mistakes: the confusion matrices' off-diagonal counts; parameters: counted on the two models.
    cnn_errors = sum(n for t, row in enumerate(clf.report["confusion_matrix"]) for p, n in enumerate(row) if t != p)
    mlp_errors = sum(n for t, row in enumerate(mlp.report["confusion_matrix"]) for p, n in enumerate(row) if t != p)
    assert f"CNN makes {cnn_errors} mistakes" in text and f"the MLP {mlp_errors}:" in text
    assert round(10_000 * (1 - clf.report["test_accuracy"])) == cnn_errors
    convs = sum(p.numel() for m in clf.model.modules() if isinstance(m, nn.Conv2d) for p in m.parameters())
    cnn_fc = next(m for m in clf.model.modules() if isinstance(m, nn.Linear))
    first = next(m for m in mlp.model.modules() if isinstance(m, nn.Linear))
    assert f"convolutions add only {convs:,}" in text
    assert (f"{cnn_fc.weight.numel() + cnn_fc.bias.numel():,} in the CNN, "
            f"{first.weight.numel() + first.bias.numel():,} in the MLP") in text  # each network's first dense layer
    # both totals, not the convolutions alone
    assert (f"{sum(p.numel() for p in clf.model.parameters()):,} in all, against the MLP's "
            f"{sum(p.numel() for p in mlp.model.parameters()):,}") in text
    # The background as the MLP's first layer sees it: a black pixel normalised, not 0.
    background = float(mlp.model.normalize(torch.zeros(1)))
    assert f"as {background:.2f}".replace("-", "\u2212") in text and "stays 0" not in text


def test_cnn_vs_mlp_without_measurements_states_no_figures(clf, mlp, input28):
    text = visible_text(versus.cnn_vs_mlp_html(input28, clf, mlp, 0, 0, 0, None))
    assert "At 3 px" not in text and "cut off" not in text


# --- Pooling --------------------------------------------------------------------------------------------------

def test_pooling_text_tells_what_max_and_mean_pooling_do_to_a_lone_spike():
    spike = np.zeros((4, 4), np.float32)
    spike[1, 2] = 0.3  # a weak, isolated response among zeros
    assert pool_map(spike, "max")[0, 1] == pytest.approx(0.3)  # kept at full strength
    assert pool_map(spike, "mean")[0, 1] == pytest.approx(0.3 / 4)  # divided by the window's 4 values
    assert "suppressed" not in explanations.POOLING
    assert "survives at full strength" in explanations.POOLING and "divided by 4" in explanations.POOLING


# --- The convolution playground -------------------------------------------------------------------------------

@pytest.mark.parametrize("index", [0, 7, 31])
def test_learned_kernels_in_the_playground_compute_conv1s_own_map(clf, input28, index):
    with torch.inference_mode():
        _, outputs = staged_forward(clf.model, torch.from_numpy(input28)[None, None])
    np.testing.assert_allclose(learned_feature_map(clf.model, input28, index, "same", 1),
                               outputs["conv1"][0, index].numpy(), rtol=1e-5, atol=1e-5)
    fragment = convolution.conv_playground_html(input28, clf.model, f"learned: conv1 kernel {index}", 3, "same", 1)
    assert f"conv1's map {index} before ReLU" in visible_text(fragment)


def test_strided_formula_names_both_paddings():
    assert "p_before + p_after" in explanations.CONVOLUTION and "n + padding" not in explanations.CONVOLUTION


# --- Words ----------------------------------------------------------------------------------------------------

def test_locality_and_weight_sharing_are_two_ideas(clf):
    text = visible_text(panels.how_it_works_html(clf.model))
    assert re.search(r"Locality\s*:", text) and re.search(r"Weight sharing\s*:", text)
    assert "locality and shared weights" not in text
    conv1 = next(m for m in clf.model.modules() if isinstance(m, nn.Conv2d))
    assert f"{conv1.kernel_size[0]}×{conv1.kernel_size[1]} pixels in conv1" in text
    for idea in ("ReLU", "nonlinearity", "flatten", "fully connected", "softmax", "784"):
        assert idea in text


def test_the_answer_is_called_a_softmax_probability_not_certainty(clf):
    text = visible_text(panels.prediction_html(clf.predict(example_image(7, 0, 280, 20))))
    assert "softmax probability" in text and "sure" not in text


def test_one_name_for_the_fully_connected_network(clf, mlp, input28):
    for name, fragment in all_views(clf, mlp, input28).items():
        assert "ANN" not in visible_text(fragment), name


def test_every_number_shown_has_a_true_minus_sign(clf, mlp, input28):
    for name, fragment in all_views(clf, mlp, input28).items():
        text = visible_text(fragment)
        assert not re.search(r"(?<![\w−])-\d", text), (name, re.findall(r".{20}(?<![\w−])-\d.{10}", text))


def test_the_weights_shown_are_said_to_be_batch_norm_folded(clf, mlp, input28):
    views_ = all_views(clf, mlp, input28)
    for name in ("kernels", "one", "conv-learned"):
        assert "batch normalisation folded in" in visible_text(views_[name]), name


def test_conv1_padding_is_explained_as_the_normalised_zero(clf, input28):
    text = visible_text(one_value.one_value_html(input28, clf, "conv1", 0, 0, 0))
    assert f"{explanations.signed(explanations.BACKGROUND)}" in text and "zero padding" in text
    assert "hatched = zero padding" in text
    assert explanations.BACKGROUND == pytest.approx(float(clf.model.normalize(torch.zeros(1))))


def test_pictures_on_a_colour_scale_have_a_legend(clf, mlp, input28):
    views_ = all_views(clf, mlp, input28)
    for name in ("one", "saliency", "conv"):
        assert 'class="legend"' in views_[name], name
    steps = views_["network"].split('class="net-step"')[1:]
    for step in steps:
        if "<img" in step and "model input" not in step:
            assert 'class="legend"' in step, step[:120]


# --- The layer-by-layer stepper and the architecture ----------------------------------------------------------

def test_the_stepper_walks_the_models_own_stages_with_a_flatten_step(clf):
    pred = clf.predict(example_image(4, 0, 280, 20))
    fragment = network.network_html(pred, clf.model)
    shown = re.findall(r'data-stage="([^"]+)"', fragment)
    expected = [name for name, m in clf.model.named_children()
                if name in pred.activations or stage_kind(m) == FLATTEN]
    assert shown == ["input", *expected, "answer"]
    assert int(re.search(r'data-steps="(\d+)"', fragment).group(1)) == len(shown)
    text = visible_text(fragment)
    flat = np.prod(pred.activations["pool2"].shape)
    assert f"{flat:,} numbers" in text
    # relu4 is the ReLU of fc1: the step says so.
    names = [n for n, _ in clf.model.named_children()]
    after_fc = [n for i, (n, m) in enumerate(clf.model.named_children())
                if stage_kind(m) == ACTIVATION and stage_kind(dict(clf.model.named_children())[names[i - 1]])
                == FULLY_CONNECTED]
    for relu in after_fc:
        assert f"{names[names.index(relu) - 1]} + ReLU" in text


def _linearised(model: nn.Sequential) -> nn.Sequential:
    """The same geometry with every weight 1, no bias, ReLU as identity and max pooling as mean pooling: an output
    value's gradient is then non-zero on exactly its receptive field."""
    stages = []
    for name, m in model.named_children():
        if isinstance(m, nn.Conv2d):
            conv = copy.deepcopy(m)
            conv.weight.data.fill_(1.0)
            conv.bias = None
            stages.append((name, conv))
        elif isinstance(m, nn.MaxPool2d):
            stages.append((name, nn.AvgPool2d(m.kernel_size, m.stride)))
        elif stage_kind(m) in (CONV, POOL):
            stages.append((name, m))
        elif stage_kind(m) == ACTIVATION:
            stages.append((name, nn.Identity()))
        elif stage_kind(m) in (FLATTEN, FULLY_CONNECTED):
            break
        else:
            stages.append((name, nn.Identity()))  # the normalisation
    return nn.Sequential(OrderedDict(stages))


def test_receptive_fields_are_what_gradients_reach(clf):
    probe = _linearised(clf.model)
    rows = {r.name: r for r in stage_rows(clf.model)}
    for name in [n for n, _ in probe.named_children()]:
        x = torch.ones(1, 1, 28, 28, requires_grad=True)
        y = x
        for stage_name, stage in probe.named_children():
            y = stage(y)
            if stage_name == name:
                break
        h, w = y.shape[-2:]
        (grad,) = torch.autograd.grad(y[0, 0, h // 2, w // 2], x)
        rows_hit = np.flatnonzero(grad[0, 0].abs().sum(1).numpy())
        side = rows_hit[-1] - rows_hit[0] + 1
        assert side == rows[name].receptive_field, (name, side, rows[name].receptive_field)
    assert rows["conv1"].receptive_field == 5 and rows["pool2"].receptive_field == 16
    flatten = next(r for r in rows.values() if r.kind == FLATTEN)
    first_fc = next(r for r in rows.values() if r.kind == FULLY_CONNECTED)
    assert flatten.receptive_field == 16 and first_fc.receptive_field == 28  # flatten re-indexes; fc1 sees it all
    text = visible_text(architecture.architecture_html(clf.model))
    assert "5×5 pixels after conv1" in text and "to 16×16" in text


# --- The model card -------------------------------------------------------------------------------------------

def test_the_training_loss_floor_is_what_label_smoothing_costs_a_perfect_answer(clf):
    smoothing = clf.report["label_smoothing"]
    # In float64: float32's log and exp round differently on different processors (AVX-512 or not), in the 7th digit.
    target = torch.full((1, 10), smoothing / 10, dtype=torch.float64)
    target[0, 3] += 1 - smoothing
    perfect = torch.log(target)  # logits whose softmax is exactly the smoothed target
    floor = float(F.cross_entropy(perfect, torch.tensor([3]), label_smoothing=smoothing))
    assert model_card.smoothed_loss_floor(smoothing) == pytest.approx(floor)
    text = visible_text(model_card.model_card_html(clf.report, "data:image/png;base64,", None))
    assert f"at least {floor:.2f}" in text
    curve = clf.report["curve"][-1]
    assert curve["train_loss"] > curve["test_loss"]  # the "paradox" the note explains
    assert f"{round(clf.report['train_seconds'] / 60)} min of training" in text


def test_watch_it_learn_says_how_much_the_later_training_still_does(clf):
    """The later steps divide the mistakes by the factor the snapshots show, and the optimiser named is train.py's."""
    from demo.core.paths import DEFAULT_WEIGHTS, PROJECT_ROOT
    from demo.teaching.snapshots import load_snapshots
    from demo.views.tabs import learning

    snaps = load_snapshots(clf.model, DEFAULT_WEIGHTS, clf.report)
    if snaps is None:
        pytest.skip("no snapshots shipped beside the weights")
    text = visible_text(learning.explanation(snaps))
    early = next(i for i in snaps.infos if i.test_accuracy >= 0.97)
    last = snaps.infos[-1]
    then, end = round(10_000 * (1 - early.test_accuracy)), round(10_000 * (1 - last.test_accuracy))
    assert f"({then:,} mistakes then, {end:,} at the end)" in text and "polishes" not in text
    assert f"divides the mistakes by {(1 - early.test_accuracy) / (1 - last.test_accuracy):.0f}," in text
    source = (PROJECT_ROOT / "train.py").read_text()
    assert "AdamW" in text and "torch.optim.AdamW(" in source and "OneCycleLR(" in source


@pytest.mark.slow  # the damaged network reads 200 test digits 48 times
def test_break_it_states_what_noise_did_to_each_layer_as_measured_again(clf, mnist_test):
    """The Break it tab quotes weights/break_it.json; measured again here, the figures are the same."""
    import json

    from demo.core.paths import WEIGHTS_DIR
    from demo.teaching.break_measure import DIGITS, accuracy_under_noise
    from demo.views.tabs import break_it

    report = json.loads((WEIGHTS_DIR / "break_it.json").read_text())
    assert break_it.noise_report(str(clf.path)) == report  # measured on the shipped network
    images, labels = mnist_test
    assert accuracy_under_noise(clf.model, images[:DIGITS], labels[:DIGITS]) == report["accuracy"]
    text = visible_text(break_it.explanation(report))
    for layer, shares in report["accuracy"].items():
        assert f"{layer} " + " / ".join(f"{100 * a:.1f}" for a in shares) + " %" in text
    assert "1 to 2 ×" not in text  # the old claim held for conv1 only
    text = visible_text(break_it.explanation(report, break_it.fan_in(clf.model)))
    conv1 = report["accuracy"]["conv1"][report["noise"].index(1.0)]
    assert f"at 1 × it already misreads {100 * (1 - conv1):.1f} % of those digits" in text
    assert "25 for conv1" in text and f"{clf.model.fc1.in_features:,} for fc1" in text


@pytest.mark.slow  # the network reads the 10,000 test digits
def test_the_model_card_s_reliability_figures_are_measured_again(clf, mnist_test):
    """weights/calibration.json (the reliability diagram, the medians the card quotes, the gallery's unsure line)
    is what the shipped network does on the 10,000 MNIST test digits, measured again here."""
    import json

    from demo.page.classroom import unsure_line
    from demo.teaching.calibration import REPORT, load_report, summary
    from demo.views.tabs import model_card
    from tools.calibration_report import test_probabilities

    report = json.loads(REPORT.read_text())
    assert load_report(str(clf.path)) == report
    images, labels = mnist_test
    measured = summary(test_probabilities(clf.model, images), labels)
    assert {k: report[k] for k in measured} == measured
    assert measured["right"] == round(10_000 * clf.report["test_accuracy"])  # the card's own test accuracy
    text = visible_text(model_card.model_card_html(clf.report, None, None, report))
    assert f"median of {100 * report['median_top_when_right']:.1f} %" in text
    assert f"In every range from {100 * report['unsure_below']:.0f} % up, at least 9 in 10" in text
    smoothing = clf.report["label_smoothing"]
    assert f"target for the right digit is {100 * (1 - smoothing + smoothing / 10):.1f} %" in text
    shown = [b for b in report["bins"] if b["count"]]
    assert ("Every bar reaches above its mark" in text) == all(b["accuracy"] >= b["confidence"] for b in shown)
    bins = report["bins"]
    line = next(i for i, b in enumerate(bins) if b["low"] == report["unsure_below"])
    assert all(b["accuracy"] >= 0.9 for b in bins[line:] if b["count"]) and bins[line - 1]["accuracy"] < 0.9
    assert f"label smoothing ({clf.report['label_smoothing']:g})" in text
    assert unsure_line(str(clf.path)) == report["unsure_below"]  # the gallery's line comes from the data


def test_digit_or_not_says_where_its_line_was_set():
    """"about 2 in 100 example digits" is the quantile the digit score's threshold was set at, on held-out training
    digits drawn in the ways the statistics were fitted on."""
    import json

    from demo.core.paths import WEIGHTS_DIR

    report = json.loads((WEIGHTS_DIR / "digitness.json").read_text())
    assert report["quantile"] == 0.02 and report["calibration"]["flagged"] == pytest.approx(0.02, abs=0.001)
    assert any("restyled" in name for name in report["calibration"]["sets"])
    text = visible_text(str(explanations.DIGIT_OR_NOT))
    assert "about 2 in 100 example digits, ones not used to find the typical digits" in text
    assert "an O read as a 0, usually passes" in text


def test_the_answer_box_says_what_this_network_s_usual_top_share_is(clf, input28):
    """In the answer box, under the percentage (seen on a projector and a phone, unlike a hover title): the median
    top softmax probability on test digits read right, from weights/calibration.json; for weights it was not
    measured on, only that the percentage is a share, not a chance of being right."""
    from demo.teaching.calibration import load_report
    from demo.views import panels
    from demo.views.live import updated_views

    report = load_report(str(clf.path))
    pred = clf.predict(input28)
    html_text = updated_views(clf, pred, wanted=["prediction"]).html["prediction"]
    meaning = re.search(r'<div class="confidence-meaning">(.*?)</div>', html_text)
    assert meaning, html_text
    assert f"about {100 * report['median_top_when_right']:.0f} % is what this network usually shows" in meaning.group(1)
    bare = panels.prediction_html(pred, 0, None)
    assert "not the chance of being right" in visible_text(bare) and "usual" not in visible_text(bare)
    bars = updated_views(clf, pred, wanted=["probabilities"]).html["probabilities"]
    assert "not chances of being right" in visible_text(bars)
