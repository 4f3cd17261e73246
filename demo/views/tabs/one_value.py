"""One value of a feature map computed number by number from the drawing, beside the model's own activation."""

from __future__ import annotations

import html

import numpy as np

from demo.core.classifier import Classifier
from demo.teaching import explanations
from demo.teaching.explanations import signed
from demo.teaching.lessons import one_value as lessons_one_value
from demo.views import render
from demo.views.panels import legend

from .common import highlighted, lesson, number_table, placeholder

DIGITS = 3  # decimals of every number in this view


def one_value_html(input28: np.ndarray | None, clf: Classifier, layer: str, channel: int, row: int,
                   col: int) -> str:
    """How one feature-map value of ``layer`` is computed from the drawing, number by number."""
    title = "How one value was computed"
    if input28 is None:
        return placeholder("one-value", title, explanations.ONE_VALUE)
    ov = lessons_one_value.one_value(clf.model, input28, layer, channel, row, col)
    _, activations = clf.forward_staged(input28)
    own = float(activations[ov.activation_stage][channel, row, col]) if ov.activation_stage else None
    c_in, k, _ = ov.patch.shape
    # The input channel that contributes most is shown in full; for conv1 that is the only one.
    shown = int(np.abs(ov.channel_sums).argmax())
    source = ov.layer_input[shown]
    h, w = source.shape
    indices, vmax = render.to_indices(source, "signed")
    uri = render.png_data_uri(indices, "signed")
    top, left = max(ov.top, 0), max(ov.left, 0)
    bottom, right = min(ov.top + k, h), min(ov.left + k, w)
    where = highlighted(uri, "layer input", (h, w), 196, top, left, bottom - top, right - left)
    scale = legend("signed", signed(-vmax, DIGITS), signed(vmax, DIGITS, plus=True))
    padding = ", hatched = zero padding" if ov.in_padding.any() else ""
    tables = ('<div class="conv-row">'
              f'<figure><figcaption>patch (input channel {shown}{padding})</figcaption>'
              f'{number_table(ov.patch[shown], digits=DIGITS, padding=ov.in_padding)}</figure>'
              '<div class="conv-op">×</div>'
              f'<figure><figcaption>kernel (its weights for input channel {shown})</figcaption>'
              f'{number_table(ov.kernel[shown], digits=DIGITS)}</figure>'
              '<div class="conv-op">=</div>'
              f'<figure><figcaption>products (sum {signed(ov.channel_sums[shown], DIGITS, plus=True)})</figcaption>'
              f'{number_table(ov.products[shown], digits=DIGITS)}</figure></div>')
    if c_in > 1:
        top_channels = np.argsort(-np.abs(ov.channel_sums))[:6]
        listed = ", ".join(f"channel {int(i)}: {signed(ov.channel_sums[i], DIGITS, plus=True)}" for i in top_channels)
        tables += (f'<div class="view-note">Filter {channel} of {layer} has one {k}×{k} kernel for each of the '
                   f'{c_in} channels of {html.escape(ov.input_stage)}; the {c_in} channel sums add up. Largest: '
                   f'{listed}, ...</div>')
    activation = (f' → ReLU → <b>{signed(ov.activation, DIGITS)}</b>' if ov.activation is not None else "")
    check = (f'<div class="check">The model\'s own {html.escape(ov.activation_stage)} value at ({row}, {col}) of map '
             f'{channel}: <b>{signed(own, DIGITS)}</b></div>' if own is not None else "")
    notes = [html.escape(input_note(ov))]
    if ov.input_scale is not None:
        notes.append(explanations.CONV1_PADDING_NOTE)
    body = (f'<div class="conv-row"><figure><figcaption>{html.escape(ov.input_stage)}, channel {shown} '
            f'({h}×{w}): the patch under the kernel</figcaption>{where}'
            f'<div class="layer-caption">{scale}</div></figure>'
            f'<div class="view-note">{" ".join(notes)}</div></div>{tables}'
            f'<div class="formula">sum of products {signed(ov.total, DIGITS, plus=True)} + bias '
            f'{signed(ov.bias, DIGITS, plus=True)} = {signed(ov.pre_activation, DIGITS, plus=True)}{activation}</div>'
            f'<div class="view-note">Numbers are rounded to {DIGITS} decimals; the sums are of the exact values, so '
            f'the rounded products may not add up to the last digit.</div>{check}')
    value = ov.activation if ov.activation is not None else ov.pre_activation
    data = (f' data-state="ready" data-layer="{layer}" data-value="{value:.6f}"'
            f' data-model-value="{own if own is not None else ov.pre_activation:.6f}"')
    return lesson("one-value", title, body, explanations.ONE_VALUE, data)


def input_note(ov: lessons_one_value.OneValue) -> str:
    """What the layer receives, in words (for the first layer: the normalised drawing, with its two levels)."""
    if ov.input_scale is not None:
        mean, std = ov.input_scale
        return (f"{ov.layer} receives the output of '{ov.input_stage}': the drawing rescaled to "
                f"(pixel − {mean:g}) / {std:g}, so black background is {signed((0 - mean) / std)} and white ink "
                f"{signed((1 - mean) / std)}, not 0 and 1.")
    c, h, w = ov.layer_input.shape
    return f"{ov.layer} receives the output of '{ov.input_stage}': {c} feature maps of {h}×{w}."
