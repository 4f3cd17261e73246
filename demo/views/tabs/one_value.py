"""One value of a feature map computed number by number from the drawing, beside the model's own activation."""

from __future__ import annotations

import html

import numpy as np
from markupsafe import Markup

from demo.core.classifier import Classifier
from demo.teaching import explanations
from demo.teaching.explanations import signed
from demo.teaching.lessons import one_value as lessons_one_value
from demo.texts import localised, plain, say
from demo.views import render
from demo.views.panels import legend

from .common import highlighted, lesson, number_table, placeholder

DIGITS = 3  # decimals of every number in this view
LARGEST_SHOWN = 6  # channel sums listed when a layer has several input channels


def _tables(ov: lessons_one_value.OneValue, shown: int) -> str:
    """Patch × kernel = products for input channel ``shown``; with several input channels, the largest sums."""
    patch_caption = ("tabs.one_value.patch_caption_padded" if ov.in_padding.any()
                     else "tabs.one_value.patch_caption")
    tables = ('<div class="conv-row">'
              f'<figure><figcaption>{say(patch_caption, channel=shown)}</figcaption>'
              f'{number_table(ov.patch[shown], digits=DIGITS, padding=ov.in_padding)}</figure>'
              '<div class="conv-op">×</div>'
              f'<figure><figcaption>{say("tabs.one_value.kernel_caption", channel=shown)}</figcaption>'
              f'{number_table(ov.kernel[shown], digits=DIGITS)}</figure>'
              '<div class="conv-op">=</div>'
              '<figure><figcaption>'
              f'{say("tabs.one_value.products_caption", sum=signed(ov.channel_sums[shown], DIGITS, plus=True))}'
              f'</figcaption>{number_table(ov.products[shown], digits=DIGITS)}</figure></div>')
    c_in, k, _ = ov.patch.shape
    if c_in > 1:
        top_channels = np.argsort(-np.abs(ov.channel_sums))[:LARGEST_SHOWN]
        listed = ", ".join(plain("tabs.one_value.channel_sum", channel=int(i),
                                 sum=signed(ov.channel_sums[i], DIGITS, plus=True)) for i in top_channels)
        note = say("tabs.one_value.channels_note", filter=ov.channel, layer=ov.layer, k=k, channels=c_in,
                   stage=ov.input_stage, largest=listed)
        tables += f'<div class="view-note">{note}</div>'
    return tables


def _formula(ov: lessons_one_value.OneValue) -> Markup:
    """Sum of products + bias = the layer's value, then the activation when one follows."""
    values = {"total": signed(ov.total, DIGITS, plus=True), "bias": signed(ov.bias, DIGITS, plus=True),
              "value": signed(ov.pre_activation, DIGITS, plus=True)}
    if ov.activation is None:
        return say("tabs.one_value.formula", **values)
    return say("tabs.one_value.formula_relu", **values, activated=signed(ov.activation, DIGITS))


def one_value_html(input28: np.ndarray | None, clf: Classifier, layer: str, channel: int, row: int,
                   col: int) -> str:
    """How one feature-map value of ``layer`` is computed from the drawing, number by number."""
    title = say("tabs.one_value.title")
    if input28 is None:
        return placeholder("one-value", title, explanations.ONE_VALUE)
    ov = lessons_one_value.one_value(clf.model, input28, layer, channel, row, col)
    _, activations = clf.forward_staged(input28)
    own = float(activations[ov.activation_stage][channel, row, col]) if ov.activation_stage else None
    k = ov.patch.shape[1]
    # The input channel that contributes most is shown in full; for conv1 that is the only one.
    shown = int(np.abs(ov.channel_sums).argmax())
    source = ov.layer_input[shown]
    h, w = source.shape
    indices, vmax = render.to_indices(source, "signed")
    uri = render.png_data_uri(indices, "signed")
    top, left = max(ov.top, 0), max(ov.left, 0)
    bottom, right = min(ov.top + k, h), min(ov.left + k, w)
    where = highlighted(uri, plain("tabs.one_value.alt_input"), (h, w), 196, top, left, bottom - top, right - left)
    scale = legend("signed", signed(-vmax, DIGITS), signed(vmax, DIGITS, plus=True))
    check = ""
    if own is not None:
        own_value = say("tabs.one_value.check", stage=ov.activation_stage, row=row, col=col, channel=channel,
                        value=signed(own, DIGITS))
        check = f'<div class="check">{own_value}</div>'
    notes = [html.escape(input_note(ov))]
    if ov.input_scale is not None:
        notes.append(str(explanations.CONV1_PADDING_NOTE))
    input_caption = say("tabs.one_value.input_caption", stage=ov.input_stage, channel=shown, rows=h, cols=w)
    body = (f'<div class="conv-row"><figure><figcaption>{input_caption}</figcaption>{where}'
            f'<div class="layer-caption">{scale}</div></figure>'
            f'<div class="view-note">{" ".join(notes)}</div></div>{_tables(ov, shown)}'
            f'<div class="formula">{_formula(ov)}</div>'
            f'<div class="view-note">{say("tabs.one_value.rounding_note", digits=DIGITS)}</div>{check}')
    value = ov.activation if ov.activation is not None else ov.pre_activation
    data = (f' data-state="ready" data-layer="{layer}" data-value="{value:.6f}"'
            f' data-model-value="{own if own is not None else ov.pre_activation:.6f}"')
    return lesson("one-value", title, body, explanations.ONE_VALUE, data)


def input_note(ov: lessons_one_value.OneValue) -> str:
    """What the layer receives, in words (for the first layer: the normalised drawing, with its two levels)."""
    if ov.input_scale is not None:
        mean, std = ov.input_scale
        return plain("tabs.one_value.input_note_normalised", layer=ov.layer, stage=ov.input_stage,
                     mean=localised(f"{mean:g}"),
                     std=localised(f"{std:g}"), black=signed((0 - mean) / std), white=signed((1 - mean) / std))
    c, h, w = ov.layer_input.shape
    return plain("tabs.one_value.input_note", layer=ov.layer, stage=ov.input_stage, maps=c, rows=h, cols=w)
