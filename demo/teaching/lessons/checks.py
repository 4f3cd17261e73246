"""Argument checks and small helpers the lessons share."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from demo.core.model import CONV, stage_kind
from demo.texts import plain


def check_int(name: str, value: int, low: int, high: int | None = None) -> None:
    """Raises ValueError unless ``value`` is an integer (not a bool) in [low, high].

    The message is a catalogue text: break-it and the inspector show it to the learner, ``name`` (a text the
    caller gives, e.g. 'a channel of conv2') saying what was wrong.
    """
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < low \
            or (high is not None and value > high):
        if high is None:
            raise ValueError(plain("lessons.checks.integer_at_least", name=name, low=low, value=repr(value)))
        raise ValueError(plain("lessons.checks.integer_from_to", name=name, low=low, high=high, value=repr(value)))


def model_dtype(model: nn.Module) -> torch.dtype:
    param = next(model.parameters(), None)
    return param.dtype if param is not None else torch.float32


def as_batch(input28: np.ndarray, dtype: torch.dtype) -> torch.Tensor:
    """The (28, 28) model input as a (1, 1, 28, 28) tensor."""
    image = np.asarray(input28)
    if image.shape != (28, 28):
        raise ValueError(f"input28 must be the (28, 28) model input, got shape {image.shape}")
    return torch.tensor(image, dtype=dtype)[None, None]


def conv_stages(model: nn.Sequential) -> list[tuple[str, nn.Conv2d]]:
    """The model's convolution stages, in order, with their names."""
    return [(name, m) for name, m in model.named_children() if stage_kind(m) == CONV]
