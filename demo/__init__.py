"""ConvScope: draw a digit, watch a CNN trained on MNIST read it.

Public API: ``load_classifier`` (the model and its ``predict``). The submodules are importable by name
(``demo.core.preprocess``, ``demo.core.model``, ...); nothing here shadows them.
"""

from .core.checkpoint import WeightsError
from .core.classifier import Classifier, Prediction, load_classifier
from .core.preprocess import InvalidImageError

__all__ = ["Classifier", "InvalidImageError", "Prediction", "WeightsError", "load_classifier"]
