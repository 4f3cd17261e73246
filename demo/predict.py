"""Classify image files from the command line.

    python -m demo.predict digit.png other.jpg [--weights PATH] [--json]

Prints one line per image. A file that cannot be read gets a message on stderr naming it, the other files are
still answered, and the exit status is 1.
"""

from __future__ import annotations

import argparse
import json
import sys

from .core.checkpoint import WeightsError
from .core.classifier import DEFAULT_WEIGHTS, load_classifier
from .core.image_file import open_image
from .core.preprocess import InvalidImageError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m demo.predict", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("images", nargs="+", help="image files (PNG, JPEG, GIF, BMP, TIFF, WebP...)")
    parser.add_argument("--weights", default=str(DEFAULT_WEIGHTS), help=f"weights file (default: {DEFAULT_WEIGHTS})")
    parser.add_argument("--json", action="store_true", help='one JSON object per line: {"path", "label", "probs"}')
    args = parser.parse_args(argv)
    try:
        clf = load_classifier(args.weights)
    except WeightsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    failed = 0
    for path in args.images:
        try:
            result = clf.predict(open_image(path))
        except InvalidImageError as error:
            print(f"error: {error}", file=sys.stderr)
            failed += 1
            continue
        probs = [round(p, 6) for p in result.probs]
        if args.json:
            print(json.dumps({"path": path, "label": result.label, "probs": probs}))
        elif result.label is None:
            print(f"{path}: no digit ({result.message})")
        else:
            print(f"{path}: {result.label} ({100 * result.probs[result.label]:.1f}%)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
