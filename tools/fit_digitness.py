"""Fits the "does this look like a digit?" score (demo/core/digitness.py) and writes weights/digitness.safetensors
+ .json.

    python -m tools.fit_digitness --data-dir ../shared/data/mnist [--weights weights/cnn.safetensors]
        [--out weights/digitness.safetensors] [--points 16] [--quantile 0.02]

Only MNIST *training* digits are used, in the renderings the app meets and as other writers give them, so the
reference statistics cover them all:

* fit: digits 0..9,999 as stored (one batched forward pass) and re-drawn as canvas pen strokes
  (bench/drawn_digits.py, seed 202); 30,000..35,999 through ``clf.predict`` (the app's preprocessing);
  0..9,999 restyled (a flag and a foot on a 1, a bar on a 7 ...: bench/writer_variants.py, seed 303);
  10,000..19,999 made wider or stored on a coarse grid (seed 505); 20,000..29,999 both (seed 707);
* calibration, never used for fitting: 50,000..52,999 re-drawn (seed 101), 53,000..55,999 restyled (seed 404),
  56,000..58,999 wider or on a grid (seed 606), 59,000..59,999 both (seed 808). The threshold is their
  ``--quantile`` (2 %) score quantile.

Per stage, each class gets ``--points`` reference points (k-means, seeded, on features whitened by a first shared
covariance), then one shared covariance of the distances to them. No non-digit drawing is used. On 1 CPU thread it
takes about 6 minutes (the re-drawing is most of it).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import torch

from bench.drawn_digits import redrawn_mnist
from bench.writer_variants import rescanned_mnist, restyled_mnist, restyled_rescanned_mnist
from demo import load_classifier
from demo.core.data import load_mnist
from demo.core.digitness import ENERGY, META_KEY, METHOD, STAGES, Digitness, stage_features
from demo.core.model import staged_forward

SHRINK = 1e-4  # covariance + SHRINK × mean variance × I: keeps the inverse finite (results do not depend on it)
ROOTED = ("relu1", "relu2", "relu3")  # channel means square-rooted: a few very strong responses weigh less
KMEANS_ROUNDS = 30


def batch_features(clf, images: torch.Tensor, batch: int = 1000) -> dict[str, np.ndarray]:
    """Stage features of uint8 (N, 28, 28) images fed as stored (no preprocessing), in batches."""
    parts: dict[str, list[np.ndarray]] = {s: [] for s in STAGES}
    with torch.inference_mode():
        for i in range(0, len(images), batch):
            x = images[i:i + batch].float()[:, None] / 255
            _, outputs = staged_forward(clf.model, x)
            acts = {s: outputs[s].numpy().reshape(len(x), -1, *outputs[s].shape[2:] or (1, 1)) for s in STAGES}
            for s, v in stage_features(acts).items():
                parts[s].append(v)
    return {s: np.concatenate(v) for s, v in parts.items()}


def predicted_features(clf, images, labels: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Stage features of drawings through ``clf.predict`` (empty ones skipped), with their labels."""
    parts: dict[str, list[np.ndarray]] = {s: [] for s in STAGES}
    kept = []
    for image, label in zip(images, labels, strict=True):
        pred = clf.predict(image)
        if pred.empty:
            continue
        for s, v in stage_features(pred.activations).items():
            parts[s].append(v)
        kept.append(label)
    return {s: np.stack(v) for s, v in parts.items()}, np.array(kept)


def _shared_cholesky(residuals: np.ndarray) -> np.ndarray:
    """L with L @ L.T = inverse of the (slightly shrunk) covariance of ``residuals``."""
    cov = residuals.T @ residuals / len(residuals)
    cov += SHRINK * np.trace(cov) / len(cov) * np.eye(len(cov))
    return np.linalg.cholesky(np.linalg.inv(cov))


def _kmeans(z: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Lloyd's k-means on the rows of ``z``; returns each row's cluster."""
    centres = z[rng.choice(len(z), k, replace=False)]
    for _ in range(KMEANS_ROUNDS):
        owner = ((z[:, None] - centres[None]) ** 2).sum(-1).argmin(1)
        centres = np.stack([z[owner == j].mean(0) if (owner == j).any() else centres[j] for j in range(k)])
    return owner


def fit_stage(x: np.ndarray, y: np.ndarray, points: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Reference points (``points`` per class, by k-means in the space whitened by the class-mean covariance) and
    the Cholesky factor L of the inverse covariance of the distances to them (L @ L.T = Σ⁻¹); the points are
    returned already multiplied by L, so scoring needs one product per drawing."""
    class_means = np.stack([x[y == c].mean(0) for c in range(10)])
    first = _shared_cholesky(x - class_means[y])
    centres, nearest = [], np.zeros(len(x), int)
    for c in range(10):
        idx = np.nonzero(y == c)[0]
        owner = _kmeans(x[idx] @ first, points, rng) if points > 1 else np.zeros(len(idx), int)
        for j in np.unique(owner):  # a cluster left empty is dropped
            nearest[idx[owner == j]] = len(centres)
            centres.append(x[idx[owner == j]].mean(0))
    centres = np.stack(centres)
    chol = _shared_cholesky(x - centres[nearest])
    return centres @ chol, chol


def rooted(feats: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The features the distances are measured on (Digitness.terms roots the same stages)."""
    return {s: np.sqrt(v) if s in ROOTED else v for s, v in feats.items()}


def main() -> int:
    p = argparse.ArgumentParser(prog="python -m tools.fit_digitness", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default="../shared/data/mnist")
    p.add_argument("--weights", default=None, help="classifier weights (default: weights/cnn.safetensors)")
    p.add_argument("--out", default="weights/digitness.safetensors")
    p.add_argument("--points", type=int, default=16, help="reference points per class and stage (default 16)")
    p.add_argument("--quantile", type=float, default=0.02, help="share of calibration digits flagged (default 0.02)")
    args = p.parse_args()
    torch.set_num_threads(1)
    start = time.perf_counter()
    clf = load_classifier(args.weights)
    mnist = load_mnist(args.data_dir)
    images, labels = mnist.train_images, mnist.train_labels.numpy()

    def drawn(make, lo: int, hi: int, seed: int) -> tuple[dict[str, np.ndarray], np.ndarray]:
        idx = np.arange(lo, hi)
        return predicted_features(clf, (d.image for d in make(images[idx].numpy(), labels[idx], seed=seed)),
                                  labels[idx])

    fit_sets = {
        "MNIST training digits 0..9999 as stored": (batch_features(clf, images[:10000]), labels[:10000]),
        "0..9999 re-drawn as canvas strokes (seed 202)": drawn(redrawn_mnist, 0, 10000, 202),
        "30000..35999 through the app's preprocessing": predicted_features(
            clf, images[30000:36000].numpy(), labels[30000:36000]),
        "0..9999 restyled (bench/writer_variants.py, seed 303)": drawn(restyled_mnist, 0, 10000, 303),
        "10000..19999 wider or on a coarse grid (seed 505)": drawn(rescanned_mnist, 10000, 20000, 505),
        "20000..29999 restyled, then wider or on a grid (seed 707)": drawn(restyled_rescanned_mnist, 20000, 30000, 707),
    }
    calib_sets = {
        "50000..52999 re-drawn as canvas strokes (seed 101)": drawn(redrawn_mnist, 50000, 53000, 101),
        "53000..55999 restyled (seed 404)": drawn(restyled_mnist, 53000, 56000, 404),
        "56000..58999 wider or on a coarse grid (seed 606)": drawn(rescanned_mnist, 56000, 59000, 606),
        "59000..59999 restyled, then wider or on a grid (seed 808)": drawn(restyled_rescanned_mnist, 59000, 60000, 808),
    }
    print(f"features of {sum(len(y) for _, y in fit_sets.values())} fit and "
          f"{sum(len(y) for _, y in calib_sets.values())} calibration drawings ({time.perf_counter() - start:.0f} s)",
          flush=True)

    fit = {s: np.concatenate([f[s] for f, _ in fit_sets.values()]) for s in STAGES}
    y = np.concatenate([y for _, y in fit_sets.values()])
    rng = np.random.default_rng(0)
    fitted = {s: fit_stage(v, y, args.points, rng) for s, v in rooted(fit).items()}
    fc2 = clf.model.fc2
    dn = Digitness(STAGES, {s: m for s, (m, _) in fitted.items()}, {s: c for s, (_, c) in fitted.items()},
                   fc2.weight.detach().double().numpy(), fc2.bias.detach().double().numpy(),
                   {t: 0.0 for t in (*STAGES, ENERGY)}, {t: 1.0 for t in (*STAGES, ENERGY)}, 0.0, {})
    dn.rooted = ROOTED
    raw_terms = dn.terms(fit)  # unstandardised: centre 0, spread 1
    dn.centre = {t: float(np.median(v)) for t, v in raw_terms.items()}
    dn.spread = {t: float(np.std(v)) for t, v in raw_terms.items()}
    calib_scores = {name: dn.score_features(f) for name, (f, _) in calib_sets.items()}
    pooled = np.concatenate(list(calib_scores.values()))
    dn.threshold = float(np.quantile(pooled, args.quantile))
    fit_scores = dn.score_features(fit)

    weights_path = Path(clf.path)
    meta = {
        "method": METHOD,
        "stages": list(STAGES),
        "rooted": list(ROOTED),
        "points_per_class": args.points,
        "centre": dn.centre,
        "spread": dn.spread,
        "threshold": dn.threshold,
        "quantile": args.quantile,
        "classifier": weights_path.name,
        "classifier_sha256": hashlib.sha256(weights_path.read_bytes()).hexdigest(),
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    from safetensors.numpy import save_file

    tensors = {f"{s}.means": dn.means[s].astype(np.float32) for s in STAGES}
    tensors |= {f"{s}.chol": dn.chol[s].astype(np.float32) for s in STAGES}
    tensors |= {"fc2.weight": dn.fc2_weight.astype(np.float32), "fc2.bias": dn.fc2_bias.astype(np.float32)}
    save_file({k: np.ascontiguousarray(v) for k, v in tensors.items()}, str(out), metadata={META_KEY: json.dumps(meta)})
    out.chmod(0o644)  # readable like the other weights files (safetensors writes owner-only)
    report = {
        **meta,
        "description": "Digit score for ConvScope drawings: higher = more digit-like; below 'threshold' = not a "
                       "digit. Fitted on MNIST training digits only (no non-digit drawings). "
                       "See demo/core/digitness.py.",
        "command": shlex.join(["python", "-m", "tools.fit_digitness", *sys.argv[1:]]),
        "seconds": round(time.perf_counter() - start, 1),
        "versions": {"torch": torch.__version__, "numpy": np.__version__},
        "fit_digits": {name: int(len(y)) for name, (_, y) in fit_sets.items()},
        "calibration": {
            "sets": {name: {"drawings": int(len(v)), "flagged": float(np.mean(v < dn.threshold))}
                     for name, v in calib_scores.items()},
            "drawings": int(len(pooled)),
            "flagged": float(np.mean(pooled < dn.threshold)),
            "score_quantiles": {q: float(np.quantile(pooled, float(q))) for q in
                                ("0.001", "0.01", "0.02", "0.05", "0.5")},
        },
        "fit_flagged": float(np.mean(fit_scores < dn.threshold)),
        "bench": "python -m bench.not_a_digit --data-dir ../shared/data/mnist (held-out rates)",
    }
    json_path = out.with_suffix(".json")
    json_path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"threshold {dn.threshold:.3f} (flags {report['calibration']['flagged']:.1%} of calibration drawings, "
          f"{report['fit_flagged']:.1%} of fit digits); wrote {out} ({out.stat().st_size / 1024:.0f} KiB) and "
          f"{json_path} in {report['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
