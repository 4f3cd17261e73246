"""Argument checks and small helpers the lessons share."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from demo.core.model import CONV, stage_kind


def check_int(name: str, value: int, low: int, high: int | None = None) -> None:
    """Raises ValueError unless ``value`` is an integer (not a bool) in [low, high]."""
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < low \
            or (high is not None and value > high):
        bound = f"from {low} to {high}" if high is not None else f"at least {low}"
        raise ValueError(f"{name} must be an integer {bound}, got {value!r}")


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
