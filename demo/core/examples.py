"""Example drawings made by the project itself: each digit as pen strokes, written the way people draw them.

Coordinates are in a 100×100 box (x right, y down). Several styles per digit (a 1 with and without a flag, an open
and a closed 4, a 7 with a bar...), so they also serve as a small test set of digits not written by MNIST's writers.
"""

from __future__ import annotations

import math

import numpy as np

from .strokes import Stroke, rasterize


def _arc(cx: float, cy: float, rx: float, ry: float, start: float, end: float,
         n: int = 24) -> list[tuple[float, float]]:
    """Points on an ellipse from angle ``start`` to ``end`` (degrees, 0 = right, 90 = down)."""
    return [(cx + rx * math.cos(math.radians(a)), cy + ry * math.sin(math.radians(a)))
            for a in np.linspace(start, end, n)]


def _eight(n: int = 60) -> list[tuple[float, float]]:
    ts = np.linspace(0, 2 * math.pi, n)
    return [(50 + 22 * math.sin(2 * t) / (1.2 + 0.2 * math.cos(t)), 50 - 42 * math.cos(t)) for t in ts]


# digit -> list of styles; a style is a list of strokes; a stroke is a list of (x, y) points.
EXAMPLES: dict[int, list[list[Stroke]]] = {
    0: [[_arc(50, 50, 27, 42, -90, 275)],
        [_arc(50, 50, 32, 40, 250, -100)]],
    1: [[[(52, 8), (49, 92)]],
        [[(41, 22), (56, 8), (52, 92)]],
        [[(38, 22), (55, 8), (55, 92)], [(38, 92), (72, 92)]]],
    2: [[_arc(50, 32, 25, 24, 200, 360) + [(70, 48), (24, 92), (80, 92)]],
        [_arc(48, 30, 26, 22, 190, 380) + [(30, 80), (22, 92), (50, 86), (82, 90)]]],
    3: [[_arc(48, 29, 24, 21, 200, 450)[:-3] + _arc(48, 69, 27, 23, -90, 150)],
        [[(24, 10), (74, 10), (46, 44)] + _arc(48, 67, 27, 25, -80, 150)]],
    4: [[[(60, 8), (18, 64), (82, 64)], [(64, 34), (64, 94)]],
        [[(28, 8), (24, 56), (76, 56)], [(70, 8), (66, 94)]]],
    5: [[[(76, 10), (34, 10), (30, 44)] + _arc(50, 64, 27, 26, -130, 150)],
        [[(32, 10), (28, 46)] + _arc(50, 64, 26, 26, -125, 160), [(32, 10), (78, 10)]]],
    6: [[[(66, 8), (46, 22), (33, 44), (28, 66)] + _arc(50, 68, 22, 23, 180, -180)],
        [[(68, 8), (30, 52)] + _arc(50, 70, 23, 22, 200, 560)]],
    7: [[[(20, 12), (80, 12), (40, 94)]],
        [[(22, 12), (80, 12), (44, 94)], [(38, 54), (74, 54)]]],
    8: [[_eight()],
        [_arc(50, 28, 20, 20, 90, 450), _arc(50, 70, 25, 22, -90, 270)]],
    9: [[_arc(50, 32, 22, 22, 0, 360) + [(72, 32), (64, 94)]],
        [_arc(48, 32, 23, 21, 10, 370) + _arc(30, 40, 42, 54, 0, 80, 12)]],
}


def example_strokes(digit: int, style: int, width: int, height: int, pad: float = 0.15) -> list[Stroke]:
    """The strokes of one example, scaled into a ``width``×``height`` canvas with a margin of ``pad``."""
    side = min(width, height) * (1 - 2 * pad)
    ox, oy = (width - side) / 2, (height - side) / 2
    return [[(ox + x / 100 * side, oy + y / 100 * side) for x, y in stroke] for stroke in EXAMPLES[digit][style]]


def example_image(digit: int, style: int = 0, size: int = 280, pen_width: float = 18) -> np.ndarray:
    """An example drawing as a float32 (size, size) ink image (white ink on black)."""
    return rasterize(example_strokes(digit, style, size, size), size, size, pen_width)
