"""Break it: the intact network and a damaged copy of one layer read the same drawing side by side: the answers,
all ten probabilities, and the maps of every stage from the damaged layer on."""

from __future__ import annotations

import html
from typing import Any

import numpy as np
from markupsafe import Markup
from torch import nn

from demo.core.classifier import Classifier
from demo.core.model import ACTIVATION, CONV, stage_kind
from demo.core.paths import WEIGHTS_DIR
from demo.teaching.explanations import signed
from demo.teaching.lessons import break_it as lessons_break_it
from demo.teaching.reports import measured_report
from demo.texts import localised, plain, say
from demo.views import render, theme
from demo.views.panels import legend

from .common import img, lesson, placeholder, probability_bars

BROKEN_COLOUR = "#dc2626"  # the damaged network's bars: a warning red beside the usual answer colour
VECTOR_ROW_PX = 4  # height of a hidden-unit vector's picture, in picture pixels
MAP_PX = 480  # on-screen width a picture is enlarged towards (whole-number steps keep the pixels crisp)

REPORT = WEIGHTS_DIR / "break_it.json"


def noise_report(weights: str) -> dict[str, Any] | None:
    """weights/break_it.json (python -m tools.break_it_report) when it was measured on the network in ``weights``."""
    return measured_report(str(REPORT), weights)


def fan_in(model: nn.Sequential) -> dict[str, int]:
    """How many inputs one unit of each breakable layer adds up (a filter: its kernel over every input channel)."""
    sizes = {}
    for layer in lessons_break_it.layer_choices(model):
        module = getattr(model, layer)
        sizes[layer] = (module.in_channels * module.kernel_size[0] * module.kernel_size[1]
                        if isinstance(module, nn.Conv2d) else module.in_features)
    return sizes


def explanation(report: dict[str, Any] | None, inputs: dict[str, int] | None = None) -> str:
    """The tab's text, with what the noise did to each layer when it was measured (nothing claimed without it);
    ``inputs``: :func:`fan_in`."""
    parts = [say("tabs.break_it.explanation_start")]
    if report:
        parts += _measured(report, inputs)
    parts.append(say("tabs.break_it.explanation_end"))
    return " ".join(parts)


def _measured(report: dict[str, Any], inputs: dict[str, int] | None) -> list[str]:
    """What the noise did to each layer as measured; with ``inputs``, why the first convolution breaks soonest."""
    levels = " / ".join(f"{k:g}" for k in report["noise"])
    accuracy = report["accuracy"]
    rows = "; ".join(f"{html.escape(layer)} " + " / ".join(f"{100 * a:.1f}" for a in shares) + " %"
                     for layer, shares in accuracy.items())
    parts = [say("tabs.break_it.explanation_measured", levels=levels, set=report["set"], seeds=len(report["seeds"]),
                 rows=Markup(rows))]
    first, weakest = next(iter(accuracy)), min(accuracy, key=lambda layer: accuracy[layer][1])
    if inputs and weakest == first and 1.0 in report["noise"]:
        at_one = report["noise"].index(1.0)
        counts = ", ".join(say("tabs.break_it.fan_in", count=localised(f"{n:,}"), layer=layer)
                           for layer, n in inputs.items())
        parts.append(say("tabs.break_it.explanation_first_conv",
                         share=localised(f"{100 * (1 - accuracy[first][at_one]):.1f}"),
                         inputs=Markup(counts)))
    return parts


def break_it_html(clf: Classifier, input28: np.ndarray | None, layer: str, channels_text: str | None,
                  noise: float, seed: int | None = lessons_break_it.DEFAULT_SEED) -> str:
    """The drawing read by the intact network and by one with ``layer`` damaged: the ``channels_text`` channels
    (e.g. "3, 7-9") switched off and Gaussian noise of ``noise`` × the layer's weight std, drawn with ``seed``.
    Settings that cannot be used give a notice inside the view, never an exception."""
    text = explanation(noise_report(str(clf.path)), fan_in(clf.model))
    if input28 is None:
        return placeholder("break-it", say("tabs.break_it.title"), text)
    probs, activations = clf.forward_staged(input28)
    original = int(np.argmax(probs))
    try:
        count = lessons_break_it.channel_count(clf.model, layer)
        channels = lessons_break_it.parse_channels(channels_text, count)
        layer, channels, noise = lessons_break_it.validate(clf.model, layer, channels, noise)
        seed = lessons_break_it.check_seed(lessons_break_it.DEFAULT_SEED if seed is None else seed)
    except ValueError as error:
        return _notice(str(error), layer, original, text)
    if channels or noise > 0:
        b_probs, b_activations = lessons_break_it.broken_forward(clf.model, input28, layer, channels, noise, seed)
    else:  # nothing broken: the intact pass is the answer (the lesson module gives the same numbers bit for bit)
        b_probs, b_activations = probs, activations
    answer = int(np.argmax(b_probs))
    body = (f'<div class="view-note"><b>{html.escape(describe(clf.model, layer, channels, noise, seed))}</b></div>'
            '<div class="versus">'
            + _side("tabs.break_it.intact_says", original, probs, theme.CNN_COLOUR, "tone-cnn")
            + _side("tabs.break_it.broken_says", answer, b_probs, BROKEN_COLOUR, "tone-broken") + '</div>'
            f'<div class="view-note">{verdict(original, answer, probs, b_probs)}</div>'
            + _maps(clf.model, layer, channels, activations, b_activations))
    data = (f' data-state="ready" data-layer="{layer}" data-channels-off="{",".join(map(str, channels))}"'
            f' data-noise="{noise:g}" data-seed="{seed}" data-answer="{answer}" data-original="{original}"')
    return lesson("break-it", say("tabs.break_it.title"), body, text, data)


def describe(model: nn.Sequential, layer: str, channels: list[int], noise: float, seed: int) -> str:
    """What was changed, in words: "switched off conv1 channels 3, 7 · noise 0.50 × weight std"."""
    conv = isinstance(getattr(model, layer), nn.Conv2d)
    parts = []
    if channels:
        keys = (("tabs.break_it.switched_off_unit", "tabs.break_it.switched_off_units"),
                ("tabs.break_it.switched_off_channel", "tabs.break_it.switched_off_channels"))[conv]
        parts.append(plain(keys[len(channels) > 1], layer=layer, channels=", ".join(map(str, channels))))
    if noise > 0:
        parts.append(plain("tabs.break_it.noise", noise=localised(f"{noise:.2f}"), layer=layer, seed=seed))
    if not parts:
        return plain("tabs.break_it.nothing_channels" if conv else "tabs.break_it.nothing_units", layer=layer)
    return " · ".join(parts)


def verdict(original: int, answer: int, probs: np.ndarray, b_probs: np.ndarray) -> str:
    """Did the answer survive? With the drawing's original class's probability before and after."""
    before, after = 100 * float(probs[original]), 100 * float(b_probs[original])
    if answer != original:
        return say("tabs.break_it.answer_changed", original=original, answer=answer, before=localised(f"{before:.1f}"),
                   after=localised(f"{after:.1f}"))
    return say("tabs.break_it.answer_kept", answer=answer, before=localised(f"{before:.1f}"),
               after=localised(f"{after:.1f}"))


def _side(key: str, digit: int, probs: np.ndarray, colour: str, tone: str) -> str:
    """One network's answer (``key``: whose; ``tone``: the CSS class of its text colour, app.css) and its ten
    probabilities (bars in ``colour``)."""
    title = say(key, digit=Markup(f'<b class="versus-digit">{digit}</b>'),
                share=localised(f"{100 * float(probs[digit]):.1f}"))
    return (f'<div class="versus-side"><div class="versus-title {tone}">{title}</div>'
            f'{probability_bars([float(p) for p in probs], colour)}</div>')


def _notice(message: str, layer: object, original: int, text: str) -> str:
    shown = html.escape(str(layer), quote=True)
    body = f'<div class="notice warning" role="status">{html.escape(message)}</div>'
    data = f' data-state="error" data-layer="{shown}" data-original="{original}"'
    return lesson("break-it", say("tabs.break_it.title"), body, text, data)


def shown_stages(model: nn.Sequential, layer: str) -> list[str]:
    """The stages pictured: every recorded stage from ``layer`` on, except a convolution that an activation follows
    (its maps are shown after the ReLU, as on the main page: a filter switched off is a black map there)."""
    stages = dict(model.named_children())
    names = list(stages)
    shown = []
    for name in lessons_break_it.stages_from(model, layer):
        i = names.index(name)
        followed = i + 1 < len(names) and stage_kind(stages[names[i + 1]]) == ACTIVATION
        if stage_kind(stages[name]) == CONV and followed:
            continue
        shown.append(name)
    return shown


def _pictures(intact: np.ndarray, broken: np.ndarray) -> tuple[render.Picture, render.Picture]:
    """Both versions of one stage on one colour scale (so a change reads as a change of colour): maps tiled, a
    vector of hidden units as one thin row. A stage with negative values (a conv before its ReLU) is signed."""
    scale = "signed" if min(float(intact.min()), float(broken.min())) < 0 else "activation"
    vmax = float(max(np.abs(intact).max(), np.abs(broken).max()))
    pictures = []
    for maps in (intact, broken):
        indices, shown_vmax = render.to_indices(maps, scale, vmax)
        if maps.shape[1:] == (1, 1):
            tiles = np.repeat(indices.reshape(1, 1, -1), VECTOR_ROW_PX, axis=1)
            pictures.append(render.Picture(render.tile(tiles, columns=1), scale, shown_vmax))
        else:
            pictures.append(render.Picture(render.tile(indices), scale, shown_vmax))
    return pictures[0], pictures[1]


def _maps(model: nn.Sequential, layer: str, channels: list[int], intact: dict[str, np.ndarray],
          broken: dict[str, np.ndarray]) -> str:
    figures = []
    for name in shown_stages(model, layer):
        before, after = intact[name], broken[name]
        first, second = _pictures(before, after)
        width = first.indices.shape[1]
        width_px = min(MAP_PX, width * max(1, MAP_PX // width))
        c, h, w = before.shape
        change = float(np.linalg.norm(after - before) / max(float(np.linalg.norm(before)), 1e-12))
        shape = (say("tabs.break_it.shape_units", count=c) if (h, w) == (1, 1) else
                 say("tabs.break_it.shape_maps", count=c, height=h, width=w))
        low = signed(-first.vmax) if first.scale == "signed" else "0"
        note = say("tabs.break_it.changed_by", share=localised(f"{100 * change:.1f}"))
        intact_img = img(first.data_uri(), plain("tabs.break_it.intact_alt", stage=name), width_px)
        broken_img = img(second.data_uri(), plain("tabs.break_it.broken_alt", stage=name), width_px)
        figures.append(
            f'<figure class="layer" data-stage="{name}" data-change="{change:.6f}"><figcaption class="layer-title">'
            f'{name} <span class="shape">{shape} · {note}</span></figcaption><div class="conv-row">'
            f'<figure><figcaption>{say("tabs.break_it.intact")}</figcaption>{intact_img}</figure>'
            f'<figure><figcaption>{say("tabs.break_it.broken")}</figcaption>{broken_img}</figure>'
            f'</div><div class="layer-caption">{legend(first.scale, low, f"{first.vmax:.2f}")}</div></figure>')
    notes = [say("tabs.break_it.maps_note", layer=layer)]
    if channels:
        key = "tabs.break_it.maps_off" if isinstance(getattr(model, layer), nn.Conv2d) else "tabs.break_it.units_off"
        notes.append(say(key, layer=layer, channels=", ".join(map(str, channels))))
    return (f'<div class="view-note">{" ".join(notes)}</div>'
            f'<div class="layers">{"".join(figures)}</div>')
