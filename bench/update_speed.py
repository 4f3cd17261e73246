"""Server-side cost of one live update, in-process: stroke JSON -> every view of the page.

    python bench/update_speed.py [--weights PATH] [--repeats 30] [--threads 1]

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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from demo import load_classifier  # noqa: E402
from demo.preprocess import preprocess  # noqa: E402
from demo.pad import pad_examples  # noqa: E402
from demo.strokes import parse_drawing  # noqa: E402
from demo.theme import PAD_SIZE, PEN_DEFAULT  # noqa: E402
from demo.ui import view_outputs, views_for_drawing  # noqa: E402


def timed(fn, repeats: int) -> list[float]:
    fn()  # warm-up
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        out.append(1000 * (time.perf_counter() - start))
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
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
        parts["parse + rasterise"] += timed(lambda: parse_drawing(text).rasterize(), args.repeats)
        parts["preprocess"] += timed(lambda: preprocess(ink), args.repeats)
        parts["forward (staged)"] += timed(lambda: clf.forward_staged(prep.input28), args.repeats)
        parts["pictures + HTML"] += timed(lambda: view_outputs(clf, pred, 1), args.repeats)
        parts["whole update"] += timed(lambda: views_for_drawing(clf, text), args.repeats)
        with torch.inference_mode():
            parts["baseline: forward only"] += timed(lambda: clf.model(x), args.repeats)
    size = sum(len(h) for h in views_for_drawing(clf, drawings[0]) if isinstance(h, str))
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
