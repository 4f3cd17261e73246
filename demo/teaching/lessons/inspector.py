"""The inspector's computations: how any one value of any stage of the network was made from the drawing.

A click on a value of a stage (a cell of a feature map, one number of a vector, one probability) is answered by
recomputing that value by hand, in float64, from the output of the stage before it: a conv value is patch × kernel
summed plus bias (:mod:`.one_value`), a pooled value is the max of its window (:mod:`.pooling`), a fully connected
value is a weighted sum, and so on. The model's own output at the same place comes with it, so the page (and the
tests) can show that the two agree. No HTML here: demo/views/tabs/inspector.py draws an :class:`Inspection`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import torch
from torch import nn

from demo.core.model import ACTIVATION, CONV, FLATTEN, FULLY_CONNECTED, POOL, Normalize, stage_kind, staged_forward
from demo.texts import plain

from .checks import as_batch, check_int, model_dtype
from .one_value import OneValue, one_value
from .pooling import PoolWindow, pool_window

STAGE_INPUT = "input"
STAGE_PROBABILITIES = "probabilities"
TOP_CHANNELS = 3  # conv: input channels whose patch, kernel and products are shown in full
TOP_TERMS = 8  # fully connected: inputs whose weight × input is listed one by one


@dataclass(frozen=True)
class Term:
    """One input of a fully connected layer and what it adds to the weighted sum."""

    index: int  # position in the layer's input vector
    x: float  # the input value
    weight: float  # the weight that multiplies it
    product: float  # weight × x, in float64
    origin: tuple[int, ...] | None  # (channel, row, col) of the map it was flattened from; None if not flattened


@dataclass(frozen=True)
class WeightedSum:
    """value = Σ_i w_i · x_i + b for one output of a fully connected layer, with its largest terms listed."""

    layer: str  # the fully connected stage, e.g. 'fc1'
    input_stage: str  # the stage whose output it receives
    origin_stage: str | None  # the stage whose maps were flattened into that input (named by Term.origin)
    n_inputs: int
    nonzero_inputs: int  # inputs that are not 0 (after a ReLU, many are 0 and add nothing)
    terms: tuple[Term, ...]  # the largest |w · x|, largest first
    rest: float  # the sum of every other product
    rest_count: int
    bias: float
    total: float  # sum of all products + bias: the layer's output


@dataclass(frozen=True)
class Softmax:
    """p_k = exp(z_k) / Σ_j exp(z_j), computed as exp(z_k − m) / Σ_j exp(z_j − m) with m the largest score: the
    shift cancels in the fraction and keeps exp() from overflowing."""

    logits: np.ndarray  # (10,) float64: the scores z_j of the last fully connected layer
    shift: float  # m = max_j z_j
    exps: np.ndarray  # (10,) float64: exp(z_j − m)
    exp_sum: float


@dataclass(frozen=True)
class Inspection:
    """One value of one stage, recomputed by hand from the stage before it, beside the model's own value."""

    stage: str
    kind: str  # 'input', 'normalize', 'conv', 'activation', 'pool', 'flatten', 'fc', 'dropout', 'softmax'
    unit: int  # channel of a map stage; index of a vector stage
    row: int  # position in the map; 0 for vector stages
    col: int
    value: float  # computed by hand, float64
    model_value: float  # the model's own output at this place
    source: str | None = None  # the stage whose output this value is computed from; None for the input
    source_value: float | None = None  # the single value of ``source`` it is made from, where there is one
    source_map: np.ndarray | None = None  # (H, W) map of ``source`` (or of the value itself) worth a picture
    mean: float | None = None  # normalize: (x − mean) / std
    std: float | None = None
    conv: OneValue | None = None  # conv, and an activation after a conv
    shown_channels: tuple[int, ...] = ()  # conv: the input channels with the largest |sum|, largest first
    other_channels_sum: float = 0.0  # conv: the sums of all the other input channels, added up
    window: PoolWindow | None = None  # pool
    origin: tuple[int, ...] | None = None  # flatten: (channel, row, col) in ``source``
    weighted: WeightedSum | None = None  # fc, and an activation after an fc
    function: str | None = None  # activation: the function's name, e.g. 'ReLU'
    dropout_p: float | None = None  # dropout: the fraction zeroed during training
    softmax: Softmax | None = None

    @property
    def pre_activation(self) -> float | None:
        """An activation's input value (what ReLU received)."""
        return self.source_value if self.kind == ACTIVATION else None


def inspectable_stages(model: nn.Sequential) -> list[str]:
    """Every stage a value can be inspected at: the input, each named stage of the model, the probabilities."""
    return [STAGE_INPUT, *(name for name, _ in model.named_children()), STAGE_PROBABILITIES]


@cache
def _shapes(model: nn.Sequential) -> dict[str, tuple[int, ...]]:
    # One blank forward pass per model: the shapes do not depend on the drawing.
    with torch.inference_mode():
        _, outputs = staged_forward(model, torch.zeros(1, 1, 28, 28, dtype=model_dtype(model)))
    shapes = {STAGE_INPUT: (1, 28, 28)}
    shapes.update({name: tuple(int(s) for s in out.shape[1:]) for name, out in outputs.items()})
    shapes[STAGE_PROBABILITIES] = shapes[next(reversed(outputs))]
    return shapes


def stage_shape(model: nn.Sequential, stage: str) -> tuple[int, ...]:
    """The output shape of ``stage`` without the batch dimension: (C, H, W) for maps, (N,) for vectors."""
    _check_stage(model, stage)
    return _shapes(model)[stage]


# The inspector shows these checks' messages in its dialog: they are catalogue texts.
def _check_stage(model: nn.Sequential, stage: str) -> None:
    stages = inspectable_stages(model)
    if not isinstance(stage, str) or stage not in stages:
        raise ValueError(plain("lessons.inspector.unknown_stage", stage=repr(stage), stages=", ".join(stages)))


def _check_position(stage: str, shape: tuple[int, ...], unit: int, row: int, col: int) -> None:
    if len(shape) == 3:
        check_int(plain("lessons.inspector.check_map", stage=stage), unit, 0, shape[0] - 1)
        check_int(plain("lessons.inspector.check_row", stage=stage), row, 0, shape[1] - 1)
        check_int(plain("lessons.inspector.check_column", stage=stage), col, 0, shape[2] - 1)
        return
    check_int(plain("lessons.inspector.check_index", stage=stage), unit, 0, shape[0] - 1)
    check_int(plain("lessons.inspector.check_row_given"), row, 0)
    check_int(plain("lessons.inspector.check_col_given"), col, 0)
    if row != 0 or col != 0:
        raise ValueError(plain("lessons.inspector.not_a_map", stage=stage, count=shape[0], row=row, col=col))


def _kind(module: nn.Module) -> str:
    if isinstance(module, Normalize):
        return "normalize"
    if isinstance(module, nn.Dropout):
        return "dropout"
    kind = stage_kind(module)
    if kind in (CONV, ACTIVATION, POOL, FLATTEN, FULLY_CONNECTED):
        return kind
    raise ValueError(plain("lessons.inspector.not_explained", module=type(module).__name__))


def _activate(module: nn.Module, value: float) -> float:
    # The stage's own module on one float64 number: max(0, v) for ReLU, exactly as the model applies it.
    with torch.inference_mode():
        return float(module(torch.tensor(value, dtype=torch.float64)))


def _weighted_sum(names: list[str], modules: list[nn.Module], index: int, outputs: dict[str, np.ndarray],
                  unit: int) -> WeightedSum:
    layer, linear = names[index], modules[index]
    input_stage = names[index - 1] if index > 0 else STAGE_INPUT
    x = outputs[input_stage].reshape(-1).astype(np.float64)
    weights = linear.weight[unit].detach().cpu().double().numpy()
    products = weights * x  # float64 products of the float32 numbers: the exact reference
    order = np.argsort(-np.abs(products), kind="stable")
    top, others = order[:TOP_TERMS], order[TOP_TERMS:]
    # The input's position in the maps it was flattened from, so a learner can find it in the picture.
    origin_stage = None
    if index > 0 and isinstance(modules[index - 1], nn.Flatten):
        origin_stage = names[index - 2] if index > 1 else STAGE_INPUT
    origin_shape = outputs[origin_stage].shape if origin_stage is not None else None
    terms = tuple(Term(index=int(i), x=float(x[i]), weight=float(weights[i]), product=float(products[i]),
                       origin=tuple(int(v) for v in np.unravel_index(int(i), origin_shape)) if origin_shape else None)
                  for i in top)
    bias = float(linear.bias[unit].detach()) if linear.bias is not None else 0.0
    return WeightedSum(layer=layer, input_stage=input_stage, origin_stage=origin_stage, n_inputs=len(x),
                       nonzero_inputs=int(np.count_nonzero(x)), terms=terms, rest=float(products[others].sum()),
                       rest_count=len(others), bias=bias, total=float(products.sum()) + bias)


def _conv_parts(ov: OneValue) -> dict:
    """The input channels to show in full (largest |sum| first) and the rest added up."""
    order = np.argsort(-np.abs(ov.channel_sums), kind="stable")
    shown = tuple(int(c) for c in order[:TOP_CHANNELS])
    others = float(ov.channel_sums[order[TOP_CHANNELS:]].sum())
    return {"conv": ov, "shown_channels": shown, "other_channels_sum": others}


def inspect_value(model: nn.Sequential, input28: np.ndarray, stage: str, unit: int, row: int = 0,
                  col: int = 0) -> Inspection:
    """How value (``unit``, ``row``, ``col``) of ``stage`` was made from the drawing ``input28`` (28×28 in [0, 1]).

    ``unit`` is the channel for map stages and the index for vector stages (flatten, fully connected, dropout,
    probabilities), whose ``row`` and ``col`` must be 0. Raises ValueError for an unknown stage or a position
    outside the stage's output.
    """
    _check_stage(model, stage)
    shape = _shapes(model)[stage]
    _check_position(stage, shape, unit, row, col)
    batch = as_batch(input28, model_dtype(model))
    with torch.inference_mode():
        logits, tensors = staged_forward(model, batch)
        probabilities = torch.softmax(logits.double(), dim=1)[0]
    outputs = {STAGE_INPUT: batch[0].float().numpy()}
    outputs.update({name: out[0].float().numpy() for name, out in tensors.items()})
    unit, row, col = int(unit), int(row), int(col)
    where = (unit, row, col) if len(shape) == 3 else (unit,)
    base = {"stage": stage, "unit": unit, "row": row, "col": col}

    if stage == STAGE_INPUT:
        pixel = float(outputs[STAGE_INPUT][where])
        return Inspection(kind="input", value=pixel, model_value=pixel, source_map=outputs[STAGE_INPUT][0], **base)
    if stage == STAGE_PROBABILITIES:
        z = logits[0].double().numpy()
        shift = float(z.max())
        exps = np.exp(z - shift)
        exp_sum = float(exps.sum())
        return Inspection(kind="softmax", value=float(exps[unit] / exp_sum), model_value=float(probabilities[unit]),
                          source=next(reversed(tensors)), source_value=float(z[unit]),
                          softmax=Softmax(logits=z, shift=shift, exps=exps, exp_sum=exp_sum), **base)

    names = [name for name, _ in model.named_children()]
    modules = [module for _, module in model.named_children()]
    index = names.index(stage)
    module, kind = modules[index], _kind(modules[index])
    source = names[index - 1] if index > 0 else STAGE_INPUT
    model_value = float(outputs[stage][where])
    base.update(kind=kind, model_value=model_value, source=source)

    if kind == "normalize":
        x = float(outputs[source][where])
        mean, std = float(module.mean), float(module.std)
        return Inspection(value=(x - mean) / std, source_value=x, source_map=outputs[source][unit], mean=mean,
                          std=std, **base)
    if kind == CONV:
        ov = one_value(model, input28, stage, unit, row, col)
        return Inspection(value=ov.pre_activation, **_conv_parts(ov), **base)
    if kind == ACTIVATION:
        before = _kind(modules[index - 1]) if index > 0 else None
        function = type(module).__name__
        if before == CONV:  # the conv breakdown, then ReLU; one_value applies this very stage to the sum
            ov = one_value(model, input28, source, unit, row, col)
            return Inspection(value=ov.activation, source_value=ov.pre_activation, function=function,
                              **_conv_parts(ov), **base)
        if before == FULLY_CONNECTED:
            weighted = _weighted_sum(names, modules, index - 1, outputs, unit)
            return Inspection(value=_activate(module, weighted.total), source_value=weighted.total,
                              weighted=weighted, function=function, **base)
        x = float(outputs[source][where])
        return Inspection(value=_activate(module, x), source_value=x, function=function, **base)
    if kind == POOL:
        if module.padding not in (0, (0, 0)) or module.ceil_mode or getattr(module, "dilation", 1) not in (1, (1, 1)):
            raise ValueError(plain("lessons.inspector.plain_pooling_only", stage=stage))
        size = module.kernel_size if isinstance(module.kernel_size, int) else module.kernel_size[0]
        stride = module.stride or size
        stride = stride if isinstance(stride, int) else stride[0]
        pool_kind = "max" if isinstance(module, nn.MaxPool2d) else "mean"
        fmap = outputs[source][unit]
        window = pool_window(fmap, pool_kind, size, stride, row, col)
        return Inspection(value=window.kept, source_map=fmap, window=window, **base)
    if kind == FLATTEN:
        origin = tuple(int(v) for v in np.unravel_index(unit, outputs[source].shape))
        x = float(outputs[source][origin])
        fmap = outputs[source][origin[0]] if len(origin) == 3 else None
        return Inspection(value=x, source_value=x, source_map=fmap, origin=origin, **base)
    if kind == FULLY_CONNECTED:
        weighted = _weighted_sum(names, modules, index, outputs, unit)
        return Inspection(value=weighted.total, weighted=weighted, **base)
    # Dropout: at inference (eval mode) it passes every value on unchanged.
    x = float(outputs[source][where])
    return Inspection(value=x, source_value=x, dropout_p=float(module.p), **base)
