"""The teaching computations (demo.teaching.lessons) against independent references: PyTorch's own layers and the
shipped model's stage outputs, numpy written out by hand, and finite differences."""

from __future__ import annotations

import copy
import math
import threading

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from numpy.lib.stride_tricks import sliding_window_view

from demo import load_classifier
from demo.core.model import MNIST_MEAN, MNIST_STD, count_parameters, stage_kind, staged_forward
from demo.core.paths import WEIGHTS_DIR
from demo.teaching.lessons.architecture import architecture
from demo.teaching.lessons.convolution import (
    KERNELS,
    MODES,
    apply_kernel,
    conv_geometry,
    learned_kernel,
    learned_kernel_bias,
)
from demo.teaching.lessons.one_value import one_value
from demo.teaching.lessons.pooling import pool_map, pool_window
from demo.teaching.lessons.saliency import grad_cam, saliency
from demo.views.tabs.architecture import stage_detail
from demo.views.tabs.convolution import formula_text, padding_text
from demo.views.tabs.one_value import input_note

SIZES = range(2, 8)
ZERO_SUM = ("vertical edges", "horizontal edges", "diagonal edges", "outline (Laplacian)")
UNIT_SUM = ("blur (box)", "blur (Gaussian)", "sharpen", "identity")


@pytest.fixture(scope="module")
def mlp():
    return load_classifier(WEIGHTS_DIR / "mlp.safetensors")


def _bar() -> np.ndarray:
    """A drawn "1": a vertical white bar on black, the shape of the model's input."""
    x = np.zeros((28, 28), np.float32)
    x[5:23, 13:16] = 1.0
    x[5:23, 12] = x[5:23, 16] = 0.5  # soft edges, so some pixels are neither 0 nor 1
    return x


def _noisy_bar() -> np.ndarray:
    """The bar with faint noise everywhere: no two activations tie, so max pooling is differentiable there (on the
    clean bar, equal neighbours make the logit kinked and finite differences disagree with any gradient)."""
    return np.clip(_bar() * 0.9 + 0.1 * _random_image(28, 28, seed=7), 0, 1).astype(np.float32)


def _random_image(h: int, w: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((h, w), dtype=np.float32)


def _reference_correlate(image: np.ndarray, kernel: np.ndarray, before: int, after: int, stride: int) -> np.ndarray:
    """Cross-correlation written out with numpy: pad with zeros, every k×k patch times the kernel, summed."""
    padded = np.pad(image.astype(np.float64), ((before, after), (before, after)))
    patches = sliding_window_view(padded, kernel.shape)[::stride, ::stride]
    return np.einsum("ijkl,kl->ij", patches, kernel.astype(np.float64))


# --- 1. Convolution playground ------------------------------------------------------------------------------------

def test_kernel_menu_lists_the_tutorials_kernels():
    for name in ("vertical edges", "horizontal edges", "diagonal edges", "blur (box)", "blur (Gaussian)", "sharpen",
                 "outline (Laplacian)"):
        assert name in KERNELS
    assert set(KERNELS) == set(ZERO_SUM) | set(UNIT_SUM)


@pytest.mark.parametrize("name", list(KERNELS))
def test_every_kernel_at_every_size_is_what_its_name_says(name):
    flat = np.full((9, 9), 0.7, np.float32)
    for k in SIZES:
        kernel = KERNELS[name](k)
        assert kernel.shape == (k, k) and kernel.dtype == np.float32, (name, k)
        assert np.isfinite(kernel).all() and np.abs(kernel).max() > 0, (name, k)
        on_flat = apply_kernel(flat, kernel, "valid")
        if name in ZERO_SUM:
            # Edge and outline kernels sum to 0: a flat region gives nothing.
            assert abs(float(kernel.sum())) < 1e-6, (name, k)
            np.testing.assert_allclose(on_flat, 0, atol=1e-6)
        else:
            # Blurs, sharpen and identity sum to 1: a flat region keeps its brightness.
            assert abs(float(kernel.sum()) - 1) < 1e-6, (name, k)
            np.testing.assert_allclose(on_flat, 0.7, atol=1e-6)
        if name.startswith("blur"):
            assert (kernel >= 0).all(), (name, k)


@pytest.mark.parametrize("name", list(KERNELS))
@pytest.mark.parametrize("size", [1, 8, 0])
def test_kernels_refuse_sizes_outside_2_to_7(name, size):
    with pytest.raises(ValueError, match="kernel size"):
        KERNELS[name](size)


@pytest.mark.parametrize("k", SIZES)
def test_edge_kernels_answer_their_own_edges_only(k):
    n = 12
    rows, cols = np.mgrid[0:n, 0:n]
    left_dark = (cols >= n // 2).astype(np.float32)  # a vertical edge: black left, white right
    top_dark = left_dark.T.copy()  # a horizontal edge: black top, white bottom
    slash = (rows + cols >= n).astype(np.float32)  # a "/" edge: white towards the bottom-right
    backslash = (cols > rows).astype(np.float32)  # a "\" edge
    vertical, horizontal, diagonal = (KERNELS[name](k) for name in ("vertical edges", "horizontal edges",
                                                                    "diagonal edges"))
    # Positive weights sum to 1, so a black-to-white step gives exactly 1, the opposite step -1.
    assert apply_kernel(left_dark, vertical, "valid").max() == pytest.approx(1, abs=1e-6)
    assert apply_kernel(1 - left_dark, vertical, "valid").min() == pytest.approx(-1, abs=1e-6)
    np.testing.assert_allclose(apply_kernel(left_dark, horizontal, "valid"), 0, atol=1e-6)
    assert apply_kernel(top_dark, horizontal, "valid").max() == pytest.approx(1, abs=1e-6)
    np.testing.assert_allclose(apply_kernel(top_dark, vertical, "valid"), 0, atol=1e-6)
    assert apply_kernel(slash, diagonal, "valid").max() > 0.5
    np.testing.assert_allclose(apply_kernel(backslash, diagonal, "valid"), 0, atol=1e-6)


def test_small_kernels_are_the_textbook_ones():
    np.testing.assert_allclose(KERNELS["vertical edges"](3) * 4, [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]])
    np.testing.assert_allclose(KERNELS["horizontal edges"](3) * 4, [[-1, -2, -1], [0, 0, 0], [1, 2, 1]])
    np.testing.assert_allclose(KERNELS["diagonal edges"](2), [[-1, 0], [0, 1]])  # Roberts' cross
    np.testing.assert_allclose(KERNELS["blur (Gaussian)"](3) * 16, np.outer([1, 2, 1], [1, 2, 1]))
    np.testing.assert_allclose(KERNELS["outline (Laplacian)"](3) * 8, [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]],
                               atol=1e-6)
    np.testing.assert_allclose(KERNELS["vertical edges"](5) * 48, np.outer([1, 4, 6, 4, 1], [-1, -2, 0, 2, 1]))


@pytest.mark.parametrize("k", SIZES)
def test_identity_kernel_returns_the_image_in_same_mode(k):
    # Holds for even k too only because the 1 sits where PyTorch's 'same' padding aligns the output pixel.
    image = _random_image(28, 28)
    np.testing.assert_array_equal(apply_kernel(image, KERNELS["identity"](k), "same"), image)


def test_kernels_are_not_flipped():
    image = _random_image(10, 10)
    kernel = np.zeros((3, 3), np.float32)
    kernel[0, 0] = 1  # cross-correlation reads the top-left of each patch; a flipped kernel would read bottom-right
    np.testing.assert_array_equal(apply_kernel(image, kernel, "valid"), image[:8, :8])


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
@pytest.mark.parametrize("k", range(1, 8))
def test_same_mode_is_pytorchs_padding_same(k):
    image = _random_image(28, 28, seed=k)
    kernel = np.random.default_rng(100 + k).standard_normal((k, k)).astype(np.float32)
    expected = F.conv2d(torch.from_numpy(image)[None, None], torch.from_numpy(kernel)[None, None], padding="same")
    np.testing.assert_array_equal(apply_kernel(image, kernel, "same"), expected[0, 0].numpy())
    g = conv_geometry(28, k, "same")
    assert (g.pad_top, g.pad_bottom) == ((k - 1) // 2, k // 2) == (g.pad_left, g.pad_right)
    if k % 2 == 0:
        assert (f"zeros {(k - 1) // 2} wide at the top and left, {k // 2} wide at the bottom and right"
                in padding_text(g))


@pytest.mark.parametrize("k", SIZES)
def test_full_mode_is_a_transposed_convolution_with_the_flipped_kernel(k):
    image = _random_image(9, 9, seed=k)
    kernel = np.random.default_rng(k).standard_normal((k, k)).astype(np.float32)
    flipped = torch.from_numpy(kernel[::-1, ::-1].copy())[None, None]
    expected = F.conv_transpose2d(torch.from_numpy(image)[None, None], flipped)[0, 0].numpy()
    np.testing.assert_allclose(apply_kernel(image, kernel, "full"), expected, rtol=1e-5, atol=1e-5)


def test_full_mode_by_hand():
    image = np.array([[1, 2], [3, 4]], np.float32)
    kernel = np.array([[1, 2], [3, 4]], np.float32)
    # e.g. the top-left value: only the kernel's bottom-right 4 overlaps the image's 1.
    np.testing.assert_array_equal(apply_kernel(image, kernel, "full"), [[4, 11, 6], [14, 30, 14], [6, 11, 4]])
    np.testing.assert_array_equal(apply_kernel(image, kernel, "valid"), [[30]])
    np.testing.assert_array_equal(apply_kernel(image, kernel, "same"), [[30, 14], [11, 4]])


def _closed_form(n: int, k: int, mode: str, stride: int) -> int:
    if mode == "valid":
        return (n - k) // stride + 1
    if mode == "same":
        return math.ceil(n / stride)
    return (n + k - 2) // stride + 1


@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("k", range(1, 8))
def test_geometry_matches_what_conv2d_produces(k, mode, stride):
    image = _random_image(28, 28, seed=k)
    kernel = np.random.default_rng(k).standard_normal((k, k)).astype(np.float32)
    g = conv_geometry(28, k, mode, stride)
    out = apply_kernel(image, kernel, mode, stride)
    assert out.shape == (g.out, g.out) == (_closed_form(28, k, mode, stride),) * 2
    assert g.pad_top + g.pad_bottom == g.pad_left + g.pad_right == {"valid": 0, "same": k - 1, "full": 2 * k - 2}[mode]
    assert (g.n, g.k, g.mode, g.stride) == (28, k, mode, stride)
    assert formula_text(g).startswith(mode) and f"= {g.out}" in formula_text(g)
    np.testing.assert_allclose(out, _reference_correlate(image, kernel, g.pad_top, g.pad_bottom, stride),
                               rtol=1e-5, atol=1e-5)
    if mode == "same":
        # Strided 'same' = the stride-1 'same' map, keeping every s-th position (to float32 rounding: a strided
        # convolution may sum in another order, which changes the last bit on some processors).
        np.testing.assert_allclose(out, apply_kernel(image, kernel, "same", 1)[::stride, ::stride], rtol=1e-6,
                                   atol=1e-6)


def test_geometry_formulas_fill_in_the_numbers():
    assert formula_text(conv_geometry(28, 5, "valid", 1)) == "valid: n − k + 1 = 28 − 5 + 1 = 24"
    assert formula_text(conv_geometry(28, 5, "full", 1)) == "full: n + k − 1 = 28 + 5 − 1 = 32"
    assert formula_text(conv_geometry(28, 5, "same", 1)) == "same: n = 28"
    strided = formula_text(conv_geometry(28, 5, "same", 2))
    assert "⌊(n + p_before + p_after − k) / s⌋ + 1 = ⌊(28 + 2 + 2 − 5) / 2⌋ + 1 = 14" in strided
    assert "⌈n / s⌉" in strided
    assert "⌊(28 + 0 + 0 − 5) / 3⌋ + 1 = 8" in formula_text(conv_geometry(28, 5, "valid", 3))
    assert padding_text(conv_geometry(28, 3, "valid")).startswith("No padding")
    assert "a border of zeros 4 wide on every side" in padding_text(conv_geometry(28, 5, "full"))
    # an even kernel: PyTorch puts the smaller half of the k − 1 zeros before, the extra one after
    g = conv_geometry(28, 4, "same")
    assert (g.pad_top, g.pad_bottom) == (1, 2)
    assert "a border of zeros 1 wide at the top and left, 2 wide at the bottom and right" in padding_text(g)


@pytest.mark.parametrize("args, message", [
    ((28, 3, "circular", 1), "mode"),
    ((28, 3, "same", 4), "stride"),
    ((28, 3, "same", 0), "stride"),
    ((28, 8, "same", 1), "kernel size"),
    ((4, 5, "valid", 1), "does not fit"),
])
def test_geometry_refuses_what_the_playground_does_not_offer(args, message):
    with pytest.raises(ValueError, match=message):
        conv_geometry(*args)


def test_apply_kernel_checks_the_kernel_fits_both_axes():
    with pytest.raises(ValueError, match="does not fit"):
        apply_kernel(np.zeros((28, 4), np.float32), np.ones((5, 5), np.float32), "valid")


def test_learned_kernel_plus_bias_reproduces_the_first_feature_maps(clf):
    conv1 = clf.model.conv1
    x = _bar()
    _, activations = clf.forward_staged(x)
    normalised = (x - MNIST_MEAN) / MNIST_STD  # what conv1 receives
    for index in (0, 13, conv1.out_channels - 1):
        kernel = learned_kernel(clf.model, index)
        assert kernel.shape == (5, 5) and kernel.dtype == np.float32
        np.testing.assert_array_equal(kernel, conv1.weight[index, 0].detach().numpy())
        assert learned_kernel_bias(clf.model, index) == pytest.approx(float(conv1.bias[index].detach()))
        # The playground's 'same' convolution with the learned kernel is the model's own feature map.
        np.testing.assert_allclose(apply_kernel(normalised, kernel, "same") + learned_kernel_bias(clf.model, index),
                                   activations["conv1"][index], rtol=1e-5, atol=1e-5)


def test_learned_kernel_refuses_bad_indices_and_models_without_kernels(clf, mlp):
    with pytest.raises(ValueError, match="32 kernels"):
        learned_kernel(clf.model, 32)
    with pytest.raises(ValueError, match="kernel index"):
        learned_kernel_bias(clf.model, -1)
    with pytest.raises(ValueError, match="no convolution"):
        learned_kernel(mlp.model, 0)


# --- 2. Pooling explorer ------------------------------------------------------------------------------------------

def _reference_pool(feature_map: np.ndarray, kind: str, window: int, stride: int) -> np.ndarray:
    windows = sliding_window_view(feature_map.astype(np.float64), (window, window))[::stride, ::stride]
    return windows.max(axis=(2, 3)) if kind == "max" else windows.mean(axis=(2, 3))


@pytest.mark.parametrize("kind", ["max", "mean"])
def test_pool_map_is_max_or_mean_of_each_window(kind):
    feature_map = _random_image(13, 11, seed=3) - 0.5
    for window in range(1, 5):
        for stride in range(1, 5):
            pooled = pool_map(feature_map, kind, window, stride)
            expected_shape = ((13 - window) // stride + 1, (11 - window) // stride + 1)
            assert pooled.shape == expected_shape, (window, stride)
            np.testing.assert_allclose(pooled, _reference_pool(feature_map, kind, window, stride), rtol=1e-6,
                                       atol=1e-7)


@pytest.mark.parametrize("kind", ["max", "mean"])
@pytest.mark.parametrize("window, stride", [(2, 2), (3, 2), (2, 3), (4, 1), (1, 1)])
def test_pool_window_explains_every_pooled_value(kind, window, stride):
    feature_map = _random_image(13, 11, seed=4)
    pooled = pool_map(feature_map, kind, window, stride)
    _, indices = F.max_pool2d(torch.from_numpy(feature_map)[None, None], window, stride, return_indices=True)
    for row in range(pooled.shape[0]):
        for col in range(pooled.shape[1]):
            w = pool_window(feature_map, kind, window, stride, row, col)
            assert (w.row, w.col, w.kind) == (row, col, kind)
            assert (w.top, w.left) == (row * stride, col * stride)
            np.testing.assert_array_equal(w.values, feature_map[w.top:w.top + window, w.left:w.left + window])
            if kind == "max":
                assert w.kept == pooled[row, col]
                # The kept value's position is where PyTorch's max pooling found it (flat index into the map).
                r, c = w.kept_at
                assert (w.top + r) * feature_map.shape[1] + (w.left + c) == int(indices[0, 0, row, col])
                assert w.values[r, c] == w.kept
            else:
                assert w.kept_at is None
                assert w.kept == pytest.approx(float(pooled[row, col]), rel=1e-6)


def test_max_pooling_the_real_relu1_output_is_the_models_pool1(clf):
    _, activations = clf.forward_staged(_bar())
    relu1, pool1 = activations["relu1"], activations["pool1"]
    assert relu1.max() > 0  # a real feature map, not all zeros
    for channel in range(relu1.shape[0]):
        np.testing.assert_array_equal(pool_map(relu1[channel], "max", 2, 2), pool1[channel])
    w = pool_window(relu1[5], "max", 2, 2, 9, 7)
    assert w.kept == pool1[5, 9, 7]


@pytest.mark.parametrize("args, message", [
    (("max", 2, 2, 14, 0), "row 14 is outside the pooled map: it has 14 rows"),
    (("max", 2, 2, 0, -1), "col -1 is outside"),
    (("mean", 3, 3, 0, 9), "col 9"),
    (("max", 5, 2, 0, 0), "window"),
    (("max", 2, 5, 0, 0), "stride"),
    (("median", 2, 2, 0, 0), "'max' or 'mean'"),
])
def test_pool_window_refuses_cells_outside_the_map(args, message):
    with pytest.raises(ValueError, match=message):
        pool_window(np.zeros((28, 28), np.float32), *args)
    with pytest.raises(ValueError, match="does not fit"):
        pool_map(np.zeros((3, 3), np.float32), "max", 4, 1)


# --- 3. How one value was computed --------------------------------------------------------------------------------

def _staged(model, x: np.ndarray):
    with torch.inference_mode():
        return staged_forward(model, torch.from_numpy(x)[None, None])[1]


def _check_one_value(clf, x, layer, channel, row, col):
    outputs = _staged(clf.model, x)
    v = one_value(clf.model, x, layer, channel, row, col)
    conv = getattr(clf.model, layer)
    k = conv.kernel_size[0]
    assert (v.layer, v.channel, v.row, v.col) == (layer, channel, row, col)
    # The oracle: the model's own conv output and the ReLU after it.
    np.testing.assert_allclose(v.pre_activation, float(outputs[layer][0, channel, row, col]), rtol=1e-5, atol=1e-5)
    assert v.activation_stage is not None
    np.testing.assert_allclose(v.activation, float(outputs[v.activation_stage][0, channel, row, col]), rtol=1e-5,
                               atol=1e-5)
    assert v.activation == max(v.pre_activation, 0.0)
    # The pieces add up.
    assert v.products.sum() + v.bias == pytest.approx(v.pre_activation, rel=1e-12, abs=1e-12)
    np.testing.assert_allclose(v.channel_sums.sum(), v.total, rtol=1e-12)
    np.testing.assert_allclose(v.products, v.patch.astype(np.float64) * v.kernel, rtol=1e-12)
    assert v.bias == pytest.approx(float(conv.bias[channel].detach()))
    np.testing.assert_array_equal(v.kernel, conv.weight[channel].detach().numpy())
    # The patch is the layer's input where the kernel lies on it and the padding's zeros elsewhere.
    np.testing.assert_array_equal(v.layer_input, outputs[v.input_stage][0].numpy())
    assert v.patch.shape == v.kernel.shape == (conv.in_channels, k, k)
    assert (v.top, v.left) == (row - conv.padding[0], col - conv.padding[1])
    height, width = v.layer_input.shape[1:]
    for i in range(k):
        for j in range(k):
            r, c = v.top + i, v.left + j
            inside = 0 <= r < height and 0 <= c < width
            assert v.in_padding[i, j] == (not inside)
            expected = v.layer_input[:, r, c] if inside else np.zeros(conv.in_channels, np.float32)
            np.testing.assert_array_equal(v.patch[:, i, j], expected)
    return v


@pytest.mark.parametrize("layer, channel, row, col", [
    ("conv1", 0, 0, 0), ("conv1", 7, 27, 13), ("conv1", 31, 14, 14), ("conv1", 20, 1, 27),
    ("conv2", 3, 0, 13), ("conv2", 63, 13, 13), ("conv2", 0, 7, 7),
    ("conv3", 10, 7, 0), ("conv3", 63, 6, 7), ("conv3", 31, 13, 6),
])
def test_one_value_is_the_models_own_value(clf, layer, channel, row, col):
    _check_one_value(clf, _bar(), layer, channel, row, col)


@pytest.mark.parametrize("layer", ["conv1", "conv2", "conv3"])
def test_one_value_at_the_strongest_and_weakest_positions(clf, layer):
    # Both sides of the ReLU: the largest pre-activation (kept) and the smallest (cut to 0).
    x = _bar()
    maps = _staged(clf.model, x)[layer][0, 5].numpy()
    high = np.unravel_index(int(maps.argmax()), maps.shape)
    low = np.unravel_index(int(maps.argmin()), maps.shape)
    assert _check_one_value(clf, x, layer, 5, int(high[0]), int(high[1])).activation > 0
    assert _check_one_value(clf, x, layer, 5, int(low[0]), int(low[1])).activation == 0


def test_first_layer_receives_the_normalised_image(clf):
    x = _bar()
    v = one_value(clf.model, x, "conv1", 2, 0, 0)
    assert v.input_stage == "normalize" and "normalize" in input_note(v)
    np.testing.assert_allclose(v.layer_input[0], (x - MNIST_MEAN) / MNIST_STD, rtol=1e-6)
    assert (v.top, v.left) == (-2, -2) and v.in_padding[:2].all() and not v.in_padding[2:, 2:].any()
    assert one_value(clf.model, x, "conv2", 0, 0, 0).input_stage == "pool1"


@pytest.mark.parametrize("layer, channel, row, col, message", [
    ("relu1", 0, 0, 0, "convolution layer"),
    ("fc1", 0, 0, 0, "convolution layer"),
    ("conv1", 32, 0, 0, "channel"),
    ("conv2", 0, 14, 0, "row"),
    ("conv3", 0, 0, -1, "col"),
])
def test_one_value_refuses_what_is_not_a_conv_value(clf, layer, channel, row, col, message):
    with pytest.raises(ValueError, match=message):
        one_value(clf.model, _bar(), layer, channel, row, col)


# --- 4. Saliency --------------------------------------------------------------------------------------------------

def _finite_difference(model64, x: np.ndarray, target: int, pixels, eps: float = 1e-4) -> np.ndarray:
    """Central differences of the target logit in float64: exact for a ReLU net unless a kink lies within eps."""
    estimates = []
    with torch.no_grad():
        for r, c in pixels:
            plus, minus = x.astype(np.float64), x.astype(np.float64)
            plus[r, c] += eps
            minus[r, c] -= eps
            up = model64(torch.from_numpy(plus)[None, None])[0, target]
            down = model64(torch.from_numpy(minus)[None, None])[0, target]
            estimates.append(float(up - down) / (2 * eps))
    return np.array(estimates)


PIXELS = [(10, 14), (5, 13), (22, 15), (12, 12), (12, 16), (14, 11), (3, 3), (20, 20)]  # ink, edges, background


@pytest.mark.parametrize("which", ["cnn", "mlp"])
def test_saliency_gradient_matches_finite_differences(clf, mlp, which):
    model = (clf if which == "cnn" else mlp).model
    x = _noisy_bar()
    s = saliency(model, x)
    model64 = copy.deepcopy(model).double()
    expected = _finite_difference(model64, x, s.target, PIXELS)
    got = np.array([s.gradient[p] for p in PIXELS])
    assert np.abs(expected).max() > 1e-3  # the check compares real gradients, not zeros
    np.testing.assert_allclose(got, expected, rtol=1e-3, atol=1e-4 * np.abs(expected).max())
    assert s.gradient.shape == s.gradient_x_input.shape == (28, 28)
    assert s.gradient.dtype == s.gradient_x_input.dtype == np.float32
    np.testing.assert_allclose(s.gradient_x_input, s.gradient * x, rtol=1e-6)
    clean = saliency(model, _bar())
    assert (clean.gradient_x_input[_bar() == 0] == 0).all() and np.abs(clean.gradient[_bar() == 0]).max() > 0


@pytest.mark.parametrize("which", ["cnn", "mlp"])
def test_saliency_target_defaults_to_the_prediction(clf, mlp, which):
    c = clf if which == "cnn" else mlp
    x = _bar()
    probs, _ = c.forward_staged(x)
    with torch.inference_mode():
        logits = c.model(torch.from_numpy(x)[None, None])[0]
    s = saliency(c.model, x)
    assert s.target == int(probs.argmax())
    assert s.logit == pytest.approx(float(logits[s.target]), rel=1e-5)
    other = 7 if s.target != 7 else 3
    s7 = saliency(c.model, x, other)
    assert s7.target == other and s7.logit == pytest.approx(float(logits[other]), rel=1e-5)
    assert not np.allclose(s7.gradient, s.gradient)
    with pytest.raises(ValueError, match="target"):
        saliency(c.model, x, 10)


def _reference_grad_cam(model, x: np.ndarray, target: int, layer: str) -> np.ndarray:
    """Grad-CAM the usual way, with a forward hook and backward() on a copy of the model."""
    model = copy.deepcopy(model)
    seen = {}

    def keep(module, inputs, output):
        output.retain_grad()
        seen["maps"] = output

    getattr(model, layer).register_forward_hook(keep)
    model(torch.from_numpy(x)[None, None])[0, target].backward()
    maps, grads = seen["maps"], seen["maps"].grad
    cam = torch.relu((grads.mean(dim=(2, 3), keepdim=True) * maps).sum(dim=1, keepdim=True))
    cam = F.interpolate(cam, size=(28, 28), mode="bilinear", align_corners=False)[0, 0].detach()
    return (cam / cam.max()).numpy()


def test_grad_cam_is_grad_cam(clf):
    x = _bar()
    cam = grad_cam(clf.model, x)
    assert cam.shape == (28, 28) and cam.dtype == np.float32
    assert cam.min() >= 0 and cam.max() == pytest.approx(1)
    target = saliency(clf.model, x).target
    np.testing.assert_allclose(cam, _reference_grad_cam(clf.model, x, target, "relu3"), atol=1e-5)
    np.testing.assert_array_equal(grad_cam(clf.model, x, target, "relu3"), cam)  # relu3 is the default layer
    np.testing.assert_allclose(grad_cam(clf.model, x, 4, "relu2"), _reference_grad_cam(clf.model, x, 4, "relu2"),
                               atol=1e-5)


def test_grad_cam_needs_feature_maps(clf, mlp):
    with pytest.raises(ValueError, match="convolution"):
        grad_cam(mlp.model, _bar())
    with pytest.raises(ValueError, match="feature maps"):
        grad_cam(clf.model, _bar(), layer="fc1")
    with pytest.raises(ValueError, match="unknown stage"):
        grad_cam(clf.model, _bar(), layer="conv9")


def test_gradients_leave_the_model_untouched(clf):
    model = clf.model
    before = {name: p.detach().clone() for name, p in model.state_dict().items()}
    flags = [p.requires_grad for p in model.parameters()]
    x = _bar()
    saliency(model, x)
    saliency(model, x, 3)
    grad_cam(model, x)
    grad_cam(model, x, 2, "relu1")
    one_value(model, x, "conv2", 0, 3, 3)
    assert not model.training and not any(m.training for m in model.modules())
    assert all(p.grad is None for p in model.parameters())
    assert [p.requires_grad for p in model.parameters()] == flags
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, before[name]), name
    for module in model.modules():
        assert not module._forward_hooks and not module._forward_pre_hooks and not module._backward_hooks


def test_gradients_work_inside_and_beside_inference_mode(clf):
    x = _bar()
    reference = saliency(clf.model, x)
    reference_cam = grad_cam(clf.model, x)
    with torch.inference_mode():  # the app's prediction threads run like this
        inside = saliency(clf.model, x)
        inside_cam = grad_cam(clf.model, x)
    np.testing.assert_array_equal(inside.gradient, reference.gradient)
    np.testing.assert_array_equal(inside_cam, reference_cam)

    stop, errors = threading.Event(), []

    def predict_meanwhile():
        try:
            while not stop.is_set():
                clf.forward_staged(x)
        except Exception as error:  # noqa: BLE001 - reported below; a thread's exception would otherwise be lost
            errors.append(error)

    thread = threading.Thread(target=predict_meanwhile)
    thread.start()
    try:
        results = [saliency(clf.model, x) for _ in range(3)]
    finally:
        stop.set()
        thread.join()
    assert not errors
    for result in results:
        np.testing.assert_array_equal(result.gradient, reference.gradient)


# --- 5. Architecture overview -------------------------------------------------------------------------------------

@pytest.mark.parametrize("which", ["cnn", "mlp"])
def test_architecture_rows_are_the_real_stages(clf, mlp, which):
    model = (clf if which == "cnn" else mlp).model
    rows = architecture(model)
    with torch.inference_mode():
        _, outputs = staged_forward(model, torch.zeros(1, 1, 28, 28))
    assert [r.name for r in rows] == list(outputs)
    assert [r.output_shape for r in rows] == [tuple(o.shape[1:]) for o in outputs.values()]
    assert [r.kind for r in rows] == [stage_kind(m) for _, m in model.named_children()]
    assert sum(r.parameters for r in rows) == count_parameters(model)
    assert rows[-1].output_shape == (10,)
    assert all(stage_detail(r) for r in rows)


def test_architecture_details_use_the_tutorials_words(clf, mlp):
    cnn = {r.name: r for r in architecture(clf.model)}
    assert stage_detail(cnn["conv1"]) == "32 filters, one 5×5 kernel each, padding 2"
    assert cnn["conv1"].parameters == 32 * 25 + 32
    assert stage_detail(cnn["conv2"]) == "64 filters, each with 32 kernels of 3×3, padding 1"
    assert stage_detail(cnn["relu1"]) == "ReLU"
    assert stage_detail(cnn["pool1"]) == "max 2×2, stride 2"
    assert stage_detail(cnn["flatten"]) == "64×7×7 → 3136"
    assert stage_detail(cnn["fc1"]) == "3136 → 128"
    assert cnn["pool2"].output_shape == (64, 7, 7)
    ann = {r.name: r for r in architecture(mlp.model)}
    assert stage_detail(ann["fc1"]) == "784 → 512" and ann["fc1"].parameters == 784 * 512 + 512
