"""Drawings of new symbols, as a class of pupils would send them from the pad: for the benchmark of a class teaching
the network new symbols (bench/class_learns.py) and its tests.

Each symbol has several styles (a star drawn as a pentagram in one stroke, as an outline, or as crossing lines; a
tree as a fir, a lollipop or a layered fir; ...). Each simulated pupil has a hand of their own, kept for all their
drawings: a favourite style per symbol, a slant, an aspect, a size on the canvas, a pen width and a tremor; each
drawing adds a little of its own on top. That is what holding back *by pupil* tests: a network that learned some
pupils' drawings is judged on hands it never saw. Everything is seeded, so a run is reproducible.

    from bench.class_symbols import class_drawings
    for d in class_drawings(["star", "heart", "tree"], pupils=30, per_pupil=2, seed=0):
        d.drawing, d.symbol, d.pupil, d.style   # the pad's JSON (a dict), the symbol, who drew it, how
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from bench.non_digits import _arc, _tremor

CANVAS = 280
Stroke = list[tuple[float, float]]


def _polygon(radii: Sequence[float], turn: float, start: float = -90.0) -> Stroke:
    return [(50 + r * math.cos(math.radians(start + turn * k)), 50 + r * math.sin(math.radians(start + turn * k)))
            for k, r in enumerate(radii)]


def _heart_curve(n: int = 40) -> Stroke:
    t = np.linspace(0, 2 * math.pi, n)
    x = 16 * np.sin(t) ** 3
    y = 13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t)
    return list(zip(50 + 2.9 * x, 47 - 2.9 * y, strict=True))


# Each symbol: its styles, each a function of the drawing's random numbers giving strokes in a 100×100 box.
STYLES: dict[str, dict[str, Callable[[np.random.Generator], list[Stroke]]]] = {
    "star": {
        "pentagram": lambda rng: [_polygon([48] * 6, 144)],
        "outline": lambda rng: [_polygon([48, 20] * 5 + [48], 36)],
        "lines": lambda rng: [[(50, 4), (50, 96)], [(10, 28), (90, 72)], [(10, 72), (90, 28)]],
    },
    "heart": {
        "one stroke": lambda rng: [_heart_curve()],
        "two arcs": lambda rng: [_arc(30, 30, 20, 18, 180, 360, 12) + [(50, 30)] + _arc(70, 30, 20, 18, 180, 360, 12)
                                 + [(90, 30), (50, 92)], [(10, 30), (50, 92)]],
        "pointed": lambda rng: [[(50, 92), (8, 40)] + _arc(29, 32, 21, 21, 160, 360, 10)
                                + _arc(71, 32, 21, 21, 180, 380, 10) + [(50, 92)]],
    },
    "tree": {
        "fir": lambda rng: [[(50, 5), (15, 72), (85, 72), (50, 5)], [(44, 72), (44, 96)], [(56, 72), (56, 96)]],
        "lollipop": lambda rng: [_arc(50, 36, 32, 32, 90, 452, 30), [(50, 68), (50, 97)]],
        "layered": lambda rng: [[(50, 4), (28, 30), (72, 30), (50, 4)], [(50, 22), (20, 52), (80, 52), (50, 22)],
                                [(50, 44), (12, 78), (88, 78), (50, 44)], [(50, 78), (50, 97)]],
    },
    "house": {
        "plain": lambda rng: [[(20, 45), (20, 95), (80, 95), (80, 45), (20, 45)], [(12, 50), (50, 8), (88, 50)]],
        "door": lambda rng: [[(20, 45), (20, 95), (80, 95), (80, 45), (20, 45)], [(12, 50), (50, 8), (88, 50)],
                             [(42, 95), (42, 70), (58, 70), (58, 95)]],
    },
    "sun": {
        "rays": lambda rng: [_arc(50, 50, 22, 22, 0, 362, 28)] + [
            [(50 + 30 * math.cos(a), 50 + 30 * math.sin(a)), (50 + 46 * math.cos(a), 50 + 46 * math.sin(a))]
            for a in np.linspace(0, 2 * math.pi, 9)[:-1]],
        "spiky": lambda rng: [_polygon([46, 26] * 8 + [46], 22.5)],
    },
}


@dataclass(frozen=True)
class Hand:
    """A pupil's way of drawing, kept for all their drawings."""

    favourite: dict[str, str]  # symbol -> the style this pupil mostly draws
    angle: float  # degrees
    shear: float
    aspect: float
    size: float  # share of the canvas the drawing's longest side takes
    pen: float  # canvas pixels
    tremor: float  # box units


def _hand(rng: np.random.Generator, symbols: Sequence[str]) -> Hand:
    return Hand({s: str(rng.choice(list(STYLES[s]))) for s in symbols}, float(rng.normal(0, 8)),
                float(rng.uniform(-0.18, 0.18)), float(rng.uniform(0.8, 1.2)), float(rng.uniform(0.45, 0.85)),
                float(rng.uniform(12, 26)), float(rng.uniform(0.3, 1.4)))


def _drawn(strokes: list[Stroke], hand: Hand, rng: np.random.Generator) -> dict:
    """The strokes as this hand draws them once, placed on the pad's canvas: the pad's JSON."""
    shaped = _tremor(strokes, rng, hand.tremor)  # a smooth wobble, as bench/non_digits.py draws its shapes
    a = math.radians(hand.angle + rng.normal(0, 4))
    aspect = hand.aspect * rng.uniform(0.93, 1.07)
    m = np.array([[math.cos(a) * aspect, -math.sin(a) + hand.shear], [math.sin(a) * aspect, math.cos(a)]])
    shaped = [(s - 50) @ m.T + 50 for s in shaped]
    pts = np.concatenate(shaped)
    lo, extent = pts.min(0), np.maximum(np.ptp(pts, 0), 1e-6)
    pen = hand.pen * rng.uniform(0.9, 1.1)
    scale = min(hand.size * rng.uniform(0.9, 1.1) * CANVAS, CANVAS - pen - 8) / extent.max()
    margin = pen / 2 + 4
    room = np.maximum(CANVAS - extent * scale - 2 * margin, 0)
    origin = margin + rng.uniform(0, 1, 2) * room
    return {"w": CANVAS, "h": CANVAS, "pen": round(pen, 1),
            "strokes": [[[round(float(x), 1), round(float(y), 1)] for x, y in origin + (s - lo) * scale]
                        for s in shaped]}


@dataclass(frozen=True)
class SymbolDrawing:
    drawing: dict  # the pad's JSON: {"w", "h", "pen", "strokes"}
    symbol: str
    pupil: str
    style: str


def class_drawings(symbols: Sequence[str], pupils: int = 30, per_pupil: int = 1,
                   seed: int = 0) -> list[SymbolDrawing]:
    """``per_pupil`` drawings of each symbol by each of ``pupils`` simulated pupils (``pupil-00``, ...): mostly in
    the pupil's favourite style, sometimes (one in four) in another."""
    unknown = [s for s in symbols if s not in STYLES]
    if unknown:
        raise ValueError(f"no strokes for {unknown}; known symbols: {', '.join(STYLES)}")
    rng = np.random.default_rng(seed)
    out = []
    for p in range(pupils):
        hand = _hand(rng, symbols)
        for symbol in symbols:
            for _ in range(per_pupil):
                style = hand.favourite[symbol] if rng.random() < 0.75 else str(rng.choice(list(STYLES[symbol])))
                out.append(SymbolDrawing(_drawn(STYLES[symbol][style](rng), hand, rng), symbol, f"pupil-{p:02d}",
                                         style))
    return out
