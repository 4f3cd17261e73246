"""Pictures from tensors (demo/views/render.py) and the HTML views (demo/views/panels.py), without Gradio."""

from __future__ import annotations

import base64
import io
import re

import numpy as np
import pytest
from PIL import Image

from demo.core.examples import example_image
from demo.views import panels, render, theme


def decode(uri: str) -> Image.Image:
    assert uri.startswith("data:image/png;base64,")
    return Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])))


def test_tile_layout_and_gaps():
    tiles = np.arange(5 * 2 * 3, dtype=np.uint8).reshape(5, 2, 3)
    out = render.tile(tiles, columns=3, gap=1)
    assert out.shape == (2 * 2 + 1, 3 * 3 + 2)
    assert np.array_equal(out[0:2, 0:3], tiles[0])
    assert np.array_equal(out[0:2, 4:7], tiles[1])
    assert np.array_equal(out[3:5, 4:7], tiles[4])
    assert (out[2] == render.GAP_INDEX).all() and (out[:, 3] == render.GAP_INDEX).all()
    assert (out[3:5, 8:11] == render.GAP_INDEX).all()  # the empty sixth cell


def test_activation_scale_maps_zero_to_black_and_max_to_the_top():
    maps = np.zeros((2, 4, 4), np.float32)
    maps[1, 2, 3] = 3.5
    picture = render.feature_map_picture(maps, columns=2)
    assert picture.vmax == pytest.approx(3.5)
    rgb = picture.rgb()
    assert tuple(rgb[0, 0]) == theme.ACTIVATION_ANCHORS[0][1]
    assert tuple(rgb[2, 5 + 3]) == theme.ACTIVATION_ANCHORS[-1][1]


def test_signed_scale_puts_zero_in_the_middle():
    indices, vmax = render.to_indices(np.array([-2.0, 0.0, 2.0, 1.0]), "signed")
    assert vmax == 2.0
    assert indices[0] == 0 and indices[2] == render.LEVELS - 1 and abs(int(indices[1]) - 127) <= 1
    assert tuple(render.palette("signed")[indices[1]]) == pytest.approx((247, 247, 247), abs=3)


def test_non_finite_and_all_zero_values_do_not_break_pictures():
    indices, vmax = render.to_indices(np.array([np.nan, np.inf, 0.0]), "activation")
    assert vmax == 1.0 and list(indices) == [0, 0, 0]
    assert render.feature_map_picture(np.zeros((3, 2, 2))).vmax == 1.0


def test_kernel_picture_layouts():
    first = render.kernel_picture(np.random.default_rng(0).normal(size=(32, 1, 5, 5)))
    assert first.indices.shape == (4 * 6 - 1, 8 * 6 - 1)
    deeper = render.kernel_picture(np.random.default_rng(0).normal(size=(64, 32, 3, 3)))
    assert deeper.indices.shape == (64 * 4 - 1, 32 * 4 - 1)


def test_png_round_trip_is_lossless():
    picture = render.feature_map_picture(np.random.default_rng(1).random((6, 7, 7)).astype(np.float32), columns=3)
    image = decode(picture.data_uri())
    assert image.mode == "P" and image.size == picture.indices.shape[::-1]
    assert np.array_equal(np.asarray(image.convert("RGB")), picture.rgb())


def test_gray_picture_is_white_ink_on_black():
    picture = render.gray_picture(np.array([[0.0, 1.0]], np.float32))
    assert picture.rgb().tolist() == [[[0, 0, 0], [255, 255, 255]]]


def test_views_label_every_layer_with_name_and_shape(clf):
    pred = clf.predict(example_image(6))
    maps = panels.feature_maps_html(pred, clf.model)
    pooled = panels.pooled_maps_html(pred, clf.model)
    assert 'id="feature-maps"' in maps and 'id="pooled-maps"' in pooled
    for stage, shape in (("relu1", "32×28×28"), ("relu2", "64×14×14"), ("relu3", "64×14×14")):
        assert stage in maps and shape in maps
    for stage, shape in (("pool1", "32×14×14"), ("pool2", "64×7×7")):
        assert stage in pooled and shape in pooled
    assert maps.count("<img class=\"pixelated\"") == 3 and pooled.count("<img class=\"pixelated\"") == 2
    kernels = panels.kernels_html(clf.model)
    assert "conv1 weights" in kernels and "32×1×5×5" in kernels and "64×32×3×3" in kernels
    # a screen reader reads each picture's name and shape as words, never the markup around the shape
    alts = re.findall(r'alt="([^"]*)"', maps + pooled + kernels)
    assert "pool1 (after relu1) 32×14×14" in alts and all("<" not in a and "&lt;" not in a for a in alts), alts


def test_prediction_view_empty_state_has_no_digit(clf):
    empty = panels.prediction_html(None, seq=12)
    text = re.sub(r"<[^>]+>", "", empty)
    assert not re.search(r"\d", text) and "Draw a digit" in text
    pred = clf.predict(example_image(3))
    ready = re.sub(r"<[^>]+>", "", panels.prediction_html(pred, seq=5))
    assert re.search(r"\d", ready).group() == "3"


def test_probabilities_view_lists_all_ten_classes(clf):
    pred = clf.predict(example_image(9))
    html = panels.probabilities_html(pred)
    assert html.count('class="prob-row') == 10
    assert 'class="prob-row top" data-digit="9"' in html


def test_model_input_view_shows_the_exact_input(clf):
    pred = clf.predict(example_image(2))
    html = panels.model_input_html(pred)
    uri = re.search(r'<img class="pixelated" src="([^"]+)" alt="28×28 model input"', html).group(1)
    shown = np.asarray(decode(uri).convert("L"), np.float32) / 255
    assert np.abs(shown - pred.input28).max() <= 1 / 254 + 1e-6


def test_notice_escapes_html():
    assert "<script>" not in panels.notice_html("<script>alert(1)</script>", "warning")
