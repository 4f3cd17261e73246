"""The fast recipe (train.py --preset fast), run several times: how soon does it reach 99.0 % test accuracy?

    python -m bench.fast_recipe [--seeds 0 1 2] [--data-dir ../shared/data/mnist]

Each run trains from scratch in this process (test accuracy is evaluated 4× per epoch) and reports the training time
(optimizer steps only) and the wall time (everything since data loading: skeletons, evaluations) at which test
accuracy first reached 99.0 %, and its final accuracy. Prints the median over the runs.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import statistics
import sys
import tempfile
from pathlib import Path

import train


def main() -> int:
    p = argparse.ArgumentParser(prog="python -m bench.fast_recipe", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="one run per seed (default: 0 1 2)")
    p.add_argument("--data-dir", default="../shared/data/mnist", help="MNIST folder (default: ../shared/data/mnist)")
    args = p.parse_args()
    rows = []
    for seed in args.seeds:
        with tempfile.TemporaryDirectory() as out, contextlib.redirect_stdout(io.StringIO()):
            train.main(["--preset", "fast", "--seed", str(seed), "--data-dir", args.data_dir, "--out-dir", out,
                        "--quiet"])
            report = json.loads((Path(out) / "cnn_fast.json").read_text())
        reached = report["reached_99_percent"] or {}
        rows.append((seed, reached.get("train_seconds"), reached.get("wall_seconds"), report["test_accuracy"],
                     report["train_seconds"], report["wall_seconds"]))
        print(f"seed {seed}: 99.0% after {reached.get('train_seconds')} s of training "
              f"({reached.get('wall_seconds')} s wall); final {100 * report['test_accuracy']:.2f}% after "
              f"{report['train_seconds']} s of training ({report['wall_seconds']} s wall)", flush=True)
    reached_train = [r[1] for r in rows if r[1] is not None]
    reached_wall = [r[2] for r in rows if r[2] is not None]
    print(f"runs reaching 99.0%: {len(reached_train)}/{len(rows)}")
    if reached_train:
        print(f"median time to 99.0%: {statistics.median(reached_train):.1f} s of training, "
              f"{statistics.median(reached_wall):.1f} s wall")
    print(f"median final accuracy: {100 * statistics.median(r[3] for r in rows):.2f}%, median total wall "
          f"{statistics.median(r[5] for r in rows):.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
