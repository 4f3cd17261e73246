"""Fits the "does this look like a digit?" score (demo/core/digitness.py) and writes weights/digitness.safetensors
+ .json.

    python -m tools.fit_digitness --data-dir ../shared/data/mnist [--weights weights/cnn.safetensors]
        [--out weights/digitness.safetensors] [--fit-raw 10000] [--fit-drawn 10000] [--fit-prep 6000]
        [--calib 3000] [--quantile 0.01]

Only MNIST *training* digits are used, in three renderings the app meets, so the reference statistics cover them:

* fit, raw: training digits 0..fit_raw as stored (one batched forward pass);
* fit, drawn: training digits 0..fit_drawn re-drawn as canvas pen strokes (bench/drawn_digits.py, seed 202);
* fit, prep: training digits 30000.. passed through ``clf.predict`` (the app's preprocessing);
* calibration: training digits 50000..50000+calib re-drawn as canvas strokes (seed 101), never used for fitting:
  the threshold is their ``--quantile`` (1 %) score quantile, i.e. 1 % of canvas-style digits are flagged here.
  Held-out drawn *test* digits flag a little more (bench/not_a_digit.py reports them), hence 1 % and not 2 %.

No non-digit drawing is used. On 1 CPU thread it takes about 8 minutes (the re-drawing is most of it).
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
from demo import load_classifier
from demo.core.data import load_mnist
from demo.core.digitness import ENERGY, META_KEY, METHOD, STAGES, Digitness, stage_features
from demo.core.model import staged_forward

SHRINK = 1e-4  # covariance + SHRINK × mean variance × I: keeps the inverse finite (results do not depend on it)


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


def fit_stage(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Class means and the Cholesky factor L of the inverse shared covariance (L @ L.T = Σ⁻¹); means returned
    already multiplied by L, so scoring needs one product per drawing."""
    means = np.stack([x[y == c].mean(0) for c in range(10)])
    centred = x - means[y]
    cov = centred.T @ centred / len(x)
    cov += SHRINK * np.trace(cov) / len(cov) * np.eye(len(cov))
    chol = np.linalg.cholesky(np.linalg.inv(cov))
    return means @ chol, chol


def main() -> int:
    p = argparse.ArgumentParser(prog="python -m tools.fit_digitness", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default="../shared/data/mnist")
    p.add_argument("--weights", default=None, help="classifier weights (default: weights/cnn.safetensors)")
    p.add_argument("--out", default="weights/digitness.safetensors")
    p.add_argument("--fit-raw", type=int, default=10000)
    p.add_argument("--fit-drawn", type=int, default=10000)
    p.add_argument("--fit-prep", type=int, default=6000)
    p.add_argument("--calib", type=int, default=3000)
    p.add_argument("--quantile", type=float, default=0.01, help="share of calibration digits flagged (default 0.01)")
    args = p.parse_args()
    torch.set_num_threads(1)
    start = time.perf_counter()
    clf = load_classifier(args.weights)
    mnist = load_mnist(args.data_dir)
    images, labels = mnist.train_images, mnist.train_labels.numpy()

    raw = batch_features(clf, images[:args.fit_raw])
    y_raw = labels[:args.fit_raw]
    idx = np.arange(args.fit_drawn)
    drawn, y_drawn = predicted_features(
        clf, (d.image for d in redrawn_mnist(images[idx].numpy(), labels[idx], seed=202)), labels[idx])
    idx = np.arange(30000, 30000 + args.fit_prep)
    prep, y_prep = predicted_features(clf, images[idx].numpy(), labels[idx])
    idx = np.arange(50000, 50000 + args.calib)
    calib, _ = predicted_features(
        clf, (d.image for d in redrawn_mnist(images[idx].numpy(), labels[idx], seed=101)), labels[idx])
    print(f"features: {len(y_raw)} raw, {len(y_drawn)} drawn, {len(y_prep)} preprocessed training digits; "
          f"{len(calib['relu4'])} calibration drawings ({time.perf_counter() - start:.0f} s)", flush=True)

    fit = {s: np.concatenate([raw[s], drawn[s], prep[s]]) for s in STAGES}
    y = np.concatenate([y_raw, y_drawn, y_prep])
    fitted = {s: fit_stage(fit[s], y) for s in STAGES}
    fc2 = clf.model.fc2
    dn = Digitness(STAGES, {s: m for s, (m, _) in fitted.items()}, {s: c for s, (_, c) in fitted.items()},
                   fc2.weight.detach().double().numpy(), fc2.bias.detach().double().numpy(),
                   {t: 0.0 for t in (*STAGES, ENERGY)}, {t: 1.0 for t in (*STAGES, ENERGY)}, 0.0, {})
    raw_terms = dn.terms(fit)  # unstandardised: centre 0, spread 1
    dn.centre = {t: float(np.median(v)) for t, v in raw_terms.items()}
    dn.spread = {t: float(np.std(v)) for t, v in raw_terms.items()}
    calib_scores = dn.score_features(calib)
    dn.threshold = float(np.quantile(calib_scores, args.quantile))
    fit_scores = dn.score_features(fit)

    weights_path = Path(clf.path)
    meta = {
        "method": METHOD,
        "stages": list(STAGES),
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
        "fit_digits": {"raw_mnist_train": len(y_raw), "redrawn_mnist_train (seed 202)": len(y_drawn),
                       "mnist_train_through_preprocess": len(y_prep)},
        "calibration": {
            "set": f"MNIST training digits 50000..{50000 + args.calib - 1} re-drawn as canvas strokes (seed 101)",
            "drawings": int(len(calib_scores)),
            "flagged": float(np.mean(calib_scores < dn.threshold)),
            "score_quantiles": {q: float(np.quantile(calib_scores, float(q))) for q in
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
