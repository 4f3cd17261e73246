"""Preprocessing: every encoding and polarity gives the same MNIST-like 28×28 input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from demo.core.examples import example_image
from demo.core.preprocess import MNIST_BOX, InvalidImageError, preprocess, stroke_width, to_ink


@pytest.fixture(scope="module")
def ink() -> np.ndarray:
    """A drawn 3 on a 300×300 canvas: float ink, 1 = drawn."""
    return example_image(3, 0, 300, 22)


def encodings(ink: np.ndarray) -> dict[str, object]:
    u8 = (ink * 255).round().astype(np.uint8)
    rgba_black = np.zeros(ink.shape + (4,), np.uint8)
    rgba_black[..., 3] = u8
    rgba_white = rgba_black.copy()
    rgba_white[..., :3] = 255
    palette = Image.fromarray(255 - u8, "L").convert("P")
    palette_transparent = Image.fromarray(255 - u8, "L").convert("P")
    palette_transparent.info["transparency"] = palette_transparent.getpixel((0, 0))  # paper is transparent
    blue_ink = np.stack([255 - u8, 255 - u8, 255 - u8 // 2], -1)
    return {
        "L dark on light": Image.fromarray(255 - u8, "L"),
        "L light on dark": Image.fromarray(u8, "L"),
        "RGB blue ink": Image.fromarray(blue_ink, "RGB"),
        "RGBA transparent, black ink": Image.fromarray(rgba_black, "RGBA"),
        "RGBA transparent, white ink": Image.fromarray(rgba_white, "RGBA"),
        "LA": Image.fromarray(rgba_black, "RGBA").convert("LA"),
        "P palette": palette,
        "P palette with transparency": palette_transparent,
        "I;16": Image.fromarray((255 - u8).astype(np.uint16) * 257),
        "CMYK": Image.fromarray(255 - u8, "L").convert("CMYK"),
        "1 bit": Image.fromarray(255 - u8, "L").convert("1", dither=Image.Dither.NONE),
        "numpy uint8 dark on light": 255 - u8,
        "numpy float light on dark": ink.astype(np.float64),
        "numpy float 0-255": (255 - u8).astype(np.float32),
        "numpy uint16": (255 - u8).astype(np.uint16) * 257,
        "numpy bool": ink > 0.5,
        "numpy RGBA": rgba_black,
        "numpy (H, W, 1)": u8[..., None],
        "numpy channels first (3, H, W)": np.stack([u8] * 3),
        "grey paper": np.clip(200 - ink * 180, 0, 255).astype(np.uint8),
    }


def test_every_encoding_gives_the_same_input(ink):
    reference = preprocess(ink).input28
    assert reference.max() == pytest.approx(1.0)
    for name, image in encodings(ink).items():
        result = preprocess(image)
        assert not result.empty, name
        # Binarised and 1-bit inputs lose the anti-aliasing, so allow small differences in grey levels.
        assert np.abs(result.input28 - reference).mean() < 0.03, name


def test_to_ink_polarity(ink):
    u8 = (ink * 255).astype(np.uint8)
    assert np.allclose(to_ink(255 - u8), to_ink(u8), atol=1 / 255)
    assert to_ink(255 - u8).max() == pytest.approx(1.0)
    assert to_ink(255 - u8)[0, 0] == 0  # background


def test_mnist_geometry(ink):
    """Longest side 20 px, centre of mass at the centre of the 28×28 field, values in [0, 1], float32."""
    x = preprocess(ink).input28
    assert x.shape == (28, 28) and x.dtype == np.float32
    assert 0 <= x.min() and x.max() <= 1
    rows, cols = np.flatnonzero(x.max(1) > 0.05), np.flatnonzero(x.max(0) > 0.05)
    assert max(rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1) in (MNIST_BOX, MNIST_BOX + 1)
    cy = (x.sum(1) * np.arange(28)).sum() / x.sum()
    cx = (x.sum(0) * np.arange(28)).sum() / x.sum()
    assert abs(cy - 14) <= 0.5 and abs(cx - 14) <= 0.5


def test_position_and_size_do_not_matter():
    """The same digit small in a corner and large in the middle gives (almost) the same input."""
    big = example_image(5, 0, 400, 30)
    small = np.zeros((400, 400), np.float32)
    small[10:110, 280:380] = example_image(5, 0, 100, 7.5)
    assert np.abs(preprocess(big).input28 - preprocess(small).input28).mean() < 0.03


def test_aspect_ratio_is_kept():
    """A "1" stays a tall thin stroke: it is not stretched to a square."""
    x = preprocess(example_image(1, 0, 280, 18)).input28
    cols = np.flatnonzero(x.max(0) > 0.2)
    rows = np.flatnonzero(x.max(1) > 0.2)
    assert rows[-1] - rows[0] + 1 >= 19
    assert cols[-1] - cols[0] + 1 <= 7


def test_thin_and_thick_pens_are_evened_out():
    widths = []
    for pen in (2, 8, 20, 45, 70):
        x = preprocess(example_image(7, 0, 400, pen)).input28
        widths.append(stroke_width(np.kron(x, np.ones((4, 4)))) / 4)  # width in 28×28 pixels
    assert max(widths) / min(widths) < 1.8, widths
    assert all(1.7 < w < 4.2 for w in widths), widths  # MNIST: 10 % of strokes below 1.8 px, 5 % above 3.9 px


def blotted_nine(pen: float = 16) -> np.ndarray:
    """A 9 drawn with a marker whose loop is coloured in solid (a disc 100 px across) and a ``pen``-wide stem."""
    from demo.core.strokes import rasterize

    loop = rasterize([[(135, 85)]], 280, 280, 100)
    stem = rasterize([[(182, 95), (178, 170), (172, 255)]], 280, 280, pen)
    return np.maximum(loop, stem)


def test_stroke_width_ignores_a_filled_in_loop():
    # An average over all the ink would count the blot as a 37-px stroke; the strokes are 16 px wide.
    assert 14 < stroke_width(blotted_nine(16)) < 19
    assert 5 < stroke_width(blotted_nine(6)) < 9


def test_a_filled_in_loop_does_not_erase_the_thin_stroke():
    """Thinning the pen to suit the blot would shave the stem to a 1-px line; it keeps MNIST's width instead."""
    x = preprocess(blotted_nine()).input28
    stem_rows = [row for row in range(28) if (x[row] > 0.5).any() and (x[row] > 0.5).sum() <= 4]
    assert len(stem_rows) >= 8  # the stem is there...
    assert all((x[row] > 0.5).sum() >= 2 for row in stem_rows)  # ...and at least 2 px wide all along


@pytest.mark.parametrize("image", [
    np.full((280, 280), 255, np.uint8),  # white canvas
    np.zeros((280, 280), np.uint8),  # black canvas
    np.zeros((280, 280, 4), np.uint8),  # transparent canvas
    np.full((5, 5), 0.5, np.float32),
    np.zeros((1, 1), np.uint8),
    Image.new("RGBA", (400, 300), (0, 0, 0, 0)),
])
def test_empty_canvas_is_reported_not_classified(image):
    result = preprocess(image)
    assert result.empty
    assert "all one colour" in result.message
    assert not result.input28.any()


def test_fully_inked_canvas_is_empty():
    result = preprocess(np.zeros((300, 300), np.uint8) + 3)
    assert result.empty


def test_tiny_inputs():
    tiny = np.zeros((12, 12), np.uint8)
    tiny[2:10, 5:7] = 255  # a small "1"
    result = preprocess(tiny)
    assert not result.empty and result.input28.shape == (28, 28)
    dot = np.zeros((28, 28), np.uint8)
    dot[14, 14] = 255
    assert preprocess(dot).empty  # a single pixel of ink is a speck, not a digit


def test_huge_inputs_are_reduced_first():
    huge = np.zeros((6000, 4000), np.uint8)
    huge[1000:5000, 1000:3000] = (example_image(8, 0, 400, 30)[::1, ::1].repeat(10, 0).repeat(5, 1)[:4000] * 255)
    result = preprocess(huge)
    assert not result.empty
    assert result.steps[0][1].shape[0] <= 1024


@pytest.mark.parametrize("bad, words", [
    (np.array([[np.nan, 0], [0, 1]], np.float32), "NaN"),
    (np.array([[np.inf, 0], [0, 1]]), "NaN or infinite"),
    (np.zeros((2, 3, 4, 5)), "shape"),
    (np.zeros((10, 10, 7)), "shape"),
    (np.zeros((0, 10)), "no pixels"),
    (np.array([["a", "b"]]), "numbers"),
    (np.full((4, 4), -3.0), "negative"),
    (np.full((4, 4), 1e9), "must be in"),
    ("not an image", "PIL image or a numpy array"),
])
def test_bad_arrays_get_a_clear_error(bad, words):
    with pytest.raises(InvalidImageError, match=words.split()[0]):
        preprocess(bad)


def test_steps_end_in_the_model_input(ink):
    result = preprocess(ink)
    assert [name.split()[0] for name, _ in result.steps] == ["ink", "cropped,", "longest", "centred"]
    assert result.steps[-1][1] is result.input28


def test_huge_rgba_array_is_reduced_without_a_float_copy():
    huge = np.zeros((10_000, 10_000, 4), np.uint8)
    huge[2000:8000, 4500:5500, 3] = 255  # a "1" on a transparent canvas
    result = preprocess(huge)
    assert not result.empty and result.steps[0][1].shape == (1000, 1000)


def test_animated_image_uses_the_first_frame(tmp_path):
    from demo.core.image_file import open_image

    frames = [Image.fromarray((255 - example_image(d, 0, 120, 9) * 255).astype(np.uint8), "L") for d in (7, 2)]
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)
    first = preprocess(open_image(path)).input28
    assert np.abs(first - preprocess(frames[0]).input28).mean() < 0.03


@pytest.mark.parametrize("box_px, thinned", [(4.2, False), (5.2, True)])
def test_only_pens_bolder_than_mnist_are_thinned(box_px, thinned):
    """Strokes up to 4.5 px in the 20 px box (all but MNIST's boldest 1 %) are left as they are; a marker beyond
    that is thinned."""
    from demo.core.preprocess import WORK_SIZE, normalise_stroke
    from demo.core.strokes import rasterize

    pen = box_px / MNIST_BOX * WORK_SIZE
    ink = rasterize([[(40, 20), (60, 64), (40, 108)], [(90, 20), (90, 108)]], WORK_SIZE, WORK_SIZE, pen)
    out = normalise_stroke(ink, WORK_SIZE)
    assert stroke_width(out) < stroke_width(ink) - 2 if thinned else np.array_equal(out, ink)


@pytest.mark.parametrize("radius", [1, 4, 5, 12, 40])
def test_disk_sums_equal_a_direct_convolution_with_the_disk(radius):
    """Large disks go through the FFT: the same sums as torch's convolution (which took over a second at r=50)."""
    from demo.core.preprocess import disk, disk_sum

    image = np.random.default_rng(radius).random((150, 130)).astype(np.float32)
    image[image < 0.6] = 0  # ink and paper, like a drawing
    direct = torch.nn.functional.conv2d(torch.from_numpy(image)[None, None], disk(radius), padding=radius)[0, 0]
    np.testing.assert_allclose(disk_sum(image, radius), direct.numpy(), rtol=1e-5, atol=1e-3)


def test_a_known_pen_width_is_used_instead_of_measuring_it(monkeypatch):
    """The pad knows its pen; preprocess() then skips the measurement (most of its time) and, for a round pen,
    evens the stroke out the same way the measurement would have."""
    from demo.core import preprocess as module
    from demo.core.strokes import rasterize

    strokes = [[(140, 40), (150, 120), (120, 240)], [(90, 140), (200, 140)]]
    for pen in (6, 20, 44):
        ink = rasterize(strokes, 280, 280, pen)
        measured = module.preprocess(ink)
        monkeypatch.setattr(module, "stroke_width", lambda ink: pytest.fail("measured although the pen is known"))
        hinted = module.preprocess(ink, pen_width=pen)
        monkeypatch.undo()
        assert np.abs(hinted.input28 - measured.input28).max() < 0.35
        assert np.abs(hinted.input28 - measured.input28).mean() < 0.02


def test_a_pen_width_follows_the_reduction_of_a_huge_canvas():
    """A 2048-pixel canvas is read at half size, so its pen is half as wide there: the hint is scaled with it."""
    from demo.core.strokes import rasterize
    from demo.page.pad import pad_examples

    strokes = [[(x * 2048 / 280, y * 2048 / 280) for x, y in s] for s in pad_examples()[0][8]["strokes"]]
    ink = rasterize(strokes, 2048, 2048, 40)
    measured, hinted = preprocess(ink), preprocess(ink, pen_width=40)
    unscaled = preprocess(ink, pen_width=80)  # what forgetting the reduction would amount to
    assert np.abs(hinted.input28 - measured.input28).mean() < 0.02
    assert np.abs(unscaled.input28 - measured.input28).mean() > np.abs(hinted.input28 - measured.input28).mean()
