"""Accuracy on canvas-like drawings (see bench/drawn_digits.py), broken down by encoding, pen width and canvas.

    python -m bench.drawn_accuracy --data-dir ../shared/data/mnist [--limit 10000] [--weights PATH ...] [--no-fill]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict

from bench.drawn_digits import Drawing, example_drawings, redrawn_mnist
from demo import load_classifier
from demo.core.data import load_mnist_test


def score(clf, drawings: list[Drawing]) -> dict[str, dict[str, tuple[int, int]]]:
    """(correct, total) overall and per encoding / pen-width bucket / canvas."""
    table: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for d in drawings:
        ok = int(clf.predict(d.image).label == d.label)
        pen = "pen < 0.08 h" if d.pen_ratio < 0.08 else "pen 0.08-0.15 h" if d.pen_ratio < 0.15 else "pen > 0.15 h"
        for group, key in (("all", "all"), ("encoding", d.encoding), ("pen", pen),
                           ("canvas", f"{d.canvas[0]}x{d.canvas[1]}"), ("digit", str(d.label))):
            table[group][key][0] += ok
            table[group][key][1] += 1
    return table


def print_table(title: str, table) -> None:
    correct, total = table["all"]["all"]
    print(f"\n{title}: {100 * correct / total:.2f}% ({correct}/{total})")
    for group in ("encoding", "pen", "canvas", "digit"):
        cells = ", ".join(f"{k} {100 * c / n:.1f}% ({n - c} wrong)" for k, (c, n) in sorted(table[group].items()))
        print(f"  by {group}: {cells}")


def main() -> int:
    p = argparse.ArgumentParser(prog="python -m bench.drawn_accuracy", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default="../shared/data/mnist", help="MNIST folder (default: ../shared/data/mnist)")
    p.add_argument("--limit", type=int, default=10000, help="MNIST test digits to redraw (default: 10000 = all)")
    p.add_argument("--per-style", type=int, default=20, help="drawings per example style (default: 20)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    p.add_argument("--no-fill", action="store_true", help="re-draw skeletons only, leaving filled-in loops and blots "
                   "as single lines (the test set before they were coloured in; default: off)")
    p.add_argument("--weights", nargs="*", default=[None], help="weights files (default: weights/cnn.safetensors)")
    args = p.parse_args()
    images, labels = load_mnist_test(args.data_dir)
    start = time.perf_counter()
    redrawn = list(redrawn_mnist(images[:args.limit].numpy(), labels[:args.limit].numpy(), args.seed,
                                 fill=not args.no_fill))
    examples = list(example_drawings(args.per_style, args.seed))
    print(f"generated {len(redrawn)} redrawn MNIST test digits and {len(examples)} example drawings "
          f"in {time.perf_counter() - start:.0f} s (seed {args.seed})")
    for weights in args.weights:
        clf = load_classifier(weights)
        start = time.perf_counter()
        print_table(f"{clf.path.name} on redrawn MNIST test digits", score(clf, redrawn))
        print_table(f"{clf.path.name} on the project's own example strokes (not MNIST writers)", score(clf, examples))
        print(f"  ({time.perf_counter() - start:.0f} s to classify)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
