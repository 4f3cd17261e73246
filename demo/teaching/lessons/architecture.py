"""The network's stages in order, read from the model itself: output shapes from a real forward pass, parameter
counts, and each stage's own settings (kernel size, channels, padding, stride, pooling window, features)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from demo.core.model import ACTIVATION, CONV, FULLY_CONNECTED, POOL, Normalize, stage_kind, staged_forward

from .checks import model_dtype


@dataclass(frozen=True)
class StageRow:
    """One stage of the network, as the overview table lists it."""

    name: str  # e.g. 'conv1'
    kind: str  # demo.core.model.stage_kind: 'conv', 'activation', 'pool', 'flatten', 'fc' or 'other'
    input_shape: tuple[int, ...]  # without the batch dimension, e.g. (1, 28, 28)
    output_shape: tuple[int, ...]  # e.g. (32, 28, 28)
    parameters: int  # learned numbers (weights and biases)
    module: str  # the module's class name, e.g. 'Conv2d', 'ReLU', 'MaxPool2d'
    settings: dict[str, Any] = field(default_factory=dict)  # see stage_settings
    receptive_field: int = 1  # side of the square of input pixels one output value depends on (28: all of them)


def _pair(value: int | tuple[int, ...]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))


def stage_settings(module: nn.Module) -> dict[str, Any]:
    """A stage's own numbers.

    conv: ``out_channels``, ``in_channels``, ``kernel`` (h, w), ``padding`` (h, w) or a string such as 'same',
    ``stride`` (h, w); pool: ``function`` ('max' or 'mean'), ``window`` and ``stride`` (h, w); fully connected:
    ``in_features``, ``out_features``; normalisation: ``mean``, ``std``; dropout: ``p``.
    """
    kind = stage_kind(module)
    if kind == CONV:
        padding = module.padding if isinstance(module.padding, str) else _pair(module.padding)
        return {"out_channels": module.out_channels, "in_channels": module.in_channels,
                "kernel": _pair(module.kernel_size), "padding": padding, "stride": _pair(module.stride)}
    if kind == POOL:
        stride = module.stride if module.stride is not None else module.kernel_size
        return {"function": "max" if isinstance(module, nn.MaxPool2d) else "mean",
                "window": _pair(module.kernel_size), "stride": _pair(stride)}
    if kind == FULLY_CONNECTED:
        return {"in_features": module.in_features, "out_features": module.out_features}
    if isinstance(module, Normalize):
        return {"mean": float(module.mean), "std": float(module.std)}
    if isinstance(module, nn.Dropout):
        return {"p": float(module.p)}
    if kind == ACTIVATION:
        return {"function": type(module).__name__}
    return {}


def architecture(model: nn.Sequential) -> list[StageRow]:
    """Every stage of ``model`` in order, with its output shape from a real forward pass of a blank 28×28 input."""
    x = torch.zeros(1, 1, 28, 28, dtype=model_dtype(model))
    with torch.inference_mode():
        _, outputs = staged_forward(model, x)
    rows = []
    input_shape: tuple[int, ...] = (1, 28, 28)
    field_side, jump = 1, 1  # receptive field, and the input pixels between neighbouring values of the stage
    for name, module in model.named_children():
        shape = tuple(int(s) for s in outputs[name].shape[1:])
        settings = stage_settings(module)
        kind = stage_kind(module)
        if kind in (CONV, POOL):
            window = settings["kernel" if kind == CONV else "window"][0]
            field_side += (window - 1) * jump  # each new value spans `window` old ones, `jump` pixels apart
            jump *= settings["stride"][0]
        elif kind == FULLY_CONNECTED:
            field_side = 28  # every value depends on the whole input
        # Flatten only lines the values up in a row: each still sees what it saw in the stage before.
        rows.append(StageRow(name=name, kind=kind, input_shape=input_shape, output_shape=shape,
                             parameters=sum(p.numel() for p in module.parameters()), module=type(module).__name__,
                             settings=settings, receptive_field=min(field_side, 28)))
        input_shape = shape
    return rows
