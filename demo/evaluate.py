"""Accuracy of a weights file on the 10,000 MNIST test images.

    python -m demo.evaluate --data-dir ../shared/data/mnist [--weights PATH] [--as-images] [--limit N]

``--as-images`` gives each test image to ``predict()`` as a user's picture would be (found, cropped, pen evened out,
scaled and centred again), which measures what the sketch preprocessing costs on digits that already look like
MNIST.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from .core.checkpoint import WeightsError
from .core.classifier import DEFAULT_WEIGHTS, load_classifier
from .core.data import MnistNotFoundError, load_mnist_test


def accuracy_report(probs: np.ndarray, labels: np.ndarray) -> tuple[float, list[float]]:
    """Overall accuracy and per-class accuracy (classes 0-9)."""
    pred = probs.argmax(1)
    per_class = [float((pred[labels == c] == c).mean()) if (labels == c).any() else float("nan") for c in range(10)]
    return float((pred == labels).mean()), per_class


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m demo.evaluate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default="../shared/data/mnist",
                        help="folder with the MNIST files (default: ../shared/data/mnist)")
    parser.add_argument("--weights", default=str(DEFAULT_WEIGHTS), help=f"weights file (default: {DEFAULT_WEIGHTS})")
    parser.add_argument("--as-images", action="store_true",
                        help="put each image through the sketch preprocessing, as predict() does (default: off; "
                             "the model then sees MNIST's own 28×28 pixels)")
    parser.add_argument("--limit", type=int, default=0,
                        help="evaluate only the first N test images (default: 0 = all 10,000)")
    args = parser.parse_args(argv)
    try:
        clf = load_classifier(args.weights)
        images, labels = load_mnist_test(args.data_dir)
        if args.limit > 0:
            images, labels = images[:args.limit], labels[:args.limit]
    except (WeightsError, MnistNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.as_images:
        probs = np.stack([clf.predict(image).probs for image in images.numpy()])
    else:
        probs = clf.predict_mnist(images.numpy())
    accuracy, per_class = accuracy_report(probs, labels.numpy())
    how = ", each put through predict()'s preprocessing" if args.as_images else ""
    print(f"test accuracy: {100 * accuracy:.2f}% on {len(labels):,} MNIST test images{how} ({args.weights})")
    for digit, acc in enumerate(per_class):
        print(f"  {digit}: {100 * acc:.2f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
