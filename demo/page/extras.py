"""What the lessons read besides the classifier, each optional: the MNIST examples under the pad, the plain fully
connected network and the shipped robustness measurements (CNN vs MLP), and the insight tabs' snapshots, atlas and
nearest-digit index (demo/page/insight_tabs.py). A missing extra costs one view its part, never the app."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from demo.core.classifier import Classifier

from .insight_tabs import Insights, load_insights

__all__ = ["Insights", "load_insights", "load_lesson_extras", "load_mnist_samples"]

log = logging.getLogger("convscope")


def load_mnist_samples(data_dir: str | None) -> list[tuple[np.ndarray, int]] | None:
    """The first test image of each digit, for the clickable examples; None (with a log line) if unavailable."""
    if not data_dir:
        return None
    from demo.core.data import MnistNotFoundError, load_mnist_test

    try:
        images, labels = load_mnist_test(data_dir, download=False)
    except MnistNotFoundError as error:
        log.warning("MNIST samples left out: %s", error)
        return None
    return [(images[int((labels == d).nonzero()[0, 0])].numpy(), d) for d in range(10)]


def load_lesson_extras(mlp_path: str | Path | None = None,
                       robustness_path: str | Path | None = None) -> tuple[Classifier | None, dict[str, Any] | None]:
    """The MLP (for CNN vs MLP) and the shipped robustness measurements; each None (with a log line) if unusable,
    so a missing extra costs one lesson its comparison, never the app."""
    import json

    from demo.core.checkpoint import WeightsError
    from demo.core.classifier import load_classifier
    from demo.core.paths import WEIGHTS_DIR

    mlp_path = Path(mlp_path) if mlp_path else WEIGHTS_DIR / "mlp.safetensors"
    robustness_path = Path(robustness_path) if robustness_path else WEIGHTS_DIR / "robustness.json"
    try:
        mlp: Classifier | None = load_classifier(mlp_path)
    except WeightsError as error:
        log.warning("CNN vs MLP lesson without the MLP: %s", error)
        mlp = None
    try:
        robustness = json.loads(robustness_path.read_text())
    except (OSError, ValueError) as error:
        log.warning("CNN vs MLP lesson without the robustness chart: %s: %s", robustness_path, error)
        robustness = None
    return mlp, robustness
