"""Accuracy of the CNN and of the MLP (a plain fully connected network) on moved and turned MNIST test digits.

    python -m bench.shift_robustness [--data-dir ../shared/data/mnist] [--out weights/robustness.json]

All 10,000 test images are moved with :func:`demo.core.transform.shift_rotate` (whole-pixel shifts are exact pixel
moves, rotations are bilinear about the field's centre, zero fill, rounded back to uint8) and classified with
``predict_mnist``, for four sweeps: horizontal shift dx (+ = right), vertical shift dy (+ = down), diagonal shift
dx = dy, all from -8 to +8 px, and rotation from -60° to +60° in steps of 10° (+ = counter-clockwise on screen).
Both shipped models were trained with the same augmentation (up to about ±1.7 px of shift and ±15° of rotation).

Writes ``weights/robustness.json`` (read by the app's "CNN vs MLP" view and by tests/test_transform.py):

    description, command, seconds, threads, versions {torch, numpy}
    data_sha256      {file name: SHA-256 of the uncompressed MNIST test files read}
    test_images      number of test images used (10000)
    transform        how the images were moved
    models           {key: {weights (file name), arch, parameters, test_accuracy_metadata (from its .json)}}
    shift_x, shift_y, diagonal, rotation
                     {description, unit, values: [...], ink_kept: [...], <model key>: [accuracy per value]}

Accuracies are fractions in [0, 1] rounded to 4 decimals (exact: k / 10000). ``ink_kept`` is the mean share of each
digit's ink still inside the field after the move (1 = nothing pushed out). The value 0 of every sweep is the
untouched test set, so it equals the model's metadata test accuracy. The CNN is the slow part: about 5-8 s per
condition on 1 thread, so the 62 distinct conditions take several minutes; ``--limit`` gives a quick look.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import torch

from demo import load_classifier
from demo.core.data import load_mnist_test, resolve_mnist_root, sha256_file
from demo.core.transform import shift_rotate

ROOT = Path(__file__).resolve().parent.parent

DEFAULT_OUT = ROOT / "weights" / "robustness.json"
DEFAULT_WEIGHTS = [ROOT / "weights" / "cnn.safetensors", ROOT / "weights" / "mlp.safetensors"]
DEFAULT_DATA_DIR = ROOT / ".." / "shared" / "data" / "mnist"
TEST_FILES = ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def sweeps(max_shift: int, max_angle: int, angle_step: int) -> dict[str, dict]:
    """Sweep name -> description, unit, values and the shift_rotate arguments for each value."""
    shifts = list(range(-max_shift, max_shift + 1))
    angles = list(range(-max_angle, max_angle + 1, angle_step))
    return {
        "shift_x": {"description": "horizontal shift, + = right", "unit": "px", "values": shifts,
                    "args": [{"dx": v} for v in shifts]},
        "shift_y": {"description": "vertical shift, + = down", "unit": "px", "values": shifts,
                    "args": [{"dy": v} for v in shifts]},
        "diagonal": {"description": "diagonal shift dx = dy = value, + = right and down (distance: value × 1.41)",
                     "unit": "px", "values": shifts, "args": [{"dx": v, "dy": v} for v in shifts]},
        "rotation": {"description": "rotation about the field's centre, + = counter-clockwise on screen",
                     "unit": "degrees", "values": angles, "args": [{"angle": v} for v in angles]},
    }


def accuracy(clf, images: torch.Tensor, labels: np.ndarray, batch_size: int) -> float:
    return float((clf.predict_mnist(images, batch_size=batch_size).argmax(1) == labels).mean())


def print_table(name: str, sweep: dict, keys: list[str]) -> None:
    print(f"\n{name}: {sweep['description']} ({sweep['unit']})")
    print(f"  {'value':>6}  " + "  ".join(f"{k:>8}" for k in keys) + "  ink kept")
    for i, value in enumerate(sweep["values"]):
        cells = "  ".join(f"{100 * sweep[k][i]:7.2f}%" for k in keys)
        print(f"  {value:>6}  {cells}  {100 * sweep['ink_kept'][i]:7.1f}%")


def main() -> int:
    p = argparse.ArgumentParser(prog="python -m bench.shift_robustness", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR,
                   help="MNIST folder (default: ../shared/data/mnist, from the repository root)")
    p.add_argument("--out", type=Path, default=None,
                   help="JSON to write (default: weights/robustness.json in the repository; with --limit, "
                        "nothing is written unless --out is given)")
    p.add_argument("--weights", type=Path, nargs="+", default=DEFAULT_WEIGHTS,
                   help="weights files to compare, keyed by file stem (default: weights/cnn.safetensors "
                        "weights/mlp.safetensors)")
    p.add_argument("--max-shift", type=int, default=8, help="largest shift in px, each way (default: 8)")
    p.add_argument("--max-angle", type=int, default=60, help="largest rotation in degrees, each way (default: 60)")
    p.add_argument("--angle-step", type=int, default=10, help="rotation step in degrees (default: 10)")
    p.add_argument("--sweeps", nargs="+", choices=["shift_x", "shift_y", "diagonal", "rotation"],
                   default=["shift_x", "shift_y", "diagonal", "rotation"], help="sweeps to run (default: all four)")
    p.add_argument("--limit", type=int, default=None, help="use only the first N test images (default: all 10,000)")
    p.add_argument("--batch-size", type=int, default=500, help="images per forward pass (default: 500)")
    p.add_argument("--threads", type=int, default=1, help="torch threads (default: 1)")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    out = args.out if args.out is not None else (DEFAULT_OUT if args.limit is None else None)

    start = time.perf_counter()
    images, labels = load_mnist_test(args.data_dir)
    raw = resolve_mnist_root(args.data_dir) / "MNIST" / "raw"
    data_sha256 = {name: sha256_file(raw / name) for name in TEST_FILES}
    images, labels = images[:args.limit], labels[:args.limit].numpy()
    total_ink = images.flatten(1).sum(1).double()
    models = {Path(w).stem: load_classifier(w) for w in args.weights}
    keys = list(models)
    print(f"{len(images)} MNIST test images, models {', '.join(keys)}, {args.threads} thread(s)")

    chosen = {name: sweep for name, sweep in sweeps(args.max_shift, args.max_angle, args.angle_step).items()
              if name in args.sweeps}
    measured: dict[tuple[float, float, float], dict[str, float]] = {}  # (dx, dy, angle) -> results, each once
    for name, sweep in chosen.items():
        for value, kwargs in zip(sweep["values"], sweep["args"], strict=True):
            key = (kwargs.get("dx", 0), kwargs.get("dy", 0), kwargs.get("angle", 0))
            if key not in measured:
                t0 = time.perf_counter()
                moved = shift_rotate(images, **kwargs)
                ink = (moved.flatten(1).sum(1).double() / total_ink).mean().item()
                measured[key] = {"ink_kept": ink, **{k: accuracy(clf, moved, labels, args.batch_size)
                                                     for k, clf in models.items()}}
                cells = ", ".join(f"{k} {100 * measured[key][k]:.2f}%" for k in keys)
                print(f"  {name} {value:+d} {sweep['unit']}: {cells} ({time.perf_counter() - t0:.1f} s)", flush=True)
            for field in ("ink_kept", *keys):
                sweep.setdefault(field, []).append(round(measured[key][field], 4))

    seconds = time.perf_counter() - start
    for name, sweep in chosen.items():
        print_table(name, sweep, keys)
    print(f"\n{len(measured)} distinct conditions × {len(keys)} models on {len(images)} images "
          f"in {seconds:.0f} s wall ({args.threads} thread(s))")

    if out is None:
        print("not written (partial run: pass --out to save it)")
        return 0
    report = {
        "description": "Accuracy of each model on the MNIST test set with every digit moved or turned by "
                       "demo.core.transform.shift_rotate; the value 0 of each sweep is the untouched test set. "
                       "Accuracies are fractions in [0, 1]; ink_kept is the mean share of a digit's ink left in "
                       "the 28x28 field.",
        "command": shlex.join(["python", "-m", "bench.shift_robustness", *sys.argv[1:]]),
        "seconds": round(seconds, 1),
        "threads": args.threads,
        "versions": {"torch": torch.__version__, "numpy": np.__version__},
        "data_sha256": data_sha256,
        "test_images": len(images),
        "transform": "demo.core.transform.shift_rotate: whole-pixel shifts are exact pixel moves; rotations turn about "
                     "the field's centre (bilinear); zero fill; results rounded to uint8",
        "models": {k: {"weights": clf.path.name, "arch": clf.report.get("arch"),
                       "parameters": clf.report.get("parameters"),
                       "test_accuracy_metadata": clf.report.get("test_accuracy")} for k, clf in models.items()},
        **{name: {field: value for field, value in sweep.items() if field != "args"} for name, sweep in chosen.items()},
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(report, indent=2, ensure_ascii=False)
    text = re.sub(r"\[\s*([-0-9., \n]+?)\s*\]", lambda m: "[" + re.sub(r",\s+", ", ", m.group(1)) + "]", text)
    out.write_text(text + "\n", encoding="utf-8")  # lists of numbers on one line each
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
