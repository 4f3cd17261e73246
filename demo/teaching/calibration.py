"""What the network's softmax probabilities mean in practice: how often an answer given with a top probability in a
range is right, on the 10,000 MNIST test digits (a reliability diagram), and the figures the texts quote.

The shipped network was trained with label smoothing, which keeps its top probability below 100 % even on clean
digits, so a reading of "96 %" is its usual answer, not 4 % of doubt. ``python -m tools.calibration_report
--data-dir ../shared/data/mnist`` measures it and writes ``weights/calibration.json``; the model card draws it,
the class room's gallery takes its "unsure below" line from it, and tests/test_teaching_texts.py measures again.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from demo.core.paths import WEIGHTS_DIR

from .reports import measured_report

REPORT = WEIGHTS_DIR / "calibration.json"
# Bin edges of the top probability: finer near the top, where nearly every answer lies.
EDGES = (0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.97, 0.98, 0.99, 1.0)
RELIABLE = 0.9  # "unsure below": the line above which every bin's answers were right at least 9 times in 10
MIN_COUNT = 10  # a bin with fewer test digits says too little to draw a line by


def reliability(top: np.ndarray, correct: np.ndarray, edges: tuple[float, ...] = EDGES) -> list[dict[str, Any]]:
    """Per bin of top probability: its edges, how many answers fell in it, their mean top probability and the share
    of them that was right (None for an empty bin)."""
    bins = []
    for low, high in zip(edges[:-1], edges[1:], strict=True):
        inside = (top >= low) & ((top < high) if high < 1.0 else (top <= high))
        count = int(inside.sum())
        bins.append({"low": low, "high": high, "count": count,
                     "confidence": round(float(top[inside].mean()), 4) if count else None,
                     "accuracy": round(float(correct[inside].mean()), 4) if count else None})
    return bins


def unsure_below(bins: list[dict[str, Any]]) -> float:
    """The lowest edge from which every bin (of at least MIN_COUNT answers) was right at least RELIABLE of the time."""
    line = 1.0
    for b in reversed(bins):
        if b["count"] >= MIN_COUNT and b["accuracy"] < RELIABLE:
            break
        line = b["low"]
    return line


def summary(probs: np.ndarray, labels: np.ndarray) -> dict[str, Any]:
    """The report's figures from the softmax probabilities (N, 10) of N test digits and their labels."""
    top = probs.max(1)
    correct = probs.argmax(1) == labels
    bins = reliability(top, correct)
    right = top[correct]
    return {"digits": int(len(labels)), "right": int(correct.sum()), "bins": bins,
            "median_top_when_right": round(float(np.median(right)), 4),
            "p99_top_when_right": round(float(np.percentile(right, 99)), 4),
            "max_top": round(float(top.max()), 4), "unsure_below": unsure_below(bins)}


def load_report(weights: str) -> dict[str, Any] | None:
    """weights/calibration.json when it was measured on the network in ``weights``; None otherwise."""
    return measured_report(str(REPORT), weights)
