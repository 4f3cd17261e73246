"""ConvScope: draw a digit, watch a CNN trained on MNIST read it.

Public API: ``load_classifier`` (the model), ``preprocess`` (drawing -> 28×28 MNIST-like input).
"""

from .checkpoint import WeightsError
from .classifier import Classifier, Prediction, load_classifier
from .preprocess import InvalidImageError, Preprocessed, preprocess

__all__ = ["Classifier", "InvalidImageError", "Prediction", "Preprocessed", "WeightsError", "load_classifier",
           "preprocess"]
