"""The shipped weights on real data: MNIST test set, and canvas-like drawings."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bench.drawn_digits import example_drawings, redrawn_mnist
from demo import load_classifier
from demo.core.examples import EXAMPLES
from demo.core.paths import WEIGHTS_DIR
from demo.views.live import views_for_drawing
from tests.harness import example_strokes_unit

pytestmark = pytest.mark.slow  # every test reads the 10,000 MNIST test digits


@pytest.mark.full_pass  # the accuracy the model card states is the one on all 10,000
def test_shipped_cnn_reaches_99_6_percent_on_mnist_test(clf, mnist_test):
    images, labels = mnist_test
    probs = clf.predict_mnist(images)
    assert probs.shape == (10000, 10)
    assert np.allclose(probs.sum(1), 1)
    accuracy = float((probs.argmax(1) == labels).mean())
    assert accuracy >= 0.996, accuracy
    assert accuracy == pytest.approx(clf.report["test_accuracy"], abs=1e-4)  # the metadata tells the truth


@pytest.mark.full_pass
@pytest.mark.parametrize("name, floor", [("mlp", 0.97), ("cnn_fast", 0.99)])
def test_other_shipped_weights_match_their_metadata(name, floor, mnist_test):
    images, labels = mnist_test
    clf = load_classifier(WEIGHTS_DIR / f"{name}.safetensors")
    accuracy = float((clf.predict_mnist(images).argmax(1) == labels).mean())
    assert accuracy >= floor
    assert accuracy == pytest.approx(clf.report["test_accuracy"], abs=1e-4)


def test_every_digit_drawn_on_the_pad_is_read(clf):
    """Each digit's last example drawing, sent as the pad sends strokes (280×280 canvas, its pen): the server path
    of tests/test_browser.py's live drawing (which draws a sample with the mouse), for all ten digits."""
    for digit in range(10):
        style = len(EXAMPLES[digit]) - 1
        strokes = [[[x * 280, y * 280] for x, y in stroke] for stroke in example_strokes_unit(digit, style)]
        update = views_for_drawing(clf, json.dumps({"w": 280, "h": 280, "pen": 20, "seq": 1, "strokes": strokes}))
        assert f'data-label="{digit}"' in update.html["prediction"], (digit, update.html["notice"])


def test_redrawn_mnist_digits(clf, mnist_test):
    """MNIST test digits re-drawn as canvas strokes in every encoding (the first 500; bench/ runs all 10,000)."""
    images, labels = mnist_test
    drawings = list(redrawn_mnist(images[:500], labels[:500], seed=1))
    correct = sum(clf.predict(d.image).label == d.label for d in drawings)
    assert correct / len(drawings) >= 0.98, correct


def test_project_examples_in_every_encoding(clf):
    drawings = list(example_drawings(per_style=3, seed=1))
    correct = sum(clf.predict(d.image).label == d.label for d in drawings)
    assert correct / len(drawings) >= 0.97, correct
