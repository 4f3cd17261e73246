"""Classroom mode's layer-by-layer view: the whole forward pass in order, one step per stage, for revealing one
layer at a time."""

from __future__ import annotations

import html

import numpy as np
from torch import nn

from demo.core.classifier import Prediction
from demo.core.model import ACTIVATION, CONV, FLATTEN, FULLY_CONNECTED, stage_kind
from demo.teaching.explanations import signed
from demo.texts import plain, say
from demo.views import render, theme
from demo.views.panels import legend

from .common import img, probability_bars

VECTOR_ROW = 392  # values per row when a long vector (flatten: 3,136) is wrapped
VECTOR_ROW_PX = 4  # height of one row of a vector picture, in picture pixels


def vector_picture(values: np.ndarray, scale: str) -> render.Picture:
    """A 1-D vector drawn as a vector: one thin row of cells (wrapped every VECTOR_ROW values when longer), so a
    list of numbers never looks like a map with a layout."""
    values = np.asarray(values, np.float32).reshape(-1)
    rows = -(-len(values) // VECTOR_ROW)
    width = min(len(values), VECTOR_ROW)
    padded = np.zeros(rows * width, np.float32)
    padded[:len(values)] = values
    indices, vmax = render.to_indices(padded.reshape(rows, 1, width), scale)
    tiles = np.repeat(indices, VECTOR_ROW_PX, axis=1)
    if rows * width > len(values):  # cells past the end of the vector are gaps, not zeros
        tiles[-1, :, len(values) - (rows - 1) * width:] = render.GAP_INDEX
    return render.Picture(render.tile(tiles, columns=1), scale, vmax)


def _scale(picture: render.Picture) -> str:
    if picture.scale == "signed":
        return legend("signed", signed(-picture.vmax), signed(picture.vmax, plus=True))
    return legend("activation", "0", signed(picture.vmax))


def network_html(pred: Prediction | None, model: nn.Sequential) -> str:
    """Classroom mode: the whole forward pass in order, one step per stage, for revealing layer by layer.

    Each step carries ``data-step`` (1 = the input ... last = the answer) and ``data-stage`` (the model's own stage
    name; 'input' and 'answer' at the ends); the page's stepper hides later steps.
    """
    if pred is None or not pred.activations:
        return ('<div id="network" class="network empty" data-steps="0"><div class="placeholder">'
                f'{say("tabs.network.placeholder")}</div></div>')
    # Each step: (data-stage, its title, its caption, its picture); titles and captions are plain text.
    steps = [("input", plain("tabs.network.input_title"), plain("tabs.network.input_caption"),
              img(render.gray_picture(pred.input28).data_uri(), plain("tabs.network.alt_input"), 168))]
    stages = list(model.named_children())
    previous: np.ndarray | None = None
    for index, (name, module) in enumerate(stages):
        kind = stage_kind(module)
        if kind == FLATTEN and previous is not None:
            flat = previous.reshape(-1)
            picture = vector_picture(flat, "activation")
            caption = plain("tabs.network.flatten_caption", count=len(flat), maps=previous.shape[0],
                            rows=previous.shape[1], cols=previous.shape[2], row_length=VECTOR_ROW)
            steps.append((name, name, caption, _picture(picture, name, 480)))
            continue
        if name not in pred.activations:
            continue
        maps = pred.activations[name]
        c, h, w = maps.shape
        before = stage_kind(stages[index - 1][1]) if index else None
        if h == 1 and w == 1:  # a vector: fully connected units
            title = (plain("tabs.network.fc_relu_title", layer=stages[index - 1][0])
                     if kind == ACTIVATION and before == FULLY_CONNECTED else name)
            picture = vector_picture(maps.reshape(-1), "activation")
            steps.append((name, title, plain("tabs.network.vector_caption", units=c), _picture(picture, name, 384)))
        elif kind == CONV:  # before ReLU: negative values matter, so a signed scale
            picture = render.signed_maps_picture(maps)
            caption = plain("tabs.network.conv_caption", maps=c, rows=h, cols=w)
            steps.append((name, name, caption, _picture(picture, name, min(480, picture.indices.shape[1] * 2))))
        else:
            picture = render.feature_map_picture(maps)
            steps.append((name, name, f"{c}×{h}×{w}", _picture(picture, name, min(480, picture.indices.shape[1] * 2))))
        previous = maps
    last_fc = next((n for n, m in reversed(stages) if stage_kind(m) == FULLY_CONNECTED), None)
    steps.append(("answer", plain("tabs.network.answer_title"),
                  plain("tabs.network.answer_caption", layer=last_fc or plain("tabs.network.last_layer"),
                        label=pred.label),
                  probability_bars(pred.probs, theme.ACCENT)))
    figures = "".join(
        f'<figure class="net-step" data-step="{i}" data-stage="{html.escape(stage)}"><figcaption>'
        f'<span class="step-no">{i}</span> {html.escape(title)} <span class="shape">{html.escape(caption)}</span>'
        f'</figcaption>{content}</figure>' for i, (stage, title, caption, content) in enumerate(steps, start=1))
    return f'<div id="network" class="network" data-steps="{len(steps)}">{figures}</div>'


def _picture(picture: render.Picture, name: str, width_px: int) -> str:
    return f'{img(picture.data_uri(), name, width_px)}<div class="layer-caption">{_scale(picture)}</div>'
