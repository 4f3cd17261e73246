"""MNIST training digits as other writers and other collections would give them, for fitting the digit score.

MNIST's writers are one population: narrow 1s without a flag, open 4s, 7s without a bar, and every digit scaled
to fit a 20×20 box without changing its proportions. Digits from elsewhere differ in two ways, and a detector
fitted on MNIST alone calls many of them "not a digit" (tools/fit_digitness.py fits on these variants too):

* **style** (:func:`restyled_mnist`): a traced MNIST digit (bench/drawn_digits.py) gets the strokes other
  school traditions add: a flag (20-55°, 15-40 % of the height) and often a foot on a 1, a bar across a 7 or a
  hooked top, a curled tail on a 9, a loop at the base of a 2; then it is re-drawn by a random hand (rotation,
  shear, aspect), pen and canvas;
* **proportions and storage** (:func:`rescanned_mnist`): digits made wider than written, or stored the way some
  digit collections are, stretched to fill a coarse square grid (12-23 cells a side, often black and white
  only), as if scanned from a form;
* both at once (:func:`restyled_rescanned_mnist`).

The digits that *measure* the score (bench/not_a_digit.py) are made differently: hand-traced styles
(bench/hand_styles.py) and typefaces (bench/font_digits.py), never these functions' output; only the coarse-grid
storage (:func:`on_grid`) is shared, applied to those other digits. Everything is seeded.

    for v in restyled_mnist(images, labels, seed=303):
        v.image, v.label, v.kind     # what a user would send; the digit; which edits ("flag+foot", "bar"...)
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from PIL import Image

from bench.drawn_digits import _draw, traced_strokes
from demo.core.preprocess import to_ink
from demo.core.strokes import Stroke


@dataclass
class Variant:
    image: Image.Image | np.ndarray
    label: int
    kind: str  # the edits made: "flag", "foot", "bar", "hook", "tail", "loop"; "grid", "wide" ...


def restyle(strokes: list[Stroke], label: int, rng: np.random.Generator) -> tuple[list[Stroke], str]:
    """Strokes other traditions add to digit ``label`` (28×28 coordinates of ``strokes``); returns them and their
    names ("" when none)."""
    pts = np.array([p for s in strokes for p in s], dtype=float)
    if len(pts) < 3:
        return [], ""
    ymin, ymax = pts[:, 1].min(), pts[:, 1].max()
    height = max(ymax - ymin, 1)
    top, bottom = pts[pts[:, 1].argmin()], pts[pts[:, 1].argmax()]
    extra: list[Stroke] = []
    kinds = []
    if label == 1:
        if rng.random() < 0.85:  # the flag, down to the left from the top
            length, angle = rng.uniform(0.15, 0.4) * height, np.radians(rng.uniform(20, 55))
            end = top + length * np.array([-np.cos(angle), np.sin(angle)])
            bend = (top + end) / 2 + rng.normal(0, 0.04 * height, 2)
            extra.append([tuple(top), tuple(bend), tuple(end)])
            kinds.append("flag")
        if rng.random() < 0.55:  # the foot
            width = rng.uniform(0.25, 0.75) * height
            shift = rng.uniform(-0.2, 0.2) * width
            extra.append([(bottom[0] - width / 2 + shift, bottom[1]), (bottom[0] + width / 2 + shift, bottom[1])])
            kinds.append("foot")
    elif label == 7:
        if rng.random() < 0.7:  # the bar across the stem, about half-way down
            y = ymin + rng.uniform(0.4, 0.62) * height
            near = pts[np.abs(pts[:, 1] - y) < 1.0]
            x = near[:, 0].mean() if len(near) else pts[:, 0].mean()
            width = rng.uniform(0.3, 0.6) * height
            extra.append([(x - width / 2, y), (x + width / 2, y)])
            kinds.append("bar")
        if rng.random() < 0.4:  # a short hook down from the left end of the top
            band = pts[pts[:, 1] < ymin + 0.15 * height]
            left = band[band[:, 0].argmin()]
            extra.append([tuple(left), (left[0] - 0.03 * height, left[1] + rng.uniform(0.08, 0.18) * height)])
            kinds.append("hook")
    elif label == 9:
        if rng.random() < 0.7:  # the tail curls to the left at the bottom
            radius = rng.uniform(0.1, 0.22) * height
            angles = np.radians(np.linspace(0, rng.uniform(120, 200), 8))
            centre = bottom + np.array([-radius, 0])
            extra.append([tuple(bottom)] + [tuple(centre + radius * np.array([np.cos(a), np.sin(a)]))
                                            for a in angles])
            kinds.append("tail")
    elif label == 2 and rng.random() < 0.5:  # a small loop where the base starts
        base = pts[pts[:, 1] > ymax - 0.2 * height]
        corner = base[base[:, 0].argmin()]
        radius = rng.uniform(0.1, 0.16) * height
        centre = corner + np.array([0, -radius])
        extra.append([tuple(centre + radius * np.array([np.sin(a), np.cos(a)])) for a in np.linspace(0, 2 * np.pi, 12)])
        kinds.append("loop")
    return extra, "+".join(kinds)


def restyled_mnist(images: np.ndarray, labels: np.ndarray, seed: int) -> Iterator[Variant]:
    """MNIST digits (uint8 N×28×28) with :func:`restyle`'s strokes, re-drawn by a random hand, pen and canvas."""
    rng = np.random.default_rng(seed)
    for image, label in zip(images, labels, strict=True):
        strokes = traced_strokes(image)
        extra, kind = restyle(strokes(0.1), int(label), rng)
        drawing = _draw(lambda pen, s=strokes, e=extra: s(pen) + e, int(label), rng, jitter=True)
        yield Variant(drawing.image, int(label), kind)


def _crop(ink: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(ink > 0.2)
    return ink[ys.min():ys.max() + 1, xs.min():xs.max() + 1] if len(ys) else ink


def on_grid(ink: np.ndarray, side: int = 16, stretch: bool = True, binary: bool = True) -> np.ndarray:
    """Float ink (1 = drawn) stored on a ``side``×``side`` grid as some digit collections are: cropped, stretched
    to fill the square (``stretch``) or fitted in it, and black and white only (``binary``); returned enlarged
    tenfold (nearest neighbour) with a blank margin of two cells, as a scan of the grid."""
    crop = Image.fromarray((_crop(np.asarray(ink, np.float32)) * 255).astype(np.uint8))
    if stretch:
        crop = crop.resize((side, side), Image.BILINEAR)
    else:
        scale = side / max(crop.size)
        crop = crop.resize((max(1, round(crop.size[0] * scale)), max(1, round(crop.size[1] * scale))), Image.BILINEAR)
        square = Image.new("L", (side, side))
        square.paste(crop, ((side - crop.size[0]) // 2, (side - crop.size[1]) // 2))
        crop = square
    cells = np.asarray(crop)
    if binary:
        cells = (cells > 127).astype(np.uint8) * 255
    big = np.asarray(Image.fromarray(cells).resize((side * 10, side * 10), Image.NEAREST)).astype(np.float32) / 255
    # A blank margin of two cells, as around a form's box: a stretched 1 fills most of its grid, and without paper
    # around it the app would take the ink for the background.
    return np.pad(big, 20)


def widened(ink: np.ndarray, share: float, upscale: int = 1) -> np.ndarray:
    """The cropped ink made wider by ``share`` of the gap between its width and its height (1: square), enlarged
    ``upscale`` times, with a blank margin."""
    crop = _crop(ink)
    h, w = crop.shape
    width = int(round(w + share * max(h - w, 0))) or 1
    image = Image.fromarray((crop * 255).astype(np.uint8)).resize((width * upscale, h * upscale), Image.BILINEAR)
    return np.pad(np.asarray(image).astype(np.float32) / 255, 2 * upscale)  # paper around it, as on_grid


def rescanned_mnist(images: np.ndarray, labels: np.ndarray, seed: int) -> Iterator[Variant]:
    """MNIST digits on coarse grids (stretched or fitted, black and white or grey) or made wider."""
    rng = np.random.default_rng(seed)
    for image, label in zip(images, labels, strict=True):
        ink = image.astype(np.float32) / 255
        way = rng.integers(4)
        if way == 0:
            yield Variant(on_grid(ink, 16, True, True), int(label), "grid 16 stretched")
        elif way == 1:
            yield Variant(on_grid(ink, int(rng.integers(12, 24)), True, rng.random() < 0.5), int(label),
                          "grid stretched")
        elif way == 2:
            yield Variant(on_grid(ink, 16, False, True), int(label), "grid 16 fitted")
        else:
            yield Variant(widened(ink, rng.uniform(0, 1), upscale=6), int(label), "wide")


def restyled_rescanned_mnist(images: np.ndarray, labels: np.ndarray, seed: int) -> Iterator[Variant]:
    """:func:`restyled_mnist`'s digits, then on a coarse grid or made wider."""
    rng = np.random.default_rng(seed)
    for variant in restyled_mnist(images, labels, seed + 1):
        ink = to_ink(variant.image)
        way = rng.integers(3)
        if way == 0:
            image, how = on_grid(ink, int(rng.integers(12, 24)), True, rng.random() < 0.6), "grid stretched"
        elif way == 1:
            image, how = on_grid(ink, int(rng.integers(12, 24)), False, True), "grid fitted"
        else:
            image, how = widened(ink, rng.uniform(0.3, 1)), "wide"
        yield Variant(image, variant.label, f"{variant.kind} {how}".strip())
