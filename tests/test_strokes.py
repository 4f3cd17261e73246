"""The pad's stroke JSON and the rasteriser (demo/core/strokes.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from demo.core.strokes import MAX_JSON_CHARS, MAX_POINTS, InvalidDrawingError, parse_drawing, rasterize


def test_rasterize_draws_round_pen_strokes():
    ink = rasterize([[(10, 50), (90, 50)]], 100, 100, pen_width=10)
    assert ink.shape == (100, 100) and ink.dtype == np.float32
    assert ink[50, 50] == 1.0 and ink[50, 10] == 1.0  # on the stroke and its round cap
    assert ink[50, 2] == 0.0 and ink[40, 50] < 0.5 and ink[30, 50] == 0.0
    width = (ink[:, 50] > 0.5).sum()
    assert 9 <= width <= 11


def test_a_single_point_is_a_dot():
    ink = rasterize([[(20, 20)]], 40, 40, pen_width=8)
    assert ink[20, 20] == 1.0 and 40 <= (ink > 0.5).sum() <= 70


def test_parse_round_trip():
    text = json.dumps({"w": 280, "h": 200, "pen": 12, "seq": 7, "strokes": [[[1, 2], [3.5, 4]], [[5, 6]]]})
    drawing = parse_drawing(text)
    assert (drawing.width, drawing.height, drawing.pen, drawing.seq) == (280, 200, 12.0, 7)
    assert drawing.strokes == [[(1.0, 2.0), (3.5, 4.0)], [(5.0, 6.0)]]
    assert parse_drawing(None).strokes == [] and parse_drawing("").strokes == []


def test_far_away_points_are_clipped_to_the_canvas():
    drawing = parse_drawing(json.dumps({"w": 100, "h": 100, "strokes": [[[-1e9, 50], [1e12, -3]]]}))
    assert drawing.strokes == [[(0.0, 50.0), (100.0, 0.0)]]


@pytest.mark.parametrize("text, words", [
    ("{not json", "malformed"),
    ("[1, 2, 3]", "JSON object"),
    (json.dumps({"strokes": "abc"}), "must be a list"),
    (json.dumps({"strokes": [[[1]]]}), "[x, y]"),
    (json.dumps({"strokes": [[["a", 2]]]}), "finite number"),
    ('{"strokes": [[[NaN, 2]]]}', "finite number"),
    (json.dumps({"w": 10**6, "strokes": []}), "pixels a side"),
    (json.dumps({"w": 0, "strokes": []}), "pixels a side"),
    (json.dumps({"strokes": [[[1, 2]]] * 401}), "too many strokes"),
    (json.dumps({"strokes": [[[1, 2]] * (MAX_POINTS + 1)]}), "too many points"),
    ("[" * 250_000 + "]" * 250_000, "too large"),
    ("[" * 50_000 + "]" * 50_000, "malformed"),
    (" " * (MAX_JSON_CHARS + 1), "too large"),
])
def test_bad_drawings_get_a_clear_error(text, words):
    with pytest.raises(InvalidDrawingError) as error:
        parse_drawing(text)
    assert words in str(error.value)


def test_pen_width_is_bounded():
    assert parse_drawing(json.dumps({"pen": 1e9, "strokes": []})).pen == 200.0
    assert parse_drawing(json.dumps({"pen": -5, "strokes": []})).pen == 0.5
