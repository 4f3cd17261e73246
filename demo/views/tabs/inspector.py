"""The inspector: how one clicked value of any stage was made from the drawing, step by step, beside the model's own
value. Draws a :class:`demo.teaching.lessons.inspector.Inspection`; the page opens it as a dialog and wires its close
button.
"""

from __future__ import annotations

import html

import numpy as np
from torch import nn

from demo.teaching.explanations import BACKGROUND, MINUS, signed
from demo.teaching.lessons.inspector import Inspection, WeightedSum, inspect_value, stage_shape
from demo.views import render
from demo.views.panels import legend

from .common import highlighted, number_table

DIGITS = 3  # decimals of every number in the inspector
PICTURE_PX = 168  # width of a map's picture: 6 px a cell for 28×28, 12 for 14×14

# What each kind of step does, in the tutorial's words; one or two sentences, under the computation.
EXPLAIN = {
    "input": "To the network the drawing is a 28×28 grid of numbers: 0 is the black background, 1 white ink; "
             "values in between are the soft edges of the strokes.",
    "normalize": "The first stage rescales every pixel to the scale the network was trained on, so the numbers "
                 "are centred near 0.",
    "conv": "A convolution layer slides a small grid of weights, the <b>kernel</b>, over its input: each value of a "
            "<b>feature map</b> is the patch under the kernel times the kernel, summed over every input channel, "
            "plus the bias. The same kernel is used at every position.",
    "activation": "<b>ReLU</b> keeps positive values and turns negative ones into 0: max(0, x). Without this "
                  "nonlinearity the layers would add up to one linear map.",
    # "pool" is written from the pooling window itself: _explanation.
    "flatten": "<b>Flatten</b> lays the feature maps end to end as one long list of numbers, map by map and row by "
               "row, so fully connected layers can read them. Nothing is computed.",
    "fc": "A <b>fully connected</b> layer gives every input its own weight: each output is the sum of weight × "
          "input over all inputs, plus a bias.",
    "dropout": "<b>Dropout</b> only acts during training, where it sets a random share p of the values to 0 so the "
               "network cannot rely on any single one, and multiplies the others by 1/(1 − p), so each value, and so "
               "their sum, stays the same on average. That is why, when reading a drawing, it can pass every value "
               "on unchanged.",
    "softmax": "<b>Softmax</b> turns the ten scores of the last layer into probabilities: each exp(score) divided by "
               "the sum of all ten, so they are positive and add up to 1.",
}


def _explanation(ins: Inspection) -> str:
    """The tutorial's words for this kind of step; pooling's name the network's own window and function."""
    if ins.kind != "pool":
        return EXPLAIN[ins.kind]
    size = ins.window.values.shape[0]
    kept = "the largest value" if ins.window.kind == "max" else "the mean"
    return (f"<b>{ins.window.kind.capitalize()} pooling</b> keeps {kept} of each {size}×{size} window: the map "
            "shrinks, and a feature that moves a little inside a window gives the same answer.")


def _attr(value: object) -> str:
    return html.escape(str(value), quote=True)


def _frame(state: str, stage: object, unit: object, row: object, col: object, title: str, body: str,
           explanation: str = "", kind: str = "") -> str:
    """The dialog element; ``data-*`` attributes let the page and the tests read what it shows."""
    data = (f' data-state="{state}" data-stage="{_attr(stage)}" data-unit="{_attr(unit)}" data-row="{_attr(row)}"'
            f' data-col="{_attr(col)}"' + (f' data-kind="{kind}"' if kind else ""))
    explain = f'<p class="explain">{explanation}</p>' if explanation else ""
    return (f'<div id="inspector" class="inspector" role="dialog" aria-label="how this value was made"{data}>'
            '<div class="inspector-head">'
            f'<div class="view-title">{title}</div>'
            '<button type="button" class="inspector-close" aria-label="close the inspector">×</button></div>'
            f'<div class="inspector-body">{body}</div>{explain}</div>')


def _n(value: float) -> str:
    return signed(float(value), DIGITS)


def _tiny(value: float) -> str:
    """A probability-sized number: 4 decimals, or 3 significant digits when it would round to 0.0000."""
    value = float(value)
    return signed(value, 4) if value == 0 or abs(value) >= 1e-4 else f"{value:.3g}".replace("-", MINUS)


def title_text(model: nn.Sequential, ins: Inspection) -> str:
    """"conv2, map 5, row 3, column 7"; "fc1, value 17"; "probabilities, digit 3" (positions from 0)."""
    shape = stage_shape(model, ins.stage)
    if len(shape) == 3:
        where = f"row {ins.row}, column {ins.col}"
        return f"{ins.stage}, {where}" if shape[0] == 1 else f"{ins.stage}, map {ins.unit}, {where}"
    if ins.kind == "softmax":
        return f"{ins.stage}, digit {ins.unit}"
    last = list(model.named_children())[-1][0]
    return f"{ins.stage}, value {ins.unit}" + (f" (the score of digit {ins.unit})" if ins.stage == last else "")


def _picture(fmap: np.ndarray, caption: str, top: int, left: int, height: int, width: int,
             scale: str | None = None) -> str:
    """A map with cells [top, top+height) × [left, left+width) framed (clipped to the map), and its colour legend."""
    h, w = fmap.shape
    scale = scale or ("signed" if float(fmap.min()) < 0 else "activation")
    indices, vmax = render.to_indices(fmap, scale, 1.0 if scale == "input" else None)
    low = signed(-vmax, DIGITS) if scale == "signed" else "0"
    top2, left2 = max(top, 0), max(left, 0)
    bottom, right = min(top + height, h), min(left + width, w)
    pic = highlighted(render.png_data_uri(indices, scale), caption, (h, w), max(PICTURE_PX, 6 * w), top2, left2,
                      bottom - top2, right - left2)
    return (f'<figure><figcaption>{html.escape(caption)} ({h}×{w})</figcaption>{pic}'
            f'<div class="layer-caption">{legend(scale, low, signed(vmax, DIGITS))}</div></figure>')


def _conv_body(ins: Inspection) -> str:
    ov = ins.conv
    c_in, k, _ = ov.patch.shape
    first = ins.shown_channels[0]
    pic = _picture(ov.layer_input[first], f"{ov.input_stage}, channel {first}: the patch under the kernel", ov.top,
                   ov.left, k, k)
    padding = ", hatched = zero padding" if ov.in_padding.any() else ""
    rows = []
    for c in ins.shown_channels:
        rows.append('<div class="conv-row">'
                    f'<figure><figcaption>patch of input channel {c}{padding}</figcaption>'
                    f'{number_table(ov.patch[c], digits=DIGITS, padding=ov.in_padding)}</figure>'
                    '<div class="conv-op">×</div>'
                    f'<figure><figcaption>kernel for channel {c}</figcaption>'
                    f'{number_table(ov.kernel[c], digits=DIGITS)}</figure><div class="conv-op">=</div>'
                    f'<figure><figcaption>products, sum {signed(ov.channel_sums[c], DIGITS, plus=True)}</figcaption>'
                    f'{number_table(ov.products[c], digits=DIGITS)}</figure></div>')
    sums = [signed(ov.channel_sums[c], DIGITS, plus=True) for c in ins.shown_channels]
    rest = c_in - len(ins.shown_channels)
    note = ""
    if rest:
        sums.append(signed(ins.other_channels_sum, DIGITS, plus=True))
        note = (f'<div class="view-note">Filter {ov.channel} of {ov.layer} has one {k}×{k} kernel for each of the '
                f'{c_in} channels of {html.escape(ov.input_stage)}. Shown: the {len(ins.shown_channels)} channels '
                f'whose sums are largest in size, ignoring the sign; the other {rest} add up to '
                f'{signed(ins.other_channels_sum, DIGITS, plus=True)}.</div>')
    bias = f"+ bias {signed(ov.bias, DIGITS, plus=True)} = {_n(ov.pre_activation)}"
    formula = (f'<div class="formula">sum of products {_n(ov.total)} {bias}</div>' if c_in == 1 else
               f'<div class="formula">channel sums {" ".join(sums)} = {_n(ov.total)}; {bias}</div>')
    if ov.input_scale is not None:  # conv1 reads the normalised drawing, where 0 is not the background
        note += (f'<div class="view-note">{html.escape(ov.layer)} reads the normalised drawing: the black '
                 f'background is {signed(BACKGROUND, DIGITS)} there, and the zero padding is not background.</div>')
    return f'<div class="conv-row">{pic}</div>{"".join(rows)}{note}{formula}'


def _terms_table(ws: WeightedSum) -> str:
    origin = any(t.origin is not None for t in ws.terms)
    head = "<th>input</th>" + (f"<th>from {html.escape(ws.origin_stage)}</th>" if origin else "") + \
        "<th>x</th><th>weight</th><th>weight × x</th>"
    rows = []
    for t in ws.terms:
        where = ""
        if origin:
            c, y, x = t.origin
            where = f'<td class="where">map {c}, row {y}, column {x}</td>'
        rows.append(f"<tr><td>{t.index}</td>{where}<td>{_n(t.x)}</td><td>{_n(t.weight)}</td>"
                    f"<td>{signed(t.product, DIGITS, plus=True)}</td></tr>")
    span = 4 if origin else 3
    rows.append(f'<tr class="inspector-rest"><td colspan="{span}">the other {ws.rest_count:,} inputs</td>'
                f"<td>{signed(ws.rest, DIGITS, plus=True)}</td></tr>")
    rows.append(f'<tr class="inspector-rest"><td colspan="{span}">bias</td>'
                f"<td>{signed(ws.bias, DIGITS, plus=True)}</td></tr>")
    rows.append(f'<tr class="inspector-total"><td colspan="{span}">sum: the {html.escape(ws.layer)} value</td>'
                f"<td>{_n(ws.total)}</td></tr>")
    body = "".join(rows)
    return f'<table class="numbers inspector-terms"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _fc_body(ins: Inspection) -> str:
    ws = ins.weighted
    zeros = ws.n_inputs - ws.nonzero_inputs
    note = f" {zeros:,} of them are 0 and add nothing." if zeros else ""
    return (f'<div class="view-note">{html.escape(ws.layer)} value {ins.unit} = Σ weight × x + bias over all '
            f'{ws.n_inputs:,} inputs from {html.escape(ws.input_stage)}.{note} Listed: the {len(ws.terms)} largest '
            f'terms.</div>{_terms_table(ws)}')


def _softmax_body(ins: Inspection) -> str:
    sm = ins.softmax
    hit = ' class="hit"'
    rows = "".join(f'<tr{hit if d == ins.unit else ""}><td>{d}</td><td>{_n(z)}</td><td>{_tiny(e)}</td></tr>'
                   for d, (z, e) in enumerate(zip(sm.logits, sm.exps, strict=True)))
    table = ('<table class="numbers inspector-terms"><thead><tr><th>digit</th><th>score z</th>'
             f'<th>exp(z {MINUS} {_n(sm.shift)})</th></tr></thead><tbody>{rows}</tbody></table>')
    return (f'<div class="view-note">The scores z come from {html.escape(ins.source)}. Every score is first lowered '
            f'by the largest one, {_n(sm.shift)}: that cancels out in the fraction and keeps exp() small.</div>'
            f'{table}<div class="formula">p = {_tiny(sm.exps[ins.unit])} / {_n(sm.exp_sum)} = {_tiny(ins.value)} '
            f'({100 * ins.value:.1f} %)</div>')


def _body(ins: Inspection) -> str:
    """The step-by-step computation for each kind of stage."""
    kind, where = ins.kind, f"row {ins.row}, column {ins.col}"
    if kind == "input":
        pic = _picture(ins.source_map, "the model input", ins.row, ins.col, 1, 1, "input")
        return f'<div class="conv-row">{pic}</div><div class="formula">pixel at {where} = {_n(ins.value)}</div>'
    if kind == "normalize":
        pic = _picture(ins.source_map, "the model input", ins.row, ins.col, 1, 1, "input")
        return (f'<div class="conv-row">{pic}</div><div class="formula">(x {MINUS} mean) / std = '
                f'({_n(ins.source_value)} {MINUS} {ins.mean:g}) / {ins.std:g} = {_n(ins.value)}</div>')
    if kind == "conv":
        return _conv_body(ins)
    if kind == "activation":
        before = _conv_body(ins) if ins.conv else _fc_body(ins) if ins.weighted else ""
        name = "ReLU: max(0, x)" if ins.function == "ReLU" else html.escape(str(ins.function))
        return (f'{before}<div class="formula">{name} with x = {_n(ins.source_value)} ({html.escape(ins.source)}) '
                f'→ {_n(ins.value)}</div>')
    if kind == "pool":
        w = ins.window
        size = w.values.shape[0]
        pic = _picture(ins.source_map, f"{ins.source} map {ins.unit}", w.top, w.left, size, size)
        table = number_table(w.values, "window", w.kept_at, DIGITS)
        if w.kept_at is not None:
            r, c = w.kept_at
            how = (f"max of the {w.values.size} values = {_n(w.kept)}, from row {w.top + r}, column {w.left + c} "
                   f"of {html.escape(ins.source)} map {ins.unit}")
        else:
            how = f"mean of the {w.values.size} values = {_n(w.kept)}"
        return (f'<div class="conv-row">{pic}<figure><figcaption>the {size}×{size} window</figcaption>{table}'
                f'</figure></div><div class="formula">{how}</div>')
    if kind == "flatten":
        if ins.source_map is None:
            return f'<div class="formula">value {ins.unit} = {html.escape(ins.source)} value {ins.unit}</div>'
        c, y, x = ins.origin
        h, w = ins.source_map.shape
        pic = _picture(ins.source_map, f"{ins.source} map {c}", y, x, 1, 1)
        return (f'<div class="conv-row">{pic}</div><div class="formula">value {ins.unit} = {html.escape(ins.source)} '
                f'map {c}, row {y}, column {x} ({ins.unit} = {c}·{h * w} + {y}·{w} + {x}) = {_n(ins.value)}</div>')
    if kind == "fc":
        return _fc_body(ins)
    if kind == "dropout":
        return (f'<div class="formula">{html.escape(ins.source)} value {ins.unit} = {_n(ins.source_value)} → passed '
                f'on unchanged = {_n(ins.value)}</div><div class="view-note">During training this stage set a random '
                f'{100 * ins.dropout_p:.0f} % of the values to 0.</div>')
    return _softmax_body(ins)


def _result(ins: Inspection) -> str:
    """The value, with its exact repr for the page and the tests, beside the model's own value."""
    agree = abs(ins.value - ins.model_value) <= 1e-4 * max(1.0, abs(ins.model_value))
    show = _tiny if ins.kind == "softmax" else _n
    verdict = ('<span class="check">They agree (the model computes with 32-bit numbers, this page with 64-bit '
               'ones: only far-off digits can differ).</span>' if agree else
               f'<span class="inspector-mismatch">They differ by {abs(ins.value - ins.model_value):.3g}.</span>')
    return (f'<div class="inspector-result">value: <span class="inspector-value" data-value="{ins.value!r}" '
            f'data-model-value="{ins.model_value!r}">{show(ins.value)}</span> '
            f'<span class="inspector-model">the model\'s own value here: {show(ins.model_value)}</span> '
            f'{verdict}</div>')


def inspector_html(model: nn.Sequential, input28: np.ndarray | None, stage: str, unit: int, row: int = 0,
                   col: int = 0) -> str:
    """The inspector dialog for value (``unit``, ``row``, ``col``) of ``stage`` on the drawing ``input28``.

    ``data-state`` is 'ready', 'empty' (nothing drawn yet) or 'error' (an unknown stage or a position outside it:
    the message is shown); it never raises for those.
    """
    if input28 is None:
        return _frame("empty", stage, unit, row, col, "How a value was made",
                      '<div class="placeholder">draw a digit first</div>')
    try:
        ins = inspect_value(model, input28, stage, unit, row, col)
    except ValueError as error:
        return _frame("error", stage, unit, row, col, "How a value was made",
                      f'<div class="inspector-error">{html.escape(str(error))}</div>')
    return _frame("ready", stage, unit, row, col, html.escape(title_text(model, ins)), _body(ins) + _result(ins),
                  _explanation(ins), ins.kind)
