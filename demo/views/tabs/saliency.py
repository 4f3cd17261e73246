"""Saliency: which input pixels drove the score of a class, as a heat overlay on the drawing."""

from __future__ import annotations

import html

import numpy as np
from torch import nn

from demo.teaching import explanations
from demo.teaching.explanations import signed
from demo.teaching.lessons import saliency as lessons_saliency
from demo.texts import plain, say
from demo.views import render
from demo.views.panels import legend

from .common import img, lesson, placeholder


def saliency_html(input28: np.ndarray | None, model: nn.Sequential, target: int | None, method: str) -> str:
    """Which input pixels drove the score of ``target`` (None: the predicted class), as a heat overlay."""
    title = say("tabs.saliency.title")
    cam_layer = lessons_saliency.grad_cam_layer(model)
    cam_shape = lessons_saliency.stage_shape(model, cam_layer)[-2:]
    explanation = explanations.saliency(cam_layer, cam_shape)
    if input28 is None:
        return placeholder("saliency", title, explanation)
    result = lessons_saliency.saliency(model, input28, target)
    chosen = result.target
    if method == "Grad-CAM":
        heat = lessons_saliency.grad_cam(model, input28, chosen)
        what = say("tabs.saliency.what_grad_cam", layer=cam_layer, rows=cam_shape[0], cols=cam_shape[1])
        scale = legend("heat", "0", say("tabs.saliency.legend_strongest"))
    else:
        positive = result.gradient_x_input[result.gradient_x_input > 0]
        # Scaled to the 98th percentile so a few extreme pixels do not leave the rest invisible.
        top = float(np.percentile(positive, 98)) if positive.size else 1.0
        heat = np.clip(result.gradient_x_input / max(top, 1e-12), 0, 1)  # raising pixels; lowering ones stay dark
        what = say("tabs.saliency.what_gradient")
        scale = legend("heat", "0", say("tabs.saliency.legend_or_more", value=signed(top)))
    rgb = render.heat_overlay(input28, heat)
    caption = say("tabs.saliency.caption", what=what, digit=chosen, score=signed(result.logit))
    body = (f'<figure>{img(render.rgb_data_uri(rgb), plain("tabs.saliency.alt_overlay"), 224)}'
            f'<figcaption>{caption}</figcaption><div class="layer-caption">{scale}</div></figure>')
    return lesson("saliency", title, body, explanation,
                  f' data-state="ready" data-target="{chosen}" data-method="{html.escape(method)}" '
                  f'data-cam-layer="{cam_layer}" data-cam-size="{cam_shape[0]}x{cam_shape[1]}"')
