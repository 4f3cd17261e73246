"""ConvScope: draw a digit, watch a CNN trained on MNIST read it.

Public API: ``load_classifier`` (the model and its ``predict``), with ``Classifier``, ``Prediction`` and the errors
it raises. They are loaded on first use, so ``python -m demo --help`` answers before torch is imported. The layers
are subpackages (``demo.texts``, ``demo.core``, ``demo.teaching``, ``demo.views``, ``demo.server``, ``demo.page``);
nothing here shadows them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .core.checkpoint import WeightsError
    from .core.classifier import Classifier, Prediction, load_classifier
    from .core.preprocess import InvalidImageError

__all__ = ["Classifier", "InvalidImageError", "Prediction", "WeightsError", "load_classifier"]
_HOMES = {"Classifier": "demo.core.classifier", "Prediction": "demo.core.classifier",
          "load_classifier": "demo.core.classifier", "WeightsError": "demo.core.checkpoint",
          "InvalidImageError": "demo.core.preprocess"}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        value = getattr(importlib.import_module(_HOMES[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
