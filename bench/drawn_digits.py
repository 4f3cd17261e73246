"""A test set of canvas-like drawings: digits re-drawn as solid pen strokes, encoded every way a user can send them.

* ``redrawn_mnist``: each MNIST *test* digit is traced (:mod:`bench.tracing`: its skeleton at 4× resolution, so
  curves stay smooth, plus the areas its writer filled in) and re-drawn with a round pen of random width on a
  canvas of random size, at a random size and position; filled areas are coloured in with the same pen.
* ``example_drawings``: the project's own stroke examples (digits not written by MNIST's writers) under random
  affine jitter, pen widths and canvases.

Each drawing is encoded in one of :data:`ENCODINGS` (grey/RGB/RGBA PIL images and numpy arrays, both polarities,
transparent backgrounds, coloured ink and paper). Everything is seeded, so a run is reproducible.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage

from bench.tracing import TRACE_SCALE, trace, upsampled_ink
from demo.core.examples import EXAMPLES, example_strokes
from demo.core.strokes import Stroke, rasterize

ENCODINGS = ("L-dark-on-light", "L-light-on-dark", "RGB-colour-ink", "RGB-grey-paper", "RGBA-transparent-black",
             "RGBA-transparent-white", "numpy-uint8-dark-on-light", "numpy-float-light-on-dark",
             "numpy-RGBA-transparent")
CANVASES = ((280, 280), (400, 400), (512, 384), (300, 500), (800, 600), (128, 128), (1200, 1200), (200, 200))


@dataclass
class Drawing:
    image: Image.Image | np.ndarray
    label: int
    encoding: str
    canvas: tuple[int, int]
    pen_ratio: float  # pen width / digit height (MNIST strokes: about 0.12)


def traced_strokes(image28: np.ndarray, fill: bool = True) -> Callable[[float], list[Stroke]]:
    """An MNIST digit (uint8 28×28) -> a function giving, for a pen width (as a fraction of the digit's height), the
    strokes that re-draw it in 28×28 pixel coordinates: its skeleton as 2-point strokes, and dots that colour in
    its filled areas (see :mod:`bench.tracing`) without leaving them; ``fill=False``: the skeleton only."""
    skeleton, filled = trace(upsampled_ink(image28))
    ys, xs = np.nonzero(skeleton)
    on = set(zip(ys.tolist(), xs.tolist(), strict=True))
    lines: list[Stroke] = []
    for y, x in on:
        p = _point(y, x)
        linked = False
        for dy, dx in ((0, 1), (1, 0), (1, 1), (1, -1)):
            if (y + dy, x + dx) in on:
                lines.append([p, _point(y + dy, x + dx)])
                linked = True
        if not linked:
            lines.append([p])
    height = (ys.max() - ys.min() + 1) / TRACE_SCALE if len(ys) else 1.0
    depth = ndimage.distance_transform_edt(filled) if fill and filled.any() else None

    def strokes(pen_ratio: float) -> list[Stroke]:
        if depth is None:
            return lines
        radius = pen_ratio * height * TRACE_SCALE / 2  # the pen's radius in traced (112×112) pixels
        inside = depth >= radius  # dot centres whose pen disc stays inside the filled area
        if not inside.any():  # a pen wider than the area: one dot at its deepest point
            inside = depth == depth.max()
        return lines + [[_point(y, x)] for y, x in zip(*np.nonzero(inside), strict=True)]

    return strokes


def _point(y: int, x: int) -> tuple[float, float]:
    """Traced (112×112) pixel -> 28×28 coordinates of its centre."""
    return (x + 0.5) / TRACE_SCALE, (y + 0.5) / TRACE_SCALE


def encode(ink: np.ndarray, encoding: str, rng: np.random.Generator) -> Image.Image | np.ndarray:
    """Float ink (1 = drawn) -> the image a user would send, in ``encoding``."""
    u8 = (ink * 255).round().astype(np.uint8)
    if encoding == "L-dark-on-light":
        return Image.fromarray(255 - u8, "L")
    if encoding == "L-light-on-dark":
        return Image.fromarray(u8, "L")
    if encoding == "RGB-colour-ink":
        colour = rng.integers(0, 120, 3)  # a dark pen: blue, red, green...
        rgb = 255 - ink[..., None] * (255 - colour[None, None, :])
        return Image.fromarray(rgb.round().astype(np.uint8), "RGB")
    if encoding == "RGB-grey-paper":
        paper = rng.integers(170, 235, 3)
        rgb = paper[None, None, :] * (1 - ink[..., None]) + 20 * ink[..., None]
        return Image.fromarray(rgb.round().astype(np.uint8), "RGB")
    if encoding in ("RGBA-transparent-black", "RGBA-transparent-white", "numpy-RGBA-transparent"):
        value = 255 if encoding == "RGBA-transparent-white" else 0
        rgba = np.zeros(ink.shape + (4,), np.uint8)
        rgba[..., :3] = value
        rgba[..., 3] = u8
        return rgba if encoding.startswith("numpy") else Image.fromarray(rgba, "RGBA")
    if encoding == "numpy-uint8-dark-on-light":
        return 255 - u8
    if encoding == "numpy-float-light-on-dark":
        return ink.astype(np.float32)
    raise ValueError(f"unknown encoding {encoding!r}")


def _place(strokes: list[Stroke], canvas: tuple[int, int], rng: np.random.Generator, jitter: bool,
           pen_ratio: float) -> tuple[list[Stroke], float]:
    """Scales strokes to a random digit height and position inside ``canvas`` (pen included); returns them and the
    height."""
    pts = np.array([p for s in strokes for p in s], dtype=np.float64)
    if jitter:  # a different hand: rotation, shear, aspect
        a, sh, asp = np.radians(rng.uniform(-12, 12)), rng.uniform(-0.25, 0.25), rng.uniform(0.8, 1.2)
        m = np.array([[np.cos(a) * asp, -np.sin(a) + sh], [np.sin(a) * asp, np.cos(a)]])
        pts = pts @ m.T
    lo, hi = pts.min(0), pts.max(0)
    size = np.maximum(hi - lo, 1e-6)
    w, h = canvas
    height = rng.uniform(0.3, 0.85) * min(w, h) / (1 + pen_ratio)
    scale = min(height / size[1], 0.9 * w / (size[0] + pen_ratio * size[1]))
    extent = size * scale
    margin = pen_ratio * extent[1] / 2 + 1
    origin = np.array([rng.uniform(margin, w - extent[0] - margin), rng.uniform(margin, h - extent[1] - margin)])
    out, i = [], 0
    for s in strokes:
        out.append([tuple(origin + (pts[i + k] - lo) * scale) for k in range(len(s))])
        i += len(s)
    return out, float(extent[1])


def _draw(strokes: Callable[[float], list[Stroke]], label: int, rng: np.random.Generator, jitter: bool) -> Drawing:
    canvas = CANVASES[rng.integers(len(CANVASES))]
    pen_ratio = float(rng.uniform(0.04, 0.22))
    placed, height = _place(strokes(pen_ratio), canvas, rng, jitter, pen_ratio)
    ink = rasterize(placed, canvas[0], canvas[1], max(1.5, pen_ratio * height))
    encoding = ENCODINGS[rng.integers(len(ENCODINGS))]
    return Drawing(encode(ink, encoding, rng), label, encoding, canvas, pen_ratio)


def redrawn_mnist(images: np.ndarray, labels: np.ndarray, seed: int = 0, fill: bool = True) -> Iterator[Drawing]:
    """Re-draws each MNIST digit (uint8 N×28×28) as canvas strokes; yields one :class:`Drawing` per digit.

    ``fill=False`` re-draws skeletons only (this test set before filled areas were coloured in), for comparison.
    """
    rng = np.random.default_rng(seed)
    for image, label in zip(images, labels, strict=True):
        yield _draw(traced_strokes(image, fill), int(label), rng, jitter=False)


def example_drawings(per_style: int = 10, seed: int = 0) -> Iterator[Drawing]:
    """The project's own stroke examples, each style drawn ``per_style`` times with random hand and pen."""
    rng = np.random.default_rng(seed)
    for digit, styles in EXAMPLES.items():
        for style in range(len(styles)):
            for _ in range(per_style):
                strokes = example_strokes(digit, style, 100, 100, pad=0)
                yield _draw(lambda _pen, s=strokes: s, digit, rng, jitter=True)
