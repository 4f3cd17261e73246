"""How much noise each layer of the network takes before it breaks: the figures the Break it tab states.

For every layer Break it can damage, Gaussian noise of k × the layer's own weight standard deviation is added to
its weights exactly as the tab adds it (demo/teaching/lessons/break_it.py: ``broken_weights``), and the damaged
network reads the first ``digits`` MNIST test digits, once per seed; the figure is the share read right, averaged
over the seeds. ``python -m tools.break_it_report --data-dir ../shared/data/mnist`` measures it and writes
``weights/break_it.json``; tests/test_teaching_texts.py measures it again and compares.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .lessons.break_it import broken_weights, layer_choices

NOISE_LEVELS = (0.5, 1.0, 2.0, 3.0)  # in units of the layer's own weight standard deviation
SEEDS = (0, 1, 2)
DIGITS = 200


def _damaged_logits(model: nn.Sequential, x: torch.Tensor, layer: str, weight: torch.Tensor,
                    bias: torch.Tensor | None) -> torch.Tensor:
    """The whole network on a batch ``x`` with ``layer``'s weights replaced (the tab's stage loop, batched)."""
    with torch.inference_mode():
        for name, stage in model.named_children():
            if name != layer:
                x = stage(x)
            elif isinstance(stage, nn.Conv2d):
                x = F.conv2d(x, weight, bias, stage.stride, stage.padding, stage.dilation, stage.groups)
            else:
                x = F.linear(x, weight, bias)
    return x


def accuracy_under_noise(model: nn.Sequential, images: np.ndarray, labels: np.ndarray,
                         levels: tuple[float, ...] = NOISE_LEVELS,
                         seeds: tuple[int, ...] = SEEDS) -> dict[str, list[float]]:
    """Layer -> the share of ``images`` (uint8 N×28×28) read right at each noise level, averaged over ``seeds``."""
    dtype = next(model.parameters()).dtype
    x = torch.from_numpy(np.asarray(images, dtype=np.float32) / 255.0).to(dtype)[:, None]
    y = torch.from_numpy(np.asarray(labels)).long()
    result: dict[str, list[float]] = {}
    for layer in layer_choices(model):
        shares = []
        for level in levels:
            right = [float((_damaged_logits(model, x, layer, *broken_weights(model, layer, [], level, seed))
                            .argmax(1) == y).float().mean()) for seed in seeds]
            shares.append(round(float(np.mean(right)), 4))
        result[layer] = shares
    return result
