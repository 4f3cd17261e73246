"""A printable handout: one drawing's walk through the CNN on one A4 portrait page, as PNG or PDF.

    from demo.views.handout import handout_pdf, handout_png
    pdf = handout_pdf(clf, prediction.input28)   # bytes, one page, vector text
    png = handout_png(clf, prediction.input28)   # bytes, 1654×2339 px (A4 at 200 dpi)

The page shows what the model sees (printed dark on white), every recorded stage in order (each convolution's
feature maps, each ReLU, each pooling), the fully connected hidden layer, the ten probabilities and the answer, with
short captions in the classic CNN tutorial's words, an honest note when the drawing does not look like a digit, and
a footer with the model's test accuracy and the date.

This module gathers what to print (:class:`Walk`); :mod:`demo.views.handout_layout` draws it. Both use matplotlib's
object-oriented API only (``Figure`` with an explicit Agg or PDF canvas), never pyplot and never ``matplotlib.use``
or ``rcParams``: the functions are called from many server threads at once, and pyplot's current figure and the
rcParams are process-wide state. No backend has to be chosen: the canvases are the Agg and PDF ones by construction.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.backends.backend_pdf import FigureCanvasPdf
from PIL import Image
from torch import nn

from demo.core.classifier import Classifier
from demo.core.model import ACTIVATION, CONV, FULLY_CONNECTED, POOL, stage_kind
from demo.texts import plain

from .handout_layout import DPI, draw_handout

# Below one grey level of an 8-bit picture: nothing a printer (or the model, in practice) would see.
BLANK_LEVEL = 1 / 255
PNG_SIZE = (1654, 2339)  # A4 at 200 dpi, as printers and PDF tools round it
PNG_COMPRESSION = 1


class NothingDrawnError(ValueError):
    """The handout was asked for without a drawing (None, or a blank 28×28 input)."""


@dataclass(frozen=True)
class Panel:
    """One stage of the walk as the page prints it."""

    name: str  # the stage's name in the model, e.g. 'conv1'
    heading: str  # 'conv1 · convolution · 32 maps 28×28 · 5×5 kernels'
    caption: str  # one or two sentences in the tutorial's words
    values: np.ndarray  # (C, H, W) maps, or (N,) for a fully connected layer
    signed: bool  # values of either sign (conv outputs): drawn on the diverging scale


@dataclass(frozen=True)
class Walk:
    """Everything the page prints, computed once from the model; the layout only draws it."""

    title: str
    input28: np.ndarray  # (28, 28) in [0, 1], white ink on black: what the model saw
    stages: list[Panel]  # the picture stages, in order
    hidden: list[Panel]  # fully connected hidden layers (vectors), in order
    output_heading: str
    output_caption: str
    probs: np.ndarray  # (10,) from Classifier.forward_staged: the very numbers the page prints
    answer: int
    digit_note: str | None  # set when the drawing does not look like a digit
    digit_like_note: str | None  # set when it does (None without digitness statistics: nothing to claim)
    footer: str


def _stage_panel(name: str, module: nn.Module, values: np.ndarray, previous: str) -> Panel:
    """A picture stage (conv, activation or pooling) with its title and caption in the tutorial's words."""
    kind, (c, h, w) = stage_kind(module), values.shape
    maps = plain("views.handout.maps_one" if c == 1 else "views.handout.maps_many", count=c, height=h, width=w)
    if kind == CONV:
        k = {"kernel_height": module.kernel_size[0], "kernel_width": module.kernel_size[1]}
        heading = plain("views.handout.conv_heading", name=name, maps=maps, **k)
        if module.in_channels == 1:
            caption = plain("views.handout.conv_caption_first", count=c, **k)
        else:
            caption = plain("views.handout.conv_caption", inputs=module.in_channels, previous=previous, count=c, **k)
    elif isinstance(module, nn.ReLU):
        heading = plain("views.handout.relu_heading", name=name, maps=maps)
        caption = plain("views.handout.relu_caption")
    elif kind == POOL:
        window = module.kernel_size if isinstance(module.kernel_size, int) else module.kernel_size[0]
        heading_key, caption_key = (("views.handout.max_pool_heading", "views.handout.max_pool_caption")
                                    if isinstance(module, nn.MaxPool2d) else
                                    ("views.handout.mean_pool_heading", "views.handout.mean_pool_caption"))
        heading = plain(heading_key, name=name, window=window, maps=maps)
        caption = plain(caption_key, window=window, height=h, width=w)
    else:
        heading, caption = f"{name} · {type(module).__name__} · {maps}", ""
    return Panel(name, heading, caption, values, kind == CONV or bool((values < 0).any()))


def _walk(clf: Classifier, input28: np.ndarray | None, title: str | None, date: dt.date | None) -> Walk:
    title = plain("views.handout.title") if title is None else title  # the default, in the language of the moment
    if input28 is None:
        raise NothingDrawnError(plain("views.handout.nothing_drawn"))
    x = np.asarray(input28, dtype=np.float32)
    if x.shape != (28, 28):
        raise ValueError(f"expected the model's (28, 28) input, got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError("the input contains NaN or infinite values")
    if not (x > BLANK_LEVEL).any():
        raise NothingDrawnError(plain("views.handout.blank_canvas"))
    x = np.clip(x, 0.0, 1.0)
    probs, activations = clf.forward_staged(x)
    answer = int(probs.argmax())

    stages: list[Panel] = []
    hidden: list[Panel] = []
    previous, last_fc = plain("views.handout.previous_image"), None
    for name, module in clf.model.named_children():
        kind = stage_kind(module)
        if kind == FULLY_CONNECTED:
            last_fc = (name, module)
        if name not in activations:
            continue
        values = activations[name]
        if values.shape[1:] == (1, 1) and kind == ACTIVATION and last_fc is not None:
            # A fully connected layer and its ReLU (recorded as (C, 1, 1)): printed as one list of numbers.
            (fc_name, fc), c = last_fc, values.shape[0]
            # The first one also says what flatten did to the maps before it.
            caption = "views.handout.hidden_caption" if hidden else "views.handout.hidden_caption_first"
            hidden.append(Panel(
                name, plain("views.handout.hidden_heading", layer=fc_name, relu=name, inputs=fc.in_features, count=c),
                plain(caption, layer=fc_name, count=c, inputs=fc.in_features), values.reshape(-1), False))
        else:
            stages.append(_stage_panel(name, module, values, previous))
            previous = name

    out_name, out_fc = last_fc if last_fc is not None else (plain("views.handout.output_name"), None)
    if out_fc is not None:
        output_heading = plain("views.handout.output_heading", name=out_name, inputs=out_fc.in_features)
    else:
        output_heading = plain("views.handout.output_heading_bare", name=out_name)
    # Softmax always names one of the ten digits, so a tall bar alone proves nothing: say how digit-like the
    # drawing looks, when the model has digitness statistics (demo/core/digitness.py), either way.
    digit_note = digit_like_note = None
    if clf.digitness is not None:
        if clf.digitness.digit_like(clf.digitness.score(activations)):
            digit_like_note = plain("views.handout.digit_like")
        else:
            digit_note = plain("views.handout.not_a_digit")
    return Walk(
        title=title, input28=x, stages=stages, hidden=hidden,
        output_heading=output_heading, output_caption=plain("views.handout.output_caption", answer=answer),
        probs=np.asarray(probs, dtype=np.float64), answer=answer, digit_note=digit_note,
        digit_like_note=digit_like_note,
        footer=_footer(clf, date or dt.date.today()))


def _footer(clf: Classifier, date: dt.date) -> str:
    report = clf.report or {}
    parts = []
    acc = report.get("test_accuracy")
    if acc is not None:
        parts.append(plain("views.handout.footer_accuracy", accuracy=100 * acc))
    if report.get("parameters"):
        parts.append(plain("views.handout.footer_parameters", parameters=report["parameters"]))
    if report.get("epochs") and report.get("train_images"):
        parts.append(plain("views.handout.footer_training", epochs=report["epochs"], images=report["train_images"]))
    parts.append(plain("views.handout.footer_model", file=clf.path.name))
    parts.append(plain("views.handout.footer_printed", date=date.isoformat()))
    return " · ".join(parts)


def handout_png(clf: Classifier, input28: np.ndarray | None, *, title: str | None = None,
                date: dt.date | None = None) -> bytes:
    """The handout as a PNG, A4 portrait at 200 dpi (1654×2339 px). ``date`` defaults to today.

    Raises :class:`NothingDrawnError` when ``input28`` is None or blank, ``ValueError`` for another shape."""
    fig = draw_handout(_walk(clf, input28, title, date))
    # A4 is 1653.5×2338.6 px at 200 dpi and Agg truncates; half a pixel more gives the usual 1654×2339.
    fig.set_size_inches((PNG_SIZE[0] + 0.5) / DPI, (PNG_SIZE[1] + 0.5) / DPI)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    rgb = np.asarray(canvas.buffer_rgba())[..., :3]
    buffer = io.BytesIO()
    # Saved by PIL, not savefig: RGB (the page has no transparency), a fast compression level (level 6 costs
    # ~0.4 s more for a smaller file), no "Software" text chunk, and 200 dpi so it prints at A4 size.
    Image.fromarray(np.ascontiguousarray(rgb), "RGB").save(buffer, format="PNG", compress_level=PNG_COMPRESSION,
                                                            dpi=(DPI, DPI))
    return buffer.getvalue()


def handout_pdf(clf: Classifier, input28: np.ndarray | None, *, title: str | None = None,
                date: dt.date | None = None) -> bytes:
    """The handout as a one-page A4 PDF with vector, searchable text. ``date`` defaults to today.

    Raises :class:`NothingDrawnError` when ``input28`` is None or blank, ``ValueError`` for another shape."""
    fig = draw_handout(_walk(clf, input28, title, date))
    FigureCanvasPdf(fig)
    buffer = io.BytesIO()
    # matplotlib stamps a CreationDate by default; without it identical drawings give identical bytes.
    fig.savefig(buffer, format="pdf", dpi=DPI,
                metadata={"Title": title, "Subject": plain("views.handout.pdf_subject"), "CreationDate": None})
    return buffer.getvalue()
