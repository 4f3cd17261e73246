"""How one value of a feature map is computed: the receptive patch of the layer's input times the kernel, summed over
every input channel, plus the bias, then ReLU; checked against the model's own activation."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from demo.core.model import ACTIVATION, Normalize, stage_kind, staged_forward
from demo.texts import plain

from .checks import as_batch, check_int, conv_stages, model_dtype


@dataclass(frozen=True)
class OneValue:
    """One value of a convolution layer's feature map, computed by hand: patch × kernel, summed, plus bias, ReLU."""

    layer: str  # the conv stage, e.g. 'conv2'
    channel: int  # which kernel / feature map
    row: int  # position in the feature map
    col: int
    input_stage: str  # the stage whose output the layer receives ('normalize' for the first conv layer)
    input_scale: tuple[float, float] | None  # (mean, std) when that input is the drawing normalised, (x − mean) / std
    layer_input: np.ndarray  # (C_in, H, W) float32: what the layer receives
    top: int  # top-left of the receptive patch in ``layer_input``; negative where it reaches into the padding
    left: int
    patch: np.ndarray  # (C_in, k, k) float32: the receptive patch, zeros where it lies in the padding
    in_padding: np.ndarray  # (k, k) bool: which patch positions are padding zeros
    kernel: np.ndarray  # (C_in, k, k) float32
    products: np.ndarray  # (C_in, k, k) float64: patch × kernel, element-wise
    channel_sums: np.ndarray  # (C_in,) float64: products summed over each input channel
    total: float  # sum of all products
    bias: float
    pre_activation: float  # total + bias: the conv layer's output value
    activation_stage: str | None  # the activation that follows ('relu2'), None if none does
    activation: float | None  # pre_activation after it


def one_value(model: nn.Sequential, input28: np.ndarray, layer: str, channel: int, row: int, col: int) -> OneValue:
    """How value (``row``, ``col``) of feature map ``channel`` of conv ``layer`` comes out of the layer's input.

    The receptive patch of the layer's input (every input channel, the layer's zero padding included) is multiplied
    element-wise by the kernel, everything is summed, the bias is added (the pre-activation value) and the
    following activation (ReLU) is applied.
    """
    stages = list(model.named_children())
    names = [name for name, _ in stages]
    convs = [name for name, _ in conv_stages(model)]
    if layer not in convs:
        raise ValueError(f"layer must be a convolution layer of this model ({', '.join(convs) or 'none'}), "
                         f"got {layer!r}")
    index = names.index(layer)
    conv = stages[index][1]
    if index == 0:
        raise ValueError(f"{layer} is the first stage: it receives the raw input, not a stage output")
    if conv.groups != 1 or tuple(conv.dilation) != (1, 1) or isinstance(conv.padding, str) \
            or conv.padding_mode != "zeros":
        raise ValueError(f"{layer}: only plain convolutions (zero padding, no groups or dilation) are explained")
    check_int(plain("lessons.one_value.check_channel"), channel, 0, conv.out_channels - 1)

    with torch.inference_mode():
        _, outputs = staged_forward(model, as_batch(input28, model_dtype(model)))
    input_stage = names[index - 1]
    layer_input = outputs[input_stage][0].float().numpy().copy()
    c_in, height, width = layer_input.shape
    kh, kw = conv.kernel_size
    (sh, sw), (ph, pw) = conv.stride, conv.padding
    out_h, out_w = (height + 2 * ph - kh) // sh + 1, (width + 2 * pw - kw) // sw + 1
    check_int(plain("lessons.one_value.check_row"), row, 0, out_h - 1)
    check_int(plain("lessons.one_value.check_col"), col, 0, out_w - 1)

    # The patch is cut from the input padded exactly as the layer pads it, so border values include the zeros.
    top, left = row * sh - ph, col * sw - pw
    padded = np.pad(layer_input, ((0, 0), (ph, ph), (pw, pw)))
    patch = padded[:, top + ph:top + ph + kh, left + pw:left + pw + kw].copy()
    rows, cols = np.arange(top, top + kh), np.arange(left, left + kw)
    in_padding = ~(((rows >= 0) & (rows < height))[:, None] & ((cols >= 0) & (cols < width))[None, :])

    kernel = conv.weight[channel].detach().float().cpu().numpy().copy()
    # float64 products and sums: exact products of the float32 numbers, so the hand computation is the reference.
    products = patch.astype(np.float64) * kernel.astype(np.float64)
    channel_sums = products.sum(axis=(1, 2))
    total = float(channel_sums.sum())
    bias = 0.0 if conv.bias is None else float(conv.bias[channel].detach())
    pre_activation = total + bias

    activation_stage: str | None = None
    activation: float | None = None
    if index + 1 < len(stages) and stage_kind(stages[index + 1][1]) == ACTIVATION:
        activation_stage = names[index + 1]
        with torch.inference_mode():
            activation = float(stages[index + 1][1](torch.tensor(pre_activation, dtype=torch.float64)))
    return OneValue(layer=layer, channel=int(channel), row=int(row), col=int(col), input_stage=input_stage,
                    input_scale=_normalisation(stages[index - 1][1]),
                    layer_input=layer_input, top=top, left=left, patch=patch, in_padding=in_padding, kernel=kernel,
                    products=products, channel_sums=channel_sums, total=total, bias=bias,
                    pre_activation=pre_activation, activation_stage=activation_stage, activation=activation)


def _normalisation(stage: nn.Module) -> tuple[float, float] | None:
    return (float(stage.mean), float(stage.std)) if isinstance(stage, Normalize) else None
