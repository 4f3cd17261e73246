"""Break it: the intact network and a damaged copy of one layer read the same drawing side by side: the answers,
all ten probabilities, and the maps of every stage from the damaged layer on."""

from __future__ import annotations

import html
from typing import Any

import numpy as np
from torch import nn

from demo.core.classifier import Classifier
from demo.core.model import ACTIVATION, CONV, stage_kind
from demo.core.paths import WEIGHTS_DIR
from demo.teaching.explanations import signed
from demo.teaching.lessons import break_it as lessons_break_it
from demo.teaching.reports import measured_report
from demo.views import render, theme
from demo.views.panels import legend

from .common import img, lesson, placeholder, probability_bars

TITLE = "Break it: switch filters off, add noise"
BROKEN_COLOUR = "#dc2626"  # the damaged network's bars: a warning red beside the usual answer colour
VECTOR_ROW_PX = 4  # height of a hidden-unit vector's picture, in picture pixels
MAP_PX = 480  # on-screen width a picture is enlarged towards (whole-number steps keep the pixels crisp)

EXPLANATION_START = (
    "Each channel of a convolution layer is one learned filter: a small grid of weights that slides over its input "
    "and gives one feature map, bright where it finds its pattern. Switch a filter off and its map goes dark, and "
    "everything that depends on it changes: every filter of the next layer reads all of this layer's maps, and "
    "through them so do the fully connected layers (a hidden unit of a fully connected layer is one learned weighted "
    "sum of everything before it). Networks are often robust to losing one filter, because several filters overlap "
    "in what they detect and the later layers learned to use many of them at once: the answer may hardly move. "
    "Noise on every weight of a layer is another matter: it damages every filter at once. ")
EXPLANATION_END = (
    "The noise is measured in units of the layer's own weight standard deviation and drawn from a seeded random "
    "generator, so the same settings always give the same picture. This only changes your copy of the "
    "computation: everyone else's network is untouched.")
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
    if not report:
        return EXPLANATION_START + EXPLANATION_END
    levels = " / ".join(f"{k:g}" for k in report["noise"])
    accuracy = report["accuracy"]
    rows = "; ".join(f"{html.escape(layer)} " + " / ".join(f"{100 * a:.1f}" for a in shares) + " %"
                     for layer, shares in accuracy.items())
    text = (EXPLANATION_START + f"How much noise each layer can take before it misreads, as the share read right "
            f"with noise of {levels} × the layer's weight standard deviation ({html.escape(report['set'])}, "
            f"{len(report['seeds'])} noise seeds each): {rows}. ")
    first, weakest = next(iter(accuracy)), min(accuracy, key=lambda layer: accuracy[layer][1])
    if inputs and weakest == first and 1.0 in report["noise"]:
        at_one = report["noise"].index(1.0)
        text += (f"The first convolution breaks soonest: at 1 × it already misreads "
                 f"{100 * (1 - accuracy[first][at_one]):.0f} % of the digits. One reason is how many inputs each "
                 "unit adds up: " + ", ".join(f"{n:,} for {html.escape(layer)}" for layer, n in inputs.items())
                 + ". Random errors on many weights point different ways and partly cancel, while the learned "
                 "weights pull together, so the more a unit adds up, the smaller the noise is next to its signal. ")
    return text + EXPLANATION_END


def break_it_html(clf: Classifier, input28: np.ndarray | None, layer: str, channels_text: str | None,
                  noise: float, seed: int | None = lessons_break_it.DEFAULT_SEED) -> str:
    """The drawing read by the intact network and by one with ``layer`` damaged: the ``channels_text`` channels
    (e.g. "3, 7-9") switched off and Gaussian noise of ``noise`` × the layer's weight std, drawn with ``seed``.
    Settings that cannot be used give a notice inside the view, never an exception."""
    if input28 is None:
        return placeholder("break-it", TITLE, explanation(noise_report(str(clf.path)), fan_in(clf.model)))
    probs, activations = clf.forward_staged(input28)
    original = int(np.argmax(probs))
    try:
        count = lessons_break_it.channel_count(clf.model, layer)
        channels = lessons_break_it.parse_channels(channels_text, count)
        layer, channels, noise = lessons_break_it.validate(clf.model, layer, channels, noise)
        seed = lessons_break_it.check_seed(lessons_break_it.DEFAULT_SEED if seed is None else seed)
    except ValueError as error:
        return _notice(str(error), layer, original, explanation(noise_report(str(clf.path)), fan_in(clf.model)))
    if channels or noise > 0:
        b_probs, b_activations = lessons_break_it.broken_forward(clf.model, input28, layer, channels, noise, seed)
    else:  # nothing broken: the intact pass is the answer (the lesson module gives the same numbers bit for bit)
        b_probs, b_activations = probs, activations
    answer = int(np.argmax(b_probs))
    body = (f'<div class="view-note"><b>{html.escape(describe(clf.model, layer, channels, noise, seed))}</b></div>'
            '<div class="versus">' + _side("Intact network", original, probs, theme.CNN_COLOUR)
            + _side("Your broken copy", answer, b_probs, BROKEN_COLOUR) + '</div>'
            f'<div class="view-note">{verdict(original, answer, probs, b_probs)}</div>'
            + _maps(clf.model, layer, channels, activations, b_activations))
    data = (f' data-state="ready" data-layer="{layer}" data-channels-off="{",".join(map(str, channels))}"'
            f' data-noise="{noise:g}" data-seed="{seed}" data-answer="{answer}" data-original="{original}"')
    return lesson("break-it", TITLE, body, explanation(noise_report(str(clf.path)), fan_in(clf.model)), data)


def describe(model: nn.Sequential, layer: str, channels: list[int], noise: float, seed: int) -> str:
    """What was changed, in words: "switched off conv1 channels 3, 7 · noise 0.50 × weight std"."""
    unit = "channel" if isinstance(getattr(model, layer), nn.Conv2d) else "hidden unit"
    parts = []
    if channels:
        parts.append(f"switched off {layer} {unit}{'s' if len(channels) > 1 else ''} {', '.join(map(str, channels))}")
    if noise > 0:
        parts.append(f"noise {noise:.2f} × weight std on every weight of {layer} (seed {seed})")
    if not parts:
        return f"nothing is broken yet: switch {unit}s of {layer} off or add noise to its weights"
    return " · ".join(parts)


def verdict(original: int, answer: int, probs: np.ndarray, b_probs: np.ndarray) -> str:
    """Did the answer survive? With the drawing's original class's probability before and after."""
    before, after = 100 * float(probs[original]), 100 * float(b_probs[original])
    if answer != original:
        return (f"The answer changed: <b>{original} → {answer}</b> ({original} fell from {before:.1f}% to "
                f"{after:.1f}%).")
    return f"Still <b>{answer}</b>: its probability went from {before:.1f}% to {after:.1f}%."


def _side(title: str, digit: int, probs: np.ndarray, colour: str) -> str:
    return (f'<div class="versus-side"><div class="versus-title" style="color:{colour}">{title} says '
            f'<b class="versus-digit">{digit}</b> ({100 * float(probs[digit]):.1f}%)</div>'
            f'{probability_bars([float(p) for p in probs], colour)}</div>')


def _notice(message: str, layer: object, original: int, text: str) -> str:
    shown = html.escape(str(layer), quote=True)
    body = f'<div class="notice warning" role="status">{html.escape(message)}</div>'
    data = f' data-state="error" data-layer="{shown}" data-original="{original}"'
    return lesson("break-it", TITLE, body, text, data)


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
        shape = f"{c} hidden units" if (h, w) == (1, 1) else f"{c} maps of {h}×{w}"
        low = signed(-first.vmax) if first.scale == "signed" else "0"
        note = f" · changed by {100 * change:.1f}%"
        figures.append(
            f'<figure class="layer" data-stage="{name}" data-change="{change:.6f}"><figcaption class="layer-title">'
            f'{name} <span class="shape">{shape}{note}</span></figcaption><div class="conv-row">'
            f'<figure><figcaption>intact</figcaption>{img(first.data_uri(), f"{name} intact", width_px)}</figure>'
            f'<figure><figcaption>broken</figcaption>{img(second.data_uri(), f"{name} broken", width_px)}</figure>'
            f'</div><div class="layer-caption">{legend(first.scale, low, f"{first.vmax:.2f}")}</div></figure>')
    off = ""
    if channels:
        what = "maps" if isinstance(getattr(model, layer), nn.Conv2d) else "hidden units"
        off = (f" The {what} of {layer} you switched off ({', '.join(map(str, channels))}, counted from 0 left to "
               "right, row by row) are all zero in the broken copy.")
    return (f'<div class="view-note">Each stage from {layer} on, intact beside broken on one colour scale; '
            f'"changed by" is the size of the difference over the size of the intact output.{off}</div>'
            f'<div class="layers">{"".join(figures)}</div>')
