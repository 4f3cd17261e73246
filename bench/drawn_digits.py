"""A test set of canvas-like drawings: digits re-drawn as solid pen strokes, encoded every way a user can send them.

* ``redrawn_mnist``: each MNIST *test* digit is thinned to its skeleton (at 4× resolution, so curves stay smooth)
  and re-drawn with a round pen of random width on a canvas of random size, at a random size and position.
* ``example_drawings``: the project's own stroke examples (digits not written by MNIST's writers) under random
  affine jitter, pen widths and canvases.

Each drawing is encoded in one of :data:`ENCODINGS` (grey/RGB/RGBA PIL images and numpy arrays, both polarities,
transparent backgrounds, coloured ink and paper). Everything is seeded, so a run is reproducible.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from demo.examples import EXAMPLES, example_strokes
from demo.strokes import Stroke, rasterize

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


def skeleton_strokes(image28: np.ndarray) -> list[Stroke]:
    """An MNIST digit (uint8 28×28) -> its skeleton as 2-point strokes, in 28×28 pixel coordinates."""
    from skimage.morphology import skeletonize

    t = torch.from_numpy(image28.astype(np.float32) / 255)[None, None]
    up = F.interpolate(t, scale_factor=4, mode="bilinear", align_corners=False)[0, 0].numpy()
    skeleton = skeletonize(up > 0.4)
    ys, xs = np.nonzero(skeleton)
    on = set(zip(ys.tolist(), xs.tolist()))
    strokes: list[Stroke] = []
    for y, x in on:
        p = ((x + 0.5) / 4, (y + 0.5) / 4)
        linked = False
        for dy, dx in ((0, 1), (1, 0), (1, 1), (1, -1)):
            if (y + dy, x + dx) in on:
                strokes.append([p, ((x + dx + 0.5) / 4, (y + dy + 0.5) / 4)])
                linked = True
        if not linked:
            strokes.append([p])
    return strokes


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


def _draw(strokes: list[Stroke], label: int, rng: np.random.Generator, jitter: bool) -> Drawing:
    canvas = CANVASES[rng.integers(len(CANVASES))]
    pen_ratio = float(rng.uniform(0.04, 0.22))
    placed, height = _place(strokes, canvas, rng, jitter, pen_ratio)
    ink = rasterize(placed, canvas[0], canvas[1], max(1.5, pen_ratio * height))
    encoding = ENCODINGS[rng.integers(len(ENCODINGS))]
    return Drawing(encode(ink, encoding, rng), label, encoding, canvas, pen_ratio)


def redrawn_mnist(images: np.ndarray, labels: np.ndarray, seed: int = 0) -> Iterator[Drawing]:
    """Re-draws each MNIST digit (uint8 N×28×28) as canvas strokes; yields one :class:`Drawing` per digit."""
    rng = np.random.default_rng(seed)
    for image, label in zip(images, labels):
        yield _draw(skeleton_strokes(image), int(label), rng, jitter=False)


def example_drawings(per_style: int = 10, seed: int = 0) -> Iterator[Drawing]:
    """The project's own stroke examples, each style drawn ``per_style`` times with random hand and pen."""
    rng = np.random.default_rng(seed)
    for digit, styles in EXAMPLES.items():
        for style in range(len(styles)):
            for _ in range(per_style):
                yield _draw(example_strokes(digit, style, 100, 100, pad=0), digit, rng, jitter=True)
