"""Measures how much weight noise each layer takes (demo/teaching/break_measure.py) and writes the report the
Break it tab quotes.

    python -m tools.break_it_report --data-dir ../shared/data/mnist [--weights weights/cnn.safetensors]
        [--out weights/break_it.json]

The shipped network reads the first 200 MNIST test digits with noise of 0.5, 1, 2 and 3 × each breakable layer's
own weight standard deviation, 3 seeds each (a few seconds on one core).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

import torch

from demo.core.data import load_mnist_test, sha256_file
from demo.core.paths import DEFAULT_WEIGHTS, WEIGHTS_DIR
from demo.teaching.break_measure import DIGITS, NOISE_LEVELS, SEEDS, accuracy_under_noise


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tools.break_it_report", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", required=True, help="the MNIST folder (no default)")
    p.add_argument("--weights", default=str(DEFAULT_WEIGHTS), help=f"the network (default: {DEFAULT_WEIGHTS})")
    p.add_argument("--out", default=str(WEIGHTS_DIR / "break_it.json"),
                   help="the report to write (default: weights/break_it.json)")
    args = p.parse_args(argv)
    from demo import load_classifier

    torch.set_num_threads(1)
    clf = load_classifier(args.weights)
    images, labels = load_mnist_test(args.data_dir)
    accuracy = accuracy_under_noise(clf.model, images[:DIGITS].numpy(), labels[:DIGITS].numpy())
    report = {"digits": DIGITS, "set": f"the first {DIGITS} MNIST test digits", "noise": list(NOISE_LEVELS),
              "seeds": list(SEEDS), "accuracy": accuracy, "classifier": Path(args.weights).name,
              "classifier_sha256": sha256_file(Path(args.weights)),
              "command": "python -m tools.break_it_report " + shlex.join(sys.argv[1:] if argv is None else argv)}
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    for layer, shares in accuracy.items():
        print(f"{layer:6} " + "  ".join(f"{k:g}×: {100 * a:5.1f} %" for k, a in zip(NOISE_LEVELS, shares, strict=True)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
