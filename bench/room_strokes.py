"""How much the class room's stroke simplification (demo/server/room_strokes.py) keeps of a drawing.

    python -m bench.room_strokes

Prints, for the project's 21 example digits as shipped, resampled as a phone's touch events give them (a point
every 2 px with a 0.3 px tremor) and at a point every 0.5 px (0.2 px tremor): the points per drawing before and
after simplification, and the largest distance of a dropped point from the kept polyline.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from demo.page.pad import pad_examples
from demo.server.room_strokes import PAD_SIDE, polyline_distance, simplify_drawing


def as_touched(stroke: list, spacing: float, jitter: float, rng: np.random.Generator) -> list:
    """A stroke as a phone's coalesced touch events give it: a point every ``spacing`` px along the path, each off
    by a hand's tremor (``jitter`` px, normal), rounded to 0.1 px as the pad does."""
    a = np.asarray(stroke, dtype=np.float64).reshape(-1, 2)
    along = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(a, axis=0).T))])
    at = np.linspace(0.0, along[-1], max(2, int(along[-1] / spacing) + 1)) if along[-1] > 0 else along[:1]
    points = np.stack([np.interp(at, along, a[:, 0]), np.interp(at, along, a[:, 1])], axis=1)
    points += rng.normal(0.0, jitter, points.shape)
    return np.round(points, 1).tolist()


def measure_examples(spacing: float | None = None, jitter: float = 0.0) -> dict[str, float]:
    """Points per example drawing before and after :func:`simplify_drawing`, and the largest distance of a dropped
    point from the kept polyline (the figures in this module's docstring). With ``spacing``, each example is first
    resampled as touch events (:func:`as_touched`)."""
    examples, _ = pad_examples()
    rng = np.random.default_rng(0)
    before = after = 0
    worst = 0.0
    for example in examples:
        strokes = example["strokes"]
        if spacing:
            strokes = [as_touched(s, spacing, jitter, rng) for s in strokes]
        simplified = simplify_drawing({"w": PAD_SIDE, "h": PAD_SIDE, "pen": 20, "strokes": strokes})["strokes"]
        before += sum(map(len, strokes))
        after += sum(map(len, simplified))
        for original, kept in zip(strokes, simplified, strict=True):
            worst = max(worst, float(polyline_distance(np.array(original), np.array(kept)).max()))
    return {"drawings": len(examples), "points_before": round(before / len(examples), 1),
            "points_after": round(after / len(examples), 1), "max_distance_px": round(worst, 3)}


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(prog="python -m bench.room_strokes", description=__doc__,
                            formatter_class=argparse.RawDescriptionHelpFormatter).parse_args(argv)
    for name, figures in (("as shipped", measure_examples()), ("a point every 2 px", measure_examples(2.0, 0.3)),
                          ("a point every 0.5 px", measure_examples(0.5, 0.2))):
        print(f"{name:22} {figures}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
