"""The networks: a CNN made of named stages, and the MLP, a plain fully connected network (the tutorial's "ANN";
a CNN is an artificial neural network too, so the app calls it the MLP).

This module has no side effects: training (``train.py``) and inference (``demo.core.classifier``) both import it, and
the architecture is rebuilt from a plain ``dict`` config stored in every checkpoint.

Every stage of the CNN is a named child of an ``nn.Sequential``, so running the children one by one
(:func:`staged_forward`) is, by construction, the same computation as ``model(x)``; the app shows each stage's
output.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import torch
from torch import nn

# MNIST training-set pixel statistics (see ../shared/data/mnist/README.md). Inputs to every model are in [0, 1];
# the model normalises them itself, so callers never have to remember these numbers.
MNIST_MEAN = 0.1307
MNIST_STD = 0.3081

# Stage kinds, as the tutorial names them; the app groups its views by these.
CONV, ACTIVATION, POOL, FLATTEN, FULLY_CONNECTED, OTHER = "conv", "activation", "pool", "flatten", "fc", "other"


def default_config(arch: str) -> dict[str, Any]:
    """The architecture config for ``arch`` ('cnn', 'cnn-small' or 'mlp'); stored verbatim in checkpoints."""
    if arch == "cnn":
        # conv 5x5 -> pool -> two 3x3 convs -> pool -> fc. At most 64 channels a layer so a projector can show them.
        return {
            "arch": "cnn",
            "conv_layers": [
                {"out_channels": 32, "kernel_size": 5, "pool_after": True},
                {"out_channels": 64, "kernel_size": 3, "pool_after": False},
                {"out_channels": 64, "kernel_size": 3, "pool_after": True},
            ],
            "hidden": 128,
            "dropout": 0.25,
            "batchnorm": True,
            "mean": MNIST_MEAN,
            "std": MNIST_STD,
        }
    if arch == "cnn-small":
        # The fast recipe: two 5x5 convs of 16 and 32 channels train one MNIST epoch in ~15 s on 2 cores.
        return {
            "arch": "cnn",
            "conv_layers": [
                {"out_channels": 16, "kernel_size": 5, "pool_after": True},
                {"out_channels": 32, "kernel_size": 5, "pool_after": True},
            ],
            "hidden": 128,
            "dropout": 0.1,
            "batchnorm": True,
            "mean": MNIST_MEAN,
            "std": MNIST_STD,
        }
    if arch == "mlp":
        return {"arch": "mlp", "hidden_layers": [512, 256], "dropout": 0.2, "mean": MNIST_MEAN, "std": MNIST_STD}
    raise ValueError(f"unknown architecture {arch!r}; expected 'cnn', 'cnn-small' or 'mlp'")


class Normalize(nn.Module):
    """Maps [0, 1] pixels to the standardised scale the network was trained on."""

    def __init__(self, mean: float, std: float) -> None:
        super().__init__()
        self.mean = mean
        self.std = std

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std

    def extra_repr(self) -> str:
        return f"mean={self.mean}, std={self.std}"


def build_model(config: dict[str, Any]) -> nn.Sequential:
    """Builds the network described by ``config`` (see :func:`default_config`), in training form."""
    if config["arch"] == "cnn":
        return _build_cnn(config)
    if config["arch"] == "mlp":
        return _build_mlp(config)
    raise ValueError(f"unknown architecture {config['arch']!r} in config")


def _build_cnn(config: dict[str, Any]) -> nn.Sequential:
    stages: OrderedDict[str, nn.Module] = OrderedDict()
    stages["normalize"] = Normalize(config["mean"], config["std"])
    channels, size, pools = 1, 28, 0
    for i, layer in enumerate(config["conv_layers"], start=1):
        k = layer["kernel_size"]
        # Odd kernels with padding k//2 give "same" convolution: the map keeps its size, only pooling shrinks it.
        # A conv followed by batch norm needs no bias; norm is folded into the conv for the shipped weights.
        batchnorm = config.get("batchnorm", False)
        stages[f"conv{i}"] = nn.Conv2d(channels, layer["out_channels"], k, padding=k // 2, bias=not batchnorm)
        if batchnorm:
            stages[f"bn{i}"] = nn.BatchNorm2d(layer["out_channels"])
        stages[f"relu{i}"] = nn.ReLU()
        channels = layer["out_channels"]
        if layer["pool_after"]:
            pools += 1
            stages[f"pool{pools}"] = nn.MaxPool2d(2)
            size //= 2
    n_conv = len(config["conv_layers"])
    stages["flatten"] = nn.Flatten()
    stages["fc1"] = nn.Linear(channels * size * size, config["hidden"])
    stages[f"relu{n_conv + 1}"] = nn.ReLU()
    stages["dropout"] = nn.Dropout(config["dropout"])
    stages["fc2"] = nn.Linear(config["hidden"], 10)
    return nn.Sequential(stages)


def _build_mlp(config: dict[str, Any]) -> nn.Sequential:
    stages: OrderedDict[str, nn.Module] = OrderedDict()
    stages["normalize"] = Normalize(config["mean"], config["std"])
    stages["flatten"] = nn.Flatten()
    width = 28 * 28
    for i, hidden in enumerate(config["hidden_layers"], start=1):
        stages[f"fc{i}"] = nn.Linear(width, hidden)
        stages[f"relu{i}"] = nn.ReLU()
        stages[f"dropout{i}"] = nn.Dropout(config["dropout"])
        width = hidden
    stages[f"fc{len(config['hidden_layers']) + 1}"] = nn.Linear(width, 10)
    return nn.Sequential(stages)


def stage_kind(module: nn.Module) -> str:
    """The tutorial's name for what a stage does."""
    if isinstance(module, nn.Conv2d):
        return CONV
    if isinstance(module, (nn.ReLU, nn.GELU, nn.Tanh, nn.Sigmoid)):
        return ACTIVATION
    if isinstance(module, (nn.MaxPool2d, nn.AvgPool2d)):
        return POOL
    if isinstance(module, nn.Flatten):
        return FLATTEN
    if isinstance(module, nn.Linear):
        return FULLY_CONNECTED
    return OTHER


@torch.no_grad()
def fold_batchnorm(model: nn.Sequential) -> nn.Sequential:
    """Returns an equivalent eval-mode model with every ``conv -> bn`` pair merged into one conv with a bias.

    The shipped CNN then consists only of the tutorial's layer kinds, and the kernels the app shows are the ones
    that really produce the feature maps. Works on a copy; ``model`` is untouched.
    """
    folded: OrderedDict[str, nn.Module] = OrderedDict()
    names = list(model._modules)
    i = 0
    while i < len(names):
        name, module = names[i], model._modules[names[i]]
        nxt = model._modules[names[i + 1]] if i + 1 < len(names) else None
        if isinstance(module, nn.Conv2d) and isinstance(nxt, nn.BatchNorm2d):
            scale = nxt.weight / torch.sqrt(nxt.running_var + nxt.eps)
            conv = nn.Conv2d(module.in_channels, module.out_channels, module.kernel_size,
                             stride=module.stride, padding=module.padding, bias=True)
            conv.weight.copy_(module.weight * scale[:, None, None, None])
            bias = module.bias if module.bias is not None else torch.zeros_like(nxt.running_mean)
            conv.bias.copy_((bias - nxt.running_mean) * scale + nxt.bias)
            folded[name] = conv
            i += 2
        else:
            folded[name] = module
            i += 1
    return nn.Sequential(folded).eval()


def inference_config(config: dict[str, Any]) -> dict[str, Any]:
    """The config of the model after :func:`fold_batchnorm`: what checkpoints store."""
    return {**config, "batchnorm": False} if config["arch"] == "cnn" else dict(config)


def staged_forward(model: nn.Sequential, x: torch.Tensor) -> tuple[torch.Tensor, OrderedDict[str, torch.Tensor]]:
    """Runs ``model`` one named stage at a time; returns the logits and every stage's output, in order.

    The logits are exactly ``model(x)``: the same modules run in the same order on the same tensors.
    """
    outputs: OrderedDict[str, torch.Tensor] = OrderedDict()
    for name, stage in model.named_children():
        x = stage(x)
        outputs[name] = x
    return x, outputs


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
