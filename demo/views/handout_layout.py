"""Draws a :class:`demo.views.handout.Walk` on one A4 portrait ``matplotlib.figure.Figure``.

Positions are in millimetres from the page's top-left corner (as one measures on paper), converted to figure
fractions in one place. The page has no Axes at all: pictures are ``BboxImage`` artists and the probability bars
are rectangles, placed straight on the figure. An Axes costs ~40 ms to build and draw, and a page would need a
dozen; without them a page renders in a fraction of a second.

Print colour scales: white paper stays white (zero is white, the strongest value black), so a class set of copies
costs little toner and reads on a black-and-white printer; only conv outputs, which have a sign, use the
blue-white-red scale of the app (ColorBrewer's RdBu, rated print-friendly).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties, findfont, get_font
from matplotlib.ft2font import LoadFlags
from matplotlib.image import BboxImage
from matplotlib.lines import Line2D
from matplotlib.patches import FancyBboxPatch, Rectangle
from matplotlib.transforms import Bbox, TransformedBbox

from demo.texts import decimal, plain

from . import render

if TYPE_CHECKING:
    from .handout import Panel, Walk

DPI = 200
PAGE_W, PAGE_H = 210.0, 297.0  # A4 portrait, mm
MM_PER_PT = 25.4 / 72
MARGIN = 12.0
CONTENT_W = PAGE_W - 2 * MARGIN
COLUMN_GAP = 7.0
INK, GREY_TEXT, RULE = "#111111", "#444444", "#999999"
ANSWER_BAR, OTHER_BAR = "#111111", "#bbbbbb"
GAP_RGB = (170, 170, 170)  # lines between tiles: white maps on white paper still show their edges
INPUT_BOX = (MARGIN, 27.0, 32.0)  # the printed model input: left, top, side (mm)
HEAD, SMALL, SPACING = 7.5, 6.5, 1.25  # stage titles and captions (pt), caption line spacing

# White (0) to black (the strongest value): the ink scale for non-negative values and the inverted input.
GREY_PALETTE = np.concatenate([np.repeat(np.linspace(255, 0, render.LEVELS).round()[:, None], 3, 1),
                               [GAP_RGB]]).astype(np.uint8)
SIGNED_PALETTE = np.concatenate([render.palette("signed")[:render.LEVELS], [GAP_RGB]]).astype(np.uint8)


@functools.cache
def _advance(char: str, bold: bool) -> float:
    """One character's advance in em. Cached: measuring whole candidate lines with FreeType costs ~1 s a page."""
    font = get_font(findfont(FontProperties(weight="bold" if bold else "normal")))
    glyph = font.load_char(ord(char), flags=LoadFlags.NO_SCALE | LoadFlags.NO_HINTING)
    return glyph.horiAdvance / font.units_per_EM


def text_width(s: str, size: float, bold: bool = False) -> float:
    """Width in mm of ``s`` in the page's font (advances summed; kerning changes it by well under 1 %)."""
    return sum(_advance(c, bold) for c in s) * size * MM_PER_PT


def wrap(text: str, width: float, size: float, bold: bool = False) -> str:
    """Greedy word wrap to ``width`` mm, measured rather than counted: no caption runs into the next column."""
    lines: list[str] = []
    for word in text.split():
        if lines and text_width(f"{lines[-1]} {word}", size, bold) <= width:
            lines[-1] += f" {word}"
        else:
            lines.append(word)
    return "\n".join(lines)


def text_height(text: str, size: float, spacing: float = SPACING) -> float:
    """Height in mm of wrapped ``text`` (matplotlib spaces lines by about 1.2 em times the line spacing)."""
    return (text.count("\n") * spacing * 1.2 + 1.0) * size * MM_PER_PT if text else 0.0


class Page:
    """A figure addressed in millimetres from the top-left corner."""

    def __init__(self) -> None:
        self.fig = Figure(figsize=(PAGE_W / 25.4, PAGE_H / 25.4), dpi=DPI, facecolor="white")

    def text(self, x: float, y: float, s: str, size: float = SMALL, **kw: object) -> None:
        kw.setdefault("color", INK)
        kw.setdefault("va", "top")
        kw.setdefault("linespacing", SPACING)
        self.fig.text(x / PAGE_W, 1 - y / PAGE_H, s, fontsize=size, **kw)

    def _box(self, x: float, y: float, w: float, h: float) -> tuple[float, float, float, float]:
        return x / PAGE_W, 1 - (y + h) / PAGE_H, w / PAGE_W, h / PAGE_H

    def rect(self, x: float, y: float, w: float, h: float, **kw: object) -> None:
        x0, y0, fw, fh = self._box(x, y, w, h)
        self.fig.add_artist(Rectangle((x0, y0), fw, fh, transform=self.fig.transFigure, **kw))

    def picture(self, rgb: np.ndarray, x: float, y: float, w: float, h: float, frame: bool = True) -> None:
        # "nearest": every model value stays a crisp square, at 200 dpi in both the PNG and the PDF.
        image = BboxImage(TransformedBbox(Bbox.from_bounds(*self._box(x, y, w, h)), self.fig.transFigure),
                          interpolation="nearest", origin="upper")
        image.set_data(rgb)
        self.fig.add_artist(image)
        if frame:
            self.rect(x, y, w, h, facecolor="none", edgecolor=RULE, linewidth=0.5)

    def rule(self, y: float) -> None:
        self.fig.add_artist(Line2D([MARGIN / PAGE_W, 1 - MARGIN / PAGE_W], [1 - y / PAGE_H] * 2,
                                   transform=self.fig.transFigure, color=RULE, linewidth=0.5))


def tiles(values: np.ndarray, signed: bool, box_w: float, box_h: float) -> tuple[np.ndarray, float, float]:
    """(C, H, W) maps -> (RGB picture, its width and height in mm), in the number of columns that makes the maps
    largest inside the box (mm). Unused places after the last map are left white, not filled with gap colour."""
    n, h, w = values.shape
    columns = max(range(1, n + 1), key=lambda cols: min(box_w / (cols * (w + 1) - 1),
                                                        box_h / (-(-n // cols) * (h + 1) - 1)))
    indices, _ = render.to_indices(values, "signed" if signed else "activation")
    rgb = (SIGNED_PALETTE if signed else GREY_PALETTE)[render.tile(indices, columns)]
    for slot in range(n, -(-n // columns) * columns):
        r, c = divmod(slot, columns)
        rgb[r * (h + 1):r * (h + 1) + h, max(0, c * (w + 1) - 1):c * (w + 1) + w] = 255
    scale = min(box_w / rgb.shape[1], box_h / rgb.shape[0])
    return rgb, rgb.shape[1] * scale, rgb.shape[0] * scale


def scale_note(signed: bool, vmax: float) -> str:
    return plain("views.handout_layout.scale_signed" if signed else "views.handout_layout.scale_ink", vmax=vmax)


def titled(page: Page, step: int, heading: str, caption: str, x: float, y: float, w: float) -> float:
    """A stage's numbered title and wrapped caption; returns the y (mm) below them."""
    page.text(x, y, f"{step}   {heading}", HEAD, fontweight="bold")
    caption = wrap(caption, w, SMALL)
    page.text(x, y + 3.9, caption, SMALL, color=GREY_TEXT)
    return y + 3.9 + text_height(caption, SMALL) + 1.4


def stage(page: Page, panel: Panel, step: int, x: float, y: float, w: float, h: float) -> None:
    vmax = render.to_indices(panel.values, "signed" if panel.signed else "activation")[1]
    top = titled(page, step, panel.heading, f"{panel.caption} {scale_note(panel.signed, vmax)}", x, y, w)
    rgb, pw, ph = tiles(panel.values, panel.signed, w, y + h - top)
    page.picture(rgb, x, top, pw, ph)


def legend(page: Page, y: float) -> float:
    bar = np.linspace(0, render.LEVELS - 1, 128).round().astype(np.uint8)[None]
    page.picture(SIGNED_PALETTE[bar], MARGIN, y, 20, 2.6)
    page.text(MARGIN + 22, y + 0.2, plain("views.handout_layout.legend_signed"), color=GREY_TEXT)
    page.picture(GREY_PALETTE[bar], MARGIN + 93, y, 20, 2.6)
    page.text(MARGIN + 115, y + 0.2, plain("views.handout_layout.legend_ink"), color=GREY_TEXT)
    note = wrap(plain("views.handout_layout.legend_note"), CONTENT_W, SMALL)
    page.text(MARGIN, y + 4.2, note, color=GREY_TEXT)
    return y + 4.2 + text_height(note, SMALL)


def header(page: Page, walk: Walk) -> None:
    page.text(MARGIN, MARGIN, walk.title, 16, fontweight="bold")
    page.text(MARGIN, MARGIN + 8.5, wrap(plain("views.handout_layout.intro"), CONTENT_W, 7.5), 7.5, color=GREY_TEXT)
    _, top, side = INPUT_BOX
    rgb = GREY_PALETTE[render.to_indices(walk.input28, "activation", vmax=1.0)[0]]
    page.picture(rgb, MARGIN, top, side, side)  # inverted for print: ink (1) is black
    x, bx = MARGIN + side + 4, 122.0
    titled(page, 0, plain("views.handout_layout.input_heading"), plain("views.handout_layout.input_caption"), x, top,
           bx - 4 - x)
    bw = PAGE_W - MARGIN - bx
    x0, y0, fw, fh = page._box(bx, top, bw, side)
    page.fig.add_artist(FancyBboxPatch((x0, y0), fw, fh, boxstyle="square,pad=0", transform=page.fig.transFigure,
                                       facecolor="white", edgecolor=INK, linewidth=1.2))
    page.text(bx + 4, top + 3, plain("views.handout_layout.answer_title"), 9, fontweight="bold")
    page.text(bx + 4, top + 6.5, str(walk.answer), 40, fontweight="bold")
    page.text(bx + 22, top + 10, plain("views.handout_layout.answer_probability",
                                       share=100 * walk.probs[walk.answer]), 9)
    page.text(bx + 22, top + 14.5, plain("views.handout_layout.answer_bars"), color=GREY_TEXT)
    if walk.digit_note:
        page.text(bx + 4, top + 22.5, wrap(walk.digit_note, bw - 8, SMALL, bold=True), SMALL, fontweight="bold",
                  linespacing=1.15)
    elif walk.digit_like_note:
        page.text(bx + 4, top + 22, wrap(walk.digit_like_note, bw - 8, SMALL), SMALL, color=GREY_TEXT)


def bars(page: Page, walk: Walk, y: float, h: float) -> None:
    """The ten probabilities as bars on a baseline, each with its percentage and digit."""
    slot = CONTENT_W / 10
    top, base = y + 4, y + h - 6  # room for the percentages above and the digits below
    for d, p in enumerate(walk.probs):
        cx = MARGIN + (d + 0.5) * slot
        bar_h = max(float(p) * (base - top), 0.15)  # a hairline even for ~0 %, so every label has a bar
        page.rect(cx - 0.3 * slot, base - bar_h, 0.6 * slot, bar_h, linewidth=0,
                  facecolor=ANSWER_BAR if d == walk.answer else OTHER_BAR)
        weight = "bold" if d == walk.answer else "normal"
        page.text(cx, base - bar_h - 0.8, decimal(100 * p, 1) + " %", 7, ha="center", va="bottom", fontweight=weight)
        page.text(cx, base + 1.2, str(d), 11, ha="center", fontweight=weight)
    page.fig.add_artist(Line2D([MARGIN / PAGE_W, 1 - MARGIN / PAGE_W], [1 - base / PAGE_H] * 2,
                               transform=page.fig.transFigure, color=INK, linewidth=0.6))


def decision(page: Page, walk: Walk, y: float, first_step: int, bottom: float) -> None:
    step = first_step
    for panel in walk.hidden:
        vmax = render.to_indices(panel.values, "activation")[1]
        caption = plain("views.handout_layout.hidden_caption", caption=panel.caption, scale=scale_note(False, vmax))
        y = titled(page, step, panel.heading, caption, MARGIN, y, CONTENT_W)
        page.picture(GREY_PALETTE[render.to_indices(panel.values[None], "activation")[0]], MARGIN, y, CONTENT_W, 5)
        y += 8
        step += 1
    y = titled(page, step, walk.output_heading, walk.output_caption, MARGIN, y, CONTENT_W)
    bars(page, walk, y, min(bottom - y, 45.0))  # taller bars would only stretch the tallest one


def draw_handout(walk: Walk) -> Figure:
    """The whole page for ``walk``; the caller attaches a canvas (Agg for PNG, PDF for PDF) and saves it."""
    page = Page()
    header(page, walk)
    footer = wrap(walk.footer, CONTENT_W, SMALL)
    footer_top = PAGE_H - MARGIN - text_height(footer, SMALL)
    y = 65.0
    if walk.stages:  # a network without convolutions (the MLP) goes straight to the deciding part
        page.rule(63)
        page.text(MARGIN, 65, plain("views.handout_layout.patterns_title"), 10, fontweight="bold")
        grid_top = legend(page, 70.5) + 3
        grid_bottom = footer_top - 3 - (47 + 16 * len(walk.hidden))  # what the deciding part needs
        rows = -(-len(walk.stages) // 2)
        row_h = min(48.0, (grid_bottom - grid_top) / rows)
        col_w = (CONTENT_W - COLUMN_GAP) / 2
        for i, panel in enumerate(walk.stages):
            r, c = divmod(i, 2)
            stage(page, panel, i + 1, MARGIN + c * (col_w + COLUMN_GAP), grid_top + r * row_h, col_w, row_h - 3)
        y = grid_top + rows * row_h
    page.rule(y - 1)
    page.text(MARGIN, y + 1, plain("views.handout_layout.deciding_title"), 10, fontweight="bold")
    decision(page, walk, y + 6.5, len(walk.stages) + 1, footer_top - 3)
    page.rule(footer_top - 1.5)
    page.text(MARGIN, footer_top, footer, SMALL, color=GREY_TEXT)
    return page.fig
