"""The architecture table: every stage with what it does, its output shape, its receptive field and its parameters,
read from the model."""

from __future__ import annotations

import html
import math

from torch import nn

from demo.teaching import explanations
from demo.teaching.lessons.architecture import StageRow, architecture

from .common import lesson


def architecture_html(model: nn.Sequential, mlp: nn.Sequential | None = None) -> str:
    """Every stage of the network with its output shape and parameter count, read from the model."""
    rows = architecture(model)
    total = sum(r.parameters for r in rows)
    body_rows = "".join(
        f'<tr class="kind-{r.kind}"><td>{html.escape(r.name)}</td><td>{html.escape(r.kind)}</td>'
        f'<td>{html.escape(stage_detail(r))}</td><td>{"×".join(str(s) for s in r.output_shape)}</td>'
        f'<td>{field_text(r.receptive_field)}</td><td class="num">{r.parameters:,}</td></tr>' for r in rows)
    table = ('<table class="arch"><thead><tr><th>stage</th><th>kind</th><th>what it does</th><th>output shape</th>'
             '<th>one value sees</th><th class="num">parameters</th></tr></thead><tbody><tr class="kind-input">'
             '<td>input</td><td></td><td>your drawing, preprocessed</td><td>1×28×28</td><td>1 pixel</td>'
             f'<td class="num">0</td></tr>{body_rows}</tbody>'
             f'<tfoot><tr><td colspan="5">total</td><td class="num">{total:,}</td></tr></tfoot></table>')
    if mlp is not None:
        mlp_total = sum(r.parameters for r in architecture(mlp))
        table += (f'<div class="view-note">For comparison, the MLP (a plain fully connected network, 784 → 512 → 256 '
                  f'→ 10) has {mlp_total:,} parameters.</div>')
    return lesson("architecture", "Architecture (read from the model)", table, architecture_text(rows),
                  f' data-total="{total}"')


def architecture_text(rows: list[StageRow]) -> str:
    """The explanation with the receptive fields of this model: after its first convolution and its last maps."""
    first = next(r.receptive_field for r in rows if r.kind == "conv")
    last = [r.receptive_field for r in rows if len(r.output_shape) == 3][-1]
    return explanations.architecture(first, last)


def field_text(side: int) -> str:
    """The receptive field in words: '1 pixel', '5×5 pixels', 'all 28×28'."""
    if side <= 1:
        return "1 pixel"
    return "all 28×28" if side >= 28 else f"{side}×{side} pixels"


def _side(pair: tuple[int, int]) -> str:
    return f"{pair[0]}×{pair[1]}"


def _pair_text(pair: tuple[int, int]) -> str:
    return str(pair[0]) if pair[0] == pair[1] else f"{pair[0]}×{pair[1]}"


def stage_detail(row: StageRow) -> str:
    """What a stage does, in a few words: '32 kernels 5×5, padding 2', 'max 2×2, stride 2', '3136 → 128', 'ReLU'."""
    s = row.settings
    if row.kind == "conv":
        # A filter makes one output channel; it has one kernel per input channel.
        if s["in_channels"] > 1:
            detail = f"{s['out_channels']} filters of {s['in_channels']} kernels {_side(s['kernel'])}"
        else:
            detail = f"{s['out_channels']} filters {_side(s['kernel'])}"
        padding = s["padding"]
        if padding != (0, 0):
            detail += f", padding {padding if isinstance(padding, str) else _pair_text(padding)}"
        if s["stride"] != (1, 1):
            detail += f", stride {_pair_text(s['stride'])}"
        return detail
    if row.kind == "activation":
        return "ReLU" if s["function"] == "ReLU" else s["function"]
    if row.kind == "pool":
        return f"{s['function']} {_side(s['window'])}, stride {_pair_text(s['stride'])}"
    if row.kind == "flatten":
        return f"{'×'.join(map(str, row.input_shape))} → {math.prod(row.output_shape)}"
    if row.kind == "fc":
        return f"{s['in_features']} → {s['out_features']}"
    if "mean" in s:
        return f"(pixel − {s['mean']:g}) / {s['std']:g}"
    if "p" in s:
        return f"dropout p = {s['p']:g} (only while training)"
    return row.module
