"""ConvScope: draw a digit, watch a CNN trained on MNIST read it.

Public API: ``load_classifier`` (the model and its ``predict``). The submodules are importable by name
(``demo.preprocess``, ``demo.model``, ...); nothing here shadows them.
"""

from .checkpoint import WeightsError
from .classifier import Classifier, Prediction, load_classifier
from .preprocess import InvalidImageError

__all__ = ["Classifier", "InvalidImageError", "Prediction", "WeightsError", "load_classifier"]
