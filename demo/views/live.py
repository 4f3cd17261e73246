"""The live views for one drawing, upload or sample, as pure functions (no Gradio): what :mod:`demo.page.ui` sends.

Every function returns a :class:`ViewUpdate`: the new HTML of the views that change, by name, and the 28×28 model
input they now show (the lessons' state). Input that cannot be used changes nothing but the notice, so nothing the
user had is lost.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from demo.core.classifier import Classifier, Prediction
from demo.core.image_file import open_image
from demo.core.preprocess import InvalidImageError
from demo.core.strokes import InvalidDrawingError, parse_drawing
from demo.teaching.calibration import load_report as load_calibration
from demo.texts import Later, plain

from . import overview, panels

log = logging.getLogger("convscope")

# The live views, in the order of the /draw endpoint's outputs.
# The overview came last, so programs that read the first six by position still get the same views.
LIVE_VIEWS = ("prediction", "probabilities", "model_input", "feature_maps", "pooled_maps", "notice", "overview")
ALWAYS_SENT = ("prediction", "notice")  # small, and the page needs them (the answer, its data-seq; any problem)
BUG_MESSAGE = Later(lambda: plain("views.live.bug"))  # made when used: in the language of the request
GONE_MESSAGE = Later(lambda: plain("views.live.gone"))


class UnusableFileError(ValueError):
    """A file sent to /predict cannot be classified; the message says why, for people."""


@dataclass(frozen=True)
class ViewUpdate:
    """What one drawing, upload or sample changes on the page."""

    html: dict[str, str] = field(default_factory=dict)  # view name (LIVE_VIEWS) -> new HTML; others stay as they are
    model_input: np.ndarray | None = None  # the 28×28 input the views now show; None when they show no digit
    kept: bool = False  # the input could not be used: the views, the lessons and their input stay as they were


def encode_input(input28: np.ndarray | None) -> str:
    """The model input as text the page can hold: base64 of its float32 bytes (exact; about 4 kB); "" for none."""
    if input28 is None:
        return ""
    return base64.b64encode(np.ascontiguousarray(input28, dtype=np.float32).tobytes()).decode("ascii")


def decode_input(text: str | None) -> np.ndarray | None:
    """Back from the page: a (28, 28) input in [0, 1], or None for anything that is not one (a page can send any
    text)."""
    if not text or not isinstance(text, str):
        return None
    try:
        data = base64.b64decode(text, validate=True)
    except (ValueError, binascii.Error):
        return None
    if len(data) != 28 * 28 * 4:
        return None
    image = np.frombuffer(data, dtype=np.float32).reshape(28, 28)
    return np.clip(image, 0, 1) if np.isfinite(image).all() else None


def updated_views(clf: Classifier, pred: Prediction | None, seq: int = 0, notice: str = "",
                  wanted: Collection[str] | None = None) -> ViewUpdate:
    """The live views for one prediction (None: the empty pad); ``seq`` is echoed for the page's pad.

    ``wanted``: the views to make (names from LIVE_VIEWS; None: all of them). The prediction and the notice are
    always made; a view not made is not sent, and the page keeps what it shows there.
    """
    shown = pred.input28 if pred is not None and pred.label is not None else None
    makers = {"prediction": lambda: panels.prediction_html(pred, seq, usual_top(clf)),
              "probabilities": lambda: panels.probabilities_html(pred),
              "model_input": lambda: panels.model_input_html(pred),
              "feature_maps": lambda: panels.feature_maps_html(pred, clf.model),
              "pooled_maps": lambda: panels.pooled_maps_html(pred, clf.model),
              "notice": lambda: panels.notice_html(notice, "warning" if notice else "info"),
              "overview": lambda: overview.overview_html(pred, clf.model)}
    names = LIVE_VIEWS if wanted is None else [n for n in LIVE_VIEWS if n in wanted or n in ALWAYS_SENT]
    return ViewUpdate({name: makers[name]() for name in names}, shown)


def usual_top(clf: Classifier) -> float | None:
    """The median top softmax probability on test digits the network reads right, when measured for its weights."""
    path = getattr(clf, "path", None)
    report = load_calibration(str(path)) if path else None
    return report["median_top_when_right"] if report else None


def kept_views(message: str) -> ViewUpdate:
    """Leaves every view (and the lessons' input) as it is, so nothing the user had is lost, and shows ``message``."""
    return ViewUpdate({"notice": panels.notice_html(message, "warning")}, kept=True)


def views_for_drawing(clf: Classifier, drawing_json: str | None,
                      wanted: Collection[str] | None = None) -> ViewUpdate:
    """The pad's stroke JSON -> the views (all, or those ``wanted``): rasterise, preprocess, forward, pictures."""
    try:
        drawing = parse_drawing(drawing_json)
    except InvalidDrawingError as error:
        return kept_views(plain("views.live.drawing_unusable", reason=error))
    if not drawing.strokes:
        return updated_views(clf, None, drawing.seq, wanted=wanted)
    pred = clf.predict(drawing.rasterize(), pen_width=drawing.pen)  # the pad's pen is known: no need to measure it
    # Ink that is not a digit (a speck, the whole pad painted over) says why instead of silently showing nothing.
    note = plain("views.live.no_digit_yet", reason=pred.message) if pred.label is None else ""
    return updated_views(clf, pred, drawing.seq, note, wanted)


def views_for_file(clf: Classifier, source: str | bytes | None) -> ViewUpdate:
    """An uploaded image file (its path or its bytes) -> every view; a file that cannot be used leaves the views and
    says why."""
    if source is None or source == "":  # no file (an empty file's b"" is refused below, saying why)
        return kept_views("")
    if isinstance(source, str) and not Path(source).exists():
        return kept_views(plain("views.live.file_unusable", reason=GONE_MESSAGE))
    try:
        pred = clf.predict(open_image(source, name=_file_name(source)))
    except InvalidImageError as error:
        return kept_views(plain("views.live.file_unreadable", reason=error))
    note = "" if pred.label is not None else plain("views.live.upload_shows_no_digit", reason=pred.message)
    return updated_views(clf, pred, 0, note)


def views_for_image(clf: Classifier, image: np.ndarray) -> ViewUpdate:
    """An image already in memory (a clicked MNIST sample) -> every view."""
    return updated_views(clf, clf.predict(image), 0)


def guarded_views(work: Callable[..., ViewUpdate], *args: Any) -> ViewUpdate:
    """Runs a view update; an unexpected error (a bug) is logged and leaves every view as it was, with a notice."""
    try:
        return work(*args)
    except Exception:  # one broken request must not cost the user their page
        log.exception("unexpected error in %s", getattr(work, "__name__", work))
        return kept_views(str(BUG_MESSAGE))


def _file_name(source: str | bytes) -> str:
    """How messages call an upload: its file name, or "the upload" for bytes."""
    return plain("views.live.upload_name") if isinstance(source, bytes) else Path(source).name


def predict_file(clf: Classifier, image_file: str | bytes | None) -> dict[str, Any]:
    """An image file (its path or its bytes) -> {"label": 0-9 or null (no digit), "probs": [10 floats],
    "looks_like_digit": bool, "digit_score": float (when the network has digitness statistics and there is ink)};
    raises UnusableFileError. The label is the network's top class even when the drawing does not look like a
    digit."""
    if image_file is None or image_file == "":
        raise UnusableFileError(plain("views.live.no_file"))
    if isinstance(image_file, str) and not Path(image_file).exists():
        raise UnusableFileError(GONE_MESSAGE)
    try:
        pred = clf.predict(open_image(image_file, name=_file_name(image_file)))
    except InvalidImageError as error:
        raise UnusableFileError(str(error)) from None
    result: dict[str, Any] = {"label": pred.label, "probs": [round(p, 6) for p in pred.probs],
                              "looks_like_digit": pred.looks_like_digit}
    if pred.digit_score is not None:
        result["digit_score"] = round(pred.digit_score, 4)
    if pred.label is None:
        result["message"] = pred.message
    return result


def read_drawing(clf: Classifier, drawing_json: str) -> dict[str, Any]:
    """A drawing sent to the class room -> what the network reads in it: ``{"label": 0-9, "confidence": float,
    "digit_like": bool, "drawing": the pad's JSON as stored}``, or ``{"label": None, "message": why}`` when there
    is no digit to read. Raises InvalidDrawingError for malformed JSON (the pad's own limits)."""
    drawing = parse_drawing(drawing_json)
    if not drawing.strokes:
        return {"label": None, "message": plain("views.live.pad_empty")}
    pred = clf.predict(drawing.rasterize(), pen_width=drawing.pen)
    if pred.label is None:
        return {"label": None, "message": pred.message}
    stored = {"w": drawing.width, "h": drawing.height, "pen": drawing.pen,
              "strokes": [[[round(x, 1), round(y, 1)] for x, y in s] for s in drawing.strokes]}
    return {"label": pred.label, "confidence": float(pred.probs[pred.label]), "digit_like": pred.looks_like_digit,
            "drawing": stored}
