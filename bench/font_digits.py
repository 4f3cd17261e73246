"""Digits drawn from typefaces: a stand-in for writers who are not MNIST's.

MNIST's digits come from about 500 American writers; a pupil elsewhere writes a 1 with a flag and a foot, a 7 with a
bar, a 9 with a curled tail. No data set of such writers is available offline, so this set draws digits from the
shapes of the fonts installed on the machine: each glyph is rendered MNIST-style (fitted in a 20×20 box of a 28×28
field), traced to its centre lines (:func:`bench.drawn_digits.traced_strokes`) and re-drawn with a round pen by a
random hand (rotation, shear, aspect), pen and canvas, encoded as a user could send it. Handwriting-like fonts
(Comic Neue, Kristi, Dancing Script, Humor Sans, Breip, StayPuft, Andika, Z003) are in it with
sans, serif and monospaced ones.

Fonts are split by family so nothing fitted or chosen ever sees the fonts that measure:

* ``development_fonts()``: DejaVu and Liberation, the fonts the non-digit set (bench/non_digits.py) also uses;
* ``held_out_fonts()``: every other installed font, used only to report. On Debian:
  ``apt-get install fonts-comic-neue fonts-sil-andika fonts-humor-sans fonts-urw-base35 fonts-freefont-ttf
  fonts-kristi fonts-breip fonts-dancingscript fonts-open-sans fonts-lato fonts-linuxlibertine
  fonts-crosextra-caladea fonts-staypuft fonts-roboto-unhinted``.

    from bench.font_digits import font_digits, held_out_fonts
    for d in font_digits(held_out_fonts(), per_glyph=2, seed=0):
        d.image, d.label, d.font     # what a user sends; the digit; the font file's name
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from scipy import ndimage

from bench.drawn_digits import _draw, traced_strokes

FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".fonts")
DEVELOPMENT_FAMILIES = ("DejaVu", "Liberation")
# Not text faces: mathematics, symbols and dingbats (their digit slots are missing or not digits).
SKIPPED = ("math", "symbol", "d050000l", "dingbat")


@dataclass
class FontDigit:
    image: Image.Image | np.ndarray
    label: int
    font: str  # the font file's name
    encoding: str


@lru_cache(maxsize=1)
def digit_fonts() -> tuple[Path, ...]:
    """Installed .ttf/.otf text fonts, one file per face (family and style as the font names them: some faces ship
    twice, under two file names), sorted."""
    found: dict[tuple[str, str], Path] = {}
    for folder in FONT_DIRS:
        if folder.is_dir():
            for path in sorted(folder.rglob("*")):
                if path.suffix.lower() in (".ttf", ".otf") and not any(s in path.name.lower() for s in SKIPPED):
                    found.setdefault(ImageFont.truetype(str(path), 12).getname(), path)
    return tuple(sorted(found.values(), key=lambda p: p.name))


def development_fonts() -> tuple[Path, ...]:
    return tuple(p for p in digit_fonts() if p.name.startswith(DEVELOPMENT_FAMILIES))


def held_out_fonts() -> tuple[Path, ...]:
    return tuple(p for p in digit_fonts() if not p.name.startswith(DEVELOPMENT_FAMILIES))


def glyph28(font: Path, digit: int) -> np.ndarray | None:
    """``digit`` in ``font`` as an MNIST-style uint8 (28, 28) image: fitted in 20×20, centred by its mass.
    None when the font has no ink for it."""
    face = ImageFont.truetype(str(font), 160)
    big = Image.new("L", (320, 320), 0)
    ImageDraw.Draw(big).text((60, 40), str(digit), fill=255, font=face)
    box = big.getbbox()
    if box is None or big.getextrema()[1] < 64:
        return None
    glyph = big.crop(box)
    scale = 20 / max(glyph.size)
    w, h = max(1, round(glyph.size[0] * scale)), max(1, round(glyph.size[1] * scale))
    small = np.asarray(glyph.resize((w, h), Image.LANCZOS), dtype=np.float64)
    field = np.zeros((28, 28))
    field[(28 - h) // 2:(28 - h) // 2 + h, (28 - w) // 2:(28 - w) // 2 + w] = small
    cy, cx = ndimage.center_of_mass(field)
    field = ndimage.shift(field, (14 - cy, 14 - cx), order=1)
    field *= 255 / max(field.max(), 1e-9)  # hairline faces: full-strength ink, so the trace stays connected
    return field.clip(0, 255).round().astype(np.uint8)


def font_digits(fonts: Sequence[Path], per_glyph: int = 2, seed: int = 0) -> Iterator[FontDigit]:
    """Every digit of every font in ``fonts``, traced and re-drawn ``per_glyph`` times by random hands and pens."""
    rng = np.random.default_rng(seed)
    for font in fonts:
        for digit in range(10):
            image = glyph28(font, digit)
            if image is None:
                continue
            strokes = traced_strokes(image)
            for _ in range(per_glyph):
                d = _draw(strokes, digit, rng, jitter=True)
                yield FontDigit(d.image, digit, font.name, d.encoding)
