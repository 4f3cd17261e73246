"""bench/tracing.py: skeletons plus filled areas, so a pen re-drawing keeps a filled-in loop filled in."""

from __future__ import annotations

import numpy as np
from scipy.ndimage import binary_dilation

from bench.drawn_digits import traced_strokes
from bench.tracing import TRACE_SCALE, trace, upsampled_ink
from demo.core.strokes import rasterize


def blotted_nine() -> np.ndarray:
    """A 9 whose loop is a solid blob (radius 5 px) on a 2-px stem: the case a bare skeleton turns into a 7."""
    image = np.zeros((28, 28), np.uint8)
    yy, xx = np.mgrid[:28, :28]
    image[(yy - 9) ** 2 + (xx - 14) ** 2 <= 25] = 255
    image[9:24, 18:20] = 255
    return image


def thin_one() -> np.ndarray:
    image = np.zeros((28, 28), np.uint8)
    image[4:24, 13:15] = 255
    return image


def test_a_blob_is_filled_and_a_plain_stroke_is_not():
    ink = upsampled_ink(blotted_nine())
    skeleton, filled = trace(ink)
    assert skeleton.any() and not (skeleton & ~ink).any()
    assert not (filled & ~ink).any()  # never outside the digit
    centre = (9 * TRACE_SCALE + 2, 14 * TRACE_SCALE + 2)
    assert filled[centre]  # the blob's middle, which a skeleton-only re-drawing leaves empty
    assert filled.sum() > 0.6 * np.pi * (5 * TRACE_SCALE) ** 2
    assert not filled[20 * TRACE_SCALE:, :].any()  # the stem is a plain stroke
    _, filled_one = trace(upsampled_ink(thin_one()))
    assert not filled_one.any()


def test_an_empty_image_traces_to_nothing():
    skeleton, filled = trace(np.zeros((112, 112), bool))
    assert not skeleton.any() and not filled.any()


def test_bench_redraw_colours_the_blob_in_without_leaving_it():
    strokes = traced_strokes(blotted_nine())
    for pen_ratio in (0.04, 0.1, 0.22):
        scale = 10  # 280×280 canvas
        placed = [[(x * scale, y * scale) for x, y in s] for s in strokes(pen_ratio)]
        height = 20 * scale
        ink = rasterize(placed, 280, 280, pen_ratio * height)
        assert ink[9 * scale + 5, 14 * scale + 5] > 0.9, pen_ratio  # blob centre
        dots = [s[0] for s in strokes(pen_ratio) if len(s) == 1]
        assert dots, pen_ratio
    # A thin pen's fill dots stay inside the digit, so the blob's outline is kept.
    # (Lone skeleton pixels are 1-point strokes too; they are the same at every pen width.)
    def dots(pen_ratio: float) -> set:
        return {tuple(s[0]) for s in strokes(pen_ratio) if len(s) == 1}

    fill = sorted(dots(0.04) - dots(5.0))
    assert len(fill) > 100
    s = TRACE_SCALE
    drawn = rasterize([[(x * s, y * s)] for x, y in fill], 28 * s, 28 * s, 0.04 * 20 * s)
    digit = upsampled_ink(blotted_nine())  # the traced ink, same scale
    assert drawn[digit].sum() > 0.95 * drawn.sum()
    assert drawn[~binary_dilation(digit)].max() < 0.5  # at most anti-aliased edge pixels outside the digit
    plain = traced_strokes(thin_one())
    assert plain(0.04) == plain(0.22)  # nothing to fill: the same strokes whatever the pen


def test_skeleton_only_redraw_for_comparison():
    """``fill=False`` is the test set as it was before filled areas were coloured in: the same lines, no dots."""
    filled, bare = traced_strokes(blotted_nine()), traced_strokes(blotted_nine(), fill=False)
    assert bare(0.04) == bare(0.22)
    assert len(filled(0.04)) > len(bare(0.04)) and all(s in filled(0.04) for s in bare(0.04))
