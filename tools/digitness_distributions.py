"""The score distributions the "Digit or not?" view draws: the digit score (demo/core/digitness.py) of canvas-style
drawn MNIST test digits and of drawings that are not digits, as histograms in ``weights/digitness.json``.

    python -m tools.digitness_distributions [--data-dir ../shared/data/mnist] [--digits 1000] [--per-family 40]

The digits are MNIST *test* digits re-drawn as pen strokes (bench/drawn_digits.py, seed 1); the non-digits come
from bench/non_digits.py with seed 4000 (neither set was used to fit the statistics or choose the threshold). The
digit-like letters (O, l, S, Z...) are left out of the non-digits, as in bench/not_a_digit.py. Only the counts are
stored, not the drawings. Run it after tools/fit_digitness.py, which writes the report afresh.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np
import torch

from bench.drawn_digits import redrawn_mnist
from bench.non_digits import FAMILIES, non_digits
from demo import load_classifier
from demo.core.data import load_mnist_test
from demo.core.digitness import DEFAULT_PATH

AMBIGUOUS = "digit_like_letters"
BINS = np.arange(-60.0, 12.0 + 1e-9, 2.0)  # scores below -60 fall into the first bin, above 12 into the last


def histogram(scores: list[float]) -> list[int]:
    return np.histogram(np.clip(scores, BINS[0], BINS[-1] - 1e-6), bins=BINS)[0].tolist()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.digitness_distributions", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default="../shared/data/mnist", help="MNIST (default: ../shared/data/mnist)")
    parser.add_argument("--digits", type=int, default=1000, help="drawn test digits (default: 1000)")
    parser.add_argument("--per-family", type=int, default=40, help="non-digits per family (default: 40)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    start = time.perf_counter()
    clf = load_classifier()
    if clf.digitness is None:
        print("the shipped weights have no digitness statistics: run tools/fit_digitness.py first", file=sys.stderr)
        return 1
    images, labels = load_mnist_test(args.data_dir, download=False)
    n = args.digits
    digits = [clf.predict(d.image).digit_score
              for d in redrawn_mnist(images[:n].numpy(), labels[:n].numpy(), seed=1)]
    families = [f for f in FAMILIES if f != AMBIGUOUS]
    others = [clf.predict(d.image, pen_width=d.pen).digit_score
              for d in non_digits(args.per_family, seed=4000, families=families)]
    digits = [s for s in digits if s is not None]
    others = [s for s in others if s is not None]
    report_path = DEFAULT_PATH.with_suffix(".json")
    report = json.loads(report_path.read_text())
    report["distributions"] = {
        "bins": BINS.tolist(),
        "digits": histogram(digits),
        "non_digits": histogram(others),
        "digits_set": f"{len(digits)} MNIST test digits re-drawn as pen strokes (bench/drawn_digits.py, seed 1)",
        "non_digits_set": f"{len(others)} drawings that are not digits, {len(families)} families "
                          "(bench/non_digits.py, seed 4000)",
        "digits_flagged": round(float(np.mean(np.array(digits) < clf.digitness.threshold)), 4),
        "non_digits_flagged": round(float(np.mean(np.array(others) < clf.digitness.threshold)), 4),
        "command": "python -m tools.digitness_distributions --data-dir ../shared/data/mnist",
    }
    report_path.write_text(json.dumps(report, indent=2) + "\n")
    d = report["distributions"]
    print(f"{len(digits)} digits ({d['digits_flagged']:.1%} flagged), {len(others)} non-digits "
          f"({d['non_digits_flagged']:.1%} flagged) in {time.perf_counter() - start:.0f} s -> {report_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
