"""The architecture table: every stage with what it does, its output shape, its receptive field and its parameters,
read from the model."""

from __future__ import annotations

import html
import math
from typing import Any

from torch import nn

from demo.core.model import ACTIVATION, CONV, FLATTEN, FULLY_CONNECTED, OTHER, POOL
from demo.teaching import explanations
from demo.teaching.lessons.architecture import StageRow, architecture
from demo.texts import localised, plain, say

from .common import lesson

# The table's "kind" column: what each stage kind (demo.core.model.stage_kind) is called.
_KINDS = {CONV: "tabs.architecture.kind_conv", ACTIVATION: "tabs.architecture.kind_activation",
          POOL: "tabs.architecture.kind_pool", FLATTEN: "tabs.architecture.kind_flatten",
          FULLY_CONNECTED: "tabs.architecture.kind_fc", OTHER: "tabs.architecture.kind_other"}
_POOLS = {"max": "tabs.architecture.pool_max", "mean": "tabs.architecture.pool_mean"}  # stage_settings' functions


def _header() -> str:
    names = [say(key) for key in ("tabs.architecture.column_stage", "tabs.architecture.column_kind",
                                  "tabs.architecture.column_does", "tabs.architecture.column_shape",
                                  "tabs.architecture.column_sees")]
    return ("<thead><tr>" + "".join(f"<th>{name}</th>" for name in names)
            + f'<th class="num">{say("tabs.architecture.column_parameters")}</th></tr></thead>')


def architecture_html(model: nn.Sequential, mlp: nn.Sequential | None = None) -> str:
    """Every stage of the network with its output shape and parameter count, read from the model."""
    rows = architecture(model)
    total = sum(r.parameters for r in rows)
    body_rows = "".join(
        f'<tr class="kind-{r.kind}"><td>{html.escape(r.name)}</td><td>{say(_KINDS[r.kind])}</td>'
        f'<td>{html.escape(stage_detail(r))}</td><td>{"×".join(str(s) for s in r.output_shape)}</td>'
        f'<td>{html.escape(field_text(r.receptive_field))}</td><td class="num">{r.parameters:,}</td></tr>'
        for r in rows)
    table = (f'<table class="arch">{_header()}<tbody><tr class="kind-input">'
             f'<td>{say("tabs.architecture.input_stage")}</td><td></td><td>{say("tabs.architecture.input_does")}</td>'
             f'<td>1×28×28</td><td>{html.escape(field_text(1))}</td>'
             f'<td class="num">0</td></tr>{body_rows}</tbody>'
             f'<tfoot><tr><td colspan="5">{say("tabs.architecture.total")}</td><td class="num">{total:,}</td></tr>'
             '</tfoot></table>')
    if mlp is not None:
        mlp_rows = architecture(mlp)
        widths = [mlp_rows[0].input_shape[-1] * mlp_rows[0].input_shape[-2]] + [
            r.settings["out_features"] for r in mlp_rows if r.kind == "fc"]
        note = say("tabs.architecture.mlp_note", shape=" → ".join(map(str, widths)),
                   parameters=sum(r.parameters for r in mlp_rows))
        table += f'<div class="view-note">{note}</div>'
    return lesson("architecture", say("tabs.architecture.title"), table, architecture_text(rows),
                  f' data-total="{total}"')


def architecture_text(rows: list[StageRow]) -> str:
    """The explanation with the receptive fields of this model: after its first convolution and its last maps."""
    first = next(r.receptive_field for r in rows if r.kind == "conv")
    last = [r.receptive_field for r in rows if len(r.output_shape) == 3][-1]
    return explanations.architecture(first, last)


def field_text(side: int) -> str:
    """The receptive field in words: '1 pixel', '5×5 pixels', 'all 28×28'."""
    if side <= 1:
        return plain("tabs.architecture.field_one_pixel")
    if side >= 28:
        return plain("tabs.architecture.field_all")
    return plain("tabs.architecture.field_square", side=side)


def _side(pair: tuple[int, int]) -> str:
    return f"{pair[0]}×{pair[1]}"


def _pair_text(pair: tuple[int, int]) -> str:
    return str(pair[0]) if pair[0] == pair[1] else f"{pair[0]}×{pair[1]}"


def _conv_detail(s: dict[str, Any]) -> str:
    # A filter makes one output channel; it has one kernel per input channel.
    if s["in_channels"] > 1:
        parts = [plain("tabs.architecture.conv_filters_of_kernels", filters=s["out_channels"],
                       kernels=s["in_channels"], size=_side(s["kernel"]))]
    else:
        parts = [plain("tabs.architecture.conv_filters", filters=s["out_channels"], size=_side(s["kernel"]))]
    padding = s["padding"]
    if padding != (0, 0):
        parts.append(plain("tabs.architecture.padding",
                           padding=padding if isinstance(padding, str) else _pair_text(padding)))
    if s["stride"] != (1, 1):
        parts.append(plain("tabs.architecture.stride", stride=_pair_text(s["stride"])))
    return ", ".join(parts)


def stage_detail(row: StageRow) -> str:
    """What a stage does, in a few words: '32 kernels 5×5, padding 2', 'max 2×2, stride 2', '3136 → 128', 'ReLU'."""
    s = row.settings
    if row.kind == "conv":
        return _conv_detail(s)
    if row.kind == "activation":
        return "ReLU" if s["function"] == "ReLU" else s["function"]
    if row.kind == "pool":
        return ", ".join((plain(_POOLS[s["function"]], window=_side(s["window"])),
                          plain("tabs.architecture.stride", stride=_pair_text(s["stride"]))))
    if row.kind == "flatten":
        return f"{'×'.join(map(str, row.input_shape))} → {math.prod(row.output_shape)}"
    if row.kind == "fc":
        return f"{s['in_features']} → {s['out_features']}"
    if "mean" in s:
        return plain("tabs.architecture.normalize", mean=localised(f"{s['mean']:g}"), std=localised(f"{s['std']:g}"))
    if "p" in s:
        return plain("tabs.architecture.dropout", p=localised(f"{s['p']:g}"))
    return row.module
