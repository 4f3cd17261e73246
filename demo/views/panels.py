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
from markupsafe import Markup
from PIL import Image
from torch import nn

from demo.core.classifier import Prediction
from demo.core.model import ACTIVATION, CONV, POOL, stage_kind
from demo.teaching import explanations
from demo.teaching.explanations import signed
from demo.texts import localised, plain, say

from . import render, theme


def _display_width(picture: render.Picture, target: int = 520) -> int:
    """On-screen width: the largest whole-number enlargement that fits ``target`` pixels (crisp pixels)."""
    width = picture.indices.shape[1]
    return min(target, width * max(1, target // width))


def _figure(title: str, uri: str, caption: str, width_px: int, cls: str = "", attributes: str = "") -> str:
    """A layer's picture; ``title`` is HTML, and its text alone (no tags) is the picture's alt text."""
    alt = html.escape(Markup(title).striptags())
    return (f'<figure class="layer {cls}"><figcaption class="layer-title">{title}</figcaption>'
            f'<img class="pixelated" src="{uri}" alt="{alt}" style="width:{width_px}px"{attributes}>'
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
    alt = html.escape(plain("views.panels.scale_alt"))
    return (f'<span class="legend"><span>{low}</span><img class="scale-bar" src="{bar}" alt="{alt}">'
            f'<span>{high}</span></span>')


def _has_symbols(pred: Prediction | None) -> bool:
    """Whether the prediction is a class room's network's, which knows the class's symbols besides the digits."""
    return pred is not None and len(pred.names) > 10


def prediction_html(pred: Prediction | None, seq: int = 0, usual_top: float | None = None) -> str:
    """The predicted digit (or a class room's symbol), large; an invitation (with no digit in it) while the pad is
    empty. Under the percentage, in words a projector and a phone show (a hover title they never do), what it means
    for this network: ``usual_top`` is the median top probability on test digits read right
    (demo/teaching/calibration.py)."""
    if pred is None or pred.label is None:
        return (f'<div id="prediction" class="prediction empty" data-state="empty" data-seq="{seq}">'
                f'<div class="invite">{say("views.panels.invite")}</div>'
                f'<div class="hint">{say("views.panels.invite_hint")}</div></div>')
    symbols = _has_symbols(pred)
    name = pred.names[pred.label]
    percent = 100 * pred.probs[pred.label]
    confidence = say("views.panels.confidence", percent=percent)
    # The sentence a screen reader announces once the answer settles (the page's live region, announce.js).
    if pred.looks_like_digit:
        announce = plain("views.panels.announce_digit", digit=name, percent=percent)
    elif symbols:
        announce = plain("views.panels.announce_none_of_these", digit=name, percent=percent, count=len(pred.names))
    else:
        announce = plain("views.panels.announce_not_digit", digit=name, percent=percent)
    shown = Markup('<span class="digit{}">{}</span>').format(" symbol" if pred.label >= 10 else "", name)
    start = Markup('<div id="prediction" class="prediction{}" data-state="ready" data-seq="{}" data-label="{}" '
                   'data-name="{}" data-digit-like="{}" data-announce="{}"').format(
        "" if pred.looks_like_digit else " not-digit", seq, pred.label, name,
        "true" if pred.looks_like_digit else "false", announce)
    if pred.digit_score is not None:
        start += Markup(' data-digit-score="{:.3f}"').format(pred.digit_score)
    if not pred.looks_like_digit:  # say so plainly, and still show the network's forced choice
        confidence_html = Markup('<span class="confidence">{}</span>').format(confidence)
        if symbols:
            verdict = say("views.panels.none_of_these")
            forced = say("views.panels.forced_choice_room", digit=shown, confidence=confidence_html,
                         count=len(pred.names))
            why = explanations.NONE_OF_THESE
        else:
            verdict = say("views.panels.not_a_digit")
            forced = say("views.panels.forced_choice", digit=shown, confidence=confidence_html)
            why = explanations.NOT_A_DIGIT
        # str() first: the explanations are Markup, and are shown as text
        return str(start + Markup('><div class="verdict">{}</div><div class="forced">{}</div>'
                                  '<div class="why">{}</div></div>').format(verdict, forced, str(why)))
    note = str(explanations.CONFIDENCE_NOTE)
    if symbols:
        meaning = say("views.panels.confidence_share_room", count=len(pred.names))
    elif usual_top is None:
        meaning = say("views.panels.confidence_share")
    else:
        meaning = say("views.panels.confidence_usual", percent=100 * usual_top)
    big = Markup('<div class="digit{}">{}</div>').format(" symbol" if pred.label >= 10 else "", name)
    return str(start + Markup('>{}<div class="confidence" title="{}">{}</div>'
                              '<div class="confidence-meaning">{}</div></div>').format(big, note, confidence, meaning))


def probabilities_html(pred: Prediction | None) -> str:
    """Every class probability as a bar (the softmax of the last fully connected layer): the ten digits, and a
    class room's symbols when its network reads."""
    empty = pred is None or pred.label is None
    names = pred.names if pred is not None else None
    probs = [0.0] * len(names or range(10)) if empty else pred.probs
    rows = probability_rows(probs, None if empty else pred.label, names=names)
    if empty:
        note = say("views.panels.probabilities_waiting")
    elif _has_symbols(pred):
        note = say("views.panels.probabilities_note_room", count=len(pred.names), symbols=len(pred.names) - 10)
    else:
        note = say("views.panels.probabilities_note")
    return (f'<div id="probabilities" class="probabilities{" with-symbols" if _has_symbols(pred) else ""}">'
            f'<div class="view-title">{say("views.panels.probabilities_title")}</div>'
            f'{rows}<div class="view-note">{note}</div></div>')


def probability_rows(probs: list[float], top: int | None, top_colour: str = theme.ACCENT,
                     colour: str = theme.BAR, names: tuple[str, ...] | None = None) -> str:
    """One bar per class; class ``top`` (if any) is bold and drawn in ``top_colour``. The page's own colours come
    from its style sheet; other colours (a comparison's) are written on each bar. ``names``: the classes' names
    (None: the digits)."""
    rows = []
    for digit, p in enumerate(probs):
        is_top = digit == top
        bar_colour = top_colour if is_top else colour
        paint = "" if bar_colour == (theme.ACCENT if is_top else theme.BAR) else f";background:{bar_colour}"
        name = names[digit] if names is not None else str(digit)
        kind = " symbol" if digit >= 10 else ""
        rows.append(str(Markup('<div class="prob-row{}{}" data-digit="{}"><span class="prob-digit">{}</span>')
                        .format(" top" if is_top else "", kind, digit, name))
                    + f'<span class="prob-track"><span class="prob-bar" style="width:{100 * p:.1f}%{paint}">'
                    f'</span></span><span class="prob-value">{localised(f"{100 * p:.1f}")} %</span></div>')
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
        return ('<div id="model-input" class="model-input empty">'
                f'<div class="view-title">{say("views.panels.model_input_title")}</div>'
                f'<div class="placeholder">{say("views.panels.model_input_placeholder")}</div></div>')
    steps = []
    for caption, image in pred.steps[:-1]:
        shown = _shrink(image, STEP_PX)
        pixelated = ' class="pixelated"' if max(image.shape) <= STEP_PX else ""
        steps.append(f'<figure class="step"><img{pixelated} src="{render.gray_picture(shown).data_uri()}" '
                     f'alt="{html.escape(caption)}"><figcaption>{html.escape(caption)}</figcaption></figure>')
    uri = render.gray_picture(pred.input28).data_uri()
    alt = html.escape(plain("views.panels.model_input_alt"))
    return ('<div id="model-input" class="model-input">'
            f'<div class="view-title">{say("views.panels.model_input_title")}</div>'
            f'<div class="steps">{"<span class=arrow>→</span>".join(steps)}</div>'
            f'<figure class="input28"><img class="pixelated" src="{uri}" alt="{alt}" width="168" '
            f'height="168"><figcaption>{say("views.panels.model_input_caption")}</figcaption>'
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
                f'<div class="placeholder">{say("views.panels.maps_placeholder")}</div></div>')
    figures = []
    for source, name in _stage_groups(pred.activations, model)[which]:
        maps = pred.activations[name]
        picture = render.feature_map_picture(maps)
        c, h, w = maps.shape
        label = f"{source} → {name}" if which == 0 else say("views.panels.pooled_label", name=name, source=source)
        caption = (legend("activation", "0", signed(picture.vmax))
                   + f'<span class="shape">{say("views.panels.maps_shape", count=c, height=h, width=w)}</span>')
        figures.append(_figure(f'{label} <span class="shape">{c}×{h}×{w}</span>', picture.data_uri(), caption,
                               _display_width(picture), attributes=inspect_attributes(name, maps)))
    return (f'<div id="{element_id}" class="maps"><div class="view-title">{title}</div>'
            f'<div class="view-note">{say("views.panels.maps_note", note=note)}</div>'
            f'<div class="layers">{"".join(figures)}</div></div>')


def feature_maps_html(pred: Prediction | None, model: nn.Sequential) -> str:
    return _maps_html("feature-maps", say("views.panels.feature_maps_title"), say("views.panels.feature_maps_note"),
                      pred, model, 0)


def pooled_maps_html(pred: Prediction | None, model: nn.Sequential) -> str:
    pool = next(m for m in model.children() if stage_kind(m) == POOL)
    side = pool.kernel_size if isinstance(pool.kernel_size, int) else pool.kernel_size[0]
    title, note = (("views.panels.pooled_title_max", "views.panels.pooled_note_max") if isinstance(pool, nn.MaxPool2d)
                   else ("views.panels.pooled_title_mean", "views.panels.pooled_note_mean"))
    return _maps_html("pooled-maps", say(title, side=side), say(note, side=side), pred, model, 1)


def kernels_html(model: nn.Sequential) -> str:
    """Every convolution layer's learned kernels (fixed after training, so rendered once)."""
    figures = []
    for name, module in model.named_children():
        if stage_kind(module) != CONV:
            continue
        weight = module.weight.detach().numpy()
        picture = render.kernel_picture(weight)
        o, i, kh, kw = weight.shape
        layout = (say("views.panels.kernels_layout_single", filters=o, height=kh, width=kw) if i == 1 else
                  say("views.panels.kernels_layout_grid", filters=o, inputs=i))
        caption = (legend("signed", signed(-picture.vmax), signed(picture.vmax, plus=True))
                   + f'<span class="shape">{layout}</span>')
        title = say("views.panels.kernel_figure_title", name=name)
        figures.append(_figure(f'{title} <span class="shape">{o}×{i}×{kh}×{kw}</span>', picture.data_uri(),
                               caption, _display_width(picture)))
    note = say("views.panels.kernels_note", background=signed(explanations.BACKGROUND),
               ink=signed(explanations.INK), batch_norm=Markup(explanations.BATCH_NORM))  # markup, kept as is
    return (f'<div id="kernels" class="maps"><div class="view-title">{say("views.panels.kernels_title")}</div>'
            f'<div class="view-note">{note}</div>'
            f'<div class="layers">{"".join(figures)}</div></div>')


def how_it_works_html(model: nn.Sequential) -> str:
    """The tutorial's big picture (images as numbers; conv, ReLU, pool, flatten, fully connected), shown once."""
    first = next(m for m in model.children() if stage_kind(m) == CONV)
    return (f'<details id="how-it-works" class="how-it-works" open>'
            f'<summary class="view-title">{say("views.panels.how_it_works_title")}</summary>'
            f'<p class="explain">{explanations.IMAGE_AS_NUMBERS}</p>'
            f'<p class="explain">{explanations.layers(first.kernel_size[0])}</p></details>')


def notice_html(message: str = "", level: str = "info") -> str:
    """A visible notice for problems with the input (never a stack trace)."""
    if not message:
        return '<div id="notice" class="notice" role="status"></div>'
    return f'<div id="notice" class="notice {level}" role="status">{html.escape(message)}</div>'
