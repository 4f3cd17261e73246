"""The computations behind the teaching views: convolution, pooling, one value by hand, saliency, architecture.

Everything here is a pure function of its arguments (numpy and torch only): the app turns the results into
pictures. The terms are the CNN tutorial's: a *kernel* (filter) slides over the image and at every position the
element-wise products with the *receptive patch* are summed into one value of the *feature map*; *padding* adds
zeros around the image; the *stride* is the step between positions; *pooling* keeps the max (or mean) of each
window.

Deep-learning "convolution" is cross-correlation: the kernel is *not* flipped. Every function here computes it the
way the network's layers do, so a kernel shown on screen is applied exactly as drawn.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .model import ACTIVATION, CONV, FLATTEN, FULLY_CONNECTED, POOL, Normalize, stage_kind, staged_forward

MODES = ("valid", "same", "full")
KERNEL_SIZES = range(2, 8)  # the hand-made kernels of the playground
MAX_KERNEL = 7  # largest kernel conv_geometry accepts (1x1 is allowed there: it only rescales)
MAX_STRIDE = 3
POOL_KINDS = ("max", "mean")
MAX_POOL_WINDOW = 4
MAX_POOL_STRIDE = 4


# --- 1. Convolution playground ------------------------------------------------------------------------------------

def _check_size(size: int) -> None:
    if not isinstance(size, (int, np.integer)) or not KERNEL_SIZES.start <= size < KERNEL_SIZES.stop:
        raise ValueError(f"kernel size must be an integer from {KERNEL_SIZES.start} to {KERNEL_SIZES.stop - 1}, "
                         f"got {size!r}")


def _binomial(size: int) -> np.ndarray:
    """Row ``size - 1`` of Pascal's triangle: the discrete Gaussian that Sobel's kernels smooth with."""
    row = np.ones(1)
    for _ in range(size - 1):
        row = np.convolve(row, [1.0, 1.0])
    return row


def _derivative(size: int) -> np.ndarray:
    """Difference of neighbours of a smoothing profile: [-1, 1], [-1, 0, 1], [-1, -2, 0, 2, 1], ... (Sobel's)."""
    return np.convolve(_binomial(size - 1), [-1.0, 1.0])


def _unit_edge(kernel: np.ndarray) -> np.ndarray:
    # Scaled so the positive weights sum to 1: a step from black (0) to white (1) then gives exactly 1, whatever the
    # kernel size, so the playground's pictures of different sizes share one colour scale.
    return (kernel / kernel[kernel > 0].sum()).astype(np.float32)


def _delta(size: int) -> np.ndarray:
    """The identity kernel: a single 1 at the position 'same' padding aligns with the output pixel.

    For an even size there is no middle; with PyTorch's convention (smaller half of the padding before) that is
    index ``(size - 1) // 2``, so the identity returns the image unchanged in 'same' mode for every size.
    """
    kernel = np.zeros((size, size))
    kernel[(size - 1) // 2, (size - 1) // 2] = 1.0
    return kernel


def vertical_edges(size: int) -> np.ndarray:
    """Sobel-style vertical-edge kernel: a left-to-right derivative, smoothed top to bottom.

    Negative on the left, positive on the right, so a dark-to-bright step seen from left to right gives a positive
    value and the opposite step a negative one. Sums to 0: flat regions give 0. The 3×3 is Sobel's kernel / 4.
    """
    _check_size(size)
    return _unit_edge(np.outer(_binomial(size), _derivative(size)))


def horizontal_edges(size: int) -> np.ndarray:
    """Sobel-style horizontal-edge kernel: the vertical-edge kernel turned on its side (top negative, bottom
    positive)."""
    return vertical_edges(size).T.copy()


def diagonal_edges(size: int) -> np.ndarray:
    """Edges running from bottom-left to top-right ("/"): the derivative along the "\\" diagonal.

    The derivative in a diagonal direction is the sum of the horizontal and vertical ones, so the kernel is the sum
    of the two edge kernels: negative towards the top-left, positive towards the bottom-right, 0 on the other
    diagonal. The 2×2 is Roberts' cross [[-1, 0], [0, 1]].
    """
    _check_size(size)
    vertical = np.outer(_binomial(size), _derivative(size))
    return _unit_edge(vertical + vertical.T)


def box_blur(size: int) -> np.ndarray:
    """Box blur: every pixel of the patch counts the same, 1 / size². Sums to 1, so brightness is kept."""
    _check_size(size)
    return np.full((size, size), 1.0 / size**2, dtype=np.float32)


def gaussian_blur(size: int) -> np.ndarray:
    """Gaussian blur: binomial weights (the discrete Gaussian), heaviest in the middle. Sums to 1."""
    _check_size(size)
    kernel = np.outer(_binomial(size), _binomial(size))
    return (kernel / kernel.sum()).astype(np.float32)


def sharpen(size: int) -> np.ndarray:
    """Sharpen (unsharp masking): the image plus its difference from a box blur, 2·identity − box. Sums to 1."""
    _check_size(size)
    return (2.0 * _delta(size) - 1.0 / size**2).astype(np.float32)


def outline(size: int) -> np.ndarray:
    """Outline (Laplacian-like): the centre pixel minus the mean of its neighbours.

    The centre weight is 1 and the other size² − 1 weights share −1, so it sums to 0: flat regions vanish and
    only outlines remain. The 3×3 is the classic [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]] / 8.
    """
    _check_size(size)
    return (_delta(size) * (size**2 / (size**2 - 1)) - 1.0 / (size**2 - 1)).astype(np.float32)


def identity(size: int) -> np.ndarray:
    """The identity kernel: in 'same' mode the feature map is the image itself, the baseline to compare with."""
    _check_size(size)
    return _delta(size).astype(np.float32)


# Hand-made kernels of the playground, in menu order: name -> (size -> (size, size) float32 kernel), size 2..7.
KERNELS: OrderedDict[str, Callable[[int], np.ndarray]] = OrderedDict([
    ("vertical edges", vertical_edges),
    ("horizontal edges", horizontal_edges),
    ("diagonal edges", diagonal_edges),
    ("blur (box)", box_blur),
    ("blur (Gaussian)", gaussian_blur),
    ("sharpen", sharpen),
    ("outline (Laplacian)", outline),
    ("identity", identity),
])


def _conv_stages(model: nn.Sequential) -> list[tuple[str, nn.Conv2d]]:
    return [(name, m) for name, m in model.named_children() if stage_kind(m) == CONV]


def _first_conv(model: nn.Sequential) -> nn.Conv2d:
    convs = _conv_stages(model)
    if not convs:
        raise ValueError("this model has no convolution layer (the fully connected net learns no kernels)")
    return convs[0][1]


def _check_kernel_index(conv: nn.Conv2d, index: int) -> None:
    if not 0 <= index < conv.out_channels:
        raise ValueError(f"kernel index {index} is out of range: the first convolution layer has "
                         f"{conv.out_channels} kernels (0–{conv.out_channels - 1})")


def learned_kernel(model: nn.Sequential, index: int) -> np.ndarray:
    """Kernel ``index`` of the model's first convolution layer as a (k, k) float32 array (5×5 for the shipped CNN).

    Its size is fixed by training. The first layer sees the *normalised* image, (pixel − mean) / std (the
    ``normalize`` stage), not the [0, 1] pixels: ``apply_kernel`` of the normalised image in 'same' mode, plus
    :func:`learned_kernel_bias`, is exactly the layer's feature map.
    """
    conv = _first_conv(model)
    _check_kernel_index(conv, index)
    # Channel 0: the first layer's input is the single grey channel.
    return conv.weight[index, 0].detach().cpu().numpy().astype(np.float32, copy=True)


def learned_kernel_bias(model: nn.Sequential, index: int) -> float:
    """The bias added to every value of feature map ``index`` of the first convolution layer (0 if it has none)."""
    conv = _first_conv(model)
    _check_kernel_index(conv, index)
    return 0.0 if conv.bias is None else float(conv.bias[index].detach())


@dataclass(frozen=True)
class ConvGeometry:
    """Sizes of one convolution of an n×n image with a k×k kernel: padding on each side and output side."""

    n: int
    k: int
    mode: str  # 'valid', 'same' or 'full'
    stride: int
    pad_top: int
    pad_bottom: int
    pad_left: int
    pad_right: int
    out: int  # side length of the (square) feature map
    formula: str  # how ``out`` follows from n, k, padding and stride, numbers filled in
    padding_note: str  # where the zeros go, in words


def _check_int(name: str, value: int, low: int, high: int | None = None) -> None:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < low \
            or (high is not None and value > high):
        bound = f"from {low} to {high}" if high is not None else f"at least {low}"
        raise ValueError(f"{name} must be an integer {bound}, got {value!r}")


def _padding(k: int, mode: str) -> tuple[int, int]:
    """Zeros (before, after) along each axis."""
    if mode == "valid":
        return 0, 0
    if mode == "full":
        return k - 1, k - 1
    # 'same': k - 1 in total. For even k that is odd; PyTorch's padding='same' puts the smaller half before.
    before = (k - 1) // 2
    return before, k - 1 - before


def _padding_note(k: int, mode: str, before: int, after: int) -> str:
    if mode == "valid":
        return "No padding: the kernel only visits positions where it lies entirely inside the image."
    if mode == "full":
        return (f"k − 1 = {k - 1} rows/columns of zeros on every side: the kernel visits every position where it "
                "overlaps the image by at least one pixel.")
    if k == 1:
        return "No padding needed: a 1×1 kernel already keeps the size."
    if before == after:
        return f"(k − 1) / 2 = {before} rows/columns of zeros on every side, so the feature map keeps the image's size."
    return (f"k − 1 = {k - 1} zeros per axis cannot be split evenly: {before} row{'s' * (before != 1)}/column"
            f"{'s' * (before != 1)} of zeros at the top and left, {after} at the bottom and right (PyTorch's "
            "padding='same' convention: the smaller half before, the extra one after).")


_ORDINAL = {2: "2nd", 3: "3rd"}


def _formula(n: int, k: int, mode: str, stride: int, before: int, after: int, out: int) -> str:
    if stride == 1:
        if mode == "valid":
            return f"valid: n − k + 1 = {n} − {k} + 1 = {out}"
        if mode == "full":
            return f"full: n + k − 1 = {n} + {k} − 1 = {out}"
        return f"same: n = {out}"
    general = (f"{mode}, stride {stride}: ⌊(n + p_before + p_after − k) / s⌋ + 1 = "
               f"⌊({n} + {before} + {after} − {k}) / {stride}⌋ + 1 = {out}")
    if mode == "same":
        # PyTorch refuses padding='same' with a stride; the playground pads as for stride 1 and then keeps every
        # s-th position, which is the stride-1 'same' map subsampled: ceil(n / s) values.
        return f"{general} = ⌈n / s⌉ (same padding as stride 1, then every {_ORDINAL[stride]} position)"
    return general


def conv_geometry(n: int, k: int, mode: str, stride: int = 1) -> ConvGeometry:
    """Padding and output size of a ``mode`` convolution ('valid', 'same' or 'full') with stride 1–3.

    valid: no padding, out = n − k + 1 (needs k ≤ n). same: k − 1 zeros per axis, out = n. full: k − 1 zeros on
    every side, out = n + k − 1. With a stride s: out = ⌊(n + p_before + p_after − k) / s⌋ + 1.
    """
    _check_int("image size n", n, 1)
    _check_int("kernel size k", k, 1, MAX_KERNEL)
    _check_int("stride", stride, 1, MAX_STRIDE)
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    if mode == "valid" and k > n:
        raise ValueError(f"a {k}×{k} kernel does not fit in a {n}×{n} image without padding ('valid' mode)")
    before, after = _padding(k, mode)
    out = (n + before + after - k) // stride + 1
    return ConvGeometry(n=n, k=k, mode=mode, stride=stride, pad_top=before, pad_bottom=after, pad_left=before,
                        pad_right=after, out=out, formula=_formula(n, k, mode, stride, before, after, out),
                        padding_note=_padding_note(k, mode, before, after))


def apply_kernel(image: np.ndarray, kernel: np.ndarray, mode: str = "same", stride: int = 1) -> np.ndarray:
    """The feature map of ``image`` (H, W) under ``kernel`` (k, k): zero padding as in :func:`conv_geometry`, then
    the kernel slides with ``stride``. Returns float32.

    Computed as a CNN layer computes it (``F.conv2d``): cross-correlation, the kernel is *not* flipped as in the
    mathematicians' convolution.
    """
    image = np.asarray(image, dtype=np.float32)
    kernel = np.asarray(kernel, dtype=np.float32)
    if image.ndim != 2:
        raise ValueError(f"image must be 2-D (H, W), got shape {image.shape}")
    if kernel.ndim != 2 or kernel.shape[0] != kernel.shape[1]:
        raise ValueError(f"kernel must be square (k, k), got shape {kernel.shape}")
    # Both axes are checked (a valid-mode kernel must fit in each); the padding depends only on k and mode.
    geometry = conv_geometry(image.shape[0], kernel.shape[0], mode, stride)
    conv_geometry(image.shape[1], kernel.shape[0], mode, stride)
    x = torch.from_numpy(np.ascontiguousarray(image))[None, None]
    x = F.pad(x, (geometry.pad_left, geometry.pad_right, geometry.pad_top, geometry.pad_bottom))
    w = torch.from_numpy(np.ascontiguousarray(kernel))[None, None]
    with torch.inference_mode():
        return F.conv2d(x, w, stride=stride)[0, 0].numpy().copy()


# --- 2. Pooling explorer ------------------------------------------------------------------------------------------

def _check_pool(feature_map: np.ndarray, kind: str, window: int, stride: int) -> np.ndarray:
    feature_map = np.asarray(feature_map, dtype=np.float32)
    if feature_map.ndim != 2:
        raise ValueError(f"feature map must be 2-D (H, W), got shape {feature_map.shape}")
    if kind not in POOL_KINDS:
        raise ValueError(f"pooling kind must be 'max' or 'mean', got {kind!r}")
    _check_int("pooling window", window, 1, MAX_POOL_WINDOW)
    _check_int("pooling stride", stride, 1, MAX_POOL_STRIDE)
    if window > min(feature_map.shape):
        raise ValueError(f"a {window}×{window} pooling window does not fit in a "
                         f"{feature_map.shape[0]}×{feature_map.shape[1]} feature map")
    return feature_map


def pool_map(feature_map: np.ndarray, kind: str = "max", window: int = 2, stride: int = 2) -> np.ndarray:
    """Max or mean pooling of a feature map (H, W): each window×window window, ``stride`` apart, becomes one value.

    No padding, and windows that would run past the edge are dropped (floor mode, as in the network's layers):
    out = ⌊(H − window) / stride⌋ + 1 rows. Returns float32.
    """
    feature_map = _check_pool(feature_map, kind, window, stride)
    x = torch.from_numpy(np.ascontiguousarray(feature_map))[None, None]
    pool = F.max_pool2d if kind == "max" else F.avg_pool2d
    with torch.inference_mode():
        return pool(x, window, stride)[0, 0].numpy().copy()


@dataclass(frozen=True)
class PoolWindow:
    """What one value of a pooled map saw and kept."""

    kind: str  # 'max' or 'mean'
    row: int  # position of the value in the pooled map
    col: int
    top: int  # top-left of the window in the feature map
    left: int
    values: np.ndarray  # (window, window) float32: the feature-map values under the window
    kept: float  # their max or mean: the pooled value
    kept_at: tuple[int, int] | None  # max pooling: (row, col) of the kept value inside the window; None for mean


def pool_window(feature_map: np.ndarray, kind: str, window: int, stride: int, row: int, col: int) -> PoolWindow:
    """The window behind value (``row``, ``col``) of ``pool_map(feature_map, kind, window, stride)``.

    On ties max pooling keeps the first maximum in reading order (row by row), as PyTorch's ``max_pool2d`` does.
    """
    feature_map = _check_pool(feature_map, kind, window, stride)
    out_h = (feature_map.shape[0] - window) // stride + 1
    out_w = (feature_map.shape[1] - window) // stride + 1
    for name, value, size in (("row", row, out_h), ("col", col, out_w)):
        if not isinstance(value, (int, np.integer)) or not 0 <= value < size:
            raise ValueError(f"{name} {value!r} is outside the pooled map: it has {size} "
                             f"{'rows' if name == 'row' else 'columns'} (0–{size - 1})")
    top, left = row * stride, col * stride
    values = feature_map[top:top + window, left:left + window].copy()
    if kind == "max":
        at = np.unravel_index(int(np.argmax(values)), values.shape)
        kept_at: tuple[int, int] | None = (int(at[0]), int(at[1]))
        kept = float(values[kept_at])
    else:
        kept_at = None
        kept = float(values.astype(np.float64).mean())
    return PoolWindow(kind=kind, row=int(row), col=int(col), top=top, left=left, values=values, kept=kept,
                      kept_at=kept_at)


# --- 3. How one value was computed --------------------------------------------------------------------------------

@dataclass(frozen=True)
class OneValue:
    """One value of a convolution layer's feature map, computed by hand: patch × kernel, summed, plus bias, ReLU."""

    layer: str  # the conv stage, e.g. 'conv2'
    channel: int  # which kernel / feature map
    row: int  # position in the feature map
    col: int
    input_stage: str  # the stage whose output the layer receives ('normalize' for the first conv layer)
    input_note: str  # that input, in words
    layer_input: np.ndarray  # (C_in, H, W) float32: what the layer receives
    top: int  # top-left of the receptive patch in ``layer_input``; negative where it reaches into the padding
    left: int
    patch: np.ndarray  # (C_in, k, k) float32: the receptive patch, zeros where it lies in the padding
    in_padding: np.ndarray  # (k, k) bool: which patch positions are padding zeros
    kernel: np.ndarray  # (C_in, k, k) float32
    products: np.ndarray  # (C_in, k, k) float64: patch × kernel, element-wise
    channel_sums: np.ndarray  # (C_in,) float64: products summed over each input channel
    total: float  # sum of all products
    bias: float
    pre_activation: float  # total + bias: the conv layer's output value
    activation_stage: str | None  # the activation that follows ('relu2'), None if none does
    activation: float | None  # pre_activation after it


def _model_dtype(model: nn.Module) -> torch.dtype:
    param = next(model.parameters(), None)
    return param.dtype if param is not None else torch.float32


def _as_batch(input28: np.ndarray, dtype: torch.dtype) -> torch.Tensor:
    image = np.asarray(input28)
    if image.shape != (28, 28):
        raise ValueError(f"input28 must be the (28, 28) model input, got shape {image.shape}")
    return torch.tensor(image, dtype=dtype)[None, None]


def _number(value: float) -> str:
    return f"{value:.2f}".replace("-", "−")  # the typographic minus, as in the formulas


def _input_note(layer: str, input_stage: str, stage: nn.Module, shape: tuple[int, ...]) -> str:
    if isinstance(stage, Normalize):
        return (f"{layer} receives the output of '{input_stage}': the drawing rescaled to "
                f"(pixel − {stage.mean:g}) / {stage.std:g}, so black background is "
                f"{_number((0 - stage.mean) / stage.std)} and white ink {_number((1 - stage.mean) / stage.std)}, "
                "not 0 and 1.")
    return f"{layer} receives the output of '{input_stage}': {shape[0]} feature maps of {shape[1]}×{shape[2]}."


def one_value(model: nn.Sequential, input28: np.ndarray, layer: str, channel: int, row: int, col: int) -> OneValue:
    """How value (``row``, ``col``) of feature map ``channel`` of conv ``layer`` comes out of the layer's input.

    The receptive patch of the layer's input (every input channel, the layer's zero padding included) is multiplied
    element-wise by the kernel, everything is summed, the bias is added (the pre-activation value) and the
    following activation (ReLU) is applied.
    """
    stages = list(model.named_children())
    names = [name for name, _ in stages]
    convs = [name for name, _ in _conv_stages(model)]
    if layer not in convs:
        raise ValueError(f"layer must be a convolution layer of this model ({', '.join(convs) or 'none'}), "
                         f"got {layer!r}")
    index = names.index(layer)
    conv = stages[index][1]
    if index == 0:
        raise ValueError(f"{layer} is the first stage: it receives the raw input, not a stage output")
    if conv.groups != 1 or tuple(conv.dilation) != (1, 1) or isinstance(conv.padding, str) \
            or conv.padding_mode != "zeros":
        raise ValueError(f"{layer}: only plain convolutions (zero padding, no groups or dilation) are explained")
    _check_int("channel", channel, 0, conv.out_channels - 1)

    with torch.inference_mode():
        _, outputs = staged_forward(model, _as_batch(input28, _model_dtype(model)))
    input_stage = names[index - 1]
    layer_input = outputs[input_stage][0].float().numpy().copy()
    c_in, height, width = layer_input.shape
    kh, kw = conv.kernel_size
    (sh, sw), (ph, pw) = conv.stride, conv.padding
    out_h, out_w = (height + 2 * ph - kh) // sh + 1, (width + 2 * pw - kw) // sw + 1
    _check_int("row", row, 0, out_h - 1)
    _check_int("col", col, 0, out_w - 1)

    # The patch is cut from the input padded exactly as the layer pads it, so border values include the zeros.
    top, left = row * sh - ph, col * sw - pw
    padded = np.pad(layer_input, ((0, 0), (ph, ph), (pw, pw)))
    patch = padded[:, top + ph:top + ph + kh, left + pw:left + pw + kw].copy()
    rows, cols = np.arange(top, top + kh), np.arange(left, left + kw)
    in_padding = ~(((rows >= 0) & (rows < height))[:, None] & ((cols >= 0) & (cols < width))[None, :])

    kernel = conv.weight[channel].detach().float().cpu().numpy().copy()
    # float64 products and sums: exact products of the float32 numbers, so the hand computation is the reference.
    products = patch.astype(np.float64) * kernel.astype(np.float64)
    channel_sums = products.sum(axis=(1, 2))
    total = float(channel_sums.sum())
    bias = 0.0 if conv.bias is None else float(conv.bias[channel].detach())
    pre_activation = total + bias

    activation_stage: str | None = None
    activation: float | None = None
    if index + 1 < len(stages) and stage_kind(stages[index + 1][1]) == ACTIVATION:
        activation_stage = names[index + 1]
        with torch.inference_mode():
            activation = float(stages[index + 1][1](torch.tensor(pre_activation, dtype=torch.float64)))
    return OneValue(layer=layer, channel=int(channel), row=int(row), col=int(col), input_stage=input_stage,
                    input_note=_input_note(layer, input_stage, stages[index - 1][1], layer_input.shape),
                    layer_input=layer_input, top=top, left=left, patch=patch, in_padding=in_padding, kernel=kernel,
                    products=products, channel_sums=channel_sums, total=total, bias=bias,
                    pre_activation=pre_activation, activation_stage=activation_stage, activation=activation)


# --- 4. Saliency --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Saliency:
    """Which pixels push the class score: the gradient of the target class's logit with respect to the input."""

    target: int  # the class explained (the predicted one unless asked otherwise)
    logit: float  # its score before softmax
    gradient: np.ndarray  # (28, 28) float32: d logit / d pixel
    gradient_x_input: np.ndarray  # (28, 28) float32: gradient × pixel, the saliency map (0 on black background)


def _check_target(target: int | None) -> None:
    if target is not None:
        _check_int("target class", target, 0, 9)


@contextmanager
def _gradient_mode() -> Iterator[None]:
    """Gradients for this computation only.

    The app's threads run the model under ``torch.inference_mode``, which is thread-local, and this may even be
    called inside it: gradients need inference mode off *and* grad mode on. The model itself is never touched (no
    hooks, no ``requires_grad`` changes, no ``.grad`` written: ``torch.autograd.grad`` differentiates only the
    tensors it is asked about).
    """
    with torch.inference_mode(False), torch.enable_grad():
        yield


def saliency(model: nn.Sequential, input28: np.ndarray, target: int | None = None) -> Saliency:
    """Gradient × input of the ``target`` logit (default: the predicted class) with respect to the 28×28 input."""
    _check_target(target)
    with _gradient_mode():
        x = _as_batch(input28, _model_dtype(model)).requires_grad_(True)
        logits = model(x)
        target = int(logits[0].argmax()) if target is None else int(target)
        (gradient,) = torch.autograd.grad(logits[0, target], x)
    grad = gradient[0, 0].detach().numpy()
    pixels = x.detach()[0, 0].numpy()
    return Saliency(target=target, logit=float(logits[0, target].detach()), gradient=grad.astype(np.float32),
                    gradient_x_input=(grad * pixels).astype(np.float32))


def _last_conv_activation(model: nn.Sequential) -> str:
    """The activation stage after the last convolution layer: the last feature maps that still have a layout."""
    stages = list(model.named_children())
    convs = [i for i, (_, module) in enumerate(stages) if stage_kind(module) == CONV]
    if not convs:
        raise ValueError("Grad-CAM needs a convolution layer; this model (a fully connected net) has none")
    for name, module in stages[convs[-1] + 1:]:
        if stage_kind(module) == ACTIVATION:
            return name
        if stage_kind(module) in (FLATTEN, FULLY_CONNECTED):
            break
    return stages[convs[-1]][0]


def grad_cam(model: nn.Sequential, input28: np.ndarray, target: int | None = None,
             layer: str | None = None) -> np.ndarray:
    """Grad-CAM: where in the image the feature maps of ``layer`` speak for the ``target`` class (default: the
    predicted one). Returns (28, 28) float32 in [0, 1].

    Each feature map of ``layer`` (default: the ReLU after the last convolution, 'relu3' in the shipped CNN) is
    weighted by the mean gradient of the target logit over it; the ReLU of the weighted sum is upsampled
    bilinearly to 28×28 and divided by its maximum (all zeros if nothing speaks for the class).
    """
    _check_target(target)
    names = [name for name, _ in model.named_children()]
    layer = _last_conv_activation(model) if layer is None else layer
    if layer not in names:
        raise ValueError(f"unknown stage {layer!r}; this model has {', '.join(names)}")
    with _gradient_mode():
        x = _as_batch(input28, _model_dtype(model))
        maps = None
        for name, stage in model.named_children():
            x = stage(x)
            if name == layer:
                if x.ndim != 4:
                    raise ValueError(f"Grad-CAM needs feature maps; stage {layer!r} outputs shape "
                                     f"{tuple(x.shape[1:])}")
                maps = x
        target = int(x[0].argmax()) if target is None else int(target)
        (grads,) = torch.autograd.grad(x[0, target], maps)
        weights = grads[0].mean(dim=(1, 2))
        cam = torch.relu((weights[:, None, None] * maps[0]).sum(dim=0)).detach()
    cam = F.interpolate(cam[None, None].float(), size=(28, 28), mode="bilinear", align_corners=False)[0, 0]
    peak = float(cam.max())
    if peak <= 0:
        return np.zeros((28, 28), dtype=np.float32)
    return (cam / peak).clamp(0, 1).numpy().astype(np.float32)


# --- 5. Architecture overview -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class StageRow:
    """One stage of the network, as the overview table lists it."""

    name: str  # e.g. 'conv1'
    kind: str  # demo.model.stage_kind: 'conv', 'activation', 'pool', 'flatten', 'fc' or 'other'
    output_shape: tuple[int, ...]  # without the batch dimension, e.g. (32, 28, 28)
    parameters: int  # learned numbers (weights and biases)
    detail: str  # e.g. '32 kernels 5×5, padding 2', 'max 2×2, stride 2', '3136 → 128', 'ReLU'


def _pair(value: int | tuple[int, ...]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))


def _side(pair: tuple[int, int]) -> str:
    return f"{pair[0]}×{pair[1]}"


def _stage_detail(module: nn.Module, input_shape: tuple[int, ...], output_shape: tuple[int, ...]) -> str:
    kind = stage_kind(module)
    if kind == CONV:
        detail = f"{module.out_channels} kernels {_side(_pair(module.kernel_size))}"
        if module.in_channels > 1:
            detail += f" over {module.in_channels} channels"
        padding = module.padding if isinstance(module.padding, str) else _pair(module.padding)
        if padding != (0, 0):
            detail += f", padding {padding if isinstance(padding, str) else _pair_text(padding)}"
        if _pair(module.stride) != (1, 1):
            detail += f", stride {_pair_text(_pair(module.stride))}"
        return detail
    if kind == ACTIVATION:
        return "ReLU" if isinstance(module, nn.ReLU) else type(module).__name__
    if kind == POOL:
        name = "max" if isinstance(module, nn.MaxPool2d) else "mean"
        stride = module.stride if module.stride is not None else module.kernel_size
        return f"{name} {_side(_pair(module.kernel_size))}, stride {_pair_text(_pair(stride))}"
    if kind == FLATTEN:
        return f"{'×'.join(map(str, input_shape))} → {math.prod(output_shape)}"
    if kind == FULLY_CONNECTED:
        return f"{module.in_features} → {module.out_features}"
    if isinstance(module, Normalize):
        return f"(pixel − {module.mean:g}) / {module.std:g}"
    if isinstance(module, nn.Dropout):
        return f"dropout p = {module.p:g} (only while training)"
    return type(module).__name__


def _pair_text(pair: tuple[int, int]) -> str:
    return str(pair[0]) if pair[0] == pair[1] else f"{pair[0]}×{pair[1]}"


def architecture(model: nn.Sequential) -> list[StageRow]:
    """Every stage of ``model`` in order, with its output shape from a real forward pass of a blank 28×28 input."""
    x = torch.zeros(1, 1, 28, 28, dtype=_model_dtype(model))
    with torch.inference_mode():
        _, outputs = staged_forward(model, x)
    rows = []
    input_shape: tuple[int, ...] = (1, 28, 28)
    for name, module in model.named_children():
        shape = tuple(int(s) for s in outputs[name].shape[1:])
        rows.append(StageRow(name=name, kind=stage_kind(module), output_shape=shape,
                             parameters=sum(p.numel() for p in module.parameters()),
                             detail=_stage_detail(module, input_shape, shape)))
        input_shape = shape
    return rows
