"""The inference API: load the shipped weights once, then classify drawings and MNIST images.

    from demo import load_classifier
    clf = load_classifier()
    r = clf.predict(image)   # r.label, r.probs, r.input28, r.activations, r.steps, r.message,
                             # r.looks_like_digit, r.digit_score

Never imports training code.
"""

from __future__ import annotations

import hashlib
import logging
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch import nn

from .checkpoint import load_checkpoint
from .digitness import DEFAULT_PATH as DIGITNESS_PATH
from .digitness import Digitness, DigitnessError, load_digitness
from .model import ACTIVATION, CONV, POOL, stage_kind, staged_forward
from .paths import DEFAULT_WEIGHTS
from .preprocess import preprocess

log = logging.getLogger("convscope")

DIGITS = tuple(str(d) for d in range(10))  # the shipped network's classes, in the order of its outputs


@dataclass
class Prediction:
    label: int | None  # the class's index (0-9 for the digits), or None when the canvas is empty
    probs: list[float]  # one float per class summing to 1 (uniform when empty)
    input28: np.ndarray  # (28, 28) float32 in [0, 1], white digit on black: what the model saw
    activations: OrderedDict[str, np.ndarray]  # stage name -> (C, H, W), every conv / activation / pool stage
    steps: list[tuple[str, np.ndarray]] = field(default_factory=list)  # preprocessing steps, for display
    message: str = "ok"
    # Does the drawing look like a digit at all (demo/core/digitness.py)? The label stays the network's own top class
    # either way: softmax must share 100 % among the ten digits. True for an empty canvas (nothing to flag) and for
    # networks without digitness statistics; digit_score is then None.
    looks_like_digit: bool = True
    digit_score: float | None = None  # higher = more digit-like; below the threshold in weights/ = not a digit
    # The classes' names by index: the ten digits, then a class room's own symbols (demo/core/room_network.py).
    # With symbols, looks_like_digit means "one of these": a digit or one of the symbols.
    names: tuple[str, ...] = DIGITS

    @property
    def empty(self) -> bool:
        return self.label is None


class Classifier:
    """A loaded model plus its config and training report; ``predict`` is safe to call from many threads."""

    def __init__(self, model: nn.Sequential, config: dict[str, Any], report: dict[str, Any], path: Path,
                 digitness: Digitness | None = None, names: tuple[str, ...] = DIGITS) -> None:
        self.model = model.eval()
        self.names = names
        self.config = config
        self.report = report
        self.path = path
        self.digitness = digitness  # statistics fitted on this network's own features, or None
        # Stages whose outputs are pictures (C, H, W); the fully connected ReLU is kept as (C, 1, 1).
        self.recorded_stages = [name for name, m in model.named_children() if stage_kind(m) in (CONV, ACTIVATION, POOL)]

    @torch.inference_mode()
    def forward_staged(self, input28: np.ndarray) -> tuple[np.ndarray, OrderedDict[str, np.ndarray]]:
        """Probabilities and recorded stage outputs for one (28, 28) input in [0, 1]."""
        x = torch.from_numpy(np.ascontiguousarray(input28, dtype=np.float32))[None, None]
        logits, outputs = staged_forward(self.model, x)
        probs = torch.softmax(logits.double(), dim=1)[0].numpy()
        activations: OrderedDict[str, np.ndarray] = OrderedDict()
        for name in self.recorded_stages:
            out = outputs[name][0].numpy()
            activations[name] = out if out.ndim == 3 else out.reshape(-1, 1, 1)
        return probs, activations

    def predict(self, image: Image.Image | np.ndarray, pen_width: float | None = None) -> Prediction:
        """Classifies a drawing of any size, mode and polarity. Raises ``InvalidImageError`` for unusable input.

        ``pen_width`` (in the image's pixels) is given when it is known, as for drawings from the pad."""
        prep = preprocess(image, pen_width)
        if prep.empty:
            return Prediction(None, [1 / len(self.names)] * len(self.names), prep.input28, OrderedDict(), prep.steps,
                              prep.message, names=self.names)
        probs, activations = self.forward_staged(prep.input28)
        score = self.digitness.score(self.scored_activations(activations)) if self.digitness is not None else None
        looks = self.digitness is None or self.digitness.digit_like(score)
        return Prediction(int(probs.argmax()), probs.tolist(), prep.input28, activations, prep.steps, prep.message,
                          looks, score, self.names)

    def scored_activations(self, activations: Mapping[str, np.ndarray]) -> Mapping[str, np.ndarray]:
        """The stage outputs the digitness statistics score: this network's own (a room's network differs)."""
        return activations

    @torch.inference_mode()
    def predict_mnist(self, images: np.ndarray | torch.Tensor, batch_size: int = 128) -> np.ndarray:
        """Raw uint8 MNIST images (N, 28, 28) -> (N, 10) probabilities, with no sketch preprocessing. Batches of 128
        keep each one's feature maps in the CPU's caches: about 2.5 times as fast as 1,000 on 2 cores."""
        x = torch.as_tensor(np.asarray(images))
        if x.ndim == 2:
            x = x[None]
        if x.ndim != 3 or tuple(x.shape[1:]) != (28, 28):
            raise ValueError(f"expected uint8 images of shape (N, 28, 28), got {tuple(x.shape)}")
        x = x.float() / 255 if x.dtype == torch.uint8 else x.float()
        out = [torch.softmax(self.model(x[i:i + batch_size, None]).double(), 1) for i in range(0, len(x), batch_size)]
        return torch.cat(out).numpy() if out else np.zeros((0, 10))


def load_classifier(path: str | Path | None = None) -> Classifier:
    """Loads ``weights/cnn.safetensors`` (or ``path``). Raises ``WeightsError`` naming the file and the fix."""
    weights = Path(path) if path is not None else DEFAULT_WEIGHTS
    model, config, report = load_checkpoint(weights)
    return Classifier(model, config, report, weights, matching_digitness(weights))


def matching_digitness(weights: Path, path: Path = DIGITNESS_PATH) -> Digitness | None:
    """The digitness statistics beside the weights when they were fitted on exactly this weights file (its SHA-256
    is in their metadata); None otherwise, so another network never gets statistics of features it does not have."""
    if not path.is_file():
        return None
    try:
        digitness = load_digitness(path)
    except DigitnessError as error:
        log.warning("not-a-digit detection is off: %s", error)
        return None
    if digitness.info.get("classifier_sha256") != hashlib.sha256(weights.read_bytes()).hexdigest():
        return None
    return digitness
