"""Measures how the shipped network's softmax probabilities relate to how often it is right
(demo/teaching/calibration.py) and writes the report the model card and the class room's gallery use.

    python -m tools.calibration_report --data-dir ../shared/data/mnist [--weights weights/cnn.safetensors]
        [--out weights/calibration.json]

The network reads the 10,000 MNIST test digits as stored (uint8 / 255), as the model card's test accuracy does
(a few seconds).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

import numpy as np
import torch

from demo.core.data import load_mnist_test, sha256_file
from demo.core.paths import DEFAULT_WEIGHTS, WEIGHTS_DIR
from demo.teaching.calibration import summary


def test_probabilities(model: torch.nn.Module, images: np.ndarray) -> np.ndarray:
    """Softmax probabilities (N, 10) of uint8 N×28×28 images, in batches."""
    dtype = next(model.parameters()).dtype
    out = []
    with torch.inference_mode():
        for start in range(0, len(images), 1000):
            x = torch.from_numpy(np.asarray(images[start:start + 1000], dtype=np.float32) / 255.0)[:, None]
            out.append(torch.softmax(model(x.to(dtype)).double(), dim=1).numpy())
    return np.concatenate(out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tools.calibration_report", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", required=True, help="the MNIST folder (no default)")
    p.add_argument("--weights", default=str(DEFAULT_WEIGHTS), help=f"the network (default: {DEFAULT_WEIGHTS})")
    p.add_argument("--out", default=str(WEIGHTS_DIR / "calibration.json"),
                   help="the report to write (default: weights/calibration.json)")
    args = p.parse_args(argv)
    from demo import load_classifier

    clf = load_classifier(args.weights)
    images, labels = load_mnist_test(args.data_dir)
    report = {"set": "the 10,000 MNIST test digits", **summary(test_probabilities(clf.model, images.numpy()),
                                                                labels.numpy()),
              "classifier": Path(args.weights).name, "classifier_sha256": sha256_file(Path(args.weights)),
              "command": "python -m tools.calibration_report " + shlex.join(sys.argv[1:] if argv is None else argv)}
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    for b in report["bins"]:
        print(f"{100 * b['low']:5.1f}-{100 * b['high']:5.1f} %: {b['count']:5d} digits, right {b['accuracy']}")
    print(f"read right: median top {report['median_top_when_right']}, 99th percentile "
          f"{report['p99_top_when_right']}; unsure below {report['unsure_below']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
