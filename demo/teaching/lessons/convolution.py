"""The convolution playground's computations: hand-made kernels of any size 2–7, the learned first-layer kernels,
the padding and output size of valid / same / full convolution with a stride, and applying a kernel to an image."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from demo.texts import plain

from .checks import check_int, conv_stages

MODES = ("valid", "same", "full")
KERNEL_SIZES = range(2, 8)  # the hand-made kernels of the playground
MAX_KERNEL = 7  # largest kernel conv_geometry accepts (1x1 is allowed there: it only rescales)
MAX_STRIDE = 3


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
# The catalogue key of what the menu shows for each hand-made kernel; the names above stay identifiers (the page's
# default value and the tests use them).
KERNEL_NAMES: dict[str, str] = {
    "vertical edges": "lessons.convolution.kernel_vertical_edges",
    "horizontal edges": "lessons.convolution.kernel_horizontal_edges",
    "diagonal edges": "lessons.convolution.kernel_diagonal_edges",
    "blur (box)": "lessons.convolution.kernel_box_blur",
    "blur (Gaussian)": "lessons.convolution.kernel_gaussian_blur",
    "sharpen": "lessons.convolution.kernel_sharpen",
    "outline (Laplacian)": "lessons.convolution.kernel_outline",
    "identity": "lessons.convolution.kernel_identity",
}


def _first_conv(model: nn.Sequential) -> nn.Conv2d:
    convs = conv_stages(model)
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


def first_conv_input(model: nn.Sequential, input28: np.ndarray) -> np.ndarray:
    """What the first convolution layer receives for ``input28``: the drawing after the stages before it (the
    normalisation, (pixel − mean) / std), as (28, 28) float32."""
    x = torch.from_numpy(np.ascontiguousarray(input28, dtype=np.float32))[None, None]
    with torch.inference_mode():
        for stage in model.children():
            if isinstance(stage, nn.Conv2d):
                return x[0, 0].numpy().copy()
            x = stage(x)
    raise ValueError("this model has no convolution layer (the fully connected net learns no kernels)")


def learned_feature_map(model: nn.Sequential, input28: np.ndarray, index: int, mode: str = "same",
                        stride: int = 1) -> np.ndarray:
    """Kernel ``index`` of the first convolution layer applied as that layer applies it: to its own input (the
    normalised drawing), zero padding as ``mode`` says, plus the bias. In 'same' mode with stride 1 this is exactly
    the layer's feature map before ReLU."""
    kernel = learned_kernel(model, index)
    return apply_kernel(first_conv_input(model, input28), kernel, mode, stride) + learned_kernel_bias(model, index)


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


def padding(k: int, mode: str) -> tuple[int, int]:
    """Zeros (before, after) along each axis."""
    if mode == "valid":
        return 0, 0
    if mode == "full":
        return k - 1, k - 1
    # 'same': k - 1 in total. For even k that is odd; PyTorch's padding='same' puts the smaller half before.
    before = (k - 1) // 2
    return before, k - 1 - before


def conv_geometry(n: int, k: int, mode: str, stride: int = 1) -> ConvGeometry:
    """Padding and output size of a ``mode`` convolution ('valid', 'same' or 'full') with stride 1–3.

    valid: no padding, out = n − k + 1 (needs k ≤ n). same: k − 1 zeros per axis, out = n. full: k − 1 zeros on
    every side, out = n + k − 1. With a stride s: out = ⌊(n + p_before + p_after − k) / s⌋ + 1. PyTorch refuses
    padding='same' with a stride; here 'same' pads as for stride 1 and then keeps every s-th position, which is the
    stride-1 'same' map subsampled: ⌈n / s⌉ values.
    """
    check_int(plain("lessons.convolution.check_image_size"), n, 1)
    check_int(plain("lessons.convolution.check_kernel_size"), k, 1, MAX_KERNEL)
    check_int(plain("lessons.convolution.check_stride"), stride, 1, MAX_STRIDE)
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    if mode == "valid" and k > n:
        raise ValueError(f"a {k}×{k} kernel does not fit in a {n}×{n} image without padding ('valid' mode)")
    before, after = padding(k, mode)
    out = (n + before + after - k) // stride + 1
    return ConvGeometry(n=n, k=k, mode=mode, stride=stride, pad_top=before, pad_bottom=after, pad_left=before,
                        pad_right=after, out=out)


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

