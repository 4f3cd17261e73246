"""Moving and rotating 28×28 digits: the "CNN vs MLP" view's sliders and ``bench/shift_robustness.py``.

    from demo.core.transform import shift_rotate
    moved = shift_rotate(image, dx=3, dy=-2)        # 3 px right, 2 px up: an exact pixel move, no blur
    turned = shift_rotate(images, angle=30)         # 30° counter-clockwise on screen, bilinear

Conventions (screen coordinates: x to the right, y down, row 0 at the top):

* ``dx > 0`` moves the digit right, ``dy > 0`` moves it down, in pixels;
* ``angle > 0`` turns it counter-clockwise as seen on screen, in degrees, about the centre of the field (the point
  between the four middle pixels, (13.5, 13.5) in pixel-index coordinates for 28×28);
* the rotation comes first, then the move: the output is the input turned about the field's centre and then moved
  by (dx, dy), so a centred digit turns about itself whatever the shift;
* what leaves the field is lost and what comes in is black (zero);
* whole-pixel moves with no rotation (angle a multiple of 360) are exact copies of pixels; everything else is
  resampled bilinearly with ``torch.nn.functional.grid_sample``, with cos/sin exact for multiples of 90° so a quarter
  turn is a pixel permutation up to float rounding in the sampling grid (exact after uint8 rounding).

Pure: never modifies or returns its input, no global state.
"""

from __future__ import annotations

import math
from typing import TypeVar

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["shift_rotate"]

ImageArray = TypeVar("ImageArray", np.ndarray, torch.Tensor)

_EXACT_COS_SIN = {0.0: (1.0, 0.0), 90.0: (0.0, 1.0), 180.0: (-1.0, 0.0), 270.0: (0.0, -1.0)}


def shift_rotate(images: ImageArray, dx: float = 0, dy: float = 0, angle: float = 0) -> ImageArray:
    """Moves digits ``dx`` px right and ``dy`` px down after turning them ``angle`` degrees counter-clockwise.

    ``images``: one image (H, W) or a batch (N, H, W) (MNIST: 28×28), a numpy array or a torch tensor, uint8 or
    floating point. Returns a new array of the same type, shape, dtype (and device, for tensors); uint8 results are
    rounded to the nearest integer. See the module docstring for the conventions.

    Raises ``TypeError`` for other array types or dtypes, ``ValueError`` for other shapes or non-finite amounts.
    """
    is_numpy = isinstance(images, np.ndarray)
    if not is_numpy and not isinstance(images, torch.Tensor):
        raise TypeError(f"expected a numpy array or a torch tensor, got {type(images).__name__}")
    if images.ndim not in (2, 3):
        raise ValueError(f"expected one image (H, W) or a batch (N, H, W), got shape {tuple(images.shape)}")
    is_uint8 = images.dtype == (np.uint8 if is_numpy else torch.uint8)
    is_float = np.issubdtype(images.dtype, np.floating) if is_numpy else images.dtype.is_floating_point
    if not (is_uint8 or is_float):
        raise TypeError(f"expected uint8 or floating-point images, got dtype {images.dtype}")
    dx, dy, angle = float(dx), float(dy), float(angle)
    if not all(math.isfinite(v) for v in (dx, dy, angle)):
        raise ValueError(f"dx, dy and angle must be finite numbers, got {dx}, {dy}, {angle}")

    if dx.is_integer() and dy.is_integer() and angle % 360 == 0:
        return _shift_pixels(images, int(dx), int(dy))

    x = torch.from_numpy(np.array(images)) if is_numpy else images  # a copy: read-only arrays are fine too
    work_dtype = torch.float64 if x.dtype == torch.float64 else torch.float32
    batch = x.reshape(-1, 1, *x.shape[-2:]).to(work_dtype)
    out = F.grid_sample(batch, _sampling_grid(batch, dx, dy, angle), mode="bilinear", padding_mode="zeros",
                        align_corners=False).reshape(x.shape)
    out = out.round().clamp(0, 255) if is_uint8 else out
    out = out.to(x.dtype)
    return out.numpy() if is_numpy else out


def _shift_pixels(images: ImageArray, dx: int, dy: int) -> ImageArray:
    """Exact whole-pixel move with zero fill (slicing, works alike for numpy and torch); always a new array."""
    out = np.zeros_like(images) if isinstance(images, np.ndarray) else torch.zeros_like(images)
    height, width = images.shape[-2:]
    if abs(dx) >= width or abs(dy) >= height:
        return out
    out[..., max(dy, 0):height + min(dy, 0), max(dx, 0):width + min(dx, 0)] = \
        images[..., max(-dy, 0):height + min(-dy, 0), max(-dx, 0):width + min(-dx, 0)]
    return out


def _sampling_grid(batch: torch.Tensor, dx: float, dy: float, angle: float) -> torch.Tensor:
    """``affine_grid`` for (N, 1, H, W): for each output pixel, where to read in the input.

    Forward map in pixel coordinates centred on the field (y down): p' = R p + t with R the counter-clockwise turn
    on screen, [[cos, sin], [-sin, cos]], and t = (dx, dy). ``affine_grid`` wants the inverse, p = R⁻¹ (p' - t),
    in its normalised coordinates n = p / (W/2, H/2) (``align_corners=False``).
    """
    height, width = batch.shape[-2:]
    cos, sin = _EXACT_COS_SIN.get(angle % 360, (math.cos(math.radians(angle)), math.sin(math.radians(angle))))
    half_w, half_h = width / 2, height / 2
    theta = torch.tensor([[cos, -sin * half_h / half_w, -(cos * dx - sin * dy) / half_w],
                          [sin * half_w / half_h, cos, -(sin * dx + cos * dy) / half_h]],
                         dtype=batch.dtype, device=batch.device)
    return F.affine_grid(theta.expand(batch.shape[0], 2, 3), list(batch.shape), align_corners=False)
