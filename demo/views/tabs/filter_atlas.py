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

from demo.core.classifier import DEFAULT_WEIGHTS, Classifier
from demo.core.model import CONV, stage_kind
from demo.teaching.atlas import Atlas, AtlasLayer, Field, crop, receptive_fields
from demo.teaching.explanations import signed
from demo.views import render, theme
from demo.views.panels import legend

from .common import highlighted, img, lesson

TITLE = "What filters look for"
THUMB_PX = 64  # a channel's mosaic in the grid
PATCH_PX = 56  # one top patch
PICTURE_PX = 140  # the drawing and its feature map
BUILD = "python -m tools.filter_atlas --data-dir PATH"
# The layout and the selected channel's frame are class rules in demo/page/static/insights.css ("What filters look
# for").


def explanation(fields: dict[str, Field]) -> str:
    """The classic tutorial's words, with this network's receptive fields in them."""
    sizes = ", ".join(f"{html.escape(name)} {f.size}×{f.size}" for name, f in fields.items())
    return (
        "Each <b>filter</b> is a small <b>pattern detector</b>: its kernel slides over the image, and its "
        "<b>feature map</b> is high wherever the patch under it looks like the kernel's pattern. The pictures here "
        "are the pieces of real training digits that made each filter fire hardest: out of all 60,000 MNIST "
        "training images, the 9 whose strongest response was largest (one piece per image), each cut to the part "
        "of the image the filter actually sees, its <b>receptive field</b>. Deeper layers see bigger pieces: every "
        "layer combines neighbouring values of the one before, and pooling halves the maps in between, so the "
        f"receptive field grows, in input pixels: {sizes}. First-layer filters find edges and stroke ends; deeper "
        "ones respond to corners, curves and crossings, larger parts of digits. Values are the conv layer's own "
        "output, before ReLU.")


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
            face = img(uris[c], f"{layer} filter {c}", THUMB_PX)
            tip = f"filter {c}: strongest {signed(float(entry.activations[c, 0]))}"
        else:
            face, tip = f'<span class="atlas-channel-number">{c}</span>', f"filter {c}"
        buttons.append(f'<button type="button" class="atlas-channel{" selected" if on else ""}" '
                       f'data-layer="{html.escape(layer)}" data-channel="{c}" aria-pressed="{str(on).lower()}" '
                       f'title="{html.escape(tip)}">{face}</button>')
    return f'<div class="atlas-grid">{"".join(buttons)}</div>'


def _layer_buttons(convs: list[str], layer: str, clf: Classifier, fields: dict[str, Field]) -> str:
    """A button per conv layer (data-layer), for a page that lets the view switch layers itself."""
    parts = []
    for name in convs:
        on = name == layer
        f = fields[name]
        parts.append(f'<button type="button" class="atlas-layer{" selected" if on else ""}" '
                     f'data-layer="{html.escape(name)}" aria-pressed="{str(on).lower()}">{html.escape(name)}: '
                     f'{getattr(clf.model, name).out_channels} filters, each sees {f.size}×{f.size} px</button>')
    return f'<div class="atlas-layers">{"".join(parts)}</div>'


def _kernel(clf: Classifier, layer: str, channel: int, input_stage: str) -> str:
    """The selected filter's weights: conv1's single kernel as a picture; for a deeper layer one k×k tile per input
    channel (a filter there is a stack of kernels), with the input channels it weighs most named."""
    weight = getattr(clf.model, layer).weight.detach().float().numpy()[channel]  # (C_in, k, k)
    c_in, k, _ = weight.shape
    if c_in == 1:
        indices, vmax = render.to_indices(weight[0], "signed")
        picture = img(render.png_data_uri(indices, "signed"), f"{layer} kernel {channel}", 120)
        caption = f"its kernel: {k}×{k} weights"
    else:
        pic = render.signed_maps_picture(weight)
        vmax = pic.vmax
        picture = img(pic.data_uri(), f"{layer} filter {channel} kernels", min(pic.indices.shape[1] * 6, 240))
        norms = np.sqrt((weight.astype(np.float64) ** 2).sum(axis=(1, 2)))
        strongest = ", ".join(f"{int(i)} ({norms[i]:.2f})" for i in np.argsort(-norms)[:3])
        caption = (f"its kernel: one {k}×{k} tile per input channel, {c_in} tiles for {html.escape(input_stage)}'s "
                   f"maps 0–{c_in - 1}, {theme.TILE_COLUMNS} to a row; largest weight norms: channels "
                   f"{strongest}")
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
        cells.append(f'<figure class="atlas-patch" data-value="{value:.6f}" data-image="{index}">'
                     f'<div>{img(uri, f"training image {index}", width)}</div>'
                     f'<figcaption>{signed(value)}<br>#{index}, a {label}</figcaption></figure>')
    return (f'<figure class="atlas-top"><figcaption>the {len(cells)} training patches that excite it most '
            f'({size}×{size} px, strongest first)</figcaption><div class="atlas-patches">{"".join(cells)}</div>'
            '</figure>')


def _drawing(clf: Classifier, input28: np.ndarray, layer: str, channel: int, fld: Field,
             entry: AtlasLayer | None) -> tuple[str, str, str]:
    """The channel's map on the drawing with its strongest position marked, the drawing with that position's
    receptive field boxed, and the drawing's own patch there; returns (figures, a note, data attributes)."""
    _, activations = clf.forward_staged(input28)
    fmap = activations[layer][channel]
    row, col = (int(i) for i in np.unravel_index(int(np.argmax(fmap)), fmap.shape))
    value = float(fmap[row, col])
    indices, vmax = render.to_indices(fmap, "signed")
    map_html = highlighted(render.png_data_uri(indices, "signed"), f"{layer} map {channel}", fmap.shape, PICTURE_PX,
                           row, col, 1, 1)
    top, left = fld.corner(row, col)
    y0, x0 = max(top, 0), max(left, 0)
    y1, x1 = min(top + fld.size, 28), min(left + fld.size, 28)
    drawing_html = highlighted(render.gray_picture(input28).data_uri(), "your drawing", (28, 28), PICTURE_PX, y0, x0,
                               y1 - y0, x1 - x0)
    patch = crop(np.asarray(input28, np.float32), fld, row, col)
    patch_html = img(render.gray_picture(patch).data_uri(), "your drawing's patch", fld.size * max(1, 84 // fld.size))
    compare = ""
    if entry is not None:
        ninth = float(entry.activations[channel, -1])
        compare = (f"; the {entry.activations.shape[1]}th strongest training patch gave {signed(ninth)}, the "
                   f"strongest {signed(float(entry.activations[channel, 0]))}")
    figures = (f'<figure class="atlas-map"><figcaption>its feature map on your drawing ({fmap.shape[0]}×'
               f'{fmap.shape[1]}), strongest response at ({row}, {col}) boxed</figcaption>{map_html}'
               f'<div class="layer-caption">{legend("signed", signed(-vmax), signed(vmax, plus=True))}</div></figure>'
               f'<figure><figcaption>your drawing: the {fld.size}×{fld.size} px that position sees</figcaption>'
               f'{drawing_html}</figure>'
               f'<figure class="atlas-your-patch"><figcaption>that piece of your drawing: {signed(value)}'
               f'</figcaption>{patch_html}</figure>')
    note = (f'<div class="view-note">Strongest response on your drawing: {signed(value)} at ({row}, {col})'
            f'{compare}.</div>')
    return figures, note, f' data-drawing-value="{value:.6f}" data-drawing-row="{row}" data-drawing-col="{col}"'


def filter_atlas_html(clf: Classifier, atlas: Atlas | None, input28: np.ndarray | None, layer: str,
                      channel: int) -> str:
    """The lesson: all channels of ``layer`` as clickable mosaics, then the selected ``channel`` in detail. An
    unknown layer falls back to the first conv layer and the channel is clamped, so a stale selection still draws;
    the root's data-layer / data-channel say what is shown."""
    stages = list(clf.model.named_children())
    convs = [name for name, module in stages if stage_kind(module) == CONV]
    if not convs:
        return lesson("filter-atlas", TITLE, '<div class="placeholder">this network has no convolution layers, so '
                      'it has no filters to show</div>', "", ' data-state="no-conv"')
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
        parts.append(f'<div class="placeholder atlas-missing">The filter atlas for these weights is not built yet, '
                     f'so no training patches can be shown. Build it with: <code>{html.escape(BUILD + weights)}'
                     '</code> (PATH: the folder with the MNIST files, e.g. ../shared/data/mnist; a couple of '
                     'minutes on a laptop), then restart the app.</div>')
    parts.append(f'<div class="view-note">{html.escape(layer)}: {channels} filters; each value sees '
                 f'{fld.size}×{fld.size} input pixels. Click a filter to look at it.</div>')
    parts.append(_grid(layer, channels, channel, entry))
    detail = [_kernel(clf, layer, channel, input_stage)]
    if entry is not None:
        detail.append(_top_patches(entry, channel))
    data = (f' data-layer="{html.escape(layer)}" data-channel="{channel}" data-channels="{channels}" '
            f'data-field="{fld.size}"')
    note = ""
    if input28 is None:
        detail.append('<div class="placeholder atlas-no-drawing">draw a digit (or pick an example) to see this '
                      "filter's feature map on your own drawing</div>")
        state = "empty"
    else:
        figures, note, drawing_data = _drawing(clf, input28, layer, channel, fld, entry)
        detail.append(figures)
        data += drawing_data
        state = "ready"
    # Side by side: what the filter weighs, what excites it in the training set, what it finds in the drawing.
    parts.append(f'<div class="view-title">{html.escape(layer)}, filter {channel}</div>'
                 f'<div class="conv-row atlas-detail">{"".join(detail)}</div>{note}')
    state = "missing" if entry is None else state
    return lesson("filter-atlas", TITLE, "".join(parts), explanation(fields), f' data-state="{state}"{data}')
