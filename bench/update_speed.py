"""Server-side cost of one live update, in-process: stroke JSON -> every view of the page.

    python -m bench.update_speed [--weights PATH] [--repeats 30] [--threads 1]

Prints the median (and p90) time of each part — parse + rasterise, preprocess, forward pass with recorded stages,
pictures/HTML — and of the whole update, for each example drawing, plus ratios against the bare forward pass
measured in the same process (the baseline: what a plain "label only" demo would cost).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable

import numpy as np
import torch

from demo import load_classifier
from demo.core.preprocess import preprocess
from demo.core.strokes import parse_drawing
from demo.page.pad import pad_examples
from demo.views.live import updated_views, views_for_drawing
from demo.views.theme import PAD_SIZE, PEN_DEFAULT


def parse_and_rasterise(text: str) -> object:
    return parse_drawing(text).rasterize()


def timed(repeats: int, fn: Callable[..., object], *args: object) -> list[float]:
    """Milliseconds of ``fn(*args)``, ``repeats`` times after one warm-up call."""
    fn(*args)
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(*args)
        out.append(1000 * (time.perf_counter() - start))
    return out


def main() -> int:
    p = argparse.ArgumentParser(prog="python -m bench.update_speed", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--weights", default=None, help="weights file (default: weights/cnn.safetensors)")
    p.add_argument("--repeats", type=int, default=30, help="timed runs per drawing (default: 30)")
    p.add_argument("--threads", type=int, default=1,
                   help="torch threads; the app serves several users at once, one thread each (default: 1)")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    clf = load_classifier(args.weights)
    examples, _ = pad_examples()
    drawings = [json.dumps({"w": PAD_SIZE, "h": PAD_SIZE, "pen": PEN_DEFAULT, "seq": 1, "strokes": e["strokes"]})
                for e in examples]
    parts: dict[str, list[float]] = {k: [] for k in ("parse + rasterise", "preprocess", "forward (staged)",
                                                     "pictures + HTML", "whole update", "baseline: forward only")}
    for text in drawings:
        drawing = parse_drawing(text)
        ink = drawing.rasterize()
        prep = preprocess(ink)
        pred = clf.predict(ink)
        x = torch.from_numpy(prep.input28)[None, None]
        parts["parse + rasterise"] += timed(args.repeats, parse_and_rasterise, text)
        parts["preprocess"] += timed(args.repeats, preprocess, ink)
        parts["forward (staged)"] += timed(args.repeats, clf.forward_staged, prep.input28)
        parts["pictures + HTML"] += timed(args.repeats, updated_views, clf, pred, 1)
        parts["whole update"] += timed(args.repeats, views_for_drawing, clf, text)
        with torch.inference_mode():
            parts["baseline: forward only"] += timed(args.repeats, clf.model, x)
    size = sum(len(h) for h in views_for_drawing(clf, drawings[0]).html.values())
    print(f"{len(drawings)} example drawings × {args.repeats} runs, {args.threads} torch thread(s), "
          f"{clf.path.name}; one update sends {size / 1024:.0f} KiB of HTML")
    base = statistics.median(parts["baseline: forward only"])
    for name, values in parts.items():
        median = statistics.median(values)
        p90 = float(np.percentile(values, 90))
        print(f"  {name:24s} median {median:7.2f} ms   p90 {p90:7.2f} ms   ×{median / base:6.1f} baseline")
    return 0


if __name__ == "__main__":
    sys.exit(main())
