"""The inspector: how one clicked value of any stage was made from the drawing, step by step, beside the model's own
value. Draws a :class:`demo.teaching.lessons.inspector.Inspection`; the page opens it as a dialog and wires its close
button.
"""

from __future__ import annotations

import html

import numpy as np
from markupsafe import Markup
from torch import nn

from demo.teaching.explanations import BACKGROUND, MINUS, signed
from demo.teaching.lessons.inspector import Inspection, WeightedSum, inspect_value, stage_shape
from demo.texts import localised, plain, say
from demo.views import render
from demo.views.panels import legend

from .common import highlighted, number_table

DIGITS = 3  # decimals of every number in the inspector
PICTURE_PX = 168  # width of a map's picture: 6 px a cell for 28×28, 12 for 14×14

# What each kind of step does, in the tutorial's words; one or two sentences, under the computation.
EXPLAIN = {
    "input": "tabs.inspector.explain_input",
    "normalize": "tabs.inspector.explain_normalize",
    "conv": "tabs.inspector.explain_conv",
    "activation": "tabs.inspector.explain_activation",
    # "pool" is written from the pooling window itself: _explanation.
    "flatten": "tabs.inspector.explain_flatten",
    "fc": "tabs.inspector.explain_fc",
    "dropout": "tabs.inspector.explain_dropout",
    "softmax": "tabs.inspector.explain_softmax",
}


def _explanation(ins: Inspection) -> str:
    """The tutorial's words for this kind of step; pooling's name the network's own window and function."""
    if ins.kind != "pool":
        return say(EXPLAIN[ins.kind])
    key = "tabs.inspector.explain_pool_max" if ins.window.kind == "max" else "tabs.inspector.explain_pool_mean"
    return say(key, size=ins.window.values.shape[0])


def _attr(value: object) -> str:
    return html.escape(str(value), quote=True)


def _frame(state: str, stage: object, unit: object, row: object, col: object, title: str, body: str,
           explanation: str = "", kind: str = "") -> str:
    """The dialog element; ``data-*`` attributes let the page and the tests read what it shows."""
    data = (f' data-state="{state}" data-stage="{_attr(stage)}" data-unit="{_attr(unit)}" data-row="{_attr(row)}"'
            f' data-col="{_attr(col)}"' + (f' data-kind="{kind}"' if kind else ""))
    explain = f'<p class="explain">{explanation}</p>' if explanation else ""
    label, close = _attr(plain("tabs.inspector.aria_label")), _attr(plain("tabs.inspector.close"))
    return (f'<div id="inspector" class="inspector" role="dialog" aria-label="{label}"{data}>'
            '<div class="inspector-head">'
            f'<div class="view-title">{title}</div>'
            f'<button type="button" class="inspector-close" aria-label="{close}">×</button></div>'
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
        if shape[0] == 1:
            return plain("tabs.inspector.title_cell", stage=ins.stage, row=ins.row, col=ins.col)
        return plain("tabs.inspector.title_map_cell", stage=ins.stage, unit=ins.unit, row=ins.row, col=ins.col)
    if ins.kind == "softmax":
        return plain("tabs.inspector.title_digit", stage=ins.stage, unit=ins.unit)
    last = list(model.named_children())[-1][0]
    key = "tabs.inspector.title_score" if ins.stage == last else "tabs.inspector.title_value"
    return plain(key, stage=ins.stage, unit=ins.unit)


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
    pic = _picture(ov.layer_input[first], plain("tabs.inspector.patch_under_kernel", stage=ov.input_stage,
                                                channel=first), ov.top, ov.left, k, k)
    patch = "tabs.inspector.patch_of_channel_padded" if ov.in_padding.any() else "tabs.inspector.patch_of_channel"
    rows = []
    for c in ins.shown_channels:
        products = say("tabs.inspector.products", sum=signed(ov.channel_sums[c], DIGITS, plus=True))
        rows.append('<div class="conv-row">'
                    f'<figure><figcaption>{say(patch, channel=c)}</figcaption>'
                    f'{number_table(ov.patch[c], digits=DIGITS, padding=ov.in_padding)}</figure>'
                    '<div class="conv-op">×</div>'
                    f'<figure><figcaption>{say("tabs.inspector.kernel_of_channel", channel=c)}</figcaption>'
                    f'{number_table(ov.kernel[c], digits=DIGITS)}</figure><div class="conv-op">=</div>'
                    f'<figure><figcaption>{products}</figcaption>'
                    f'{number_table(ov.products[c], digits=DIGITS)}</figure></div>')
    sums = [signed(ov.channel_sums[c], DIGITS, plus=True) for c in ins.shown_channels]
    rest = c_in - len(ins.shown_channels)
    note = ""
    if rest:
        sums.append(signed(ins.other_channels_sum, DIGITS, plus=True))
        text = say("tabs.inspector.channels_note", filter=ov.channel, layer=ov.layer, side=k, channels=c_in,
                   stage=ov.input_stage, shown=len(ins.shown_channels), rest=rest,
                   rest_sum=signed(ins.other_channels_sum, DIGITS, plus=True))
        note = f'<div class="view-note">{text}</div>'
    bias, value = signed(ov.bias, DIGITS, plus=True), _n(ov.pre_activation)
    formula = (say("tabs.inspector.sum_of_products", total=_n(ov.total), bias=bias, value=value) if c_in == 1 else
               say("tabs.inspector.channel_sums", sums=" ".join(sums), total=_n(ov.total), bias=bias, value=value))
    formula = f'<div class="formula">{formula}</div>'
    if ov.input_scale is not None:  # conv1 reads the normalised drawing, where 0 is not the background
        text = say("tabs.inspector.normalised_note", layer=ov.layer, background=signed(BACKGROUND, DIGITS))
        note += f'<div class="view-note">{text}</div>'
    return f'<div class="conv-row">{pic}</div>{"".join(rows)}{note}{formula}'


def _terms_table(ws: WeightedSum) -> str:
    origin = any(t.origin is not None for t in ws.terms)
    source = f'<th>{say("tabs.inspector.column_from", stage=ws.origin_stage)}</th>' if origin else ""
    head = (f'<th>{say("tabs.inspector.column_input")}</th>{source}<th>x</th>'
            f'<th>{say("tabs.inspector.column_weight")}</th><th>{say("tabs.inspector.column_product")}</th>')
    rows = []
    for t in ws.terms:
        where = ""
        if origin:
            c, y, x = t.origin
            where = f'<td class="where">{say("tabs.inspector.term_origin", map=c, row=y, col=x)}</td>'
        rows.append(f"<tr><td>{t.index}</td>{where}<td>{_n(t.x)}</td><td>{_n(t.weight)}</td>"
                    f"<td>{signed(t.product, DIGITS, plus=True)}</td></tr>")
    span = 4 if origin else 3
    rows.append(f'<tr class="inspector-rest"><td colspan="{span}">'
                f'{say("tabs.inspector.other_inputs", count=localised(f"{ws.rest_count:,}"))}</td>'
                f"<td>{signed(ws.rest, DIGITS, plus=True)}</td></tr>")
    rows.append(f'<tr class="inspector-rest"><td colspan="{span}">{say("tabs.inspector.bias")}</td>'
                f"<td>{signed(ws.bias, DIGITS, plus=True)}</td></tr>")
    rows.append(f'<tr class="inspector-total"><td colspan="{span}">{say("tabs.inspector.sum_row", layer=ws.layer)}'
                f"</td><td>{_n(ws.total)}</td></tr>")
    body = "".join(rows)
    return f'<table class="numbers inspector-terms"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _fc_body(ins: Inspection) -> str:
    ws = ins.weighted
    zeros = ws.n_inputs - ws.nonzero_inputs
    values = {"layer": ws.layer, "unit": ins.unit, "count": f"{ws.n_inputs:,}", "stage": ws.input_stage,
              "listed": len(ws.terms)}
    if zeros:
        note = say("tabs.inspector.fc_note_zeros", zeros=localised(f"{zeros:,}"), **values)
    else:
        note = say("tabs.inspector.fc_note", **values)
    return f'<div class="view-note">{note}</div>{_terms_table(ws)}'


def _softmax_body(ins: Inspection) -> str:
    sm = ins.softmax
    hit = ' class="hit"'
    rows = "".join(f'<tr{hit if d == ins.unit else ""}><td>{d}</td><td>{_n(z)}</td><td>{_tiny(e)}</td></tr>'
                   for d, (z, e) in enumerate(zip(sm.logits, sm.exps, strict=True)))
    table = (f'<table class="numbers inspector-terms"><thead><tr><th>{say("tabs.inspector.column_digit")}</th>'
             f'<th>{say("tabs.inspector.column_score")}</th>'
             f'<th>exp(z {MINUS} {_n(sm.shift)})</th></tr></thead><tbody>{rows}</tbody></table>')
    note = say("tabs.inspector.softmax_note", stage=ins.source, shift=_n(sm.shift))
    return (f'<div class="view-note">{note}</div>'
            f'{table}<div class="formula">p = {_tiny(sm.exps[ins.unit])} / {_n(sm.exp_sum)} = {_tiny(ins.value)} '
            f'({localised(f"{100 * ins.value:.1f}")} %)</div>')


def _formula(text: str) -> str:
    return f'<div class="formula">{text}</div>'


def _input_body(ins: Inspection) -> str:
    """The input pixel itself, or (normalize) that pixel rescaled."""
    pic = _picture(ins.source_map, plain("tabs.inspector.input_caption"), ins.row, ins.col, 1, 1, "input")
    if ins.kind == "input":
        how = say("tabs.inspector.pixel", row=ins.row, col=ins.col, value=_n(ins.value))
    else:
        how = say("tabs.inspector.normalize", x=_n(ins.source_value), mean=localised(f"{ins.mean:g}"),
                  std=localised(f"{ins.std:g}"),
                  value=_n(ins.value))
    return f'<div class="conv-row">{pic}</div>{_formula(how)}'


def _activation_body(ins: Inspection) -> str:
    before = _conv_body(ins) if ins.conv else _fc_body(ins) if ins.weighted else ""
    name = plain("tabs.inspector.relu") if ins.function == "ReLU" else str(ins.function)
    return before + _formula(say("tabs.inspector.activation", function=name, x=_n(ins.source_value),
                                 stage=ins.source, value=_n(ins.value)))


def _pool_body(ins: Inspection) -> str:
    w = ins.window
    size = w.values.shape[0]
    pic = _picture(ins.source_map, plain("tabs.inspector.map_caption", stage=ins.source, unit=ins.unit), w.top,
                   w.left, size, size)
    table = number_table(w.values, "window", w.kept_at, DIGITS)
    if w.kept_at is not None:
        r, c = w.kept_at
        how = say("tabs.inspector.pool_max", count=w.values.size, value=_n(w.kept), row=w.top + r, col=w.left + c,
                  stage=ins.source, unit=ins.unit)
    else:
        how = say("tabs.inspector.pool_mean", count=w.values.size, value=_n(w.kept))
    return (f'<div class="conv-row">{pic}<figure><figcaption>{say("tabs.inspector.window", side=size)}</figcaption>'
            f'{table}</figure></div>{_formula(how)}')


def _flatten_body(ins: Inspection) -> str:
    if ins.source_map is None:
        return _formula(say("tabs.inspector.flatten_value", unit=ins.unit, stage=ins.source))
    c, y, x = ins.origin
    h, w = ins.source_map.shape
    pic = _picture(ins.source_map, plain("tabs.inspector.map_caption", stage=ins.source, unit=c), y, x, 1, 1)
    position = f"{ins.unit} = {c}·{h * w} + {y}·{w} + {x}"
    how = say("tabs.inspector.flatten_map", unit=ins.unit, stage=ins.source, map=c, row=y, col=x, formula=position,
              value=_n(ins.value))
    return f'<div class="conv-row">{pic}</div>{_formula(how)}'


def _dropout_body(ins: Inspection) -> str:
    passed = say("tabs.inspector.dropout", stage=ins.source, unit=ins.unit, x=_n(ins.source_value),
                 value=_n(ins.value))
    note = say("tabs.inspector.dropout_note", share=localised(f"{100 * ins.dropout_p:.0f}"))
    return f'{_formula(passed)}<div class="view-note">{note}</div>'


# The step-by-step computation for each kind of stage.
BODIES = {"input": _input_body, "normalize": _input_body, "conv": _conv_body, "activation": _activation_body,
          "pool": _pool_body, "flatten": _flatten_body, "fc": _fc_body, "dropout": _dropout_body}


def _body(ins: Inspection) -> str:
    """The step-by-step computation for each kind of stage."""
    return BODIES.get(ins.kind, _softmax_body)(ins)


def _result(ins: Inspection) -> str:
    """The value, with its exact repr for the page and the tests, beside the model's own value."""
    agree = abs(ins.value - ins.model_value) <= 1e-4 * max(1.0, abs(ins.model_value))
    show = _tiny if ins.kind == "softmax" else _n
    difference = localised(f"{abs(ins.value - ins.model_value):.3g}")
    verdict = (f'<span class="check">{say("tabs.inspector.agree")}</span>' if agree else
               f'<span class="inspector-mismatch">{say("tabs.inspector.differ", difference=difference)}</span>')
    value = Markup(f'<span class="inspector-value" data-value="{ins.value!r}" '
                   f'data-model-value="{ins.model_value!r}">{show(ins.value)}</span>')
    model = say("tabs.inspector.model_value", value=show(ins.model_value))
    return (f'<div class="inspector-result">{say("tabs.inspector.result", value=value)} '
            f'<span class="inspector-model">{model}</span> {verdict}</div>')


def inspector_html(model: nn.Sequential, input28: np.ndarray | None, stage: str, unit: int, row: int = 0,
                   col: int = 0) -> str:
    """The inspector dialog for value (``unit``, ``row``, ``col``) of ``stage`` on the drawing ``input28``.

    ``data-state`` is 'ready', 'empty' (nothing drawn yet) or 'error' (an unknown stage or a position outside it:
    the message is shown); it never raises for those.
    """
    if input28 is None:
        return _frame("empty", stage, unit, row, col, say("tabs.inspector.title"),
                      f'<div class="placeholder">{say("tabs.inspector.draw_first")}</div>')
    try:
        ins = inspect_value(model, input28, stage, unit, row, col)
    except ValueError as error:
        return _frame("error", stage, unit, row, col, say("tabs.inspector.title"),
                      f'<div class="inspector-error">{html.escape(str(error))}</div>')
    return _frame("ready", stage, unit, row, col, html.escape(title_text(model, ins)), _body(ins) + _result(ins),
                  _explanation(ins), ins.kind)
