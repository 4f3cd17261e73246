"""Break it: switch chosen filters (output channels) of one layer off, or add noise to its weights, and run the
drawing through the damaged network.

The network is shared by every user of the server and called from many threads at once, so it is never modified,
not even for a moment: the damaged layer's weight and bias are fresh tensors (copies of that one layer only) and
the forward pass is this module's own stage loop, which calls the damaged layer with ``F.conv2d`` / ``F.linear``
on those copies and every other stage as it is. (``torch.func.functional_call`` is not used: it works by swapping
the module's parameters in place for the duration of the call, which another thread could observe.)

Switching a channel off makes its output exactly zero: the filter's weights and its bias are zeroed (for a fully
connected layer, one hidden unit's row of weights and its bias). Noise is Gaussian with a standard deviation of
``noise`` × the layer's own weight standard deviation, drawn from a generator seeded with ``seed``, so the same
settings always give the same picture.
"""

from __future__ import annotations

import math
import re
from collections import OrderedDict
from collections.abc import Iterable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from demo.core.model import ACTIVATION, CONV, FULLY_CONNECTED, POOL, stage_kind
from demo.texts import localised, plain

from .checks import as_batch, check_int, model_dtype

MAX_NOISE = 5.0  # noise std in units of the layer's own weight std; at 5 the layer is mostly noise
NOISE_STEP = 0.05  # a slider's step for the noise level
DEFAULT_SEED = 0
MAX_SEED = 2 ** 63 - 1  # torch.Generator.manual_seed takes a 64-bit integer
MAX_CHANNELS_TEXT = 1000  # characters of channel text read at all: a page never needs more

_RANGE = re.compile(r"(\d+)\s*[-–—]\s*(\d+)")  # "7-9", also with an en or em dash as people type them
_NUMBER = re.compile(r"\d+")


def layer_choices(model: nn.Sequential) -> list[str]:
    """The layers that can be broken, in order: every convolution and every hidden fully connected layer. The last
    fully connected layer is left out: its outputs are the ten class scores, not learned features."""
    stages = list(model.named_children())
    linears = [name for name, m in stages if stage_kind(m) == FULLY_CONNECTED]
    output = linears[-1] if linears else None
    return [name for name, m in stages
            if stage_kind(m) == CONV or (stage_kind(m) == FULLY_CONNECTED and name != output)]


def channel_count(model: nn.Sequential, layer: str) -> int:
    """How many channels (filters) a conv layer has, or hidden units a fully connected layer has."""
    module = _breakable(model, layer)
    return module.out_channels if isinstance(module, nn.Conv2d) else module.out_features


def _breakable(model: nn.Sequential, layer: str) -> nn.Conv2d | nn.Linear:
    choices = layer_choices(model)
    if not isinstance(layer, str) or layer not in choices:
        # The tab shows this message (and parse_channels' and validate's) as its notice: texts for the learner.
        raise ValueError(plain("lessons.break_it.layer_not_breakable",
                               choices=", ".join(choices) or plain("lessons.break_it.no_layers"), layer=repr(layer)))
    module = getattr(model, layer)
    if isinstance(module, nn.Conv2d) and module.padding_mode != "zeros":
        # The stage loop calls F.conv2d, which pads with zeros only.
        raise ValueError(f"{layer} pads with {module.padding_mode!r}; only zero-padded convolutions can be broken")
    return module


def parse_channels(text: str | None, count: int) -> list[int]:
    """Channel numbers as a person types them, e.g. "3, 7-9" -> [3, 7, 8, 9] (sorted, each once). Commas, spaces
    or semicolons separate; "a-b" is a range, both ends included; empty text means none. Channels are numbered
    0 to ``count`` − 1. Raises ValueError naming the part that could not be read."""
    if text is None:
        return []
    if not isinstance(text, str):
        raise ValueError(f"channels must be text like '3, 7-9', got {type(text).__name__}")
    if len(text) > MAX_CHANNELS_TEXT:
        raise ValueError(plain("lessons.break_it.channels_too_long", length=localised(f"{len(text):,}"),
                               most=localised(f"{MAX_CHANNELS_TEXT:,}")))
    chosen: set[int] = set()
    for part in re.split(r"[,;]", text):
        # A range may be written with spaces around its dash ("7 - 9"); everything else splits on spaces.
        for token in re.split(r"\s+", re.sub(r"\s*([-–—])\s*", r"\1", part.strip())):
            if not token:
                continue
            if (match := _RANGE.fullmatch(token)) is not None:
                low, high = int(match[1]), int(match[2])
                if low > high:
                    raise ValueError(plain("lessons.break_it.range_backwards", token=repr(token), high=high, low=low))
                _check_channel(high, count, token)
                _check_channel(low, count, token)
                chosen.update(range(low, high + 1))
            elif _NUMBER.fullmatch(token):
                _check_channel(int(token), count, token)
                chosen.add(int(token))
            else:
                raise ValueError(plain("lessons.break_it.not_a_channel", token=repr(token), last=count - 1))
    return sorted(chosen)


def _check_channel(channel: int, count: int, token: str) -> None:
    if not 0 <= channel < count:
        raise ValueError(plain("lessons.break_it.channel_out_of_range", channel=channel, token=repr(token), count=count,
                               last=count - 1))


def validate(model: nn.Sequential, layer: str, channels: Iterable[int], noise: float) -> tuple[str, list[int], float]:
    """Checks the settings: ``layer`` from :func:`layer_choices`, every channel an integer in range, ``noise`` a
    number in [0, MAX_NOISE]. Returns (layer, the channels sorted and each once, noise as a float); raises
    ValueError with a message a learner can act on."""
    count = channel_count(model, layer)
    checked: set[int] = set()
    for channel in channels:
        check_int(plain("lessons.break_it.check_channel", layer=layer), channel, 0, count - 1)
        checked.add(int(channel))
    if isinstance(noise, bool) or not isinstance(noise, (int, float, np.integer, np.floating)) \
            or not math.isfinite(noise) or not 0 <= noise <= MAX_NOISE:
        raise ValueError(plain("lessons.break_it.noise_out_of_range", most=localised(f"{MAX_NOISE:g}"),
                               noise=repr(noise)))
    return layer, sorted(checked), float(noise)


def check_seed(seed: int) -> int:
    """The seed as an int; integral floats (a page's number box sends 3.0) are accepted."""
    if isinstance(seed, (float, np.floating)) and float(seed).is_integer():
        seed = int(seed)
    check_int(plain("lessons.break_it.check_seed"), seed, 0)
    if seed > MAX_SEED:  # said apart: the true limit, a 19-digit number, would only puzzle a learner
        raise ValueError(plain("lessons.break_it.seed_too_large"))
    return int(seed)


def broken_weights(model: nn.Sequential, layer: str, channels_off: Iterable[int], noise: float,
                   seed: int = DEFAULT_SEED) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The damaged layer's (weight, bias): new tensors, the model's own are only read.

    Noise first: weight + noise × weight.std() × N(0, 1), the normal numbers drawn on the CPU from
    ``torch.Generator().manual_seed(seed)`` in the weight's shape (the bias gets none). Then the channels that are
    off get zero weights and a zero bias, so their output is exactly zero, noise or not."""
    layer, channels, noise = validate(model, layer, channels_off, noise)
    seed = check_seed(seed)
    module = _breakable(model, layer)
    with torch.no_grad():
        weight = module.weight.detach().clone()
        bias = module.bias.detach().clone() if module.bias is not None else None
        if noise > 0:
            generator = torch.Generator().manual_seed(seed)
            draws = torch.randn(weight.shape, generator=generator, dtype=weight.dtype)
            weight = weight + noise * weight.std() * draws.to(weight.device)
        if channels:
            weight[channels] = 0
            if bias is not None:
                bias[channels] = 0
    return weight, bias


def reset_settings(model: nn.Sequential) -> tuple[str, str, float, int]:
    """What a reset sets: (the first breakable layer, no channels off, no noise, the default seed)."""
    return layer_choices(model)[0], "", 0.0, DEFAULT_SEED


def recorded_stages(model: nn.Sequential) -> list[str]:
    """The stages whose outputs are recorded, as :class:`~demo.core.classifier.Classifier` records them."""
    return [name for name, m in model.named_children() if stage_kind(m) in (CONV, ACTIVATION, POOL)]


def broken_forward(model: nn.Sequential, input28: np.ndarray, layer: str, channels_off: Iterable[int],
                   noise: float, seed: int = DEFAULT_SEED) -> tuple[np.ndarray, OrderedDict[str, np.ndarray]]:
    """Probabilities (10,) and recorded stage outputs of the network with ``layer`` damaged, shaped and keyed as
    :meth:`Classifier.forward_staged <demo.core.classifier.Classifier.forward_staged>` returns them. With no channels
    off and noise 0 this is exactly the intact network's forward pass."""
    weight, bias = broken_weights(model, layer, channels_off, noise, seed)
    x = as_batch(input28, model_dtype(model))
    recorded = set(recorded_stages(model))
    activations: OrderedDict[str, np.ndarray] = OrderedDict()
    with torch.inference_mode():
        for name, stage in model.named_children():
            if name != layer:
                x = stage(x)  # an untouched stage: calling a module reads its parameters, nothing more
            elif isinstance(stage, nn.Conv2d):
                # The same call nn.Conv2d.forward makes, on the copies: the intact case stays bit for bit equal.
                x = F.conv2d(x, weight, bias, stage.stride, stage.padding, stage.dilation, stage.groups)
            else:
                x = F.linear(x, weight, bias)
            if name in recorded:
                out = x[0].numpy()
                activations[name] = out if out.ndim == 3 else out.reshape(-1, 1, 1)
        probs = torch.softmax(x.double(), dim=1)[0].numpy()
    return probs, activations


def stages_from(model: nn.Sequential, layer: str) -> list[str]:
    """The recorded stages from ``layer`` on: the ones breaking ``layer`` can change."""
    names = [name for name, _ in model.named_children()]
    start = names.index(layer)
    recorded = set(recorded_stages(model))
    return [name for name in names[start:] if name in recorded]
