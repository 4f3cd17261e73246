"""The filter atlas (weights/filter_atlas.safetensors, tools/filter_atlas.py) checked against the model itself: the
stored values are the model's own, they are the images' maxima, the patches are the receptive fields cropped from
the training images, and the top 9 are really the 9 strongest of all 60,000; then the view
(demo/views/tabs/filter_atlas.py)."""

from __future__ import annotations

import importlib.util
import logging
import re
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from demo.core.classifier import load_classifier
from demo.core.data import load_mnist
from demo.core.examples import example_image
from demo.core.model import staged_forward
from demo.core.paths import PROJECT_ROOT, WEIGHTS_DIR
from demo.core.preprocess import preprocess
from demo.teaching.atlas import DEFAULT_PATH, TOP, load_atlas, read_atlas
from demo.teaching.lessons.architecture import architecture
from demo.views.tabs.filter_atlas import filter_atlas_html

# Written out by hand, not taken from demo/teaching/atlas.py: size, stride (input pixels between neighbouring outputs)
# and the input row of output row 0's top edge. conv1 5×5 "same": rows r−2..r+2; after a 2×2 pool every step is 2
# pixels and each 3×3 conv (padding 1) widens the field by 2 steps and moves its start one step up.
EXPECTED_FIELDS = {"conv1": (5, 1, -2), "conv2": (10, 2, -4), "conv3": (14, 2, -6)}
TOL = 1e-4  # the tool ran the images in batches of 1000; other batch sizes may round the last bits differently


@pytest.fixture(scope="module")
def atlas(clf):
    found = load_atlas(clf)
    assert found is not None, "weights/filter_atlas.safetensors is missing or stale: run tools/filter_atlas.py"
    return found


@pytest.fixture(scope="module")
def mnist(mnist_dir):
    return load_mnist(mnist_dir)


@pytest.fixture(scope="module")
def input28():
    return preprocess(example_image(3, 0, 280, 20)).input28


def conv_outputs(clf, images: np.ndarray) -> dict[str, np.ndarray]:
    """Every conv layer's output (N, C, H, W) for uint8 images, straight from the model's own stages."""
    with torch.inference_mode():
        _, outputs = staged_forward(clf.model, torch.from_numpy(images).float()[:, None] / 255)
    return {name: outputs[name].numpy() for name in EXPECTED_FIELDS}


def oracle_crop(image: np.ndarray, layer: str, row: int, col: int) -> np.ndarray:
    size, stride, offset = EXPECTED_FIELDS[layer]
    padded = np.pad(image, 16)  # zeros all round, wider than any field runs off the image
    top, left = 16 + offset + stride * row, 16 + offset + stride * col
    return padded[top:top + size, left:left + size]


def test_file_size_metadata_and_geometry(clf, atlas, mnist):
    assert DEFAULT_PATH.stat().st_size <= 2 * 1024 * 1024
    assert list(atlas.layers) == list(EXPECTED_FIELDS) and atlas.info["top"] == TOP
    assert atlas.info["mnist_sha256"] == mnist.sha256
    assert "tools/filter_atlas.py" in atlas.info["command"] or "-m tools.filter_atlas" in atlas.info["command"]
    side = {row.name: row.receptive_field for row in architecture(clf.model)}
    for name, layer in atlas.layers.items():
        f = layer.field
        assert (f.size, f.stride, f.offset) == EXPECTED_FIELDS[name] and f.size == side[name]
        assert atlas.info["receptive_fields"][name] == {"size": f.size, "stride": f.stride, "offset": f.offset}
        channels = getattr(clf.model, name).out_channels
        assert layer.patches.shape == (channels, TOP, f.size, f.size) and layer.patches.dtype == np.uint8
        assert layer.activations.dtype == np.float32


@pytest.mark.parametrize("layer", list(EXPECTED_FIELDS))
def test_stored_values_are_the_models_own_maxima_and_patches_its_crops(clf, atlas, mnist, layer):
    entry = atlas.layers[layer]
    train = mnist.train_images.numpy()
    labels = mnist.train_labels.numpy()
    channels = sorted({0, 1, entry.channels // 2, entry.channels - 2, entry.channels - 1})
    for c in channels:
        idx = entry.images[c]
        assert len(set(idx.tolist())) == TOP  # one patch per image
        assert np.all(np.diff(entry.activations[c]) <= 0)  # strongest first
        assert np.array_equal(entry.labels[c], labels[idx])
        maps = conv_outputs(clf, train[idx])[layer][:, c]  # (9, H, W)
        for t in range(TOP):
            r, col = int(entry.rows[c, t]), int(entry.cols[c, t])
            value = float(entry.activations[c, t])
            assert maps[t, r, col] == pytest.approx(value, abs=TOL)
            assert maps[t].max() == pytest.approx(value, abs=TOL)  # that position is the image's maximum
            assert np.array_equal(entry.patches[c, t], oracle_crop(train[idx[t]], layer, r, col))


@pytest.mark.parametrize("layer", list(EXPECTED_FIELDS))
def test_the_patch_holds_everything_the_value_depends_on(clf, atlas, mnist, layer):
    """Noise everywhere outside the stored receptive field leaves the stored value unchanged."""
    entry = atlas.layers[layer]
    train = mnist.train_images.numpy()
    rng = np.random.default_rng(0)
    c = entry.channels // 3
    noisy = rng.integers(0, 256, (TOP, 28, 28), dtype=np.uint8)
    for t in range(TOP):
        size, stride, offset = EXPECTED_FIELDS[layer]
        top, left = offset + stride * int(entry.rows[c, t]), offset + stride * int(entry.cols[c, t])
        window = (slice(max(top, 0), top + size), slice(max(left, 0), left + size))
        noisy[t][window] = train[entry.images[c, t]][window]
    maps = conv_outputs(clf, noisy)[layer][:, c]
    values = maps[np.arange(TOP), entry.rows[c], entry.cols[c]]
    np.testing.assert_allclose(values, entry.activations[c], atol=TOL)


@pytest.mark.slow
@pytest.mark.full_pass  # "the 9 that excite it most" is a claim about every training digit
def test_conv1_top9_are_the_largest_of_all_60000(clf, atlas, mnist):
    """An independent conv1 (F.conv2d on the normalised images) over the whole training set."""
    conv, norm = clf.model.conv1, clf.model.normalize
    train = mnist.train_images
    maxima = []
    with torch.inference_mode():
        for i in range(0, len(train), 5000):
            x = (train[i:i + 5000].float()[:, None] / 255 - norm.mean) / norm.std
            out = F.conv2d(x, conv.weight, conv.bias, padding=conv.padding)
            maxima.append(out.flatten(2).amax(2))
    maxima = torch.cat(maxima).numpy()  # (60000, 32)
    entry = atlas.layers["conv1"]
    for c in range(entry.channels):
        best = np.sort(maxima[:, c])[::-1][:TOP]
        np.testing.assert_allclose(entry.activations[c], best, atol=TOL)
        np.testing.assert_allclose(maxima[entry.images[c], c], entry.activations[c], atol=TOL)
        others = np.delete(maxima[:, c], entry.images[c])
        assert others.max() <= entry.activations[c, -1] + TOL


@pytest.fixture(scope="module")
def sample_maxima(clf, mnist) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """2,000 random training images and every conv channel's maximum on each (all 60,000 take minutes)."""
    sample = np.random.default_rng(1).choice(60000, 2000, replace=False)
    outputs = conv_outputs(clf, mnist.train_images.numpy()[sample])
    return sample, {name: out.max(axis=(2, 3)) for name, out in outputs.items()}


@pytest.mark.parametrize("layer", ["conv2", "conv3"])
def test_no_other_training_image_beats_the_deeper_top9(atlas, sample_maxima, layer):
    """The deeper layers on a sample of the training set: no image outside the stored 9 beats the 9th."""
    entry = atlas.layers[layer]
    sample, maxima = sample_maxima
    for c in range(entry.channels):
        outside = ~np.isin(sample, entry.images[c])
        assert maxima[layer][outside, c].max() <= entry.activations[c, -1] + TOL, (layer, c)


def _tool():
    spec = importlib.util.spec_from_file_location("filter_atlas_tool", PROJECT_ROOT / "tools" / "filter_atlas.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool


def test_ties_go_to_the_lower_image_index():
    maxima = np.array([[1.0], [3.0], [2.0], [3.0], [3.0]], np.float32)
    assert _tool().top_images(maxima, top=3).tolist() == [[1, 3, 4]]
    assert _tool().top_images(maxima, top=4).tolist() == [[1, 3, 4, 2]]


def test_the_tool_states_its_defaults(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["tools/filter_atlas.py", "--help"])
    with pytest.raises(SystemExit):
        _tool().main()
    out = " ".join(capsys.readouterr().out.split())  # argparse wraps the help to the terminal width
    assert "default: ../shared/data/mnist" in out and "weights/cnn.safetensors" in out
    assert "weights/filter_atlas.safetensors" in out


def test_other_weights_or_no_file_give_no_atlas(tmp_path, caplog):
    fast = load_classifier(WEIGHTS_DIR / "cnn_fast.safetensors")
    with caplog.at_level(logging.WARNING, logger="convscope"):
        assert load_atlas(fast) is None
    assert "other weights" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="convscope"):
        assert load_atlas(fast, tmp_path / "none.safetensors") is None
    assert "does not exist" in caplog.text and "tools.filter_atlas" in caplog.text
    assert read_atlas().info["weights"] == "cnn.safetensors"


def root_data(page: str) -> dict[str, str]:
    head = page[:page.index(">")]
    assert head.startswith('<div id="filter-atlas"')
    return dict(re.findall(r'data-([\w-]+)="([^"]*)"', head))


def channel_buttons(page: str) -> list[str]:
    return re.findall(r'<button type="button" class="atlas-channel[^>]*>', page)


@pytest.mark.parametrize("layer, channel", [("conv1", 7), ("conv2", 0), ("conv3", 63)])
def test_view_with_a_drawing(clf, atlas, input28, layer, channel):
    page = filter_atlas_html(clf, atlas, input28, layer, channel)
    d = root_data(page)
    assert (d["state"], d["layer"], d["channel"]) == ("ready", layer, str(channel))
    buttons = channel_buttons(page)
    channels = getattr(clf.model, layer).out_channels
    assert len(buttons) == channels
    assert [re.search(r'data-channel="(\d+)"', b).group(1) for b in buttons] == [str(c) for c in range(channels)]
    assert all(f'data-layer="{layer}"' in b for b in buttons)
    selected = [b for b in buttons if "atlas-channel selected" in b]
    assert len(selected) == 1 and f'data-channel="{channel}"' in selected[0] and 'aria-pressed="true"' in selected[0]
    assert page.count('aria-pressed="true"') == 2  # the channel and its layer
    assert 'class="atlas-kernel"' in page
    values = [float(v) for v in re.findall(r'class="atlas-patch" data-value="([^"]+)"', page)]
    np.testing.assert_allclose(values, atlas.layers[layer].activations[channel], atol=1e-5)
    assert 'class="atlas-map"' in page
    _, activations = clf.forward_staged(input28)
    fmap = activations[layer][channel]
    assert float(d["drawing-value"]) == pytest.approx(float(fmap.max()), abs=1e-5)
    assert float(fmap[int(d["drawing-row"]), int(d["drawing-col"])]) == pytest.approx(float(fmap.max()), abs=1e-5)
    assert d["field"] == str(EXPECTED_FIELDS[layer][0])
    assert "5×5, conv2 10×10, conv3 14×14" in page  # the receptive fields, in the explanation


def test_view_without_a_drawing_or_atlas(clf, atlas):
    page = filter_atlas_html(clf, atlas, None, "conv2", 3)
    assert root_data(page)["state"] == "empty" and "atlas-no-drawing" in page and 'class="atlas-map"' not in page
    assert len(channel_buttons(page)) == 64 and page.count('class="atlas-patch"') == TOP
    missing = filter_atlas_html(clf, None, None, "conv2", 3)
    assert root_data(missing)["state"] == "missing"
    assert "python -m tools.filter_atlas --data-dir PATH" in missing
    assert len(channel_buttons(missing)) == 64 and 'class="atlas-kernel"' in missing
    assert 'class="atlas-patch"' not in missing


def test_view_escapes_and_clamps_a_bad_selection(clf, atlas, input28):
    page = filter_atlas_html(clf, atlas, input28, "<script>alert(1)</script>", 999)
    d = root_data(page)
    assert (d["layer"], d["channel"]) == ("conv1", "31") and "<script>" not in page
