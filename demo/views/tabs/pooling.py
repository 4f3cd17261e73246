"""The pooling explorer: one feature map of the drawing pooled with any window and stride; for one output cell,
the window it saw and the value it kept."""

from __future__ import annotations

import numpy as np

from demo.core.classifier import Classifier
from demo.teaching import explanations
from demo.teaching.lessons import pooling
from demo.texts import localised, plain, say
from demo.views import render
from demo.views.panels import legend

from .common import highlighted, lesson, number_table, placeholder

_POOLED_CAPTIONS = {"max": "tabs.pooling.pooled_caption_max", "mean": "tabs.pooling.pooled_caption_mean"}
_KIND_NAMES = {"max": "tabs.pooling.kind_max", "mean": "tabs.pooling.kind_mean"}


def kind_choices() -> list[tuple[str, str]]:
    """The pooling menu as (what it shows, the kind the view is given)."""
    return [(plain(_KIND_NAMES[kind]), kind) for kind in pooling.POOL_KINDS]


def pooling_html(input28: np.ndarray | None, clf: Classifier, stage: str, channel: int, kind: str, window: int,
                 stride: int, row: int, col: int) -> str:
    """One feature map of the drawing, pooled; for one output cell, the window it saw and the value it kept."""
    title = say("tabs.pooling.title")
    if input28 is None:
        return placeholder("pooling", title, explanations.POOLING)
    _, activations = clf.forward_staged(input28)
    fmap = activations[stage][channel]
    pooled = pooling.pool_map(fmap, kind, window, stride)
    pw = pooling.pool_window(fmap, kind, window, stride, row, col)
    vmax = float(max(fmap.max(), 1e-6))  # one colour scale for the map and its pooled version
    size = 252
    map_uri = render.png_data_uri(render.to_indices(fmap, "activation", vmax)[0], "activation")
    pooled_uri = render.png_data_uri(render.to_indices(pooled, "activation", vmax)[0], "activation")
    pooled_px = max(pooled.shape[1] * max(1, size // fmap.shape[1]), 40)
    note = ""
    if stage == "relu1" and kind == "max" and window == 2 and stride == 2:
        note = say("tabs.pooling.note_own_pool")
    kept_cell = pw.kept_at if kind == "max" else None
    how = (say("tabs.pooling.how_max", count=window * window, kept=localised(f"{pw.kept:.3f}")) if kind == "max"
           else say("tabs.pooling.how_mean", count=window * window, total=localised(f"{float(pw.values.sum()):.3f}"),
                    kept=localised(f"{pw.kept:.3f}")))
    map_caption = say("tabs.pooling.map_caption", stage=stage, channel=channel, rows=fmap.shape[0],
                      cols=fmap.shape[1])
    pooled_caption = say(_POOLED_CAPTIONS[kind], window=window, stride=stride, rows=pooled.shape[0],
                         cols=pooled.shape[1])
    body = (
        '<div class="conv-row">'
        f'<figure><figcaption>{map_caption}</figcaption>'
        f'{highlighted(map_uri, plain("tabs.pooling.alt_map"), fmap.shape, size, pw.top, pw.left, window, window)}'
        '</figure><div class="conv-op">→</div>'
        f'<figure><figcaption>{pooled_caption}</figcaption>'
        f'{highlighted(pooled_uri, plain("tabs.pooling.alt_pooled"), pooled.shape, pooled_px, row, col, 1, 1)}</figure>'
        f'<figure><figcaption>{say("tabs.pooling.window_caption", row=row, col=col)}</figcaption>'
        f'{number_table(pw.values, "window", kept_cell, 3)}<div class="formula">{how}</div></figure>'
        '</div>' + (f'<div class="view-note">{note}</div>' if note else "")
        + f'<div class="layer-caption">{legend("activation", "0", f"{vmax:.2f}")}</div>')
    data = (f' data-state="ready" data-kept="{pw.kept:.6f}" data-out="{pooled.shape[0]}x{pooled.shape[1]}" '
            f'data-kind="{kind}"')
    return lesson("pooling", title, body, explanations.POOLING, data)
