"""What filters look for: every channel of one conv layer as the pieces of training digits that excite it most,
and for the selected channel its kernel, its 9 strongest training patches and its feature map on the drawing.

The patches come from the atlas that tools/filter_atlas.py builds (demo/teaching/atlas.py); the kernel and the drawing's
map from the model itself, so the view always describes the network that is loaded.
"""

from __future__ import annotations

import html
from functools import lru_cache
from pathlib import Path

import numpy as np
from markupsafe import Markup

from demo.core.classifier import DEFAULT_WEIGHTS, Classifier
from demo.core.model import CONV, stage_kind
from demo.teaching.atlas import Atlas, AtlasLayer, Field, crop, receptive_fields
from demo.teaching.explanations import signed
from demo.texts import plain, say
from demo.views import render, theme
from demo.views.panels import legend

from .common import highlighted, img, lesson

THUMB_PX = 64  # a channel's mosaic in the grid
PATCH_PX = 56  # one top patch
PICTURE_PX = 140  # the drawing and its feature map
BUILD = "python -m tools.filter_atlas --data-dir PATH"
# The layout and the selected channel's frame are class rules in demo/page/static/insights.css ("What filters look
# for").


def explanation(fields: dict[str, Field]) -> str:
    """The classic tutorial's words, with this network's receptive fields in them."""
    sizes = ", ".join(f"{html.escape(name)} {f.size}×{f.size}" for name, f in fields.items())
    return say("tabs.filter_atlas.explanation", sizes=Markup(sizes))


def _mosaic(patches: np.ndarray) -> np.ndarray:
    """(9, R, R) uint8 patches -> palette indices of a 3×3 mosaic (grey scale, gaps between patches)."""
    indices, _ = render.to_indices(patches.astype(np.float32) / 255, "input", vmax=1.0)
    return render.tile(indices, columns=3)


@lru_cache(maxsize=8)
def _mosaic_uris(entry: AtlasLayer) -> tuple[str, ...]:
    """Every channel's mosaic as a PNG data URI, made once per atlas layer: they do not change with the drawing."""
    return tuple(render.png_data_uri(_mosaic(patches), "input") for patches in entry.patches)


def _grid(layer: str, channels: int, selected: int, entry: AtlasLayer | None) -> str:
    """One button per channel (the page's script selects the channel in its data-channel); with the atlas, each
    shows the channel's 9 top patches, without it just the channel's number."""
    buttons = []
    uris = _mosaic_uris(entry) if entry is not None else ()
    for c in range(channels):
        on = c == selected
        if entry is not None:
            face = img(uris[c], plain("tabs.filter_atlas.filter_alt", layer=layer, channel=c), THUMB_PX)
            tip = plain("tabs.filter_atlas.filter_tip_strongest", channel=c,
                        value=signed(float(entry.activations[c, 0])))
        else:
            face = f'<span class="atlas-channel-number">{c}</span>'
            tip = plain("tabs.filter_atlas.filter_tip", channel=c)
        buttons.append(f'<button type="button" class="atlas-channel{" selected" if on else ""}" '
                       f'data-layer="{html.escape(layer)}" data-channel="{c}" aria-pressed="{str(on).lower()}" '
                       f'title="{html.escape(tip)}">{face}</button>')
    return f'<div class="atlas-grid">{"".join(buttons)}</div>'


def _layer_buttons(convs: list[str], layer: str, clf: Classifier, fields: dict[str, Field]) -> str:
    """A button per conv layer (data-layer), for a page that lets the view switch layers itself."""
    parts = []
    for name in convs:
        on = name == layer
        label = say("tabs.filter_atlas.layer_button", layer=name, count=getattr(clf.model, name).out_channels,
                    side=fields[name].size)
        parts.append(f'<button type="button" class="atlas-layer{" selected" if on else ""}" '
                     f'data-layer="{html.escape(name)}" aria-pressed="{str(on).lower()}">{label}</button>')
    return f'<div class="atlas-layers">{"".join(parts)}</div>'


def _kernel(clf: Classifier, layer: str, channel: int, input_stage: str) -> str:
    """The selected filter's weights: conv1's single kernel as a picture; for a deeper layer one k×k tile per input
    channel (a filter there is a stack of kernels), with the input channels it weighs most named."""
    weight = getattr(clf.model, layer).weight.detach().float().numpy()[channel]  # (C_in, k, k)
    c_in, k, _ = weight.shape
    if c_in == 1:
        indices, vmax = render.to_indices(weight[0], "signed")
        picture = img(render.png_data_uri(indices, "signed"),
                      plain("tabs.filter_atlas.kernel_alt", layer=layer, channel=channel), 120)
        caption = say("tabs.filter_atlas.kernel_caption", side=k)
    else:
        pic = render.signed_maps_picture(weight)
        vmax = pic.vmax
        picture = img(pic.data_uri(), plain("tabs.filter_atlas.kernels_alt", layer=layer, channel=channel),
                      min(pic.indices.shape[1] * 6, 240))
        norms = np.sqrt((weight.astype(np.float64) ** 2).sum(axis=(1, 2)))
        strongest = ", ".join(f"{int(i)} ({norms[i]:.2f})" for i in np.argsort(-norms)[:3])
        caption = say("tabs.filter_atlas.kernels_caption", side=k, count=c_in, stage=input_stage, last=c_in - 1,
                      columns=theme.TILE_COLUMNS, strongest=strongest)
    scale = legend("signed", signed(-vmax), signed(vmax, plus=True))
    return (f'<figure class="atlas-kernel"><figcaption>{caption}</figcaption>{picture}'
            f'<div class="layer-caption">{scale}</div></figure>')


def _top_patches(entry: AtlasLayer, channel: int) -> str:
    """The 9 strongest training patches, strongest first, each with its value and where it comes from."""
    size = entry.field.size
    width = size * max(1, PATCH_PX // size)
    cells = []
    for t in range(entry.patches.shape[1]):
        value = float(entry.activations[channel, t])
        index, label = int(entry.images[channel, t]), int(entry.labels[channel, t])
        uri = render.gray_picture(entry.patches[channel, t].astype(np.float32) / 255).data_uri()
        caption = say("tabs.filter_atlas.patch_caption", value=signed(value), index=index, label=label)
        cells.append(f'<figure class="atlas-patch" data-value="{value:.6f}" data-image="{index}">'
                     f'<div>{img(uri, plain("tabs.filter_atlas.patch_alt", index=index), width)}</div>'
                     f'<figcaption>{caption}</figcaption></figure>')
    caption = say("tabs.filter_atlas.top_caption", count=len(cells), side=size)
    return (f'<figure class="atlas-top"><figcaption>{caption}</figcaption><div class="atlas-patches">'
            f'{"".join(cells)}</div></figure>')


def _drawing(clf: Classifier, input28: np.ndarray, layer: str, channel: int, fld: Field,
             entry: AtlasLayer | None) -> tuple[str, str, str]:
    """The channel's map on the drawing with its strongest position marked, the drawing with that position's
    receptive field boxed, and the drawing's own patch there; returns (figures, a note, data attributes)."""
    _, activations = clf.forward_staged(input28)
    fmap = activations[layer][channel]
    row, col = (int(i) for i in np.unravel_index(int(np.argmax(fmap)), fmap.shape))
    value = float(fmap[row, col])
    indices, vmax = render.to_indices(fmap, "signed")
    map_html = highlighted(render.png_data_uri(indices, "signed"),
                           plain("tabs.filter_atlas.map_alt", layer=layer, channel=channel), fmap.shape, PICTURE_PX,
                           row, col, 1, 1)
    top, left = fld.corner(row, col)
    y0, x0 = max(top, 0), max(left, 0)
    y1, x1 = min(top + fld.size, 28), min(left + fld.size, 28)
    drawing_html = highlighted(render.gray_picture(input28).data_uri(), plain("tabs.filter_atlas.drawing_alt"),
                               (28, 28), PICTURE_PX, y0, x0, y1 - y0, x1 - x0)
    patch = crop(np.asarray(input28, np.float32), fld, row, col)
    patch_html = img(render.gray_picture(patch).data_uri(), plain("tabs.filter_atlas.drawing_patch_alt"),
                     fld.size * max(1, 84 // fld.size))
    map_caption = say("tabs.filter_atlas.map_caption", height=fmap.shape[0], width=fmap.shape[1], row=row, col=col)
    figures = (f'<figure class="atlas-map"><figcaption>{map_caption}</figcaption>{map_html}'
               f'<div class="layer-caption">{legend("signed", signed(-vmax), signed(vmax, plus=True))}</div></figure>'
               f'<figure><figcaption>{say("tabs.filter_atlas.field_caption", side=fld.size)}</figcaption>'
               f'{drawing_html}</figure>'
               f'<figure class="atlas-your-patch"><figcaption>'
               f'{say("tabs.filter_atlas.patch_of_drawing", value=signed(value))}</figcaption>{patch_html}</figure>')
    if entry is None:
        note = say("tabs.filter_atlas.strongest", value=signed(value), row=row, col=col)
    else:  # beside the training patches' own range: the last kept one and the strongest
        note = say("tabs.filter_atlas.strongest_compared", value=signed(value), row=row, col=col,
                   rank=entry.activations.shape[1], last=signed(float(entry.activations[channel, -1])),
                   first=signed(float(entry.activations[channel, 0])))
    note = f'<div class="view-note">{note}</div>'
    return figures, note, f' data-drawing-value="{value:.6f}" data-drawing-row="{row}" data-drawing-col="{col}"'


def filter_atlas_html(clf: Classifier, atlas: Atlas | None, input28: np.ndarray | None, layer: str,
                      channel: int) -> str:
    """The lesson: all channels of ``layer`` as clickable mosaics, then the selected ``channel`` in detail. An
    unknown layer falls back to the first conv layer and the channel is clamped, so a stale selection still draws;
    the root's data-layer / data-channel say what is shown."""
    stages = list(clf.model.named_children())
    convs = [name for name, module in stages if stage_kind(module) == CONV]
    if not convs:
        return lesson("filter-atlas", say("tabs.filter_atlas.title"),
                      f'<div class="placeholder">{say("tabs.filter_atlas.no_conv")}</div>', "", ' data-state="no-conv"')
    fields = receptive_fields(clf.model)
    layer = layer if layer in convs else convs[0]
    channels = int(getattr(clf.model, layer).out_channels)
    channel = min(max(int(channel), 0), channels - 1)
    names = [name for name, _ in stages]
    input_stage = names[names.index(layer) - 1]
    entry = atlas.layers.get(layer) if atlas is not None else None
    fld = fields[layer]

    parts = [_layer_buttons(convs, layer, clf, fields)]
    if entry is None:
        weights = "" if Path(clf.path) == DEFAULT_WEIGHTS else f" --weights {clf.path}"
        command = Markup(f"<code>{html.escape(BUILD + weights)}</code>")
        parts.append(f'<div class="placeholder atlas-missing">{say("tabs.filter_atlas.missing", command=command)}'
                     '</div>')
    parts.append(f'<div class="view-note">'
                 f'{say("tabs.filter_atlas.layer_note", layer=layer, count=channels, side=fld.size)}</div>')
    parts.append(_grid(layer, channels, channel, entry))
    detail = [_kernel(clf, layer, channel, input_stage)]
    if entry is not None:
        detail.append(_top_patches(entry, channel))
    data = (f' data-layer="{html.escape(layer)}" data-channel="{channel}" data-channels="{channels}" '
            f'data-field="{fld.size}"')
    note = ""
    if input28 is None:
        detail.append(f'<div class="placeholder atlas-no-drawing">{say("tabs.filter_atlas.no_drawing")}</div>')
        state = "empty"
    else:
        figures, note, drawing_data = _drawing(clf, input28, layer, channel, fld, entry)
        detail.append(figures)
        data += drawing_data
        state = "ready"
    # Side by side: what the filter weighs, what excites it in the training set, what it finds in the drawing.
    parts.append(f'<div class="view-title">{say("tabs.filter_atlas.detail_title", layer=layer, channel=channel)}'
                 f'</div><div class="conv-row atlas-detail">{"".join(detail)}</div>{note}')
    state = "missing" if entry is None else state
    return lesson("filter-atlas", say("tabs.filter_atlas.title"), "".join(parts), explanation(fields),
                  f' data-state="{state}"{data}')
