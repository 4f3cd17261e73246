"""Digit or not? Where the drawing's digit score sits against the scores of drawn digits and of drawings that are
not digits, and why softmax alone cannot say."""

from __future__ import annotations

import html
import json
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from demo.core.classifier import Classifier
from demo.core.digitness import DEFAULT_PATH
from demo.teaching import explanations
from demo.teaching.explanations import signed
from demo.texts import localised, plain, say
from demo.views import theme

from .common import lesson, placeholder

REPORT = DEFAULT_PATH.with_suffix(".json")  # weights/digitness.json: the statistics' readable report
WIDTH, HEIGHT = 520, 210
LEFT, RIGHT, TOP, BOTTOM = 40, 12, 12, 36


@cache
def distributions(path: Path = REPORT) -> dict[str, Any] | None:
    """The score histograms shipped in ``weights/digitness.json`` (tools/digitness_distributions.py), or None."""
    try:
        return json.loads(path.read_text()).get("distributions")
    except (OSError, ValueError):
        return None


def histogram_svg(dist: dict[str, Any], score: float, threshold: float) -> str:
    """Both histograms (as shares of their set) on one axis, the threshold and this drawing's score marked."""
    bins = np.asarray(dist["bins"], np.float64)
    series = {say("tabs.digit_or_not.digits"): (np.asarray(dist["digits"], np.float64), theme.CNN_COLOUR),
              say("tabs.digit_or_not.not_digits"): (np.asarray(dist["non_digits"], np.float64), theme.MLP_COLOUR)}
    shares = {name: (counts / max(counts.sum(), 1), colour) for name, (counts, colour) in series.items()}
    top = max(float(s.max()) for s, _ in shares.values()) or 1.0
    w, h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(value: float) -> float:
        return LEFT + (min(max(value, bins[0]), bins[-1]) - bins[0]) / (bins[-1] - bins[0]) * w

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" '
             f'height="{HEIGHT}" class="chart" role="img" '
             f'aria-label="{html.escape(plain("tabs.digit_or_not.chart_label"), quote=True)}">']
    for name, (share, colour) in shares.items():
        for k, value in enumerate(share):
            if value > 0:
                bar, left = value / top * h, x(bins[k])
                parts.append(f'<rect x="{left:.1f}" y="{TOP + h - bar:.1f}" width="{x(bins[k + 1]) - left:.1f}" '
                             f'height="{bar:.1f}" fill="{colour}" fill-opacity="0.55"><title>{name}</title></rect>')
    for value in bins[::5]:
        parts.append(f'<text x="{x(value):.1f}" y="{TOP + h + 14}" text-anchor="middle">'
                     f'{signed(float(value), 0)}</text>')
    parts.append(f'<text x="{LEFT + w / 2:.1f}" y="{HEIGHT - 4}" text-anchor="middle">'
                 f'{say("tabs.digit_or_not.axis")}</text>')
    parts.append(f'<line x1="{x(threshold):.1f}" x2="{x(threshold):.1f}" y1="{TOP}" y2="{TOP + h}" class="marker"/>')
    parts.append(f'<line x1="{x(score):.1f}" x2="{x(score):.1f}" y1="{TOP}" y2="{TOP + h}" stroke="{theme.ACCENT}" '
                 f'stroke-width="3"/><text x="{x(score):.1f}" y="{TOP + 10}" text-anchor="middle" '
                 f'class="you">{say("tabs.digit_or_not.your_drawing")}</text>')
    parts.append("</svg>")
    return "".join(parts)


def digit_or_not_html(input28: np.ndarray | None, clf: Classifier) -> str:
    """The drawing's digit score on the distributions of digits and non-digits, beside softmax's forced choice."""
    title = say("tabs.digit_or_not.title")
    if clf.digitness is None:
        return lesson("digit-or-not", title, f'<div class="placeholder">{say("tabs.digit_or_not.no_statistics")}</div>',
                      explanations.DIGIT_OR_NOT, ' data-state="unavailable"')
    if input28 is None:
        return placeholder("digit-or-not", title, explanations.DIGIT_OR_NOT)
    probs, activations = clf.forward_staged(input28)
    score = clf.digitness.score(activations)
    threshold = clf.digitness.threshold
    label = int(np.argmax(probs))
    digit_like = clf.digitness.digit_like(score)
    verdict = say("tabs.digit_or_not.looks_like_a_digit" if digit_like else "tabs.digit_or_not.not_like_a_digit",
                  score=signed(score, 1), line=signed(threshold, 1))
    softmax = say("tabs.digit_or_not.softmax_still", digit=label, share=localised(f"{100 * probs[label]:.1f}"))
    body = f'<div class="formula">{verdict}</div><div class="view-note">{softmax}</div>'
    dist = distributions()
    if dist is not None:
        key = (f'<span class="key"><span class="swatch" style="background:{theme.CNN_COLOUR}"></span>'
               f'{say("tabs.digit_or_not.digits")}</span>'
               f'<span class="key"><span class="swatch" style="background:{theme.MLP_COLOUR}"></span>'
               f'{say("tabs.digit_or_not.not_digits")}</span>')
        # the sets' names for learners; how they were made (files, seeds) stays in weights/digitness.json
        digits_set = say("tabs.digit_or_not.digits_set", count=sum(dist["digits"]))
        non_digits_set = say("tabs.digit_or_not.non_digits_set", count=sum(dist["non_digits"]))
        shares = say("tabs.digit_or_not.shares", digits_set=digits_set,
                     digits_below=localised(f"{100 * dist['digits_flagged']:.1f}"), non_digits_set=non_digits_set,
                     non_digits_below=localised(f"{100 * dist['non_digits_flagged']:.1f}"))
        body += (f'<div class="charts">{histogram_svg(dist, score, threshold)}'
                 f'<div class="view-note">{key} {shares}</div></div>')
    data = (f' data-state="ready" data-score="{score:.4f}" data-threshold="{threshold:.4f}" '
            f'data-digit-like="{"true" if digit_like else "false"}" data-label="{label}"')
    return lesson("digit-or-not", title, body, explanations.DIGIT_OR_NOT, data)
