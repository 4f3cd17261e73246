"""The filter atlas: for every channel of every convolution, the training-image patches that excite it most.

``tools/filter_atlas.py`` runs the shipped CNN over all 60,000 MNIST training images and stores, per conv layer and
channel, the :data:`TOP` images whose largest value of that channel's feature map (the conv's own output, before
ReLU) is highest, one per image, with the receptive field of that position cropped from the image. This module
reads the file back (:func:`load_atlas`) and holds the receptive-field geometry both sides use, so the crop the
tool stored and the crop the page draws for a drawing are the same computation.

No side effects at import: nothing is read until :func:`load_atlas` is called.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from torch import nn

from demo.core.checkpoint import read_safetensors
from demo.core.data import sha256_file
from demo.core.model import CONV, POOL, stage_kind
from demo.core.paths import WEIGHTS_DIR

if TYPE_CHECKING:  # for the type hint only: the classifier module imports far more than this one needs
    from demo.core.classifier import Classifier

log = logging.getLogger("convscope")

DEFAULT_PATH = WEIGHTS_DIR / "filter_atlas.safetensors"
META_KEY = "convscope_filter_atlas"
TOP = 9  # patches kept per channel: a 3×3 mosaic
REBUILD = "python -m tools.filter_atlas --data-dir ../shared/data/mnist"
ARRAYS = ("patches", "activations", "images", "rows", "cols", "labels")  # stored per layer as '<layer>.<array>'


class AtlasError(RuntimeError):
    """The atlas file is unreadable or inconsistent."""


@dataclass(frozen=True)
class Field:
    """Where one output value of a layer looks in the 28×28 input: a ``size``×``size`` square whose top-left corner,
    for output position (row, col), is at (offset + stride·row, offset + stride·col). A negative offset means the
    square reaches into the zero padding around the image."""

    size: int
    stride: int
    offset: int

    def corner(self, row: int, col: int) -> tuple[int, int]:
        return self.offset + self.stride * row, self.offset + self.stride * col


def _side(value: int | str | tuple[int, ...]) -> int:
    return value if isinstance(value, int) else int(value[0])


def receptive_fields(model: nn.Sequential) -> dict[str, Field]:
    """The receptive field of every conv stage of ``model``, in order, worked out from the stages' own kernel,
    padding and stride (square kernels, no dilation: what :mod:`demo.core.model` builds)."""
    size, stride, offset = 1, 1, 0
    fields: dict[str, Field] = {}
    for name, module in model.named_children():
        kind = stage_kind(module)
        if kind not in (CONV, POOL):
            continue
        k = _side(module.kernel_size)
        if kind == CONV and _side(module.dilation) != 1:
            raise ValueError(f"{name}: dilated convolutions are not supported")
        padding = module.padding
        pad = {"valid": 0, "same": (k - 1) // 2}[padding] if isinstance(padding, str) else _side(padding)
        step = _side(module.stride if module.stride is not None else module.kernel_size)
        # A new value spans k old ones, `stride` input pixels apart; padding shifts the first window up-left.
        size += (k - 1) * stride
        offset -= pad * stride
        stride *= step
        if kind == CONV:
            fields[name] = Field(size, stride, offset)
    return fields


def crop(image: np.ndarray, fld: Field, row: int, col: int) -> np.ndarray:
    """The ``fld.size``² square of the (H, W) ``image`` that output (row, col) sees, zeros where it runs off the
    image (the network's padding is zeros too, after normalisation; here it is black, the MNIST background)."""
    top, left = fld.corner(row, col)
    h, w = image.shape
    out = np.zeros((fld.size, fld.size), image.dtype)
    y0, x0, y1, x1 = max(top, 0), max(left, 0), min(top + fld.size, h), min(left + fld.size, w)
    if y0 < y1 and x0 < x1:
        out[y0 - top:y1 - top, x0 - left:x1 - left] = image[y0:y1, x0:x1]
    return out


@dataclass(frozen=True, eq=False)  # compared by identity: hashable, so views can cache pictures per layer
class AtlasLayer:
    """One conv layer's atlas; C channels, each with its ``TOP`` strongest training images, strongest first."""

    name: str  # the conv stage, e.g. 'conv2'
    field: Field  # receptive field of the layer's outputs
    patches: np.ndarray  # (C, TOP, R, R) uint8: the receptive field cropped from the training image, 255 = ink
    activations: np.ndarray  # (C, TOP) float32: the channel's value there (conv output before ReLU)
    images: np.ndarray  # (C, TOP) int32: index into the MNIST training set
    rows: np.ndarray  # (C, TOP) int32: output position of that value in the layer's feature map
    cols: np.ndarray  # (C, TOP) int32
    labels: np.ndarray  # (C, TOP) int32: the digit the training image shows

    @property
    def channels(self) -> int:
        return int(self.patches.shape[0])


@dataclass(frozen=True)
class Atlas:
    layers: dict[str, AtlasLayer]  # conv stage name -> its atlas, in network order
    info: dict[str, Any] = field(default_factory=dict)  # the file's metadata (hashes, command, timing)
    path: Path | None = None


def read_atlas(path: str | Path = DEFAULT_PATH) -> Atlas:
    """Reads an atlas file whatever weights it was made for. Raises :class:`AtlasError` naming the fix."""
    from safetensors import SafetensorError

    path = Path(path)
    fix = f"Rebuild it with: {REBUILD}"
    if not path.is_file():
        raise AtlasError(f"filter atlas {path} does not exist. {fix}")
    try:
        header, tensors = read_safetensors(path)
        info = json.loads(header[META_KEY])
        layers = {}
        for name in info["layers"]:
            geometry = info["receptive_fields"][name]
            arrays = {a: tensors[f"{name}.{a}"] for a in ARRAYS}
            layers[name] = AtlasLayer(name, Field(int(geometry["size"]), int(geometry["stride"]),
                                                  int(geometry["offset"])),
                                      **{a: v if a in ("patches", "activations") else v.astype(np.int32)
                                         for a, v in arrays.items()})
    except (SafetensorError, OSError, ValueError, KeyError, TypeError) as error:
        raise AtlasError(f"filter atlas {path} is unreadable or incomplete ({error}). {fix}") from error
    for layer in layers.values():
        c, top = layer.patches.shape[:2] if layer.patches.ndim == 4 else (0, 0)
        if layer.patches.shape != (c, top, layer.field.size, layer.field.size) or any(
                getattr(layer, a).shape != (c, top) for a in ARRAYS[1:]):
            raise AtlasError(f"filter atlas {path} has inconsistent shapes in {layer.name}. {fix}")
    return Atlas(layers, info, path)


def load_atlas(clf: Classifier, path: str | Path | None = None) -> Atlas | None:
    """The atlas of ``clf``, or None, with a log line, when the file is
    missing, unreadable or was computed for other weights: another network's filters are other filters, so its
    patches would be shown under the wrong kernels."""
    try:
        atlas = read_atlas(path if path is not None else DEFAULT_PATH)
    except AtlasError as error:
        log.warning("the filter atlas is off: %s", error)
        return None
    if atlas.info.get("weights_sha256") != sha256_file(Path(clf.path)):
        log.warning("the filter atlas is off: %s was computed for other weights than %s. Rebuild it with: %s "
                    "--weights %s", atlas.path, clf.path, REBUILD, clf.path)
        return None
    fields = receptive_fields(clf.model)
    for name, layer in atlas.layers.items():
        module = getattr(clf.model, name, None)
        if module is None or getattr(module, "out_channels", None) != layer.channels or fields.get(name) != layer.field:
            log.warning("the filter atlas is off: %s does not match %s's layer %s", atlas.path, clf.path, name)
            return None
    return atlas
