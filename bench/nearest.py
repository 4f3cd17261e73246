"""Nearest digits (demo/teaching/nearest.py): how fast a query is, how long the one-off build takes, and how well the
nearest training digits agree with the truth.

    python -m bench.nearest [--data-dir ../shared/data/mnist] [--threads 1] [--queries 200] [--runs 5] [--builds 3]
                            [--limit 1000]

* query: ``NearestDigits.query`` (one forward pass to the last hidden layer, one cosine product with the 60,000
  training embeddings, top 8) on ``--queries`` real MNIST test digits, ``--runs`` times; median and p95 of each run,
  and the median of those over the runs. Also the whole view (``nearest_html``: the query plus 9 PNG pictures).
* build: computing all 60,000 embeddings (``compute_embeddings``, in batches of ``BATCH``: 128) ``--builds``
  times (median), and loading them back from the cache (median of ``--runs`` loads; includes reading MNIST and
  hashing the files).
* accuracy on the first ``--limit`` MNIST test digits: the label of the single nearest training digit (1-NN), the
  majority of the 8 nearest (a tie goes to the tied label met first, i.e. nearest), beside the CNN's own answer.

``--threads`` defaults to 1 torch thread, as the app's server runs (python -m demo sets it). The cache goes to a
temporary folder, so the user's ~/.cache/convscope is neither read nor written.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from demo import load_classifier
from demo.core.data import load_mnist_test
from demo.teaching import nearest as nearest_module
from demo.teaching.nearest import NearestDigits, NearestHandle, compute_embeddings, embed_batch, embedding_stage
from demo.views.tabs.nearest import nearest_html

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = ROOT / ".." / "shared" / "data" / "mnist"


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def timed(f, n: int) -> list[float]:
    """Seconds per call of ``f(i)`` for i in range(n)."""
    times = []
    for i in range(n):
        start = time.perf_counter()
        f(i)
        times.append(time.perf_counter() - start)
    return times


def majority(labels: list[int]) -> int:
    """The most frequent label; a tie goes to the one that comes first (the nearer)."""
    counts = np.bincount(labels, minlength=10)
    best = counts.max()
    return next(label for label in labels if counts[label] == best)


def main() -> int:
    p = argparse.ArgumentParser(prog="python -m bench.nearest", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR,
                   help="MNIST folder (default: ../shared/data/mnist, from the repository root)")
    p.add_argument("--weights", type=Path, default=None, help="weights file (default: weights/cnn.safetensors)")
    p.add_argument("--threads", type=int, default=1, help="torch threads (default: 1, as the server)")
    p.add_argument("--queries", type=int, default=200, help="queries per run (default: 200)")
    p.add_argument("--runs", type=int, default=5, help="query runs and cache loads (default: 5)")
    p.add_argument("--builds", type=int, default=3, help="full embedding builds to time (default: 3)")
    p.add_argument("--limit", type=int, default=1000, help="MNIST test digits for the accuracies (default: 1000)")
    args = p.parse_args()
    torch.set_num_threads(args.threads)

    clf = load_classifier(args.weights)
    test_images, test_labels = load_mnist_test(args.data_dir)
    test_images, test_labels = test_images.numpy(), test_labels.numpy()
    builds: list[float] = []

    def timed_build(*a, **k) -> np.ndarray:  # the first build's own compute time, apart from loading MNIST
        start = time.perf_counter()
        out = compute_embeddings(*a, **k)
        builds.append(time.perf_counter() - start)
        return out

    nearest_module.compute_embeddings = timed_build
    with tempfile.TemporaryDirectory(prefix="convscope-nearest-") as cache:
        start = time.perf_counter()
        index = NearestDigits.load_or_build(args.data_dir, clf, cache)  # the first build, also writes the cache
        first = time.perf_counter() - start
        nearest_module.compute_embeddings = compute_embeddings
        print(f"{len(index.labels)} training digits, layer {index.layer} ({index.embeddings.shape[1]} values), "
              f"{torch.get_num_threads()} torch thread(s), torch {torch.__version__}, numpy {np.__version__}")
        print(f"first load_or_build (decompress + hash MNIST, build, write cache): {first:.1f} s")

        head = clf.model[:embedding_stage(clf.model) + 1]
        train = torch.from_numpy(index.images)
        for _ in range(args.builds - 1):
            start = time.perf_counter()
            compute_embeddings(head, train)
            builds.append(time.perf_counter() - start)
        loads = timed(lambda i: NearestDigits.load_or_build(args.data_dir, clf, cache), args.runs)
        print(f"build: median {statistics.median(builds):.1f} s over {len(builds)} "
              f"(each: {', '.join(f'{b:.1f}' for b in builds)} s; 60,000 images in batches of {nearest_module.BATCH})")
        print(f"load from cache: median {statistics.median(loads):.2f} s over {len(loads)} "
              "(MNIST read and SHA-256, cache read, 16-row spot check)")

        queries = [test_images[i % len(test_images)] / 255.0 for i in range(args.queries)]
        index.query(queries[0])  # the first call pays for torch's one-off set-up
        medians, p95s = [], []
        for _ in range(args.runs):
            times = timed(lambda i: index.query(queries[i]), args.queries)
            medians.append(statistics.median(times))
            p95s.append(percentile(times, 95))
        print(f"query (k=8): median {1e3 * statistics.median(medians):.2f} ms, p95 {1e3 * statistics.median(p95s):.2f}"
              f" ms (medians of {args.runs} runs of {args.queries}; per-run medians "
              f"{', '.join(f'{1e3 * m:.2f}' for m in medians)} ms)")
        handle = NearestHandle()
        handle._set("ready", "ready", index)
        views = timed(lambda i: nearest_html(handle, queries[i]), min(args.queries, 50))
        print(f"whole view (nearest_html): median {1e3 * statistics.median(views):.2f} ms, "
              f"p95 {1e3 * percentile(views, 95):.2f} ms over {len(views)}")

        n = min(args.limit, len(test_images))
        embeddings = np.concatenate([embed_batch(index.head, test_images[i:min(i + 500, n)]) for i in range(0, n, 500)])
        top1 = vote = 0
        for embedding, label in zip(embeddings, test_labels[:n], strict=True):
            labels = [nb.label for nb in index.neighbours_of(embedding, 8)]
            top1 += labels[0] == label
            vote += majority(labels) == label
        cnn = int((clf.predict_mnist(test_images[:n]).argmax(1) == test_labels[:n]).sum())
        print(f"accuracy on the first {n} MNIST test digits: 1-NN {100 * top1 / n:.1f}% ({top1}/{n}), "
              f"majority of 8 {100 * vote / n:.1f}% ({vote}/{n}), the CNN itself {100 * cnn / n:.1f}% ({cnn}/{n})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
