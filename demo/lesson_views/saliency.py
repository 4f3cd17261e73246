"""Saliency: which input pixels drove the score of a class, as a heat overlay on the drawing."""

from __future__ import annotations

import html

import numpy as np
from torch import nn

from .. import explanations, render
from ..lessons import saliency as lessons_saliency
from .common import img, lesson, placeholder


def saliency_html(input28: np.ndarray | None, model: nn.Sequential, target: int | None, method: str) -> str:
    """Which input pixels drove the score of ``target`` (None: the predicted class), as a heat overlay."""
    title = "Saliency: which pixels drove the answer"
    if input28 is None:
        return placeholder("saliency", title, explanations.SALIENCY)
    result = lessons_saliency.saliency(model, input28, target)
    chosen = result.target
    if method == "Grad-CAM":
        heat = lessons_saliency.grad_cam(model, input28, chosen)
        what = "Grad-CAM on the last convolution stage (7×7, enlarged)"
    else:
        positive = result.gradient_x_input[result.gradient_x_input > 0]
        # Scaled to the 98th percentile so a few extreme pixels do not leave the rest invisible.
        scale = float(np.percentile(positive, 98)) if positive.size else 1.0
        heat = np.clip(result.gradient_x_input / max(scale, 1e-12), 0, 1)  # raising pixels; lowering ones stay dark
        what = "gradient × input: pixels whose ink raises the score"
    rgb = render.heat_overlay(input28, heat)
    body = (f'<figure>{img(render.rgb_data_uri(rgb), "saliency overlay", 224)}'
            f'<figcaption>{what}, for class <b>{chosen}</b></figcaption></figure>')
    return lesson("saliency", title, body, explanations.SALIENCY,
                   f' data-state="ready" data-target="{chosen}" data-method="{html.escape(method)}"')
