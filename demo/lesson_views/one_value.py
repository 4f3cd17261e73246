"""One value of a feature map computed number by number from the drawing, beside the model's own activation."""

from __future__ import annotations

import html

import numpy as np

from .. import explanations, render
from ..classifier import Classifier
from ..lessons import one_value as lessons_one_value
from .common import highlighted, lesson, number_table, placeholder


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
    uri = render.png_data_uri(render.to_indices(source, "signed")[0], "signed")
    top, left = max(ov.top, 0), max(ov.left, 0)
    bottom, right = min(ov.top + k, h), min(ov.left + k, w)
    where = highlighted(uri, "layer input", (h, w), 196, top, left, bottom - top, right - left)
    tables = ('<div class="conv-row">'
              f'<figure><figcaption>patch (input channel {shown}; zeros = padding)</figcaption>'
              f'{number_table(ov.patch[shown])}</figure><div class="conv-op">×</div>'
              f'<figure><figcaption>kernel weights</figcaption>{number_table(ov.kernel[shown])}</figure>'
              '<div class="conv-op">=</div>'
              f'<figure><figcaption>products (sum {ov.channel_sums[shown]:+.3f})</figcaption>'
              f'{number_table(ov.products[shown])}</figure></div>')
    if c_in > 1:
        top_channels = np.argsort(-np.abs(ov.channel_sums))[:6]
        listed = ", ".join(f"channel {int(i)}: {ov.channel_sums[i]:+.3f}" for i in top_channels)
        tables += (f'<div class="view-note">{layer} reads all {c_in} channels of {html.escape(ov.input_stage)}: '
                   f'each gets its own {k}×{k} kernel, and the {c_in} channel sums add up. Largest: {listed}, ...'
                   '</div>')
    activation = (f' → ReLU → <b>{ov.activation:.4f}</b>' if ov.activation is not None else "")
    check = (f'<div class="check">The model\'s own {html.escape(ov.activation_stage)} value at ({row}, {col}) of map '
             f'{channel}: <b>{own:.4f}</b></div>' if own is not None else "")
    body = (f'<div class="conv-row"><figure><figcaption>{html.escape(ov.input_stage)}, channel {shown} '
            f'({h}×{w}): the patch under the kernel</figcaption>{where}</figure>'
            f'<div class="view-note">{html.escape(input_note(ov))}</div></div>{tables}'
            f'<div class="formula">sum of products {ov.total:+.4f} + bias {ov.bias:+.4f} = '
            f'{ov.pre_activation:+.4f}{activation}</div>{check}')
    value = ov.activation if ov.activation is not None else ov.pre_activation
    data = (f' data-state="ready" data-layer="{layer}" data-value="{value:.6f}"'
            f' data-model-value="{own if own is not None else ov.pre_activation:.6f}"')
    return lesson("one-value", title, body, explanations.ONE_VALUE, data)


def _number(value: float) -> str:
    return f"{value:.2f}".replace("-", "−")  # the typographic minus, as in the formulas


def input_note(ov: lessons_one_value.OneValue) -> str:
    """What the layer receives, in words (for the first layer: the normalised drawing, with its two levels)."""
    if ov.input_scale is not None:
        mean, std = ov.input_scale
        return (f"{ov.layer} receives the output of '{ov.input_stage}': the drawing rescaled to "
                f"(pixel − {mean:g}) / {std:g}, so black background is {_number((0 - mean) / std)} and white ink "
                f"{_number((1 - mean) / std)}, not 0 and 1.")
    c, h, w = ov.layer_input.shape
    return f"{ov.layer} receives the output of '{ov.input_stage}': {c} feature maps of {h}×{w}."
