"""A test set of drawings that are NOT digits, drawn the way a pupil would draw them on the pad.

Everything is drawn with pen strokes (:func:`demo.core.strokes.rasterize`, the pad's own rasteriser) on a 280×280 canvas
with a round pen 8-30 px wide, at a random size (35-85 % of the canvas) and position, with a random hand (rotation,
shear, aspect) and a little tremor; the font families are rendered glyphs instead of strokes. Generation is seeded
and needs no downloads, so a run is reproducible.

Families (``FAMILIES``: name -> (group, what it is)); ``group`` is used to hold whole kinds of drawing out when a
detector is fitted on some families and reported on the others:

=====================  =========  =====================================================================================
family                 group      drawings
=====================  =========  =====================================================================================
letters                letters    capital and small letters that resemble no digit, hand-coded strokes:
                                  A E F H K M N R V W X a e h k m n r w
font_letters           letters    the same letters rendered from the installed TrueType fonts (DejaVu, Liberation;
                                  regular/bold/italic), ink-filled glyphs. Empty when no font is installed.
text                   letters    2-5 letters of the ``letters`` set side by side (a short word)
triangle               shapes     outline triangles
square                 shapes     outline squares (aspect 0.85-1.15)
rectangle              shapes     wide outline rectangles (width 1.5-3× height; tall ones are read as 0 or 1)
star                   shapes     five-pointed stars: pentagram in one stroke, or the outline
heart                  shapes     outline hearts
house                  shapes     square + roof, sometimes a door
smiley                 symbols    a face (circle, eyes, mouth) or only eyes and mouth
arrow                  symbols    a straight arrow in any direction
plus_cross             symbols    + and × (two crossing strokes)
check                  symbols    a check mark
hash                   symbols    # and tic-tac-toe grids
scribble               scribbles  a random walk with momentum (a scribble)
zigzag                 scribbles  zigzags and waves
spiral                 scribbles  spirals of 1.5-3.5 turns
dot                    marks      a single dot (one click)
dots                   marks      2-6 separate dots
hline                  marks      a horizontal line (±8°)
diagonal               marks      a straight line 20-55° from the horizontal (steeper lines are a slanted 1)
blob                   marks      a filled blob (a random round polygon, coloured in)
digit_like_letters     ambiguous  letters that DO look like digits (O/0, I l/1, S/5, Z z/2, G b/6, q g/9, B/8, D/0,
                                  C c, L, J, P, T, U u, Y y), strokes and fonts. A reader would accept some of them as
                                  digits, so they are reported separately and never counted in the catch rate.
=====================  =========  =====================================================================================

    from bench.non_digits import non_digits
    for d in non_digits(per_family=50, seed=0):
        d.image, d.family, d.kind   # float32 (280, 280) ink, white on black; family name; letter / variant
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from demo.core.strokes import Stroke, rasterize

CANVAS = 280  # the pad's canvas
PEN_RANGE = (8.0, 30.0)  # pen widths in canvas pixels
SIZE_RANGE = (0.35, 0.85)  # the drawing's longest side, as a fraction of the canvas

FAMILIES: dict[str, tuple[str, str]] = {
    "letters": ("letters", "letters that resemble no digit, hand-coded strokes"),
    "font_letters": ("letters", "the same letters rendered from TrueType fonts"),
    "text": ("letters", "a short word of 2-5 letters"),
    "triangle": ("shapes", "outline triangle"),
    "square": ("shapes", "outline square"),
    "rectangle": ("shapes", "wide outline rectangle"),
    "star": ("shapes", "five-pointed star"),
    "heart": ("shapes", "outline heart"),
    "house": ("shapes", "house: square + roof"),
    "smiley": ("symbols", "smiley face"),
    "arrow": ("symbols", "straight arrow, any direction"),
    "plus_cross": ("symbols", "+ or ×"),
    "check": ("symbols", "check mark"),
    "hash": ("symbols", "# or tic-tac-toe grid"),
    "scribble": ("scribbles", "random-walk scribble"),
    "zigzag": ("scribbles", "zigzag or wave"),
    "spiral": ("scribbles", "spiral"),
    "dot": ("marks", "single dot"),
    "dots": ("marks", "2-6 separate dots"),
    "hline": ("marks", "horizontal line"),
    "diagonal": ("marks", "diagonal line, 20-55° from horizontal"),
    "blob": ("marks", "filled blob"),
    "digit_like_letters": ("ambiguous", "letters that look like digits (reported separately)"),
}
NON_DIGIT_FAMILIES = [f for f, (group, _) in FAMILIES.items() if group != "ambiguous"]
GROUPS = sorted({group for group, _ in FAMILIES.values()})


@dataclass
class NonDigit:
    image: np.ndarray  # float32 (CANVAS, CANVAS) ink in [0, 1], white on black (what the pad's rasteriser gives)
    family: str
    kind: str  # the letter, or the variant of the family
    pen: float  # pen width in canvas pixels


# ------------------------------------------------------------------------------------------------ stroke helpers
# Shapes are designed in a 100×100 box (x right, y down), like demo/core/examples.py.

def _arc(cx: float, cy: float, rx: float, ry: float, start: float, end: float,
         n: int = 24) -> list[tuple[float, float]]:
    """Points on an ellipse from angle ``start`` to ``end`` (degrees, 0 = right, 90 = down)."""
    return [(cx + rx * math.cos(math.radians(a)), cy + ry * math.sin(math.radians(a)))
            for a in np.linspace(start, end, n)]


# Letters that resemble no digit, as a pupil writes them.
LETTERS: dict[str, list[Stroke]] = {
    "A": [[(15, 95), (50, 5), (85, 95)], [(30, 60), (70, 60)]],
    "E": [[(75, 5), (25, 5), (25, 95), (75, 95)], [(25, 50), (65, 50)]],
    "F": [[(75, 5), (25, 5), (25, 95)], [(25, 48), (65, 48)]],
    "H": [[(25, 5), (25, 95)], [(75, 5), (75, 95)], [(25, 50), (75, 50)]],
    "K": [[(25, 5), (25, 95)], [(75, 5), (25, 58)], [(42, 42), (78, 95)]],
    "M": [[(15, 95), (20, 5), (50, 62), (80, 5), (85, 95)]],
    "N": [[(22, 95), (22, 5), (78, 95), (78, 5)]],
    "R": [[(25, 95), (25, 5), (52, 5)] + _arc(52, 27, 24, 22, -90, 90, 14) + [(25, 49)], [(45, 49), (78, 95)]],
    "V": [[(15, 5), (50, 95), (85, 5)]],
    "W": [[(5, 5), (25, 95), (50, 35), (75, 95), (95, 5)]],
    "X": [[(20, 5), (80, 95)], [(80, 5), (20, 95)]],
    "a": [_arc(45, 66, 24, 28, -20, -380, 28), [(70, 38), (70, 95)]],
    "e": [[(24, 62), (76, 62)] + _arc(50, 65, 26, 30, 0, -310, 26)],
    "h": [[(25, 5), (25, 95)], [(25, 62)] + _arc(48, 64, 23, 20, 190, 360, 12) + [(71, 95)]],
    "k": [[(28, 5), (28, 95)], [(72, 40), (28, 72)], [(44, 62), (74, 95)]],
    "m": [[(12, 95), (12, 40)], [(12, 56)] + _arc(31, 56, 19, 16, 180, 360, 10) + [(50, 95)],
          [(50, 56)] + _arc(69, 56, 19, 16, 180, 360, 10) + [(88, 95)]],
    "n": [[(25, 95), (25, 40)], [(25, 60)] + _arc(48, 60, 23, 20, 180, 360, 12) + [(71, 95)]],
    "r": [[(32, 95), (32, 40)], [(32, 64)] + _arc(54, 62, 22, 18, 185, 310, 10)],
    "w": [[(8, 40), (28, 95), (50, 55), (72, 95), (92, 40)]],
}

# Letters that DO look like digits (reported separately, never counted as non-digits to catch).
DIGIT_LIKE_LETTERS: dict[str, list[Stroke]] = {
    "O": [_arc(50, 50, 32, 45, -90, 272, 36)],
    "I": [[(50, 5), (50, 95)], [(30, 5), (70, 5)], [(30, 95), (70, 95)]],
    "l": [[(50, 5), (50, 95)]],
    "S": [_arc(50, 28, 26, 23, -20, -270, 16) + _arc(50, 72, 26, 23, -90, 160, 16)],
    "Z": [[(20, 8), (80, 8), (20, 92), (80, 92)]],
    "G": [_arc(50, 50, 32, 45, -40, -340, 30) + [(78, 60), (55, 60)]],
    "b": [[(28, 5), (28, 95)], _arc(48, 70, 20, 25, 180, 540, 24)],
    "q": [_arc(48, 55, 22, 22, 0, 360, 24), [(70, 33), (70, 100)]],
    "g": [_arc(48, 45, 22, 22, 0, 360, 24), [(70, 25), (70, 85)] + _arc(48, 85, 22, 14, 0, 160, 10)],
    "B": [[(25, 95), (25, 5), (50, 5)] + _arc(50, 27, 22, 22, -90, 90, 12) + [(25, 49), (54, 49)]
          + _arc(54, 72, 24, 23, -90, 90, 12) + [(25, 95)]],
    "D": [[(25, 5), (25, 95)], [(25, 5)] + _arc(35, 50, 45, 45, -90, 90, 20) + [(25, 95)]],
    "C": [_arc(52, 50, 32, 45, -40, -320, 28)],
    "L": [[(28, 5), (28, 95), (78, 95)]],
    "J": [[(65, 5), (65, 75)] + _arc(45, 75, 20, 20, 0, 160, 10)],
    "P": [[(25, 95), (25, 5), (50, 5)] + _arc(50, 28, 25, 23, -90, 90, 14) + [(25, 51)]],
    "T": [[(15, 8), (85, 8)], [(50, 8), (50, 95)]],
    "U": [[(22, 5), (22, 65)] + _arc(50, 65, 28, 30, 180, 0, 16) + [(78, 5)]],
    "Y": [[(18, 5), (50, 50)], [(82, 5), (50, 50), (50, 95)]],
    "u": [[(25, 35), (25, 70)] + _arc(48, 70, 23, 25, 180, 0, 14) + [(71, 35), (71, 95)]],
    "y": [[(20, 35), (50, 75)], [(80, 35), (40, 100)]],
    "c": [_arc(52, 60, 28, 32, -40, -320, 24)],
    "z": [[(20, 40), (78, 40), (20, 95), (80, 95)]],
}


def _densify(stroke: Sequence[tuple[float, float]], step: float = 3.0) -> np.ndarray:
    pts = np.asarray(stroke, dtype=np.float64)
    if len(pts) < 2:
        return pts
    out = [pts[0]]
    for a, b in zip(pts[:-1], pts[1:], strict=True):
        n = max(1, int(np.ceil(np.linalg.norm(b - a) / step)))
        out.extend(a + (b - a) * (k / n) for k in range(1, n + 1))
    return np.array(out)


def _tremor(strokes: list[Stroke], rng: np.random.Generator, amount: float) -> list[np.ndarray]:
    """Densifies each stroke and adds a smooth, low-frequency wobble of about ``amount`` box units: a hand."""
    out = []
    for stroke in strokes:
        pts = _densify(stroke)
        if len(pts) > 2 and amount > 0:
            noise = rng.normal(0, amount, pts.shape)
            kernel = np.ones(7) / 7
            noise = np.stack([np.convolve(noise[:, i], kernel, mode="same") for i in range(2)], 1) * 2.0
            pts = pts + noise
        out.append(pts)
    return out


def _hand(strokes: list[np.ndarray], rng: np.random.Generator, rotate: float = 15.0,
          spin: bool = False) -> list[np.ndarray]:
    """A random hand: rotation (any angle when ``spin``), shear and aspect, about the drawing's centre."""
    a = np.radians(rng.uniform(0, 360) if spin else rng.uniform(-rotate, rotate))
    sh, asp = rng.uniform(-0.2, 0.2), rng.uniform(0.8, 1.25)
    m = np.array([[np.cos(a) * asp, -np.sin(a) + sh], [np.sin(a) * asp, np.cos(a)]])
    return [(s - 50) @ m.T + 50 for s in strokes]


def _place(strokes: list[np.ndarray], rng: np.random.Generator, pen: float) -> list[list[tuple[float, float]]]:
    """Scales the drawing so its longest side is a random share of the canvas, at a random position (pen inside)."""
    pts = np.concatenate(strokes)
    lo, hi = pts.min(0), pts.max(0)
    extent = np.maximum(hi - lo, 1e-6)
    side = rng.uniform(*SIZE_RANGE) * CANVAS
    scale = min(side / extent.max(), (CANVAS - pen - 4) / extent.max())
    size = extent * scale
    margin = pen / 2 + 2
    origin = np.array([rng.uniform(margin, max(margin, CANVAS - size[0] - margin)),
                       rng.uniform(margin, max(margin, CANVAS - size[1] - margin))])
    return [[tuple(origin + (p - lo) * scale) for p in s] for s in strokes]


def _draw(strokes: list[Stroke], rng: np.random.Generator, tremor: float = 1.0, rotate: float = 15.0,
          spin: bool = False, pen: float | None = None) -> tuple[np.ndarray, float]:
    pen = float(rng.uniform(*PEN_RANGE)) if pen is None else pen
    shaped = _hand(_tremor(strokes, rng, tremor), rng, rotate, spin)
    return rasterize(_place(shaped, rng, pen), CANVAS, CANVAS, pen), pen


# ------------------------------------------------------------------------------------------------ fonts

FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".fonts")


FONT_FAMILIES = ("DejaVu", "Liberation")  # only these, so installing more fonts does not change the set


@lru_cache(maxsize=1)
def font_files() -> tuple[Path, ...]:
    """Installed DejaVu and Liberation TrueType fonts (no math font), sorted so runs are reproducible. The other
    installed fonts are kept for the digits that measure (bench/font_digits.py)."""
    found: list[Path] = []
    for folder in FONT_DIRS:
        if folder.is_dir():
            found += [p for p in folder.rglob("*.ttf") if p.name.startswith(FONT_FAMILIES) and "Math" not in p.name]
    return tuple(sorted(found))


def _font_glyph(text: str, rng: np.random.Generator) -> tuple[np.ndarray, float] | None:
    """``text`` rendered from a random installed font, rotated a little, scaled into the canvas. None: no fonts."""
    fonts = font_files()
    if not fonts:
        return None
    font = ImageFont.truetype(str(fonts[rng.integers(len(fonts))]), 200)
    big = Image.new("L", (600, 400), 0)
    ImageDraw.Draw(big).text((50, 50), text, fill=255, font=font)
    big = big.rotate(float(rng.uniform(-12, 12)), resample=Image.BILINEAR)
    box = big.getbbox()
    if box is None:
        return None
    glyph = big.crop(box)
    side = rng.uniform(*SIZE_RANGE) * CANVAS
    scale = side / max(glyph.size)
    w, h = max(1, round(glyph.size[0] * scale)), max(1, round(glyph.size[1] * scale))
    glyph = glyph.resize((w, h), Image.BILINEAR)
    canvas = Image.new("L", (CANVAS, CANVAS), 0)
    canvas.paste(glyph, (int(rng.integers(0, CANVAS - w + 1)), int(rng.integers(0, CANVAS - h + 1))))
    return np.asarray(canvas, dtype=np.float32) / 255, float("nan")


# ------------------------------------------------------------------------------------------------ families

def _letters(rng: np.random.Generator) -> tuple[np.ndarray, float, str]:
    kind = list(LETTERS)[rng.integers(len(LETTERS))]
    return (*_draw(LETTERS[kind], rng), kind)


def _font_letters(rng: np.random.Generator) -> tuple[np.ndarray, float, str] | None:
    kind = list(LETTERS)[rng.integers(len(LETTERS))]
    glyph = _font_glyph(kind, rng)
    return None if glyph is None else (*glyph, kind)


def _text(rng: np.random.Generator) -> tuple[np.ndarray, float, str]:
    n = int(rng.integers(2, 6))
    upper = rng.random() < 0.5
    pool = [k for k in LETTERS if k.isupper() == upper]
    word = "".join(pool[rng.integers(len(pool))] for _ in range(n))
    strokes: list[Stroke] = []
    for i, ch in enumerate(word):  # each letter in its own cell, 85 units apart, lowercase sitting on the baseline
        strokes += [[(x * 0.8 + 85 * i, y) for x, y in s] for s in LETTERS[ch]]
    return (*_draw(strokes, rng, rotate=8), word)


def _triangle(rng: np.random.Generator) -> tuple[np.ndarray, float, str]:
    p = [(rng.uniform(30, 70), rng.uniform(0, 15)), (rng.uniform(0, 20), rng.uniform(80, 100)),
         (rng.uniform(80, 100), rng.uniform(80, 100))]
    return (*_draw([[*p, p[0]]], rng, spin=rng.random() < 0.3), "triangle")


def _square(rng: np.random.Generator) -> tuple[np.ndarray, float, str]:
    a = rng.uniform(0.85, 1.15)
    w, h = (100, 100 / a) if a > 1 else (100 * a, 100)
    return (*_draw([[(0, 0), (w, 0), (w, h), (0, h), (0, 0)]], rng), "square")


def _rectangle(rng: np.random.Generator) -> tuple[np.ndarray, float, str]:
    h = 100 / rng.uniform(1.5, 3.0)
    return (*_draw([[(0, 0), (100, 0), (100, h), (0, h), (0, 0)]], rng, rotate=8), "rectangle")


def _star(rng: np.random.Generator) -> tuple[np.ndarray, float, str]:
    if rng.random() < 0.5:
        pts = [(50 + 48 * math.cos(math.radians(-90 + 144 * k)), 50 + 48 * math.sin(math.radians(-90 + 144 * k)))
               for k in range(6)]
        return (*_draw([pts], rng), "pentagram")
    pts = [(50 + r * math.cos(math.radians(-90 + 36 * k)), 50 + r * math.sin(math.radians(-90 + 36 * k)))
           for k, r in zip(range(11), [48, 20] * 6, strict=False)]
    return (*_draw([pts], rng), "outline")


def _heart(rng: np.random.Generator) -> tuple[np.ndarray, float, str]:
    t = np.linspace(0, 2 * math.pi, 40)
    x = 16 * np.sin(t) ** 3
    y = 13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t)
    return (*_draw([list(zip(50 + 3 * x, 50 - 3 * y, strict=True))], rng), "heart")


def _house(rng: np.random.Generator) -> tuple[np.ndarray, float, str]:
    strokes: list[Stroke] = [[(20, 45), (20, 95), (80, 95), (80, 45), (20, 45)], [(12, 50), (50, 8), (88, 50)]]
    door = rng.random() < 0.5
    if door:
        strokes.append([(42, 95), (42, 70), (58, 70), (58, 95)])
    return (*_draw(strokes, rng), "house+door" if door else "house")


def _smiley(rng: np.random.Generator) -> tuple[np.ndarray, float, str]:
    strokes: list[Stroke] = [[(35, 35)], [(65, 35)], _arc(50, 55, 24, 18, 20, 160, 14)]
    face = rng.random() < 0.7
    if face:
        strokes.insert(0, _arc(50, 50, 45, 45, 0, 362, 40))
    return (*_draw(strokes, rng, rotate=10), "face" if face else "eyes+mouth")


def _arrow(rng: np.random.Generator) -> tuple[np.ndarray, float, str]:
    strokes: list[Stroke] = [[(5, 50), (95, 50)], [(72, 30), (95, 50), (72, 70)]]
    return (*_draw(strokes, rng, spin=True), "arrow")


def _plus_cross(rng: np.random.Generator) -> tuple[np.ndarray, float, str]:
    strokes: list[Stroke] = [[(50, 5), (50, 95)], [(5, 50), (95, 50)]]
    cross = rng.random() < 0.5
    if cross:
        strokes = [[(10, 10), (90, 90)], [(90, 10), (10, 90)]]
    return (*_draw(strokes, rng, rotate=8), "x" if cross else "+")


def _check(rng: np.random.Generator) -> tuple[np.ndarray, float, str]:
    knee = (rng.uniform(30, 45), rng.uniform(80, 95))
    return (*_draw([[(5, rng.uniform(45, 65)), knee, (95, 5)]], rng), "check")


def _hash(rng: np.random.Generator) -> tuple[np.ndarray, float, str]:
    if rng.random() < 0.5:
        strokes: list[Stroke] = [[(35, 5), (30, 95)], [(70, 5), (65, 95)], [(5, 35), (95, 35)], [(5, 68), (95, 68)]]
        return (*_draw(strokes, rng), "#")
    strokes = [[(33, 0), (33, 100)], [(66, 0), (66, 100)], [(0, 33), (100, 33)], [(0, 66), (100, 66)]]
    return (*_draw(strokes, rng), "grid")


def _scribble(rng: np.random.Generator) -> tuple[np.ndarray, float, str]:
    n = int(rng.integers(15, 60))
    pos, vel = np.array([50.0, 50.0]), rng.normal(0, 6, 2)
    pts = []
    for _ in range(n):
        vel = 0.7 * vel + rng.normal(0, 6, 2) + (50 - pos) * 0.05  # momentum, pulled back to the middle
        pos = np.clip(pos + vel, 0, 100)
        pts.append(tuple(pos))
    return (*_draw([pts], rng, tremor=0.5), "scribble")


def _zigzag(rng: np.random.Generator) -> tuple[np.ndarray, float, str]:
    n = int(rng.integers(3, 8))
    amp = rng.uniform(15, 50)
    if rng.random() < 0.5:
        pts = [(100 * i / n, 50 + amp * (1 if i % 2 else -1)) for i in range(n + 1)]
        return (*_draw([pts], rng), "zigzag")
    x = np.linspace(0, 100, 60)
    pts = list(zip(x, 50 + amp * np.sin(x / 100 * n * math.pi), strict=True))
    return (*_draw([pts], rng), "wave")


def _spiral(rng: np.random.Generator) -> tuple[np.ndarray, float, str]:
    turns = rng.uniform(1.5, 3.5)
    t = np.linspace(0, turns * 2 * math.pi, int(40 * turns))
    r = 4 + 46 * t / t[-1]
    sign = 1 if rng.random() < 0.5 else -1
    return (*_draw([list(zip(50 + r * np.cos(t), 50 + sign * r * np.sin(t), strict=True))], rng, spin=True), "spiral")


def _dot(rng: np.random.Generator) -> tuple[np.ndarray, float, str]:
    pen = float(rng.uniform(*PEN_RANGE))
    x, y = rng.uniform(pen, CANVAS - pen, 2)
    return rasterize([[(x, y)]], CANVAS, CANVAS, pen), pen, "dot"


def _dots(rng: np.random.Generator) -> tuple[np.ndarray, float, str]:
    n = int(rng.integers(2, 7))
    pts = rng.uniform(0, 100, (n, 2))
    pen = float(rng.uniform(*PEN_RANGE))
    strokes = [np.array([p]) for p in pts]
    # several dots: spread over a random share of the canvas (no tremor on single points)
    return rasterize(_place(strokes, rng, pen), CANVAS, CANVAS, pen), pen, f"{n} dots"


def _hline(rng: np.random.Generator) -> tuple[np.ndarray, float, str]:
    return (*_draw([[(0, 50), (100, 50)]], rng, rotate=8, tremor=0.5), "hline")


def _diagonal(rng: np.random.Generator) -> tuple[np.ndarray, float, str]:
    a = np.radians(rng.uniform(20, 55)) * (1 if rng.random() < 0.5 else -1)
    p = (50 - 50 * math.cos(a), 50 - 50 * math.sin(a)), (50 + 50 * math.cos(a), 50 + 50 * math.sin(a))
    pen = float(rng.uniform(*PEN_RANGE))
    strokes = _tremor([list(p)], rng, 0.5)  # no shear / rotation: the angle is the point of this family
    return rasterize(_place(strokes, rng, pen), CANVAS, CANVAS, pen), pen, "diagonal"


def _blob(rng: np.random.Generator) -> tuple[np.ndarray, float, str]:
    """A round random polygon, coloured in: its outline drawn with the pen, the inside filled solid."""
    k = int(rng.integers(6, 12))
    ang = np.sort(rng.uniform(0, 2 * math.pi, k))
    rad = rng.uniform(30, 50, k)
    outline = [(50 + r * math.cos(t), 50 + r * math.sin(t)) for r, t in zip(rad, ang, strict=True)]
    outline.append(outline[0])
    pen = float(rng.uniform(*PEN_RANGE))
    placed = _place([np.asarray(outline)], rng, pen)
    ink = rasterize(placed, CANVAS, CANVAS, pen)
    inside = Image.new("L", (CANVAS, CANVAS), 0)
    ImageDraw.Draw(inside).polygon([tuple(p) for p in placed[0]], fill=255)
    return np.maximum(ink, np.asarray(inside, dtype=np.float32) / 255), pen, "blob"


def _digit_like_letters(rng: np.random.Generator) -> tuple[np.ndarray, float, str] | None:
    kind = list(DIGIT_LIKE_LETTERS)[rng.integers(len(DIGIT_LIKE_LETTERS))]
    if rng.random() < 0.3:
        glyph = _font_glyph(kind, rng)
        if glyph is not None:
            return (*glyph, kind + " (font)")
    return (*_draw(DIGIT_LIKE_LETTERS[kind], rng), kind)


MAKERS = {"letters": _letters, "font_letters": _font_letters, "text": _text, "triangle": _triangle,
          "square": _square, "rectangle": _rectangle, "star": _star, "heart": _heart, "house": _house,
          "smiley": _smiley, "arrow": _arrow, "plus_cross": _plus_cross, "check": _check, "hash": _hash,
          "scribble": _scribble, "zigzag": _zigzag, "spiral": _spiral, "dot": _dot, "dots": _dots, "hline": _hline,
          "diagonal": _diagonal, "blob": _blob, "digit_like_letters": _digit_like_letters}
assert set(MAKERS) == set(FAMILIES)


def non_digits(per_family: int = 100, seed: int = 0, families: Sequence[str] | None = None) -> Iterator[NonDigit]:
    """``per_family`` drawings of each family (all of :data:`FAMILIES` by default), reproducible from ``seed``.

    Each family has its own random stream, so asking for fewer families or another ``per_family`` does not change
    the drawings of the others. Different seeds give disjoint-looking sets (used as calibration vs report sets).
    """
    for family in families if families is not None else list(FAMILIES):
        rng = np.random.default_rng([seed, list(FAMILIES).index(family)])
        for _ in range(per_family):
            made = MAKERS[family](rng)
            if made is None:  # font_letters without any installed font
                break
            image, pen, kind = made
            yield NonDigit(np.ascontiguousarray(image, dtype=np.float32), family, kind, pen)
