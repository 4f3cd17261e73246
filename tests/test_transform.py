"""demo.core.transform.shift_rotate (exact moves, rotation direction, dtypes, batches) and the shipped
weights/robustness.json (schema, and that it matches the weights and the transform it claims)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from demo.core.transform import shift_rotate

ROOT = Path(__file__).resolve().parent.parent
ROBUSTNESS = ROOT / "weights" / "robustness.json"
SHIFT_SWEEPS = ("shift_x", "shift_y", "diagonal")
MODELS = ("cnn", "mlp")


def dot(row: int, col: int, dtype=np.float32, value=1) -> np.ndarray:
    image = np.zeros((28, 28), dtype=dtype)
    image[row, col] = value
    return image


def letter_f(dtype=np.uint8) -> np.ndarray:
    """An asymmetric "F" off centre plus a gradient: no flip or turn of it equals another."""
    image = np.zeros((28, 28), dtype=np.float32)
    image[4:22, 6:9] = 1.0  # stem
    image[4:7, 9:20] = 0.8  # top bar
    image[12:14, 9:16] = 0.6  # middle bar
    image[24, 1:27] = np.linspace(0.1, 1.0, 26)  # a ramp near the bottom edge
    return (image * 255).round().astype(np.uint8) if dtype == np.uint8 else image.astype(dtype)


@pytest.fixture(scope="module")
def digits() -> np.ndarray:
    """Random uint8 "images" with ink everywhere, including the borders (harder than MNIST for edge handling)."""
    return np.random.default_rng(0).integers(0, 256, size=(6, 28, 28), dtype=np.uint8)


# ------------------------------------------------------------------------------------------------ shifts

@pytest.mark.parametrize("dx, dy", [(1, 0), (0, 1), (-3, 0), (0, -5), (4, -2), (-7, 6), (13, 13), (-13, -14)])
def test_a_bright_pixel_moves_exactly_by_dx_dy(dx, dy):
    row, col = 14, 13
    expected = dot(row + dy, col + dx)
    got = shift_rotate(dot(row, col), dx=dx, dy=dy)
    assert got.dtype == np.float32 and np.array_equal(got, expected)  # exact: no blur, nothing else lit
    batch = torch.from_numpy((np.stack([dot(row, col), dot(row, col)]) * 255).astype(np.uint8))
    moved = shift_rotate(batch, dx=float(dx), dy=float(dy))  # 3.0 is whole too: the exact path
    assert moved.dtype == torch.uint8 and torch.equal(moved[1], torch.from_numpy(expected * 255).to(torch.uint8))


def test_a_half_pixel_shift_splits_a_pixel_between_two_neighbours():
    got = shift_rotate(dot(10, 10), dx=0.5)  # bilinear path: direction and size of a sub-pixel move
    np.testing.assert_allclose(got[10, 10:12], [0.5, 0.5], atol=1e-5)
    assert abs(got.sum() - 1) < 1e-5 and got[10, 9] < 1e-5 and got[10, 12] < 1e-5
    got = shift_rotate(dot(10, 10), dy=-0.25)
    np.testing.assert_allclose(got[9:11, 10], [0.25, 0.75], atol=1e-5)


@pytest.mark.parametrize("dx, dy", [(28, 0), (0, 28), (-28, 0), (0, -30), (100, -100), (28.5, 0), (0, -40.25)])
def test_shifts_out_of_the_field_leave_zeros(digits, dx, dy):
    assert not shift_rotate(digits, dx=dx, dy=dy).any()


def test_a_shift_pushes_columns_out_and_brings_in_black(digits):
    got = shift_rotate(digits, dx=27)
    assert np.array_equal(got[:, :, 27], digits[:, :, 0]) and not got[:, :, :27].any()
    got = shift_rotate(digits, dy=-5)
    assert np.array_equal(got[:, :23], digits[:, 5:]) and not got[:, 23:].any()


def test_no_move_is_the_identity_and_a_new_array(digits):
    for images in (digits, torch.from_numpy(digits), letter_f(np.float32), torch.from_numpy(letter_f(np.float64))):
        before = images.copy() if isinstance(images, np.ndarray) else images.clone()
        for kwargs in ({}, {"dx": 0, "dy": 0, "angle": 0}, {"angle": 360}, {"angle": -720.0}):
            got = shift_rotate(images, **kwargs)
            assert type(got) is type(images) and got.dtype == images.dtype and got is not images
            assert (got == images).all()
        assert (images == before).all()  # pure: the input is never modified


def test_the_input_is_not_modified_by_the_interpolating_path(digits):
    before = digits.copy()
    shift_rotate(digits, dx=1.5, angle=33)
    assert np.array_equal(digits, before)


# ------------------------------------------------------------------------------------------------ rotation

@pytest.mark.parametrize("angle, k", [(90, 1), (-90, -1), (180, 2), (270, 3), (450, 1)])
def test_quarter_turns_are_counter_clockwise_and_match_rot90(angle, k):
    """28 is even, so the centre (13.5, 13.5) lies between pixels and a quarter turn maps pixel centres onto pixel
    centres: the bilinear weights are 0 and 1 up to float32 rounding of the sampling grid (~5e-7), so uint8 results
    are exactly ``torch.rot90`` (which, like numpy's, turns counter-clockwise as displayed for k = 1), and float
    results within 1e-5. Nothing lands outside the field, so there are no edge effects to forgive."""
    image = letter_f()
    expected = torch.rot90(torch.from_numpy(image), k, dims=(-2, -1))
    assert torch.equal(shift_rotate(torch.from_numpy(image), angle=angle), expected)
    as_float = shift_rotate(image.astype(np.float32) / 255, angle=angle)
    np.testing.assert_allclose(as_float, expected.numpy() / 255, atol=1e-5)
    assert not np.array_equal(expected.numpy(), image)  # the pattern is really asymmetric
    assert not np.array_equal(expected.numpy(), np.rot90(image, k + 2))  # ... and the direction matters


@pytest.mark.parametrize("angle", [30, -45, 60, 137])
def test_a_pixel_turns_counter_clockwise_about_the_field_centre(angle):
    row, col = 13, 21  # right of the centre (13.5, 13.5): x = +7.5, y = -0.5 (y down)
    x, y = col - 13.5, row - 13.5
    t = np.radians(angle)
    # Counter-clockwise on screen with y pointing down: a point to the right goes up (y decreases).
    want_x, want_y = np.cos(t) * x + np.sin(t) * y, -np.sin(t) * x + np.cos(t) * y
    got = shift_rotate(dot(row, col), angle=angle)
    rows, cols = np.mgrid[:28, :28]
    mass = got.sum()
    assert 0.5 < mass < 1.5
    # Bilinear resampling of one pixel spreads it over its neighbours; its centre of mass stays within a fraction
    # of a pixel of the exact turned position.
    assert abs((got * cols).sum() / mass - 13.5 - want_x) < 0.35
    assert abs((got * rows).sum() / mass - 13.5 - want_y) < 0.35


def test_rotation_comes_first_then_the_move():
    image = torch.from_numpy(letter_f())
    both = shift_rotate(image, dx=3, dy=-2, angle=90)
    assert torch.equal(both, shift_rotate(shift_rotate(image, angle=90), dx=3, dy=-2))


# ------------------------------------------------------------------------------------------------ types, batches

@pytest.mark.parametrize("kwargs", [{"dx": 3, "dy": -1}, {"dx": 1.5}, {"dy": -2.25, "angle": 15}, {"angle": -60}])
def test_batch_and_single_image_paths_agree(digits, kwargs):
    batch = shift_rotate(digits, **kwargs)
    tensor_batch = shift_rotate(torch.from_numpy(digits), **kwargs)
    assert isinstance(batch, np.ndarray) and batch.shape == digits.shape
    assert isinstance(tensor_batch, torch.Tensor) and np.array_equal(tensor_batch.numpy(), batch)
    floats = digits.astype(np.float32) / 255
    float_batch = shift_rotate(floats, **kwargs)
    for i in range(len(digits)):
        assert np.array_equal(shift_rotate(digits[i], **kwargs), batch[i])
        np.testing.assert_allclose(shift_rotate(floats[i], **kwargs), float_batch[i], atol=1e-6)


@pytest.mark.parametrize("kwargs", [{"dx": 2}, {"dx": 0.5, "dy": 0.3}, {"angle": 20}])
def test_dtypes_are_kept_and_uint8_is_rounded(digits, kwargs):
    for dtype in (np.uint8, np.float32, np.float64):
        images = digits.astype(dtype)
        assert shift_rotate(images, **kwargs).dtype == dtype
        assert shift_rotate(torch.from_numpy(images), **kwargs).dtype == torch.from_numpy(images).dtype
    as_uint8 = shift_rotate(digits, **kwargs)
    exact = shift_rotate(digits.astype(np.float32), **kwargs)
    assert np.array_equal(as_uint8, np.clip(np.round(exact), 0, 255).astype(np.uint8))


def test_bad_input_is_refused():
    with pytest.raises(TypeError):
        shift_rotate([[0] * 28] * 28)
    with pytest.raises(TypeError):
        shift_rotate(np.zeros((28, 28), dtype=np.int64), dx=1)
    with pytest.raises(ValueError):
        shift_rotate(np.zeros((1, 1, 28, 28), dtype=np.float32))
    with pytest.raises(ValueError):
        shift_rotate(np.zeros((28, 28), dtype=np.float32), angle=float("nan"))


# ------------------------------------------------------------------------------------------------ robustness.json

@pytest.fixture(scope="module")
def robustness() -> dict:
    return json.loads(ROBUSTNESS.read_text())


@pytest.fixture(scope="module")
def mlp():
    from demo import load_classifier

    return load_classifier(ROOT / "weights" / "mlp.safetensors")


def test_robustness_json_schema(robustness):
    for key in ("description", "command", "data_sha256", "test_images", "transform", "models", *SHIFT_SWEEPS,
                "rotation"):
        assert key in robustness, key
    # the command that wrote it, in either spelling (the script's path, or python -m)
    assert robustness["command"].startswith(("python bench/shift_robustness.py", "python -m bench.shift_robustness"))
    assert robustness["test_images"] == 10000
    for name in MODELS:
        model = robustness["models"][name]
        assert model["weights"] == f"{name}.safetensors"
        assert 0.9 < model["test_accuracy_metadata"] <= 1
    for sweep in (*SHIFT_SWEEPS, "rotation"):
        values = robustness[sweep]["values"]
        for field in ("ink_kept", *MODELS):
            assert len(robustness[sweep][field]) == len(values), (sweep, field)
            assert all(isinstance(a, float) and 0 <= a <= 1 for a in robustness[sweep][field]), (sweep, field)
            assert all(round(a, 4) == a for a in robustness[sweep][field])


def test_robustness_values_are_symmetric(robustness):
    for sweep in SHIFT_SWEEPS:
        assert robustness[sweep]["values"] == list(range(-8, 9)), sweep
    assert robustness["rotation"]["values"] == list(range(-60, 61, 10))
    for sweep in (*SHIFT_SWEEPS, "rotation"):
        values = robustness[sweep]["values"]
        assert values == [-v for v in reversed(values)] and 0 in values


def test_robustness_data_is_the_test_set_the_models_were_scored_on(robustness):
    trained_on = json.loads((ROOT / "weights" / "cnn.json").read_text())["data_sha256"]
    for name, digest in robustness["data_sha256"].items():
        assert trained_on[name] == digest


@pytest.mark.slow
@pytest.mark.full_pass  # the robustness charts' unmoved point is the accuracy on all 10,000
def test_zero_shift_is_the_metadata_and_a_fresh_test_accuracy(robustness, mnist_test, clf, mlp):
    images, labels = mnist_test
    for name, model in (("cnn", clf), ("mlp", mlp)):
        fresh = float((model.predict_mnist(images).argmax(1) == labels).mean())
        assert abs(robustness["models"][name]["test_accuracy_metadata"] - model.report["test_accuracy"]) < 1e-9
        for sweep in (*SHIFT_SWEEPS, "rotation"):
            at_zero = robustness[sweep][name][robustness[sweep]["values"].index(0)]
            assert abs(at_zero - model.report["test_accuracy"]) <= 0.0005, (name, sweep)
            assert abs(at_zero - fresh) < 1e-9, (name, sweep, fresh)


@pytest.mark.parametrize("sweep, value, kwargs", [("shift_x", 4, {"dx": 4}), ("shift_y", -3, {"dy": -3}),
                                                  ("rotation", 40, {"angle": 40})])
def test_robustness_json_is_reproduced_by_the_transform_and_the_mlp(robustness, mnist_test, mlp, sweep, value,
                                                                    kwargs):
    """The MLP is fast (0.2 s for 10,000 images): re-measure a few points of the shipped file exactly."""
    images, labels = mnist_test
    accuracy = float((mlp.predict_mnist(shift_rotate(images, **kwargs)).argmax(1) == labels).mean())
    assert round(accuracy, 4) == robustness[sweep]["mlp"][robustness[sweep]["values"].index(value)]
