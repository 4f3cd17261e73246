"""The hand-style digit set (bench/hand_styles.py): reproducible, every digit in many styles, clean canvases, and
digits the project's classifier can read."""

from __future__ import annotations

import numpy as np
import pytest

from bench.hand_styles import CANVAS, STYLES, hand_style_digits, style_names


@pytest.fixture(scope="module")
def sample():
    return list(hand_style_digits(per_style=2, seed=3))


def test_the_same_seed_draws_the_same_digits_and_another_seed_does_not():
    a, b, c = (list(hand_style_digits(per_style=1, seed=s)) for s in (7, 7, 8))
    assert [d.style for d in a] == [d.style for d in b] == [d.style for d in c]
    assert all(np.array_equal(x.image, y.image) and x.pen == y.pen for x, y in zip(a, b, strict=True))
    assert not any(np.array_equal(x.image, z.image) for x, z in zip(a, c, strict=True))


def test_every_digit_has_at_least_six_styles():
    assert sorted(STYLES) == list(range(10))
    assert all(len(styles) >= 6 for styles in STYLES.values())
    names = style_names()
    assert 70 <= len(names) <= 90 and len(set(names)) == len(names)


def test_images_are_pad_canvases_with_the_ink_inside_and_the_right_labels(sample):
    assert len(sample) == 2 * len(style_names())
    for d in sample:
        assert d.image.shape == (CANVAS, CANVAS) and d.image.dtype == np.float32
        assert 0 <= d.image.min() and d.image.max() <= 1 and d.image.max() > 0.9
        border = np.concatenate([d.image[0], d.image[-1], d.image[:, 0], d.image[:, -1]])
        assert not border.any(), d.style
        assert d.style.split(":")[0] == str(d.label) and d.label in STYLES
        assert 8 <= d.pen <= 30


def test_the_classifier_reads_most_of_them(clf, sample):
    right = sum(clf.predict(d.image).label == d.label for d in sample)
    assert right >= 0.85 * len(sample), f"{right}/{len(sample)} read right"
