"""Digits written by hands unlike MNIST's: many writing styles, drawn as pen strokes on the pad's canvas.

MNIST's digits come from American census staff and school pupils, so a model (or a "does this look like a digit?"
detector) fitted to them may refuse real digits written in other traditions: the continental 1 with its long flag,
the crossed 7, the open 4, the looped 2, the slashed zero... This set measures that: how often real digits, written
by other hands, are wrongly refused. The styles are traced by hand here, independently of any detector, and nothing
in them is tuned toward one.

Styles (``STYLES``: digit -> {name: strokes}, in a 100×100 box, x right, y down), each item's ``style`` is
``"<digit>:<name>"``:

===  ========================================================================================================
0    oval, round, tall_narrow, overshoot (the end runs past the start), open_gap, lopsided,
     slashed_computing (Ø, the programmer's/engineer's zero)
1    stick, short_flag, long_flag (continental, ~50°), flag_foot (long flag and a base), curved_flag,
     serif_foot (base only), slanted, upstroke (lead-in from half height, as in Swiss/German school hands)
2    plain, loop_base (a loop at the bottom left), angular (Z-like), curly_top, wavy_base, swan_neck, small_top
3    round, flat_top (bar, diagonal, bowl), pointed_middle, big_upper, big_lower, loop_middle, angular
4    open, closed (triangle), bar_past_stem, one_stroke (up the stem, down-left, across), slanted_open,
     tall_stem (the stem rises above the apex), curved_open
5    flag_separate, one_stroke, angular, round_belly, slanted_stem, curled_tail, tall_stem
6    straight_stem, curved_stem, small_loop, big_loop, open_loop, hooked_top, spiral_in
7    plain, crossbar (continental), hooked_top (a flag at the left end), curved_stem, sloped_top, wavy_top,
     curved_crossbar
8    two_circles, figure_eight (one stroke), small_top, big_top, tilted, s_and_line (an S closed by a straight
     line), open_top
9    straight_stem, hooked_tail, q_tail, bent_tail, open_head, slanted_stem, curl_tail
===  ========================================================================================================

Each drawing gets a random hand: a smooth change of proportions (a few box units), a per-stroke shift, tremor,
rotation within ±12°, slant (shear) within ±0.25, aspect 0.75-1.25; it is drawn with the pad's own rasteriser on a
280×280 canvas with a pen 8-30 px wide, its height 35-85 % of the canvas, at a random place fully inside the canvas.
Everything is seeded (each style has its own random stream), so runs are reproducible.

    from bench.hand_styles import hand_style_digits
    for d in hand_style_digits(per_style=10, seed=0):
        d.image, d.label, d.style, d.pen   # float32 (280, 280) ink, white on black; digit; "1:long_flag"; pen px

    python -m bench.hand_styles [out.png]   # a contact sheet: every style once
"""

from __future__ import annotations

import math
import sys
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from bench.non_digits import _arc, _tremor
from demo.core.strokes import Stroke, rasterize

CANVAS = 280
PEN_RANGE = (8.0, 30.0)  # pen width, canvas pixels
HEIGHT_RANGE = (0.35, 0.85)  # the digit's height as a share of the canvas
ROTATE, SHEAR, ASPECT = 12.0, 0.25, (0.75, 1.25)
WARP, SHIFT, TREMOR = 3.0, 1.5, (0.4, 1.2)  # proportion change, per-stroke shift, wobble (box units)

P = tuple[float, float]


def _curve(*pts: P, n: int = 8) -> list[P]:
    """A smooth (Catmull-Rom) curve through the points: a traced pen path."""
    p = np.asarray([pts[0], *pts, pts[-1]], dtype=np.float64)
    out: list[P] = [tuple(p[1])]
    for i in range(1, len(p) - 2):
        p0, p1, p2, p3 = p[i - 1], p[i], p[i + 1], p[i + 2]
        for t in np.linspace(0, 1, n + 1)[1:]:
            q = 0.5 * (2 * p1 + (p2 - p0) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t**2
                       + (3 * p1 - p0 - 3 * p2 + p3) * t**3)
            out.append((float(q[0]), float(q[1])))
    return out


def _slant(strokes: list[Stroke], k: float) -> list[Stroke]:
    """Leans a drawing right by ``k`` (x moves by k per unit of height above the middle)."""
    return [[(x + k * (50 - y), y) for x, y in s] for s in strokes]


_EIGHT = _curve((70, 14), (52, 5), (32, 14), (32, 32), (50, 48), (70, 62), (72, 82), (52, 95), (30, 86), (30, 66),
                (50, 48), (66, 34), (68, 18), (60, 10))
_NINE_HEAD = _arc(48, 30, 22, 22, 0, -360, 30)

STYLES: dict[int, dict[str, list[Stroke]]] = {
    0: {"oval": [_arc(50, 50, 28, 44, -95, -455, 40)],
        "round": [_arc(50, 50, 44, 44, -80, -440, 40)],
        "tall_narrow": [_arc(50, 50, 17, 47, -90, -452, 40)],
        "overshoot": [_curve((62, 12), (50, 6), (30, 14), (20, 45), (26, 80), (48, 95), (70, 84), (80, 50), (72, 18),
                             (54, 8), (38, 14))],
        "open_gap": [_arc(50, 50, 28, 44, -65, -380, 40)],
        "lopsided": [_curve((56, 6), (34, 12), (22, 42), (28, 78), (46, 95), (68, 86), (78, 54), (72, 20), (56, 6),
                            (48, 8))],
        "slashed_computing": [_arc(50, 50, 28, 44, -95, -455, 40), [(74, 12), (26, 88)]]},
    1: {"stick": [[(51, 5), (49, 95)]],
        "short_flag": [[(40, 20), (53, 5), (51, 95)]],
        "long_flag": [[(24, 42), (56, 5), (54, 95)]],
        "flag_foot": [[(26, 38), (56, 5), (56, 94)], [(32, 95), (80, 95)]],
        "curved_flag": [_curve((30, 36), (44, 22), (56, 5)) + [(54, 95)]],
        "serif_foot": [[(50, 5), (50, 95)], [(30, 95), (70, 95)]],
        "slanted": [[(48, 22), (66, 5), (40, 95)]],
        "upstroke": [[(36, 56), (56, 5), (54, 95)]]},
    2: {"plain": [_curve((24, 28), (32, 12), (50, 6), (68, 12), (74, 28), (66, 48), (44, 70), (22, 92))
                  + [(80, 92)]],
        "loop_base": [_curve((24, 26), (34, 10), (52, 6), (70, 14), (74, 30), (62, 50), (40, 72), (26, 86), (14, 92),
                             (10, 84), (16, 76), (28, 78), (40, 90), (52, 93)) + [(84, 92)]],
        "angular": [[(22, 24), (36, 8), (68, 8), (78, 22), (24, 92), (80, 92)]],
        "curly_top": [_curve((38, 32), (28, 28), (28, 16), (40, 7), (60, 6), (74, 16), (74, 32), (60, 52), (40, 72),
                             (22, 92)) + [(82, 90)]],
        "wavy_base": [_curve((24, 28), (34, 10), (52, 6), (70, 14), (72, 32), (56, 54), (36, 74), (22, 92))
                      + _curve((22, 92), (40, 82), (58, 92), (80, 86))],
        "swan_neck": [_arc(48, 30, 26, 24, 190, 400) + _curve((68, 45), (42, 62), (26, 78), (22, 92)) + [(82, 92)]],
        "small_top": [_curve((30, 22), (40, 8), (56, 6), (66, 16), (62, 32), (40, 62), (20, 92)) + [(84, 90)]]},
    3: {"round": [_arc(48, 28, 24, 22, 200, 450) + _arc(48, 71, 27, 23, -90, 150)],
        "flat_top": [[(22, 8), (76, 8), (44, 42)] + _arc(48, 68, 28, 26, -80, 150)],
        "pointed_middle": [_arc(48, 27, 24, 21, 200, 420) + [(36, 50)] + _arc(48, 72, 27, 22, -60, 150)],
        "big_upper": [_arc(50, 32, 28, 27, 200, 450) + _arc(50, 77, 20, 17, -90, 150)],
        "big_lower": [_arc(48, 20, 18, 15, 200, 450) + _arc(48, 64, 30, 29, -90, 150)],
        "loop_middle": [_arc(48, 27, 24, 21, 200, 430) + _curve((56, 47), (40, 51), (36, 46), (44, 43), (54, 50))
                        + _arc(48, 72, 28, 22, -75, 150)],
        "angular": [[(22, 8), (76, 8), (46, 42), (72, 52), (78, 72), (62, 92), (22, 88)]]},
    4: {"open": [[(28, 5), (24, 58), (82, 58)], [(66, 5), (66, 95)]],
        "closed": [[(62, 5), (16, 64), (84, 64)], [(62, 5), (62, 95)]],
        "bar_past_stem": [[(26, 5), (22, 58), (90, 58)], [(58, 8), (58, 95)]],
        "one_stroke": [[(60, 95), (60, 5), (16, 62), (84, 62)]],
        "slanted_open": [[(38, 5), (20, 60), (84, 60)], [(66, 16), (62, 95)]],
        "tall_stem": [[(64, 26), (18, 66), (84, 66)], [(64, 5), (64, 95)]],
        "curved_open": [_curve((30, 5), (24, 36), (30, 54), (52, 58), (84, 54)), [(68, 8), (64, 95)]]},
    5: {"flag_separate": [[(32, 8), (28, 46)] + _arc(50, 66, 27, 26, -125, 155), [(32, 8), (78, 8)]],
        "one_stroke": [[(76, 8), (32, 8), (28, 46)] + _arc(50, 66, 27, 26, -125, 155)],
        "angular": [[(74, 8), (30, 8), (28, 44), (64, 44), (74, 58), (72, 82), (56, 94), (24, 88)]],
        "round_belly": [[(34, 6), (30, 40)] + _arc(50, 64, 30, 30, -130, 160), [(34, 6), (80, 4)]],
        "slanted_stem": [[(44, 6), (26, 48)] + _arc(50, 68, 26, 25, -120, 160), [(44, 6), (82, 6)]],
        "curled_tail": [[(76, 8), (34, 8), (30, 44)] + _arc(50, 64, 26, 26, -125, 150)
                        + _curve((27, 77), (24, 68), (30, 64))],
        "tall_stem": [[(34, 6), (32, 56)] + _arc(52, 74, 24, 20, -130, 150), [(34, 6), (74, 8)]]},
    6: {"straight_stem": [[(64, 5), (29, 62)] + _arc(50, 72, 22, 22, 185, -175)],
        "curved_stem": [_curve((70, 8), (52, 10), (36, 26), (28, 50), (28, 72)) + _arc(50, 72, 22, 22, 180, -170)],
        "small_loop": [[(60, 5), (38, 66)] + _arc(50, 80, 14, 14, 200, -160)],
        "big_loop": [_curve((64, 5), (42, 20), (28, 42)) + _arc(52, 64, 30, 31, 218, -142)],
        "open_loop": [_curve((66, 5), (44, 20), (32, 42), (28, 66)) + _arc(50, 70, 22, 22, 190, -100)],
        "hooked_top": [_curve((74, 18), (64, 7), (48, 8), (34, 24), (28, 48), (28, 70))
                       + _arc(50, 70, 22, 22, 180, -175)],
        "spiral_in": [_curve((66, 5), (44, 20), (30, 44), (28, 70)) + _arc(50, 70, 22, 22, 180, -90)
                      + _curve((50, 48), (36, 56), (36, 68))]},
    7: {"plain": [[(20, 10), (80, 10), (42, 95)]],
        "crossbar": [[(20, 10), (80, 10), (42, 95)], [(38, 52), (76, 52)]],
        "hooked_top": [[(18, 26), (20, 10), (80, 10), (44, 95)]],
        "curved_stem": [[(20, 10)] + _curve((80, 10), (62, 38), (52, 66), (50, 95))],
        "sloped_top": [[(20, 18), (80, 8), (46, 95)]],
        "wavy_top": [_curve((18, 14), (34, 6), (50, 14), (66, 8), (80, 10)) + [(44, 95)]],
        "curved_crossbar": [[(20, 10)] + _curve((80, 10), (62, 38), (52, 66), (50, 95)), [(42, 50), (80, 48)]]},
    8: {"two_circles": [_arc(50, 27, 20, 21, 90, 450), _arc(50, 70, 26, 24, -90, 270)],
        "figure_eight": [_EIGHT],
        "small_top": [_curve((62, 14), (50, 6), (38, 14), (40, 28), (50, 36), (70, 52), (74, 76), (52, 94), (28, 80),
                             (30, 56), (50, 36), (60, 26), (62, 14))],
        "big_top": [_arc(50, 32, 26, 27, 90, 450), _arc(50, 77, 20, 18, -90, 270)],
        "tilted": _slant([_EIGHT], 0.35),
        "s_and_line": [_curve((72, 16), (54, 5), (32, 12), (30, 30), (50, 48), (70, 64), (70, 84), (50, 95), (28, 86))
                       + [(72, 16)]],
        "open_top": [_curve((50, 48), (34, 62), (30, 80), (50, 95), (70, 82), (68, 62), (50, 48), (34, 34), (34, 14),
                            (50, 5), (66, 14), (64, 30), (56, 40))]},
    9: {"straight_stem": [_NINE_HEAD + [(70, 30), (68, 95)]],
        "hooked_tail": [_NINE_HEAD + _curve((70, 30), (70, 72), (64, 90), (50, 95), (36, 88))],
        "q_tail": [_arc(46, 30, 22, 20, -10, -355, 30), [(70, 8), (70, 98)]],
        "bent_tail": [_NINE_HEAD + _curve((70, 30), (68, 58), (60, 78), (46, 96))],
        "open_head": [_arc(48, 30, 22, 22, -15, -300, 28), [(70, 14), (68, 95)]],
        "slanted_stem": [_arc(54, 28, 22, 21, 0, -360, 30) + [(76, 28), (44, 95)]],
        "curl_tail": [_arc(48, 28, 22, 20, 0, -360, 30) + _curve((70, 28), (70, 70), (62, 90), (44, 95), (30, 86),
                                                               (32, 76))]},
}


@dataclass
class HandDigit:
    image: np.ndarray  # float32 (CANVAS, CANVAS) ink in [0, 1], white on black, as the pad sends it
    label: int
    style: str  # "<digit>:<name>"
    pen: float  # pen width in canvas pixels


def style_names() -> list[str]:
    """Every style as ``"<digit>:<name>"``, in order."""
    return [f"{d}:{name}" for d, styles in STYLES.items() for name in styles]


def _warp(strokes: list[np.ndarray], rng: np.random.Generator) -> list[np.ndarray]:
    """A smooth random change of proportions (a low-frequency displacement field) and a small shift per stroke."""
    freq = rng.uniform(-0.6, 0.6, (2, 2)) * 2 * math.pi / 100
    phase, amp = rng.uniform(0, 2 * math.pi, 2), rng.uniform(0, WARP, 2)
    out = []
    for s in strokes:
        shift = rng.normal(0, SHIFT, 2) if len(strokes) > 1 else np.zeros(2)
        out.append(s + amp * np.sin(s @ freq.T + phase) + shift)
    return out


def _hand(strokes: list[np.ndarray], rng: np.random.Generator) -> list[np.ndarray]:
    """Aspect, then slant (shear, top to the right for positive values), then rotation, about the box's middle."""
    a = math.radians(rng.uniform(-ROTATE, ROTATE))
    shape = np.array([[rng.uniform(*ASPECT), -rng.uniform(-SHEAR, SHEAR)], [0.0, 1.0]])
    m = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]]) @ shape
    return [(s - 50) @ m.T + 50 for s in strokes]


def _place(strokes: list[np.ndarray], rng: np.random.Generator, pen: float) -> list[np.ndarray]:
    """Scales the drawing to a random height (35-85 % of the canvas) and puts it anywhere fully inside (pen too)."""
    pts = np.concatenate(strokes)
    lo, hi = pts.min(0), pts.max(0)
    extent = np.maximum(hi - lo, 1e-6)
    room = CANVAS - pen - 6  # the pen's half width and 3 px each side stay clear of the edge
    scale = min(rng.uniform(*HEIGHT_RANGE) * CANVAS, room) / extent[1]
    scale = min(scale, room / extent[0])
    size = extent * scale
    margin = pen / 2 + 3
    origin = np.array([rng.uniform(margin, max(margin, CANVAS - margin - size[i])) for i in (0, 1)])
    return [origin + (s - lo) * scale for s in strokes]


def draw_style(strokes: list[Stroke], rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """One drawing of a style by a random hand: (ink image, pen width)."""
    pen = float(rng.uniform(*PEN_RANGE))
    shaped = _hand(_warp(_tremor(strokes, rng, float(rng.uniform(*TREMOR))), rng), rng)
    placed = _place(shaped, rng, pen)
    return rasterize([[tuple(p) for p in s] for s in placed], CANVAS, CANVAS, pen), pen


def hand_style_digits(per_style: int = 10, seed: int = 0) -> Iterator[HandDigit]:
    """``per_style`` drawings of every style, reproducible from ``seed``.

    Each style has its own random stream (seeded by ``seed`` and the style's name), so adding a style or asking for
    another ``per_style`` leaves the other styles' drawings as they were.
    """
    for digit, styles in STYLES.items():
        for name, strokes in styles.items():
            style = f"{digit}:{name}"
            rng = np.random.default_rng([seed, zlib.crc32(style.encode())])
            for _ in range(per_style):
                image, pen = draw_style(strokes, rng)
                yield HandDigit(np.ascontiguousarray(image, dtype=np.float32), digit, style, pen)


def contact_sheet(path: str = "/tmp/hand_styles.png", seed: int = 0, cell: int = 140) -> str:
    """Saves every style once (one drawing, its name underneath), ten columns, one row per digit or more."""
    from PIL import Image, ImageDraw

    rows = [[d for d in hand_style_digits(1, seed) if d.label == digit] for digit in STYLES]
    cols = max(len(r) for r in rows)
    sheet = Image.new("L", (cols * cell, len(rows) * (cell + 14)), 40)
    draw = ImageDraw.Draw(sheet)
    for r, row in enumerate(rows):
        for c, d in enumerate(row):
            tile = Image.fromarray((d.image * 255).astype(np.uint8)).resize((cell - 4, cell - 4), Image.BILINEAR)
            sheet.paste(tile, (c * cell + 2, r * (cell + 14) + 2))
            draw.text((c * cell + 4, r * (cell + 14) + cell - 2), d.style, fill=255)
    sheet.save(path)
    return path


if __name__ == "__main__":
    print(contact_sheet(*sys.argv[1:2]))
