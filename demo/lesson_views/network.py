"""Classroom mode's layer-by-layer view: the whole forward pass in order, one step per stage, for revealing one
layer at a time."""

from __future__ import annotations

import html

from torch import nn

from .. import render, theme
from ..classifier import Prediction
from .common import img, probability_bars


def network_html(pred: Prediction | None, model: nn.Sequential) -> str:
    """Classroom mode: the whole forward pass in order, one step per stage group, for revealing layer by layer.

    Each step carries ``data-step`` (1 = the input ... last = the answer); the page's stepper hides later steps.
    """
    if pred is None or not pred.activations:
        return ('<div id="network" class="network empty" data-steps="0"><div class="placeholder">draw a digit and '
                'step through the network layer by layer</div></div>')
    steps = [("input", "1×28×28 numbers", img(render.gray_picture(pred.input28).data_uri(), "model input", 168))]
    modules = dict(model.named_children())
    for name, maps in pred.activations.items():
        c, h, w = maps.shape
        if h == 1:  # fully connected activations: a strip of bars, not a map
            picture = render.feature_map_picture(maps.reshape(1, 8, -1), columns=1)
            steps.append((name, f"{c} hidden units (fully connected + ReLU)",
                          img(picture.data_uri(), name, 256)))
            continue
        if isinstance(modules[name], nn.Conv2d):  # before ReLU: negative values matter, so a signed scale
            picture = render.signed_maps_picture(maps)
            shape = f"{c}×{h}×{w}, blue < 0 < red"
        else:
            picture = render.feature_map_picture(maps)
            shape = f"{c}×{h}×{w}"
        steps.append((name, shape, img(picture.data_uri(), name, min(480, picture.indices.shape[1] * 2))))
    label = pred.label
    bars = probability_bars(pred.probs, theme.ACCENT)
    steps.append(("answer", f"softmax → {label}", bars))
    figures = "".join(f'<figure class="net-step" data-step="{i}"><figcaption><span class="step-no">{i}</span> '
                      f'{html.escape(name)} <span class="shape">{html.escape(shape)}</span></figcaption>{content}'
                      f'</figure>' for i, (name, shape, content) in enumerate(steps, start=1))
    return f'<div id="network" class="network" data-steps="{len(steps)}">{figures}</div>'
