"""Not a digit: the prediction's flag and score, the threshold from the weights' metadata, the answer box, the HTTP
field, the empty canvas, the teaching view, and the page in real Chromium."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from PIL import Image
from safetensors.numpy import load_file, save_file

from demo.core.classifier import load_classifier, matching_digitness
from demo.core.digitness import DEFAULT_PATH, META_KEY
from demo.core.examples import example_image
from demo.views import panels
from demo.views.live import views_for_drawing
from demo.views.tabs.digit_or_not import digit_or_not_html
from tests.harness import draw_strokes, open_page, wait_settled


def line_image() -> np.ndarray:
    image = np.zeros((280, 280), np.float32)
    image[130:150, 20:260] = 1  # a horizontal line: the network reads a digit, confidently
    return image


def test_a_line_is_flagged_but_keeps_the_networks_own_label(clf):
    pred = clf.predict(line_image())
    assert pred.label == int(np.argmax(pred.probs)) and pred.label is not None
    assert pred.looks_like_digit is False and pred.digit_score < clf.digitness.threshold
    assert pred.digit_score == pytest.approx(clf.digitness.score(pred.activations))


@pytest.mark.parametrize("digit", range(10))
def test_the_example_digits_look_like_digits(clf, digit):
    pred = clf.predict(example_image(digit, 0, 280, 20))
    assert pred.label == digit and pred.looks_like_digit and pred.digit_score >= clf.digitness.threshold


def test_an_empty_canvas_stays_empty_never_not_a_digit(clf):
    pred = clf.predict(np.zeros((280, 280), np.float32))
    assert pred.label is None and pred.looks_like_digit is True and pred.digit_score is None
    html = panels.prediction_html(pred)
    assert 'data-state="empty"' in html and 'data-digit-like="false"' not in html


def test_the_answer_box_says_so_and_still_shows_the_forced_choice(clf):
    flagged = panels.prediction_html(clf.predict(line_image()))
    assert 'data-digit-like="false"' in flagged and "does not look like a digit" in flagged
    assert "softmax" in flagged and 'data-label="' in flagged
    digit = panels.prediction_html(clf.predict(example_image(3, 0, 280, 20)))
    assert 'data-digit-like="true"' in digit and '<div class="digit">3</div>' in digit


def test_the_threshold_comes_from_the_weights_metadata(clf, tmp_path):
    """A copy of the statistics with another threshold in its header changes the verdict: nothing is in code."""
    pred = clf.predict(example_image(3, 0, 280, 20))
    tensors = load_file(str(DEFAULT_PATH))
    from safetensors import safe_open

    with safe_open(str(DEFAULT_PATH), framework="numpy") as f:
        header = f.metadata()
    meta = json.loads(header[META_KEY])
    meta["threshold"] = pred.digit_score + 1.0  # now this 3 sits below the line
    copy = tmp_path / "digitness.safetensors"
    save_file(tensors, str(copy), metadata={**header, META_KEY: json.dumps(meta)})
    weights = tmp_path / "cnn.safetensors"
    shutil.copy(clf.path, weights)
    strict = matching_digitness(weights, copy)
    assert strict is not None and strict.threshold == pytest.approx(pred.digit_score + 1.0)
    assert not strict.looks_like_digit(pred.activations)
    # Statistics fitted on another network are not used for this one.
    assert load_classifier(clf.path.parent / "cnn_fast.safetensors").digitness is None


def test_the_live_update_carries_the_flag(clf):
    drawing = json.dumps({"w": 280, "h": 280, "pen": 20, "seq": 3, "strokes": [[[20, 140], [260, 140]]]})
    html = views_for_drawing(clf, drawing, ["prediction"]).html["prediction"]
    assert 'data-digit-like="false"' in html and 'data-seq="3"' in html


def test_the_teaching_view_places_the_drawing_on_both_distributions(clf):
    assert 'data-state="empty"' in digit_or_not_html(None, clf)
    pred = clf.predict(line_image())
    html = digit_or_not_html(pred.input28, clf)
    assert f'data-score="{pred.digit_score:.4f}"' in html and 'data-digit-like="false"' in html
    assert "<svg" in html and "not digits" in html and "your drawing" in html
    assert 'data-digit-like="true"' in digit_or_not_html(clf.predict(example_image(7, 0, 280, 20)).input28, clf)


@pytest.mark.server
def test_http_predict_reports_looks_like_digit(app_server, tmp_path):
    from gradio_client import Client, handle_file

    client = Client(app_server, verbose=False)
    Image.fromarray((line_image() * 255).astype(np.uint8)).save(tmp_path / "line.png")
    Image.fromarray((example_image(4, 0, 280, 20) * 255).astype(np.uint8)).save(tmp_path / "four.png")
    line = client.predict(handle_file(str(tmp_path / "line.png")), api_name="/predict")
    four = client.predict(handle_file(str(tmp_path / "four.png")), api_name="/predict")
    assert line["looks_like_digit"] is False and line["label"] is not None and line["digit_score"] < 0
    assert four["looks_like_digit"] is True and four["label"] == 4
    blank = Image.new("L", (64, 64))
    blank.save(tmp_path / "blank.png")
    empty = client.predict(handle_file(str(tmp_path / "blank.png")), api_name="/predict")
    assert empty["label"] is None and empty["looks_like_digit"] is True and "digit_score" not in empty


@pytest.mark.browser
def test_the_page_says_not_a_digit_for_a_line(app_server, browser):
    page = open_page(browser, app_server, width=1280, height=720)
    draw_strokes(page, [[(0.1, 0.5), (0.9, 0.5)]])
    wait_settled(page)
    prediction = page.locator("#prediction")
    assert prediction.get_attribute("data-digit-like") == "false"
    assert "does not look like a digit" in prediction.inner_text()
    page.get_by_role("tab", name="Digit or not?").click()
    page.wait_for_function("() => document.querySelector('#digit-or-not')?.dataset.state === 'ready'")
    assert page.locator("#digit-or-not").get_attribute("data-digit-like") == "false"
    page.click("#clear")
    wait_settled(page)
    assert prediction.get_attribute("data-state") == "empty"
    assert prediction.get_attribute("data-digit-like") is None
    page.close()
