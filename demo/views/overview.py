"""The whole network at a glance: every stage, in the order data flows, as a small picture beside the answer.

``overview_html(pred, model)`` shows the input, then every named stage of the model (normalize, conv1, relu1,
pool1, ..., flatten, fc1, relu4, dropout, fc2), then the probabilities. Each stage is a ``<figure>`` with
``data-stage`` (the model's own stage name; ``input`` and ``probabilities`` at the ends) and ``data-step`` (its
place in the flow, from 1), labelled with its name and output shape. The overview rides in every live update, so
it is small (about 8 KiB gzipped): for a layer of maps it shows the few most active ones (the same channels at the
conv, its ReLU and the pooling after it), on a short colour scale.

Every picture carries what the page needs to turn a click into a position (``data-inspect`` and the layout), for
the inspector (demo/views/tabs/inspector.py). No Gradio here.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from functools import cache

import numpy as np
import torch
from markupsafe import Markup
from torch import nn

from demo.core.classifier import Prediction
from demo.core.model import ACTIVATION, CONV, FLATTEN, FULLY_CONNECTED, POOL, stage_kind
from demo.teaching.lessons.architecture import architecture
from demo.teaching.lessons.inspector import STAGE_INPUT as INPUT
from demo.teaching.lessons.inspector import STAGE_PROBABILITIES as PROBABILITIES
from demo.texts import decimal, plain, say

from . import render, theme

# The note under a stage shown as a vector, by the kind of step it is.
VECTOR_NOTES = {FLATTEN: "views.overview.note_flatten", FULLY_CONNECTED: "views.overview.note_fully_connected",
                ACTIVATION: "views.overview.note_relu"}


@dataclass(frozen=True)
class Picture:
    """A stage's picture before the sheet is made: palette indices on a scale, and how a click finds a value."""

    indices: np.ndarray  # (H, W) palette indices (demo.views.render)
    scale: str
    attributes: str  # data-* attributes: the stage to inspect and the layout of its values


@dataclass(frozen=True)
class Stage:
    """One stage of the overview: its name, what kind of step it is, its output shape and its picture."""

    name: str
    kind: str  # demo.core.model stage kinds, or 'input' / 'softmax' / 'other'
    shape: tuple[int, ...]
    picture: Picture | str | None = None  # a picture for the sheet, or ready HTML (the probability bars)
    note: str = ""


@cache
def _shapes(model: nn.Sequential) -> dict[str, tuple[int, ...]]:
    return {row.name: row.output_shape for row in architecture(model)}


def _shape_text(shape: tuple[int, ...]) -> str:
    return "×".join(str(s) for s in shape)


def _maps_picture(stage: str, maps: np.ndarray, channels: list[int], scale: str) -> Picture:
    """The chosen channels of (C, H, W) maps, tiled; the attributes let a click name the channel and the cell."""
    _, h, w = maps.shape
    indices, _ = render.to_indices(maps[channels], scale)
    columns = min(theme.OVERVIEW_COLUMNS, len(channels))
    return Picture(render.tile(indices, columns), scale,
                   f'data-inspect="{stage}" data-layout="maps" data-units="{",".join(map(str, channels))}" '
                   f'data-cols="{columns}" data-h="{h}" data-w="{w}" data-gap="{theme.TILE_GAP}"')


def _row_length(n: int) -> int:
    """Values per row of a vector's picture: flatten's 3,136 in rows of 98, fc1's 128 in rows of 32."""
    return 98 if n > 1000 else 32 if n > 32 else n


def _vector_picture(stage: str, values: np.ndarray, scale: str) -> Picture:
    """A vector as rows of cells with a gap line between rows, so it reads as a list, not as a map."""
    values = np.asarray(values, np.float32).reshape(-1)
    n = len(values)
    row = _row_length(n)
    rows = -(-n // row)
    indices, _ = render.to_indices(values, scale)
    grid = np.full((2 * rows - 1, row), render.GAP_INDEX, np.uint8)
    for r in range(rows):
        chunk = indices[r * row:(r + 1) * row]
        grid[2 * r, :len(chunk)] = chunk
    return Picture(grid, scale, f'data-inspect="{stage}" data-layout="vector" data-row-len="{row}" data-n="{n}"')


def _bars(probs: list[float], top: int | None, names: tuple[str, ...]) -> str:
    rows = "".join(
        str(Markup('<span class="ov-bar-row{}" data-inspect-stage="{}" data-inspect-unit="{}" title="{}: {} %">'
                   '<span class="ov-bar-digit">{}</span>').format(" top" if d == top else "", PROBABILITIES, d,
                                                                   names[d], decimal(100 * p, 1), names[d]))
        + f'<span class="ov-bar" style="width:{100 * p:.1f}%"></span></span>' for d, p in enumerate(probs))
    return f'<span class="ov-bars{" with-symbols" if len(names) > 10 else ""}">{rows}</span>'


def _most_active(maps: np.ndarray, count: int) -> list[int]:
    """The ``count`` channels whose strongest value is largest, strongest first."""
    strongest = maps.reshape(len(maps), -1).max(axis=1)
    return [int(c) for c in np.argsort(-strongest, kind="stable")[:count]]


@torch.inference_mode()
def _vectors(pred: Prediction, model: nn.Sequential) -> dict[str, np.ndarray]:
    """The stage outputs the prediction does not record (the normalised input, the fully connected layers' values
    before ReLU, the logits), from the recorded ones: each is one small step of the model's own modules."""
    out: dict[str, np.ndarray] = {}
    previous: torch.Tensor = torch.from_numpy(np.ascontiguousarray(pred.input28, np.float32))[None, None]
    for name, module in model.named_children():
        if name in pred.activations:
            value = torch.from_numpy(pred.activations[name])[None]
            if value.shape[2:] == (1, 1):  # a fully connected ReLU, recorded as (C, 1, 1)
                value = value.reshape(1, -1)
        else:
            value = module(previous)
            out[name] = value[0].numpy()
        previous = value
    return out


def _classes(model: nn.Sequential) -> int:
    """How many classes the network tells apart: its last layer's outputs (ten digits, and a room's symbols)."""
    return int(list(model.children())[-1].out_features)


def stages(pred: Prediction | None, model: nn.Sequential) -> list[Stage]:
    """Every stage of the overview in order, with its picture when ``pred`` has a drawing."""
    shapes = _shapes(model)
    drawn = pred is not None and pred.label is not None and bool(pred.activations)
    if not drawn:
        return ([Stage(INPUT, "input", (1, 28, 28))]
                + [Stage(n, stage_kind(m), shapes[n]) for n, m in model.named_children()]
                + [Stage(PROBABILITIES, "softmax", (_classes(model),))])
    extra = _vectors(pred, model)
    result = [Stage(INPUT, "input", (1, 28, 28),
                    _maps_picture(INPUT, pred.input28[None], [0], "input"))]
    channels: list[int] = []
    names = [name for name, _ in model.named_children()]
    for index, (name, module) in enumerate(model.named_children()):
        kind = stage_kind(module)
        values = pred.activations[name] if name in pred.activations else extra[name]
        if kind == CONV:  # the maps to show for this conv, its ReLU and the pooling after it: the most active
            after = names[index + 1] if index + 1 < len(names) else name
            channels = _most_active(pred.activations.get(after, values), theme.OVERVIEW_MAPS)
        shape = shapes[name]
        if len(shape) == 3 and shape[0] == 1:  # the normalised drawing: one map, values of either sign
            picture = _maps_picture(name, values.reshape(shape), [0], "signed")
            note = plain("views.overview.note_normalize")
        elif len(shape) == 3:
            scale = "signed" if kind == CONV else "activation"
            shown = [c for c in channels if c < shape[0]] or list(range(min(shape[0], theme.OVERVIEW_MAPS)))
            picture = _maps_picture(name, values.reshape(shape), shown, scale)
            note = plain("views.overview.note_maps", shown=len(shown), total=shape[0])
        else:
            scale = "signed" if kind == FULLY_CONNECTED else "activation"
            picture = _vector_picture(name, values, scale)
            note = _vector_note(kind, module)
        if kind == POOL:
            note = plain("views.overview.note_pooled", shown=len(shown), total=shape[0], size=_shape_text(shape[1:]))
        result.append(Stage(name, kind, shape, picture, note))
    note = (plain("views.overview.note_softmax") if len(pred.names) == 10
            else plain("views.overview.note_softmax_room", count=len(pred.names)))
    result.append(Stage(PROBABILITIES, "softmax", (len(pred.probs),), _bars(pred.probs, pred.label, pred.names),
                        note))
    return result


def _vector_note(kind: str, module: nn.Module) -> str:
    """The note under a stage shown as a vector: what its step does to the values ("" for none)."""
    if isinstance(module, nn.Dropout):
        return plain("views.overview.note_dropout")
    key = VECTOR_NOTES.get(kind)
    return plain(key) if key else ""


def _break_before(previous: Stage | None) -> bool:
    """A new row of the overview after each pooling stage: one row per block (conv ... pool), then the classifier."""
    return previous is not None and previous.kind == POOL


def _picture_html(stage: Stage, top: int) -> str:
    """A stage's part of the sheet, drawn about OVERVIEW_PICTURE_PX wide (CSS variables: demo/page/static/app.css)."""
    picture = stage.picture
    assert isinstance(picture, Picture)
    h, w = picture.indices.shape
    zoom = theme.OVERVIEW_PICTURE_PX / max(w, 28) if w < 100 else 1.0  # long vectors: one screen pixel a value
    return (f'<span class="ov-pic" role="img" aria-label="{stage.name}: {_shape_text(stage.shape)}" '
            f'{picture.attributes} style="--x:0;--y:{top};--w:{w};--h:{h};--z:{zoom:.4f}"></span>')


def overview_html(pred: Prediction | None, model: nn.Sequential) -> str:
    """The overview's HTML: rows of stages joined by arrows, each stage labelled with its name and shape. Every
    picture is a part of one sheet (a single small PNG), shown through CSS."""
    items = stages(pred, model)
    drawn = [stage for stage in items if isinstance(stage.picture, Picture)]
    sheet = ""
    tops: dict[str, int] = {}
    if drawn:
        uri, rows_top, (width, height) = render.sprite_data_uri([(s.picture.indices, s.picture.scale) for s in drawn])
        tops = {s.name: top for s, top in zip(drawn, rows_top, strict=True)}
        sheet = f' style="--ov-sheet:url({uri});--sw:{width};--sh:{height}"'
    rows: list[list[str]] = [[]]
    previous = None
    for step, stage in enumerate(items, start=1):
        if _break_before(previous):
            rows.append([])
        if isinstance(stage.picture, Picture):
            picture = _picture_html(stage, tops[stage.name])
        else:
            picture = stage.picture or '<span class="ov-empty"></span>'
        note = f'<span class="ov-note">{html.escape(stage.note)}</span>' if stage.note else ""
        rows[-1].append(
            f'<figure class="ov-stage" data-stage="{stage.name}" data-step="{step}" data-kind="{stage.kind}">'
            f'<figcaption><span class="ov-name">{stage.name}</span> '
            f'<span class="ov-shape">{_shape_text(stage.shape)}</span></figcaption>{picture}{note}</figure>')
        previous = stage
    state = "ready" if drawn else "empty"
    body = "".join(f'<div class="ov-row">{"".join(row)}</div>' for row in rows)
    hint = say("views.overview.hint_ready" if drawn else "views.overview.hint_empty")
    return (f'<div id="overview" class="overview" data-state="{state}" data-steps="{len(items)}"{sheet}>'
            f'<div class="view-title">{say("views.overview.title")} <span class="ov-hint">{hint}</span></div>'
            f'{body}</div>')
