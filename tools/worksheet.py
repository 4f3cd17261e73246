"""Builds the pupils' worksheet: one printable A4 page (PDF) with blanks to fill in from the screen during the lesson
in docs/lesson-plan.md (the digit drawn and read, the network's shapes, a feature map to sketch, the class tally,
five questions).

    python -m tools.worksheet [--out docs/worksheet.pdf]

Every sentence on the page is in the text catalogue's [worksheet] section (demo/texts/en.toml), in the app's own
words, so a teacher or a translator corrects it in one place; the two figures it quotes (the test accuracy, the
training digits) are read from the network's training report, weights/cnn.json.

The page is drawn the way the app's handout is (demo/views/handout_layout.py, whose text measurement and wrapping
it uses): one matplotlib Figure with an explicit PDF canvas (no pyplot, no rcParams), no Axes, positions in
millimetres from the page's top-left corner, and text wrapped by its measured width. Its text is real text
(matplotlib embeds the fonts with a ToUnicode map), so a PDF reader can search and copy it; it carries no creation
date, so building it again gives the same file.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from collections.abc import Callable
from pathlib import Path

from matplotlib.backends.backend_pdf import FigureCanvasPdf
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from demo.core.paths import DEFAULT_WEIGHTS, PROJECT_ROOT
from demo.texts import plain
from demo.views import handout_layout
from demo.views.handout_layout import MM_PER_PT, text_width

DEFAULT_OUT = PROJECT_ROOT / "docs" / "worksheet.pdf"
# The training report beside the weights (demo/core/checkpoint.py's metadata_path), read without loading torch.
REPORT = DEFAULT_WEIGHTS.with_suffix(".json")

PAGE_W, PAGE_H = 210.0, 297.0  # A4 portrait, mm
MARGIN = 15.0  # left and right
TOP = BOTTOM = 12.0  # within what every office printer prints
CONTENT_W = PAGE_W - 2 * MARGIN
LINE_SPACING = 1.2  # matplotlib's line height, in em, at linespacing 1
TITLE, HEAD, BODY, SMALL = 18.0, 12.0, 10.5, 8.5  # font sizes, pt
INK, GREY, RULE = "#111111", "#555555", "#999999"
# Part 2 (the network's shapes) on the left, part 3 (the sketch) on the right: the blanks are short lines.
SKETCH_X = 132.0
SKETCH_BOX = 29.0
BLANK_GAP = 2.0  # mm between two lines with blanks: room to write above the underscores
# Blank writing lines under each question, far enough apart for handwriting.
ANSWER_LINES, ANSWER_GAP = 2, 6.8
QUESTION_INDENT = 6.0  # the question's letter hangs in the margin of its text

LAYER_LINES = ("worksheet.input_line", "worksheet.conv1_line", "worksheet.conv1_maps", "worksheet.relu_line",
               "worksheet.pool1_line", "worksheet.conv2_line", "worksheet.pool2_line", "worksheet.flatten_line",
               "worksheet.fc_line", "worksheet.softmax_line")
QUESTIONS = ("worksheet.question_filter", "worksheet.question_pooling", "worksheet.question_scribble",
             "worksheet.question_class", "worksheet.question_last")


def wrap(text: str, width: float, size: float, bold: bool = False) -> list[str]:
    """Greedy word wrap to ``width`` mm, measured as the handout measures: a long question never runs off the page."""
    return handout_layout.wrap(text, width, size, bold).split("\n")


def line_height(size: float) -> float:
    """The distance in mm from one line of text to the next at ``size`` pt."""
    return size * LINE_SPACING * MM_PER_PT


class Page:
    """An A4 figure addressed in millimetres from the top-left corner, as one measures on paper."""

    def __init__(self) -> None:
        self.fig = Figure(figsize=(PAGE_W / 25.4, PAGE_H / 25.4), facecolor="white")

    def text(self, x: float, y: float, s: str, size: float = BODY, bold: bool = False, color: str = INK) -> None:
        self.fig.text(x / PAGE_W, 1 - y / PAGE_H, s, fontsize=size, fontweight="bold" if bold else "normal",
                      color=color, va="top", ha="left")

    def paragraph(self, x: float, y: float, s: str, width: float, size: float = BODY, bold: bool = False,
                  color: str = INK) -> float:
        """``s`` wrapped to ``width`` mm, one text per line (so each line is a searchable run); returns the y below.
        A text that fits is drawn as written, its runs of spaces between the blanks kept."""
        for line in [s] if text_width(s, size, bold) <= width else wrap(s, width, size, bold):
            self.text(x, y, line, size, bold, color)
            y += line_height(size)
        return y

    def line(self, x0: float, y0: float, x1: float, y1: float, width: float = 0.5, color: str = RULE) -> None:
        self.fig.add_artist(Line2D([x0 / PAGE_W, x1 / PAGE_W], [1 - y0 / PAGE_H, 1 - y1 / PAGE_H],
                                   transform=self.fig.transFigure, color=color, linewidth=width))

    def box(self, x: float, y: float, w: float, h: float) -> None:
        self.fig.add_artist(Rectangle((x / PAGE_W, 1 - (y + h) / PAGE_H), w / PAGE_W, h / PAGE_H,
                                      transform=self.fig.transFigure, facecolor="none", edgecolor=INK,
                                      linewidth=0.8))


def heading(page: Page, y: float, key: str, x: float = MARGIN) -> float:
    page.text(x, y, plain(key), HEAD, bold=True)
    return y + line_height(HEAD) + 1.5


def header(page: Page) -> float:
    page.text(MARGIN, TOP, plain("worksheet.title"), TITLE, bold=True)
    page.text(MARGIN, TOP + 8.5, plain("worksheet.intro"), BODY, color=GREY)
    page.text(MARGIN, TOP + 15.5, plain("worksheet.name_line"), BODY)
    page.line(MARGIN, TOP + 21.5, PAGE_W - MARGIN, TOP + 21.5)
    return TOP + 24


def your_digit(page: Page, y: float) -> float:
    y = heading(page, y, "worksheet.part_digit")
    y = page.paragraph(MARGIN, y, plain("worksheet.digit_line"), CONTENT_W) + BLANK_GAP
    return page.paragraph(MARGIN, y, plain("worksheet.digit_right"), CONTENT_W) + 3


def inside(page: Page, y: float) -> float:
    """Part 2 (the shapes, left) beside part 3 (the sketch, right); returns the y below the taller one."""
    top = y
    left_w = SKETCH_X - MARGIN - 5
    y = heading(page, y, "worksheet.part_layers")
    y = page.paragraph(MARGIN, y, plain("worksheet.layers_where"), left_w, SMALL, color=GREY) + 2
    for key in LAYER_LINES:
        y = page.paragraph(MARGIN, y, plain(key), left_w) + BLANK_GAP
    right_w = PAGE_W - MARGIN - SKETCH_X
    s = heading(page, top, "worksheet.part_sketch", SKETCH_X)
    s = page.paragraph(SKETCH_X, s, plain("worksheet.sketch_where"), right_w, SMALL, color=GREY) + 2
    gap = right_w - 2 * SKETCH_BOX
    for i, key in enumerate(("worksheet.sketch_drawing", "worksheet.sketch_map")):
        x = SKETCH_X + i * (SKETCH_BOX + gap)
        page.box(x, s, SKETCH_BOX, SKETCH_BOX)
        page.paragraph(x, s + SKETCH_BOX + 1.5, plain(key), SKETCH_BOX + gap - 1, SMALL, color=GREY)
    s += SKETCH_BOX + 1.5 + 2 * line_height(SMALL) + 2
    s = page.paragraph(SKETCH_X, s, plain("worksheet.sketch_note"), right_w, SMALL)
    return max(y, s) + 2


def the_class(page: Page, y: float) -> float:
    y = heading(page, y, "worksheet.part_class")
    y = page.paragraph(MARGIN, y, plain("worksheet.tally_line"), CONTENT_W) + BLANK_GAP
    y = page.paragraph(MARGIN, y, plain("worksheet.mistake_line"), CONTENT_W)
    return writing_lines(page, y, 1) + 3


def writing_lines(page: Page, y: float, count: int) -> float:
    """``count`` ruled lines to write on, below ``y``; returns the y below them."""
    for _ in range(count):
        y += ANSWER_GAP
        page.line(MARGIN + QUESTION_INDENT, y, PAGE_W - MARGIN, y)
    return y + 2


def questions(page: Page, y: float, accuracy: float) -> float:
    y = heading(page, y, "worksheet.part_questions")
    for number, key in enumerate(QUESTIONS):
        text = plain(key, accuracy=accuracy) if key == "worksheet.question_class" else plain(key)
        page.text(MARGIN, y, f"{chr(ord('a') + number)})")
        y = page.paragraph(MARGIN + QUESTION_INDENT, y, text, CONTENT_W - QUESTION_INDENT)
        y = writing_lines(page, y - 1.5, ANSWER_LINES) + 1
    return y


def footer(page: Page, images: int) -> float:
    """The footer at the page's foot; returns the y (mm) of the rule above it."""
    lines = wrap(plain("worksheet.footer", images=images), CONTENT_W, SMALL)
    y = PAGE_H - BOTTOM - len(lines) * line_height(SMALL)
    page.line(MARGIN, y - 2, PAGE_W - MARGIN, y - 2)
    page.paragraph(MARGIN, y, " ".join(lines), CONTENT_W, SMALL, color=GREY)
    return y - 2


def draw_worksheet(report: dict) -> Figure:
    """The whole page. Raises ``ValueError`` when the parts do not fit above the footer (longer texts in the
    catalogue, say): the worksheet must stay one page."""
    page = Page()
    y = header(page)
    parts: tuple[Callable[[Page, float], float], ...] = (your_digit, inside, the_class)
    for part in parts:
        y = part(page, y)
    y = questions(page, y, 100 * float(report["test_accuracy"]))
    rule = footer(page, int(report["train_images"]))
    if y > rule:
        raise ValueError(f"the worksheet runs {y - rule:.1f} mm into its footer: shorten its texts "
                         "(demo/texts/en.toml, [worksheet]) to keep it on one page")
    return page.fig


def worksheet_pdf(report: dict | None = None) -> bytes:
    """The worksheet as PDF bytes; ``report`` is the network's training report (default: weights/cnn.json)."""
    if report is None:
        report = json.loads(REPORT.read_text(encoding="utf-8"))
    fig = draw_worksheet(report)
    FigureCanvasPdf(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="pdf", metadata={"Title": plain("worksheet.title"),
                                                "Subject": plain("worksheet.pdf_subject"), "CreationDate": None})
    return buffer.getvalue()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tools.worksheet", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=DEFAULT_OUT,
                   help=f"where to write the PDF (default: {DEFAULT_OUT.relative_to(PROJECT_ROOT)})")
    args = p.parse_args(argv)
    data = worksheet_pdf()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(data)
    print(f"wrote {args.out} ({len(data) / 1024:.0f} KiB, one A4 page)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
