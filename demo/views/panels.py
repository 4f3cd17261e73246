"""The page's views as HTML: prediction, probabilities, model input, feature maps, pooled maps, kernels.

Each function takes a :class:`~demo.core.classifier.Prediction` (or the model) and returns an HTML string whose outer
element carries the stable id that browser tests look for. Pictures are PNG data URIs made by :mod:`demo.views.render`.
No Gradio here.
"""

from __future__ import annotations

import html
from collections import OrderedDict
from functools import cache

import numpy as np
from PIL import Image
from torch import nn

from demo.core.classifier import Prediction
from demo.core.model import ACTIVATION, CONV, POOL, stage_kind
from demo.teaching import explanations
from demo.teaching.explanations import signed

from . import render, theme


def _display_width(picture: render.Picture, target: int = 520) -> int:
    """On-screen width: the largest whole-number enlargement that fits ``target`` pixels (crisp pixels)."""
    width = picture.indices.shape[1]
    return min(target, width * max(1, target // width))


def _figure(title: str, uri: str, caption: str, width_px: int, cls: str = "", attributes: str = "") -> str:
    return (f'<figure class="layer {cls}"><figcaption class="layer-title">{title}</figcaption>'
            f'<img class="pixelated" src="{uri}" alt="{html.escape(title)}" style="width:{width_px}px"{attributes}>'
            f'<div class="layer-caption">{caption}</div></figure>')


def inspect_attributes(stage: str, maps: np.ndarray, columns: int = theme.TILE_COLUMNS) -> str:
    """What the page needs to turn a click on a tiled picture of ``maps`` (C, H, W) into a map and a cell, for the
    inspector (demo/page/static/inspector.js)."""
    c, h, w = maps.shape
    return (f' data-inspect="{stage}" data-layout="maps" data-count="{c}" data-cols="{min(columns, c)}" '
            f'data-h="{h}" data-w="{w}" data-gap="{theme.TILE_GAP}"')


@cache
def _scale_bar_uri(scale: str) -> str:
    return render.scale_bar(scale).data_uri()


def legend(scale: str, low: str, high: str) -> str:
    """A colour-scale legend: the value at the scale's low end, the scale, the value at its high end."""
    bar = _scale_bar_uri(scale)
    return (f'<span class="legend"><span>{low}</span><img class="scale-bar" src="{bar}" alt="colour scale">'
            f'<span>{high}</span></span>')


def prediction_html(pred: Prediction | None, seq: int = 0) -> str:
    """The predicted digit, large; an invitation (with no digit in it) while the pad is empty."""
    if pred is None or pred.label is None:
        return (f'<div id="prediction" class="prediction empty" data-state="empty" data-seq="{seq}">'
                '<div class="invite">Draw a digit</div>'
                '<div class="hint">on the pad, or pick an example, and watch the network read it</div></div>')
    confidence = 100 * pred.probs[pred.label]
    start = (f'<div id="prediction" class="prediction{"" if pred.looks_like_digit else " not-digit"}" '
             f'data-state="ready" data-seq="{seq}" data-label="{pred.label}" '
             f'data-digit-like="{"true" if pred.looks_like_digit else "false"}"')
    if pred.digit_score is not None:
        start += f' data-digit-score="{pred.digit_score:.3f}"'
    if not pred.looks_like_digit:  # say so plainly, and still show the network's forced choice
        return (f'{start}><div class="verdict">This does not look like a digit</div>'
                f'<div class="forced">the network must still pick one: <span class="digit">{pred.label}</span> '
                f'<span class="confidence">{confidence:.1f}% softmax probability</span></div>'
                f'<div class="why">{html.escape(explanations.NOT_A_DIGIT)}</div></div>')
    return (f'{start}><div class="digit">{pred.label}</div>'
            f'<div class="confidence" title="{html.escape(explanations.CONFIDENCE_NOTE)}">{confidence:.1f}% '
            'softmax probability</div></div>')


def probabilities_html(pred: Prediction | None, usual_top: float | None = None) -> str:
    """All ten class probabilities as bars (the softmax of the last fully connected layer); ``usual_top``: the
    median top probability on test digits read right (demo/teaching/calibration.py), said under the bars so that
    a projector or a phone, which never shows a hover title, says what the percentage means."""
    probs = pred.probs if pred is not None and pred.label is not None else [0.0] * 10
    rows = probability_rows(probs, pred.label if pred is not None else None)
    note = ("softmax of fc2's 10 outputs: they add up to 100%" if pred is not None and pred.label is not None
            else "waiting for a drawing")
    if usual_top is not None and pred is not None and pred.label is not None:
        note += (f". Right answers on MNIST test digits usually show about {100 * usual_top:.0f}%, not 100%: normal, "
                 "not doubt (Model card)")
    return (f'<div id="probabilities" class="probabilities"><div class="view-title">Class probabilities</div>'
            f'{rows}<div class="view-note">{note}</div></div>')


def probability_rows(probs: list[float], top: int | None, top_colour: str = theme.ACCENT,
                     colour: str = theme.BAR) -> str:
    """One bar per class; class ``top`` (if any) is bold and drawn in ``top_colour``. The page's own colours come
    from its style sheet; other colours (a comparison's) are written on each bar."""
    rows = []
    for digit, p in enumerate(probs):
        is_top = digit == top
        bar_colour = top_colour if is_top else colour
        paint = "" if bar_colour == (theme.ACCENT if is_top else theme.BAR) else f";background:{bar_colour}"
        rows.append(f'<div class="prob-row{" top" if is_top else ""}" data-digit="{digit}">'
                    f'<span class="prob-digit">{digit}</span>'
                    f'<span class="prob-track"><span class="prob-bar" style="width:{100 * p:.1f}%{paint}">'
                    f'</span></span><span class="prob-value">{100 * p:.1f}%</span></div>')
    return "".join(rows)


STEP_PX = 84  # on-screen side of a preprocessing step's picture (demo/page/static/app.css): drawn no larger


def _shrink(image: np.ndarray, side: int) -> np.ndarray:
    """An image whose longest side exceeds ``side`` pixels, reduced to it (area average: no aliasing)."""
    h, w = image.shape
    if max(h, w) <= side:
        return image
    scale = side / max(h, w)
    small = Image.fromarray(np.clip(image * 255, 0, 255).astype(np.uint8)).resize(
        (max(1, round(w * scale)), max(1, round(h * scale))), Image.Resampling.BOX)
    return np.asarray(small, np.float32) / 255


def model_input_html(pred: Prediction | None) -> str:
    """The preprocessing steps, ending in the 28×28 input the model really sees (shown pixelated)."""
    if pred is None or not pred.steps:
        return ('<div id="model-input" class="model-input empty"><div class="view-title">What the model sees</div>'
                '<div class="placeholder">the model input appears here</div></div>')
    steps = []
    for caption, image in pred.steps[:-1]:
        shown = _shrink(image, STEP_PX)
        pixelated = ' class="pixelated"' if max(image.shape) <= STEP_PX else ""
        steps.append(f'<figure class="step"><img{pixelated} src="{render.gray_picture(shown).data_uri()}" '
                     f'alt="{html.escape(caption)}"><figcaption>{html.escape(caption)}</figcaption></figure>')
    uri = render.gray_picture(pred.input28).data_uri()
    return ('<div id="model-input" class="model-input"><div class="view-title">What the model sees</div>'
            f'<div class="steps">{"<span class=arrow>→</span>".join(steps)}</div>'
            f'<figure class="input28"><img class="pixelated" src="{uri}" alt="28×28 model input" width="168" '
            'height="168"><figcaption>model input · 1×28×28 · 784 numbers: black = 0, white = 1</figcaption>'
            '</figure></div>')


def _stage_groups(activations: OrderedDict[str, np.ndarray], model: nn.Sequential) -> tuple[list, list]:
    """(feature-map stages, pooled stages): each conv's activation output and each pooling output."""
    modules = dict(model.named_children())
    names = list(modules)
    features, pooled = [], []
    for i, name in enumerate(names):
        if name not in activations or activations[name].shape[1] == 1:
            continue  # fully connected activations (C×1×1) are not maps
        kind = stage_kind(modules[name])
        if kind == ACTIVATION and i > 0 and stage_kind(modules[names[i - 1]]) == CONV:
            features.append((names[i - 1], name))
        elif kind == POOL:
            pooled.append((names[i - 1] if i > 0 else "", name))
    return features, pooled


def _maps_html(element_id: str, title: str, note: str, pred: Prediction | None, model: nn.Sequential,
               which: int) -> str:
    if pred is None or not pred.activations:
        return (f'<div id="{element_id}" class="maps empty"><div class="view-title">{title}</div>'
                '<div class="placeholder">draw a digit to see what each filter responds to</div></div>')
    figures = []
    for source, name in _stage_groups(pred.activations, model)[which]:
        maps = pred.activations[name]
        picture = render.feature_map_picture(maps)
        c, h, w = maps.shape
        label = f"{source} → {name}" if which == 0 else f"{name} (after {source})"
        caption = (legend("activation", "0", signed(picture.vmax))
                   + f'<span class="shape">{c} maps of {h}×{w}</span>')
        figures.append(_figure(f'{label} <span class="shape">{c}×{h}×{w}</span>', picture.data_uri(), caption,
                               _display_width(picture), attributes=inspect_attributes(name, maps)))
    return (f'<div id="{element_id}" class="maps"><div class="view-title">{title}</div>'
            f'<div class="view-note">{note} Click a map to see how a value was made.</div>'
            f'<div class="layers">{"".join(figures)}</div></div>')


def feature_maps_html(pred: Prediction | None, model: nn.Sequential) -> str:
    return _maps_html("feature-maps", "Feature maps (convolution → ReLU)",
                      "Each square is one filter's response over the image after the ReLU nonlinearity; black = 0 "
                      "(no response), pale yellow = the strongest response in that layer.", pred, model, 0)


def pooled_maps_html(pred: Prediction | None, model: nn.Sequential) -> str:
    pool = next(m for m in model.children() if stage_kind(m) == POOL)
    side = pool.kernel_size if isinstance(pool.kernel_size, int) else pool.kernel_size[0]
    kind = "max" if isinstance(pool, nn.MaxPool2d) else "mean"
    return _maps_html("pooled-maps", f"Pooled maps ({side}×{side} {kind} pooling)",
                      f"{kind.capitalize()} pooling keeps the {'largest' if kind == 'max' else 'mean'} value of each "
                      f"{side}×{side} window: the map shrinks {side}× in each direction, and a feature that moves "
                      "within a window gives the same value. Same colour scale as the feature maps.",
                      pred, model, 1)


def kernels_html(model: nn.Sequential) -> str:
    """Every convolution layer's learned kernels (fixed after training, so rendered once)."""
    figures = []
    for name, module in model.named_children():
        if stage_kind(module) != CONV:
            continue
        weight = module.weight.detach().numpy()
        picture = render.kernel_picture(weight)
        o, i, kh, kw = weight.shape
        layout = (f"{o} filters, one {kh}×{kw} kernel each" if i == 1 else
                  f"row = filter (output channel, {o}), column = its kernel for each input channel ({i})")
        caption = (legend("signed", signed(-picture.vmax), signed(picture.vmax, plus=True))
                   + f'<span class="shape">{layout}</span>')
        figures.append(_figure(f'{name} weights <span class="shape">{o}×{i}×{kh}×{kw}</span>', picture.data_uri(),
                               caption, _display_width(picture)))
    return ('<div id="kernels" class="maps"><div class="view-title">Kernels (the learned weights)</div>'
            '<div class="view-note">Each kernel slides over its input: red weights count what lies under them with '
            'a plus sign, blue ones with a minus sign, white is 0. conv1 reads the normalised drawing (background '
            f'{signed(explanations.BACKGROUND)}, ink {signed(explanations.INK)}), so there a blue weight over '
            'background adds and only ink under it subtracts; its kernels read as stroke and edge detectors. These '
            f'are the trained weights with {explanations.BATCH_NORM}: what the network computes with.</div>'
            f'<div class="layers">{"".join(figures)}</div></div>')


def how_it_works_html(model: nn.Sequential) -> str:
    """The tutorial's big picture (images as numbers; conv, ReLU, pool, flatten, fully connected), shown once."""
    first = next(m for m in model.children() if stage_kind(m) == CONV)
    return (f'<details id="how-it-works" class="how-it-works" open><summary class="view-title">How the network reads '
            f'your drawing</summary><p class="explain">{explanations.IMAGE_AS_NUMBERS}</p>'
            f'<p class="explain">{explanations.layers(first.kernel_size[0])}</p></details>')


def notice_html(message: str = "", level: str = "info") -> str:
    """A visible notice for problems with the input (never a stack trace)."""
    if not message:
        return '<div id="notice" class="notice" role="status"></div>'
    return f'<div id="notice" class="notice {level}" role="status">{html.escape(message)}</div>'
