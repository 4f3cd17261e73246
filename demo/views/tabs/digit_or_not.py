"""Digit or not? Where the drawing's digit score sits against the scores of drawn digits and of drawings that are
not digits, and why softmax alone cannot say."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from demo.core.classifier import Classifier
from demo.core.digitness import DEFAULT_PATH
from demo.teaching import explanations
from demo.teaching.explanations import signed
from demo.views import theme

from .common import lesson, placeholder

TITLE = "Digit or not?"
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
    series = {"digits": (np.asarray(dist["digits"], np.float64), theme.CNN_COLOUR),
              "not digits": (np.asarray(dist["non_digits"], np.float64), theme.MLP_COLOUR)}
    shares = {name: (counts / max(counts.sum(), 1), colour) for name, (counts, colour) in series.items()}
    top = max(float(s.max()) for s, _ in shares.values()) or 1.0
    w, h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(value: float) -> float:
        return LEFT + (min(max(value, bins[0]), bins[-1]) - bins[0]) / (bins[-1] - bins[0]) * w

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" '
             f'height="{HEIGHT}" class="chart" role="img" aria-label="digit scores of digits and of non-digits">']
    for name, (share, colour) in shares.items():
        for k, value in enumerate(share):
            if value > 0:
                bar, left = value / top * h, x(bins[k])
                parts.append(f'<rect x="{left:.1f}" y="{TOP + h - bar:.1f}" width="{x(bins[k + 1]) - left:.1f}" '
                             f'height="{bar:.1f}" fill="{colour}" fill-opacity="0.55"><title>{name}</title></rect>')
    for value in bins[::5]:
        parts.append(f'<text x="{x(value):.1f}" y="{TOP + h + 14}" text-anchor="middle">'
                     f'{signed(float(value), 0)}</text>')
    parts.append(f'<text x="{LEFT + w / 2:.1f}" y="{HEIGHT - 4}" text-anchor="middle">digit score</text>')
    parts.append(f'<line x1="{x(threshold):.1f}" x2="{x(threshold):.1f}" y1="{TOP}" y2="{TOP + h}" class="marker"/>')
    parts.append(f'<line x1="{x(score):.1f}" x2="{x(score):.1f}" y1="{TOP}" y2="{TOP + h}" stroke="{theme.ACCENT}" '
                 f'stroke-width="3"/><text x="{x(score):.1f}" y="{TOP + 10}" text-anchor="middle" '
                 f'class="you">your drawing</text>')
    parts.append("</svg>")
    return "".join(parts)


def digit_or_not_html(input28: np.ndarray | None, clf: Classifier) -> str:
    """The drawing's digit score on the distributions of digits and non-digits, beside softmax's forced choice."""
    if clf.digitness is None:
        return lesson("digit-or-not", TITLE, '<div class="placeholder">this network has no digit-score statistics '
                      "(python -m tools.fit_digitness makes them)</div>", explanations.DIGIT_OR_NOT,
                      ' data-state="unavailable"')
    if input28 is None:
        return placeholder("digit-or-not", TITLE, explanations.DIGIT_OR_NOT)
    probs, activations = clf.forward_staged(input28)
    score = clf.digitness.score(activations)
    threshold = clf.digitness.threshold
    label = int(np.argmax(probs))
    digit_like = clf.digitness.digit_like(score)
    verdict = ("looks like a digit" if digit_like else "does not look like a digit")
    body = (f'<div class="formula">digit score {signed(score, 1)} · line at {signed(threshold, 1)} → this drawing '
            f'{verdict}</div><div class="view-note">softmax still says {label} with '
            f'{100 * probs[label]:.1f}%: it always names one of the ten digits.</div>')
    dist = distributions()
    if dist is not None:
        key = (f'<span class="key"><span class="swatch" style="background:{theme.CNN_COLOUR}"></span>digits</span>'
               f'<span class="key"><span class="swatch" style="background:{theme.MLP_COLOUR}"></span>not digits'
               '</span>')
        body += (f'<div class="charts">{histogram_svg(dist, score, threshold)}<div class="view-note">{key} '
                 f'Share of each set per score: {dist["digits_set"]} ({100 * dist["digits_flagged"]:.1f}% below the '
                 f'line) and {dist["non_digits_set"]} ({100 * dist["non_digits_flagged"]:.1f}% below it). The '
                 'dashed line is the threshold.</div></div>')
    data = (f' data-state="ready" data-score="{score:.4f}" data-threshold="{threshold:.4f}" '
            f'data-digit-like="{"true" if digit_like else "false"}" data-label="{label}"')
    return lesson("digit-or-not", TITLE, body, explanations.DIGIT_OR_NOT, data)
