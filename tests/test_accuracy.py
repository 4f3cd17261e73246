"""The shipped weights on real data: MNIST test set, and canvas-like drawings."""

from __future__ import annotations

import numpy as np
import pytest

from bench.drawn_digits import example_drawings, redrawn_mnist
from demo import load_classifier
from demo.core.checkpoint import WEIGHTS_DIR

pytestmark = pytest.mark.slow  # every test reads all 10,000 MNIST test digits


def test_shipped_cnn_reaches_99_6_percent_on_mnist_test(clf, mnist_test):
    images, labels = mnist_test
    probs = clf.predict_mnist(images)
    assert probs.shape == (10000, 10)
    assert np.allclose(probs.sum(1), 1)
    accuracy = float((probs.argmax(1) == labels).mean())
    assert accuracy >= 0.996, accuracy
    assert accuracy == pytest.approx(clf.report["test_accuracy"], abs=1e-4)  # the metadata tells the truth


@pytest.mark.parametrize("name, floor", [("mlp", 0.97), ("cnn_fast", 0.99)])
def test_other_shipped_weights_match_their_metadata(name, floor, mnist_test):
    images, labels = mnist_test
    clf = load_classifier(WEIGHTS_DIR / f"{name}.safetensors")
    accuracy = float((clf.predict_mnist(images).argmax(1) == labels).mean())
    assert accuracy >= floor
    assert accuracy == pytest.approx(clf.report["test_accuracy"], abs=1e-4)


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
