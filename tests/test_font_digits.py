"""The typeface digit set (bench/font_digits.py): development and held-out fonts never mix, glyphs are laid out the
way MNIST's are, the set is reproducible, and its digits are legible to the project's classifier."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

from bench.font_digits import (
    DEVELOPMENT_FAMILIES,
    development_fonts,
    digit_fonts,
    font_digits,
    glyph28,
    held_out_fonts,
)

NOT_TEXT = ("math", "symbol", "dingbat", "d050000l")  # D050000L is URW's dingbat face


@pytest.fixture(scope="module")
def dejavu() -> list[Path]:
    """The installed DejaVu faces, DejaVu Sans and DejaVu Serif first (fonts-dejavu-core has them; CI's chromium
    pulls it in)."""
    faces = [p for p in development_fonts() if p.name.startswith("DejaVu")]
    if not faces:
        pytest.skip("no DejaVu font installed (apt-get install fonts-dejavu-core)")
    first = ("DejaVuSans.ttf", "DejaVuSerif.ttf")
    return sorted(faces, key=lambda p: (first.index(p.name) if p.name in first else len(first), p.name))


def test_development_fonts_are_dejavu_and_liberation_and_held_out_fonts_are_all_the_others():
    every, development, held_out = digit_fonts(), development_fonts(), held_out_fonts()
    assert all(p.name.startswith(DEVELOPMENT_FAMILIES) for p in development)
    assert not any(p.name.startswith(("DejaVu", "Liberation")) for p in held_out)
    assert not {p.name for p in development} & {p.name for p in held_out}
    assert not {p.resolve() for p in development} & {p.resolve() for p in held_out}
    assert tuple(sorted(development + held_out, key=lambda p: p.name)) == every
    assert len({p.stem.lower() for p in every}) == len(every)  # one file per face name


def test_no_mathematics_symbol_or_dingbat_font_is_a_digit_font():
    assert not [p.name for p in digit_fonts() if any(s in p.name.lower() for s in NOT_TEXT)]
    assert all(p.suffix.lower() in (".ttf", ".otf") for p in digit_fonts())


@pytest.mark.parametrize("digit", range(10))
def test_a_glyph_is_laid_out_as_mnist_digits_are(dejavu, digit):
    glyph = glyph28(dejavu[0], digit)
    thin = next((p for p in dejavu if "ExtraLight" in p.name), None)
    if thin is not None:
        assert glyph28(thin, digit).max() == 255
    assert glyph is not None
    assert glyph.dtype == np.uint8 and glyph.shape == (28, 28)
    assert glyph.max() == 255  # full strength after the centring shift, thin faces too
    ys, xs = np.nonzero(glyph)
    longest = max(ys.max() - ys.min() + 1, xs.max() - xs.min() + 1)
    assert 19 <= longest <= 21, longest  # the 20 px box, give or take the centring shift's spill
    cy, cx = ndimage.center_of_mass(glyph.astype(np.float64))
    assert np.hypot(cy - 14, cx - 14) <= 1, (cy, cx)


def test_the_same_seed_draws_the_same_digits_and_another_seed_does_not(dejavu):
    fonts = dejavu[:2]
    a, b, c = (list(font_digits(fonts, per_glyph=1, seed=s)) for s in (11, 11, 12))
    assert len(a) == len(b) == len(c) == 10 * len(fonts)
    assert all(np.array_equal(np.asarray(x.image), np.asarray(y.image)) and x.encoding == y.encoding
               for x, y in zip(a, b, strict=True))
    assert [(d.font, d.label) for d in a] == [(d.font, d.label) for d in c]
    assert not all(np.array_equal(np.asarray(x.image), np.asarray(z.image)) for x, z in zip(a, c, strict=True))


def test_every_font_gives_per_glyph_drawings_of_each_digit_named_by_its_file(dejavu):
    fonts = dejavu[:2]
    sample = list(font_digits(fonts, per_glyph=3, seed=0))
    assert len(sample) == 3 * 10 * len(fonts)
    for font in fonts:
        labels = [d.label for d in sample if d.font == font.name]
        assert sorted(labels) == sorted(list(range(10)) * 3)
    assert {d.font for d in sample} == {p.name for p in fonts}
    assert all(np.asarray(d.image).size > 0 for d in sample)


def test_the_classifier_reads_most_of_them(clf, dejavu):
    sample = list(font_digits(dejavu[:2], per_glyph=1, seed=4))
    assert len(sample) >= 10
    right = sum(clf.predict(d.image).label == d.label for d in sample)
    assert right >= 0.85 * len(sample), f"{right}/{len(sample)} read right"
