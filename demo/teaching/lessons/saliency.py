"""Which input pixels drove an answer: gradient × input, and Grad-CAM on the last convolution stage."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from demo.core.model import ACTIVATION, CONV, FLATTEN, FULLY_CONNECTED, stage_kind
from demo.texts import plain

from .checks import as_batch, check_int, model_dtype


@dataclass(frozen=True)
class Saliency:
    """Which pixels push the class score: the gradient of the target class's logit with respect to the input."""

    target: int  # the class explained (the predicted one unless asked otherwise)
    logit: float  # its score before softmax
    gradient: np.ndarray  # (28, 28) float32: d logit / d pixel
    gradient_x_input: np.ndarray  # (28, 28) float32: gradient × pixel, the saliency map (0 on black background)


def _check_target(target: int | None) -> None:
    if target is not None:
        check_int(plain("lessons.saliency.check_target"), target, 0, 9)


@contextmanager
def _gradient_mode() -> Iterator[None]:
    """Gradients for this computation only.

    The app's threads run the model under ``torch.inference_mode``, which is thread-local, and this may even be
    called inside it: gradients need inference mode off *and* grad mode on. The model itself is never touched (no
    hooks, no ``requires_grad`` changes, no ``.grad`` written: ``torch.autograd.grad`` differentiates only the
    tensors it is asked about).
    """
    with torch.inference_mode(False), torch.enable_grad():
        yield


def saliency(model: nn.Sequential, input28: np.ndarray, target: int | None = None) -> Saliency:
    """Gradient × input of the ``target`` logit (default: the predicted class) with respect to the 28×28 input."""
    _check_target(target)
    with _gradient_mode():
        x = as_batch(input28, model_dtype(model)).requires_grad_(True)
        logits = model(x)
        target = int(logits[0].argmax()) if target is None else int(target)
        (gradient,) = torch.autograd.grad(logits[0, target], x)
    grad = gradient[0, 0].detach().numpy()
    pixels = x.detach()[0, 0].numpy()
    return Saliency(target=target, logit=float(logits[0, target].detach()), gradient=grad.astype(np.float32),
                    gradient_x_input=(grad * pixels).astype(np.float32))


def grad_cam_layer(model: nn.Sequential) -> str:
    """The activation stage after the last convolution layer: the last feature maps that still have a layout."""
    stages = list(model.named_children())
    convs = [i for i, (_, module) in enumerate(stages) if stage_kind(module) == CONV]
    if not convs:
        raise ValueError("Grad-CAM needs a convolution layer; this model (a fully connected net) has none")
    for name, module in stages[convs[-1] + 1:]:
        if stage_kind(module) == ACTIVATION:
            return name
        if stage_kind(module) in (FLATTEN, FULLY_CONNECTED):
            break
    return stages[convs[-1]][0]


def grad_cam(model: nn.Sequential, input28: np.ndarray, target: int | None = None,
             layer: str | None = None) -> np.ndarray:
    """Grad-CAM: where in the image the feature maps of ``layer`` speak for the ``target`` class (default: the
    predicted one). Returns (28, 28) float32 in [0, 1].

    Each feature map of ``layer`` (default: the ReLU after the last convolution, 'relu3' in the shipped CNN) is
    weighted by the mean gradient of the target logit over it; the ReLU of the weighted sum is upsampled
    bilinearly to 28×28 and divided by its maximum (all zeros if nothing speaks for the class).
    """
    _check_target(target)
    names = [name for name, _ in model.named_children()]
    layer = grad_cam_layer(model) if layer is None else layer
    if layer not in names:
        raise ValueError(f"unknown stage {layer!r}; this model has {', '.join(names)}")
    with _gradient_mode():
        x = as_batch(input28, model_dtype(model))
        maps = None
        for name, stage in model.named_children():
            x = stage(x)
            if name == layer:
                if x.ndim != 4:
                    raise ValueError(f"Grad-CAM needs feature maps; stage {layer!r} outputs shape "
                                     f"{tuple(x.shape[1:])}")
                maps = x
        target = int(x[0].argmax()) if target is None else int(target)
        (grads,) = torch.autograd.grad(x[0, target], maps)
        weights = grads[0].mean(dim=(1, 2))
        cam = torch.relu((weights[:, None, None] * maps[0]).sum(dim=0)).detach()
    cam = F.interpolate(cam[None, None].float(), size=(28, 28), mode="bilinear", align_corners=False)[0, 0]
    peak = float(cam.max())
    if peak <= 0:
        return np.zeros((28, 28), dtype=np.float32)
    return (cam / peak).clamp(0, 1).numpy().astype(np.float32)


def stage_shape(model: nn.Sequential, stage: str) -> tuple[int, ...]:
    """The output shape of ``stage`` (without the batch dimension), from a forward pass of a blank input."""
    x = torch.zeros(1, 1, 28, 28, dtype=model_dtype(model))
    with torch.inference_mode():
        for name, module in model.named_children():
            x = module(x)
            if name == stage:
                return tuple(int(s) for s in x.shape[1:])
    raise ValueError(f"unknown stage {stage!r}")
