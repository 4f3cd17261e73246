"""Rasterising pen strokes (lists of points) into an ink image, as a browser canvas would draw them.

The drawing pad sends its strokes as JSON points and the server draws them here; the example drawings and the
drawn-digit test set are made the same way.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from demo.texts import localised, plain

Point = Sequence[float]
Stroke = Sequence[Point]

SUPERSAMPLE = 2  # draw at 2× and box-filter down: anti-aliased edges like a canvas


def rasterize(strokes: Sequence[Stroke], width: int, height: int, pen_width: float) -> np.ndarray:
    """Draws ``strokes`` (points in pixel coordinates of a ``width``×``height`` canvas) with a round pen.

    Returns float32 (height, width) ink in [0, 1]. A stroke of one point is a dot.
    """
    s = SUPERSAMPLE
    canvas = Image.new("L", (max(1, int(width)) * s, max(1, int(height)) * s), 0)
    draw = ImageDraw.Draw(canvas)
    w = max(1.0, pen_width * s)
    r = w / 2
    for stroke in strokes:
        points = [(float(x) * s, float(y) * s) for x, y in stroke]
        if len(points) > 1:
            draw.line(points, fill=255, width=max(1, round(w)), joint="curve")
        for x, y in (points[0], points[-1]) if points else ():  # round caps (joints are round already)
            draw.ellipse((x - r, y - r, x + r, y + r), fill=255)
    if s > 1:
        canvas = canvas.reduce(s)
    return np.asarray(canvas, dtype=np.float32) / 255


# ------------------------------------------------------------------------------------------- the pad's JSON
# Limits on what a client may send: bounded time and memory per request whatever arrives.
MAX_JSON_CHARS = 400_000
MAX_STROKES = 400
MAX_POINTS = 20_000
MIN_CANVAS, MAX_CANVAS = 8, 2048
MIN_PEN, MAX_PEN = 0.5, 200.0


class InvalidDrawingError(ValueError):
    """The pad's drawing JSON is malformed or out of bounds; the message is for people."""


@dataclass
class PadDrawing:
    strokes: list[list[tuple[float, float]]]
    width: int
    height: int
    pen: float
    seq: int  # the pad's update counter, echoed back so a client can tell which drawing an answer is for

    def rasterize(self) -> np.ndarray:
        return rasterize(self.strokes, self.width, self.height, self.pen)


def _number(value: object, what: str) -> float:
    """``value`` as a float; ``what`` is the catalogue key naming the field in the message."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidDrawingError(plain("core.strokes.not_a_number", what=plain(what), value=repr(str(value)[:20])))
    return float(value)


def parse_drawing(text: str | None) -> PadDrawing:
    """Reads ``{"w": 280, "h": 280, "pen": 20, "seq": 3, "strokes": [[[x, y], ...], ...]}``.

    Coordinates outside the canvas are clipped to its edge (a stroke that leaves the pad ends at the border).
    Raises :class:`InvalidDrawingError` for anything malformed or too large.
    """
    if text is None or text == "":
        return PadDrawing([], 280, 280, 20.0, 0)
    data = _json_object(text)
    width = round(_number(data.get("w", 280), "core.strokes.what_width"))
    height = round(_number(data.get("h", 280), "core.strokes.what_height"))
    if not (MIN_CANVAS <= width <= MAX_CANVAS and MIN_CANVAS <= height <= MAX_CANVAS):
        raise InvalidDrawingError(plain("core.strokes.canvas_size", low=MIN_CANVAS, high=MAX_CANVAS, width=width,
                                        height=height))
    pen = min(max(_number(data.get("pen", 20), "core.strokes.what_pen"), MIN_PEN), MAX_PEN)
    seq = data.get("seq", 0)
    seq = int(seq) if isinstance(seq, int) and not isinstance(seq, bool) and 0 <= seq < 2**53 else 0
    return PadDrawing(_strokes(data.get("strokes", []), width, height), width, height, pen, seq)


def _json_object(text: object) -> dict:
    """The drawing's JSON text -> its object, refusing anything but a JSON object of at most MAX_JSON_CHARS."""
    if not isinstance(text, str):
        raise InvalidDrawingError(plain("core.strokes.not_text"))
    if len(text) > MAX_JSON_CHARS:
        raise InvalidDrawingError(plain("core.strokes.too_long", chars=localised(f"{len(text):,}"),
                                        limit=localised(f"{MAX_JSON_CHARS:,}")))
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise InvalidDrawingError(plain("core.strokes.malformed")) from error
    if not isinstance(data, dict):
        raise InvalidDrawingError(plain("core.strokes.not_an_object"))
    return data


def _strokes(raw: object, width: int, height: int) -> list[Stroke]:
    """The strokes as lists of (x, y) clipped to the canvas; empty strokes dropped; limits on strokes and points."""
    if not isinstance(raw, list):
        raise InvalidDrawingError(plain("core.strokes.strokes_not_a_list"))
    if len(raw) > MAX_STROKES:
        raise InvalidDrawingError(plain("core.strokes.too_many_strokes", count=len(raw), limit=MAX_STROKES))
    strokes, total = [], 0
    for stroke in raw:
        if not isinstance(stroke, list):
            raise InvalidDrawingError(plain("core.strokes.stroke_not_a_list"))
        total += len(stroke)
        if total > MAX_POINTS:
            raise InvalidDrawingError(plain("core.strokes.too_many_points", limit=localised(f"{MAX_POINTS:,}")))
        points = [_point(point, width, height) for point in stroke]
        if points:
            strokes.append(points)
    return strokes


def _point(point: object, width: int, height: int) -> tuple[float, float]:
    if not isinstance(point, (list, tuple)) or len(point) < 2:
        raise InvalidDrawingError(plain("core.strokes.point_not_a_pair"))
    x, y = _number(point[0], "core.strokes.what_x"), _number(point[1], "core.strokes.what_y")
    return min(max(x, 0.0), width), min(max(y, 0.0), height)
