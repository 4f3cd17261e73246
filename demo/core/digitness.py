"""Does a drawing look like a digit at all? A score computed from what the CNN already produced for it.

The CNN was trained on digits only, so it answers a letter, a smiley or a scribble with a digit, often confidently
(the largest probability flags only about 45 % of non-digits at a 2 % false-flag rate). Its *features* know better:
a non-digit drives the hidden layers into patterns no training digit produced. The score measures that:

* for each of four stages (relu1, relu2, relu3: their channel means, i.e. the average response of every filter,
  square-rooted so that a few very strong responses weigh less; relu4: the 128 values of the last hidden layer), the
  Mahalanobis distance to the nearest of 16 reference points per digit class, with one shared covariance, fitted on
  digits only: MNIST training digits (as stored, as redrawn on a canvas, through the app's preprocessing) and the
  same digits as other writers and collections give them (a flag and a foot on a 1, a bar on a 7, wider
  proportions, a coarse scanned grid: bench/writer_variants.py). Several points per class, not one mean, because a
  class has several ways of being written: one mean widened to cover them all would let more non-digits through.
  Early stages catch odd ink and textures (blobs, dots, grids, long straight lines), the last stage catches odd
  shapes made of digit-like strokes (letters, stars, checks);
* ``logsumexp(logits)``, how strongly the classifier responds at all: the negative of the energy score of Liu et al.
  (2020), ``E = -logsumexp(logits)``, so a low energy counts as digit-like;
* each term standardised by its median and spread on training digits, sign flipped (higher = more digit-like), and
  summed. The threshold is the 2 % quantile of the sum on MNIST *training* digits drawn in those same ways but not
  used to fit the statistics. No non-digit was used to fit anything: the method cannot have learned the test
  families (see tools/fit_digitness.py, bench/not_a_digit.py).

All numbers live in ``weights/digitness.safetensors`` (tensors + header metadata); ``weights/digitness.json`` beside
it is the human-readable report (calibration figures, the command). Scoring one drawing costs a few tens of
thousands of multiply-adds: well under a millisecond on one core.

    from demo.core.digitness import load_digitness
    dn = load_digitness()                      # weights/digitness.safetensors
    pred = clf.predict(image)
    dn.score(pred.activations)                 # float, higher = more digit-like; None for an empty canvas
    dn.looks_like_digit(pred.activations)      # score >= dn.threshold (True for an empty canvas: nothing to flag)

This module has no side effects on import and does not import torch.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "weights" / "digitness.safetensors"
META_KEY = "convscope_digitness"
METHOD = "sum of standardised Mahalanobis distances to the nearest points per class (√ relu1-3 means, relu4) + energy"
# Stages whose channel means (or, for relu4, whose values) are scored. All are recorded by Classifier.forward_staged.
STAGES = ("relu1", "relu2", "relu3", "relu4")
ENERGY = "energy"


class DigitnessError(RuntimeError):
    """The digitness file is missing, unreadable or inconsistent; the message names the file and the fix."""


def stage_features(activations: Mapping[str, np.ndarray], stages: tuple[str, ...] = STAGES) -> dict[str, np.ndarray]:
    """Stage outputs -> feature vectors: the mean of each channel over the map.

    Accepts one drawing's activations ((C, H, W) per stage, as in ``Prediction.activations``; relu4 is (128, 1, 1))
    or a batch ((N, C, H, W)); returns (C,) or (N, C) float64 arrays. Channel means, not whole maps: they are small
    (32-128 numbers a stage, so the covariances stay tiny), and insensitive to where on the field the ink sits.
    """
    return {s: np.asarray(activations[s], dtype=np.float64).mean(axis=(-2, -1)) for s in stages}


@dataclass
class Digitness:
    stages: tuple[str, ...]
    means: dict[str, np.ndarray]  # stage -> (M, C) reference points (M/10 per class), already multiplied by ``chol``
    chol: dict[str, np.ndarray]  # stage -> (C, C) L with L @ L.T = inverse shared covariance
    fc2_weight: np.ndarray  # (10, 128): the classifier's last layer, for the energy term
    fc2_bias: np.ndarray  # (10,)
    centre: dict[str, float]  # term -> median of the (negated) term on training digits
    spread: dict[str, float]  # term -> standard deviation of the term on training digits
    threshold: float  # scores below this are "not a digit"
    info: dict[str, Any]  # the rest of the header metadata (method, classifier hash, calibration figures)
    rooted: tuple[str, ...] = ()  # stages whose features are square-rooted before the distance

    def whitened(self, stage: str, feats: np.ndarray) -> np.ndarray:
        """A stage's features as its reference points are kept: square-rooted when the stage is, then whitened by
        the shared covariance."""
        x = np.asarray(feats, dtype=np.float64)
        if stage in self.rooted:
            x = np.sqrt(np.maximum(x, 0))  # ReLU outputs: never negative, the guard only absorbs rounding
        return x @ self.chol[stage]

    def terms(self, feats: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Each term, standardised, higher = more digit-like; (N,) arrays for (N, C) features, () for (C,)."""
        out: dict[str, np.ndarray] = {}
        for s in self.stages:
            z = self.whitened(s, feats[s])
            m = self.means[s]
            # squared Mahalanobis distance to every reference point, expanded so one matrix product does them all
            d2 = (z * z).sum(-1)[..., None] - 2 * z @ m.T + (m * m).sum(-1)
            out[s] = (-d2.min(-1) - self.centre[s]) / self.spread[s]
        logits = np.asarray(feats["relu4"], dtype=np.float64) @ self.fc2_weight.T + self.fc2_bias
        top = logits.max(-1)
        # logsumexp, overflow-safe: the energy with its sign flipped (higher = more digit-like, as the other terms)
        negative_energy = top + np.log(np.exp(logits - top[..., None]).sum(-1))
        out[ENERGY] = (negative_energy - self.centre[ENERGY]) / self.spread[ENERGY]
        return out

    def score_features(self, feats: Mapping[str, np.ndarray]) -> np.ndarray:
        """The digit score of features from :func:`stage_features` (one drawing or a batch)."""
        return sum(self.terms(feats).values())  # type: ignore[return-value]

    def score(self, activations: Mapping[str, np.ndarray]) -> float | None:
        """The digit score of one drawing from its recorded stage outputs; higher = more digit-like.

        None when there are no activations (an empty canvas: the classifier returns label None and nothing to
        score; the caller reports "empty", not "not a digit").
        """
        if not activations:
            return None
        return float(self.score_features(stage_features(activations, self.stages)))

    def digit_like(self, score: float | None) -> bool:
        """False only for a score below the threshold; None (an empty canvas) is not flagged."""
        return score is None or score >= self.threshold

    def looks_like_digit(self, activations: Mapping[str, np.ndarray]) -> bool:
        """False only for a drawing scored below the threshold; an empty canvas is not flagged."""
        return self.digit_like(self.score(activations))


def load_digitness(path: str | Path | None = None) -> Digitness:
    """Loads ``weights/digitness.safetensors`` (or ``path``). Raises :class:`DigitnessError` naming the fix."""
    from safetensors import SafetensorError, safe_open

    path = Path(path) if path is not None else DEFAULT_PATH
    fix = "Rebuild it with: python -m tools.fit_digitness --data-dir ../shared/data/mnist"
    if not path.is_file():
        raise DigitnessError(f"digitness file {path} does not exist. {fix}")
    try:
        with safe_open(str(path), framework="numpy") as f:
            header = f.metadata() or {}
            tensors = {key: f.get_tensor(key) for key in f.keys()}
        meta = json.loads(header[META_KEY])
        stages = tuple(meta["stages"])
        dn = Digitness(
            stages=stages,
            means={s: tensors[f"{s}.means"].astype(np.float64) for s in stages},
            chol={s: tensors[f"{s}.chol"].astype(np.float64) for s in stages},
            fc2_weight=tensors["fc2.weight"].astype(np.float64),
            fc2_bias=tensors["fc2.bias"].astype(np.float64),
            centre={k: float(v) for k, v in meta["centre"].items()},
            spread={k: float(v) for k, v in meta["spread"].items()},
            threshold=float(meta["threshold"]),
            info={k: v for k, v in meta.items() if k not in ("stages", "centre", "spread", "threshold", "rooted")},
            rooted=tuple(meta.get("rooted", ())),
        )
    except (SafetensorError, OSError, ValueError, KeyError, TypeError) as error:
        raise DigitnessError(f"digitness file {path} is unreadable or incomplete ({error}). {fix}") from error
    if set(dn.centre) != {*stages, ENERGY} or not set(dn.rooted) <= set(stages) or not np.isfinite(dn.threshold):
        raise DigitnessError(f"digitness file {path} has inconsistent metadata. {fix}")
    return dn
