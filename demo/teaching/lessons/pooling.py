"""The pooling explorer's computations: max or mean pooling of a feature map with any window and stride, and the
window behind one pooled value."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from demo.texts import plain

from .checks import check_int

POOL_KINDS = ("max", "mean")
MAX_POOL_WINDOW = 4
MAX_POOL_STRIDE = 4


def _check_pool(feature_map: np.ndarray, kind: str, window: int, stride: int) -> np.ndarray:
    feature_map = np.asarray(feature_map, dtype=np.float32)
    if feature_map.ndim != 2:
        raise ValueError(f"feature map must be 2-D (H, W), got shape {feature_map.shape}")
    if kind not in POOL_KINDS:
        raise ValueError(f"pooling kind must be 'max' or 'mean', got {kind!r}")
    check_int(plain("lessons.pooling.check_window"), window, 1, MAX_POOL_WINDOW)
    check_int(plain("lessons.pooling.check_stride"), stride, 1, MAX_POOL_STRIDE)
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
