"""The network overview (demo/views/overview.py): every stage in order, the maps it picks, the sheet its pictures come
from, and what a click needs to find a value."""

from __future__ import annotations

import base64
import gzip
import io
import re

import numpy as np
import pytest
from PIL import Image

from demo.core.examples import example_image
from demo.views import render, theme
from demo.views.overview import overview_html

STAGE = re.compile(r'<figure class="ov-stage" data-stage="([^"]+)" data-step="(\d+)"')


@pytest.fixture(scope="module")
def pred(clf):
    return clf.predict(example_image(3, 0, 280, 20))


def parts(fragment: str) -> dict[str, dict[str, str]]:
    """Each stage's picture: its data-* attributes and its place in the sheet (the CSS variables)."""
    out = {}
    for match in re.finditer(r'<span class="ov-pic"[^>]*>', fragment):
        tag = match.group(0)
        attributes = dict(re.findall(r'data-([a-z-]+)="([^"]*)"', tag))
        attributes.update((f"css-{k}", v) for k, v in re.findall(r"--([a-z]+):([-0-9.]+)", tag))
        out[attributes["inspect"]] = attributes
    return out


def sheet(fragment: str) -> np.ndarray:
    uri = re.search(r"--ov-sheet:url\(data:image/png;base64,([^)]*)\)", fragment).group(1)
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(uri))).convert("RGB"))


def test_every_stage_in_the_order_data_flows(clf, pred):
    names = ["input", *(name for name, _ in clf.model.named_children()), "probabilities"]
    for fragment in (overview_html(pred, clf.model), overview_html(None, clf.model)):
        found = STAGE.findall(fragment)
        assert [name for name, _ in found] == names
        assert [int(step) for _, step in found] == list(range(1, len(names) + 1))
        assert f'data-steps="{len(names)}"' in fragment
    assert 'data-state="empty"' in overview_html(None, clf.model) and "--ov-sheet" not in overview_html(None, clf.model)


def test_labels_carry_the_models_own_shapes(clf, pred):
    fragment = overview_html(pred, clf.model)
    shapes = {"conv1": pred.activations["conv1"].shape, "pool2": pred.activations["pool2"].shape}
    for name, shape in shapes.items():
        label = re.search(rf'data-stage="{name}".*?<span class="ov-shape">([^<]*)</span>', fragment).group(1)
        assert label == "×".join(map(str, shape))
    assert re.search(r'data-stage="flatten".*?<span class="ov-shape">([^<]*)</span>', fragment).group(1) == str(
        int(np.prod(pred.activations["pool2"].shape)))


def test_a_layer_shows_its_most_active_maps_the_same_at_conv_relu_and_pool(clf, pred):
    found = parts(overview_html(pred, clf.model))
    relu2 = pred.activations["relu2"]
    expected = list(np.argsort(-relu2.reshape(len(relu2), -1).max(1), kind="stable")[:theme.OVERVIEW_MAPS])
    assert [int(u) for u in found["conv2"]["units"].split(",")] == expected
    assert found["relu2"]["units"] == found["conv2"]["units"]
    assert found["conv3"]["units"] == found["relu3"]["units"] == found["pool2"]["units"]
    assert found["relu1"]["units"] == found["pool1"]["units"]


def test_each_part_of_the_sheet_is_the_stage_it_claims(clf, pred):
    """The sheet's part for a stage shows that stage's values (quantised to the overview's scale), at the place
    and size its CSS variables say: a click finds the value there."""
    fragment = overview_html(pred, clf.model)
    picture, found = sheet(fragment), parts(fragment)
    levels = theme.OVERVIEW_LEVELS
    for stage, scale in (("relu1", "activation"), ("pool2", "activation"), ("conv3", "signed")):
        part = found[stage]
        units = [int(u) for u in part["units"].split(",")]
        h, w, gap, cols = (int(part[k]) for k in ("h", "w", "gap", "cols"))
        top, width, height = int(part["css-y"]), int(part["css-w"]), int(part["css-h"])
        assert (width, height) == (cols * (w + gap) - gap, -(-len(units) // cols) * (h + gap) - gap)
        indices, _ = render.to_indices(pred.activations[stage][units], scale)
        steps = np.linspace(0, render.LEVELS - 1, levels).round().astype(int)
        colours = render.palette(scale)[steps]
        for k, unit in enumerate(units):
            y0, x0 = top + (k // cols) * (h + gap), (k % cols) * (w + gap)
            shown = picture[y0:y0 + h, x0:x0 + w]
            quantised = (indices[k].astype(int) * (levels - 1) + 127) // 254
            assert np.array_equal(shown, colours[quantised]), (stage, unit)


def test_vectors_are_rows_a_click_can_count(clf, pred):
    found = parts(overview_html(pred, clf.model))
    flat = found["flatten"]
    assert int(flat["n"]) == pred.activations["pool2"].size
    rows = -(-int(flat["n"]) // int(flat["row-len"]))
    assert (int(flat["css-w"]), int(flat["css-h"])) == (int(flat["row-len"]), 2 * rows - 1)
    assert int(found["fc2"]["n"]) == 10


def test_the_overview_is_small_enough_to_ride_in_every_live_update(clf):
    """About 16 KiB per update is the classroom budget; the overview is sent with each one."""
    sizes = [len(gzip.compress(overview_html(clf.predict(example_image(d, 0, 280, 20)), clf.model).encode()))
             for d in range(10)]
    assert max(sizes) <= 10 * 1024, sizes
