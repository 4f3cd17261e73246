"""Pieces every teaching view uses: the lesson frame, placeholders, pictures, number tables, highlights, bars."""

from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np

from demo.teaching.explanations import signed
from demo.texts import say
from demo.views.panels import probability_rows


def lesson(element_id: str, title: str, body: str, explanation: str, data: str = "") -> str:
    """A teaching view: its title, its body and the explanation under it; ``data`` adds attributes for tests."""
    return (f'<div id="{element_id}" class="lesson"{data}><div class="view-title">{title}</div>'
            f'<div class="lesson-body">{body}</div><p class="explain">{explanation}</p></div>')


def placeholder(element_id: str, title: str, explanation: str) -> str:
    """The view before anything is drawn."""
    return lesson(element_id, title, f'<div class="placeholder">{say("tabs.common.placeholder")}</div>', explanation,
                  ' data-state="empty"')


def img(uri: str, alt: str, width_px: int, cls: str = "pixelated") -> str:
    return f'<img class="{cls}" src="{uri}" alt="{html.escape(alt)}" style="width:{width_px}px">'


def number_table(values: np.ndarray, cls: str = "", highlight: tuple[int, int] | None = None,
                 digits: int = 2, padding: np.ndarray | None = None) -> str:
    """A small 2-D array as an HTML table of numbers (for kernels, patches, products), with a true minus sign;
    ``highlight`` marks one cell, ``padding`` (bool, same shape) the cells that are zero padding (hatched)."""
    rows = []
    for r, row in enumerate(np.asarray(values)):
        cells = []
        for c, v in enumerate(row):
            classes = [name for name, on in (("hit", highlight == (r, c)),
                                             ("pad", padding is not None and padding[r, c])) if on]
            attribute = f' class="{" ".join(classes)}"' if classes else ""
            cells.append(f"<td{attribute}>{signed(float(v), digits)}</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return f'<table class="numbers {cls}">{"".join(rows)}</table>'


def highlighted(uri: str, alt: str, shape: tuple[int, int], width_px: int, top: int, left: int, height: int,
                width: int) -> str:
    """A picture with a rectangle drawn over cells [top, top+height) × [left, left+width) (CSS, stays crisp)."""
    h, w = shape
    box = (f'<div class="hl" style="top:{100 * top / h:.3f}%;left:{100 * left / w:.3f}%;'
           f'height:{100 * height / h:.3f}%;width:{100 * width / w:.3f}%"></div>')
    return f'<div class="hl-wrap" style="width:{width_px}px">{img(uri, alt, width_px)}{box}</div>'


def probability_bars(probs: Sequence[float], colour: str) -> str:
    """All ten probabilities in one network's colour, the largest in bold."""
    return f'<div class="mini-probs">{probability_rows(list(probs), int(np.argmax(probs)), colour, colour)}</div>'
