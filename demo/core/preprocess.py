"""Turning any drawing into what an MNIST digit looks like, the way the MNIST authors made theirs.

MNIST digits were cropped to their ink, scaled so the longest side is 20 px (keeping the aspect ratio,
anti-aliased), and placed in a 28×28 field with their centre of mass at the centre. :func:`preprocess` does the
same to a drawing of any size, mode and polarity, and first evens out the pen: a thin pen on a large canvas would
otherwise shrink to faint one-pixel lines, a marker to blobs. It returns every intermediate step for the app to show.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from scipy import ndimage, signal
from skimage.morphology import skeletonize

from demo.texts import localised, plain

MNIST_BOX = 20  # longest side of the digit inside the 28×28 field
MNIST_SIZE = 28
MNIST_CENTRE = 14.0  # mean centre of mass of MNIST training digits, in pixel-index coordinates (measured: 14.00)
WORK_SIZE = 128  # the crop is normalised at this resolution before the final downscale
MAX_INPUT_SIDE = 1024  # larger inputs are box-filtered down first, which bounds time and memory
# MNIST strokes, measured with stroke_width() on 6,000 training digits cropped and scaled like a drawing: median
# 2.5 px in the 20 px box, 10 % below 1.8 px, 1 % above 4.5 px. Thinner pens are thickened to the median: a thin
# pen on a big canvas would otherwise end as a faint line. Only pens thicker than all but 1 % of MNIST are thinned
# (to 3.5 px): the network learned MNIST's bold digits as they are, and eroding them only loses detail. Thinning
# from 4 px would reshape 3 % of MNIST's digits (35 against 38 errors on the 10,000 test digits fed through
# preprocess(): docs/experiments.md).
TARGET_STROKE = 2.5 / MNIST_BOX
THICKEN_BELOW, THIN_ABOVE, THIN_TO = 0.72, 1.8, 1.4  # as multiples of TARGET_STROKE
INK_THRESHOLD = 0.3  # ink level (0-1, after background removal) that counts as drawn
MIN_INK_PIXELS = 4  # fewer drawn pixels than this is a speck, not a digit


class InvalidImageError(ValueError):
    """The input cannot be read as an image; the message says why in words a user understands."""


@dataclass
class Preprocessed:
    input28: np.ndarray  # (28, 28) float32 in [0, 1], white digit on black; all zeros when empty
    empty: bool
    message: str  # what happened, for people ("empty canvas: draw a digit", ...)
    steps: list[tuple[str, np.ndarray]] = field(default_factory=list)  # (caption, float32 image, ink = 1)


# ------------------------------------------------------------------------------------------------ reading input

def _pil_to_arrays(image: Image.Image) -> tuple[np.ndarray, np.ndarray | None]:
    """A PIL image of any mode -> (gray or RGB float32 in [0, 1], alpha float32 or None)."""
    if getattr(image, "n_frames", 1) > 1:
        image.seek(0)  # animated images: the first frame
    longest = max(image.size)
    if longest > MAX_INPUT_SIDE:
        image = image.reduce(int(np.ceil(longest / MAX_INPUT_SIDE)))  # box filter, fast and anti-aliased
    mode = image.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        data = np.asarray(image, dtype=np.float32)
        peak = 65535.0 if data.max(initial=0) > 255 else 255.0
        return np.clip(data / peak, 0, 1), None
    if mode == "F":
        return _scale_float(np.asarray(image, dtype=np.float32)), None
    if mode in ("1", "L"):
        return np.asarray(image.convert("L"), dtype=np.float32) / 255, None
    if mode == "LA" or mode == "La":
        data = np.asarray(image.convert("LA"), dtype=np.float32) / 255
        return data[..., 0], data[..., 1]
    has_alpha = "A" in mode or "transparency" in image.info
    data = np.asarray(image.convert("RGBA" if has_alpha else "RGB"), dtype=np.float32) / 255
    return (data[..., :3], data[..., 3]) if has_alpha else (data, None)


def _scale_float(data: np.ndarray) -> np.ndarray:
    low, high = float(data.min(initial=0)), float(data.max(initial=0))
    if low < 0:
        raise InvalidImageError(plain("core.preprocess.negative", found=localised(f"{low:g}")))
    if high <= 1:
        return data
    if high <= 255:
        return data / 255
    if high <= 65535:
        return data / 65535
    raise InvalidImageError(plain("core.preprocess.out_of_range", found=localised(f"{high:g}")))


def _numpy_to_arrays(array: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """A (H, W), (H, W, C) or (C, H, W) array with C in 1-4 -> (gray or RGB in [0, 1], alpha or None)."""
    data = _shrink(_unit_floats(_reduce_uint8(_channels_last(_numeric(array)))))
    if data.ndim == 3 and data.shape[-1] == 2:
        return data[..., 0], data[..., 1]
    if data.ndim == 3 and data.shape[-1] == 4:
        return data[..., :3], data[..., 3]
    return data, None


def _numeric(array: np.ndarray) -> np.ndarray:
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise InvalidImageError(plain("core.preprocess.not_numbers", dtype=array.dtype))
    if np.issubdtype(array.dtype, np.complexfloating):
        raise InvalidImageError(plain("core.preprocess.complex"))
    return array


def _channels_last(array: np.ndarray) -> np.ndarray:
    """(H, W) or (H, W, C) with C in 2-4; channels first and a single channel are turned into those."""
    if array.ndim == 3 and array.shape[-1] not in (1, 2, 3, 4) and array.shape[0] in (1, 2, 3, 4):
        array = np.moveaxis(array, 0, -1)  # channels first -> channels last
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[-1] not in (2, 3, 4)):
        raise InvalidImageError(plain("core.preprocess.bad_shape", shape=array.shape))
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise InvalidImageError(plain("core.preprocess.no_pixels", shape=array.shape))
    return array


def _reduce_uint8(array: np.ndarray) -> np.ndarray:
    """Huge 8-bit gray, RGB or RGBA arrays reduced as PIL images first: no full-size float copy (a 10,000² RGBA
    array is 1.6 GB as float32)."""
    longest = max(array.shape[:2])
    if array.dtype == np.uint8 and longest > MAX_INPUT_SIDE and (array.ndim == 2 or array.shape[-1] in (3, 4)):
        reduced = Image.fromarray(np.ascontiguousarray(array)).reduce(int(np.ceil(longest / MAX_INPUT_SIDE)))
        return np.asarray(reduced)
    return array


def _unit_floats(array: np.ndarray) -> np.ndarray:
    """float32 in [0, 1]: booleans as 0/1, uint8 over 255, other ranges as :func:`_scale_float` finds them."""
    if array.dtype == bool:
        return array.astype(np.float32)
    if array.dtype == np.uint8:
        return array.astype(np.float32) / 255
    if np.issubdtype(array.dtype, np.floating) and not np.isfinite(array).all():
        raise InvalidImageError(plain("core.preprocess.not_finite"))
    return _scale_float(array.astype(np.float32))


def _shrink(data: np.ndarray) -> np.ndarray:
    """Arrays still longer than MAX_INPUT_SIDE averaged down by a whole factor."""
    longest = max(data.shape[:2])
    if longest <= MAX_INPUT_SIDE:
        return data
    factor = int(np.ceil(longest / MAX_INPUT_SIDE))
    t = torch.from_numpy(np.ascontiguousarray(np.atleast_3d(data).transpose(2, 0, 1)))[None]
    data = F.avg_pool2d(t, factor, ceil_mode=True)[0].numpy().transpose(1, 2, 0)
    return data[..., 0] if data.shape[-1] == 1 else data


def _luminance(data: np.ndarray) -> np.ndarray:
    if data.ndim == 2:
        return data
    return data @ np.array([0.299, 0.587, 0.114], dtype=np.float32)  # ITU-R 601, as PIL's convert("L")


def _border(a: np.ndarray) -> np.ndarray:
    """The outermost ring of pixels (at least 1 px, 2 % of the side): where the background shows."""
    w = max(1, round(0.02 * min(a.shape)))
    return np.concatenate([a[:w].ravel(), a[-w:].ravel(), a[:, :w].ravel(), a[:, -w:].ravel()])


def to_ink(image: Image.Image | np.ndarray) -> np.ndarray:
    """Any image -> float32 (H, W) ink map: 1 where drawn, 0 on the background, whatever the polarity.

    Transparency is composited first; the background is the typical colour of the border, so dark-on-light,
    light-on-dark and grey paper all work.
    """
    if isinstance(image, Image.Image):
        colour, alpha = _pil_to_arrays(image)
    elif isinstance(image, np.ndarray):
        colour, alpha = _numpy_to_arrays(image)
    else:
        raise InvalidImageError(plain("core.preprocess.not_an_image", kind=type(image).__name__))
    gray = _luminance(colour)
    if alpha is not None and alpha.min() < 0.98:
        # Composite over a backdrop. Where the border is mostly transparent (a canvas export), the backdrop is the
        # opposite of the visible ink's brightness, so black and white pens both show; otherwise (an opaque picture
        # with a few transparent pixels) the backdrop is the picture's own border colour.
        border_alpha = _border(alpha)
        if np.mean(border_alpha < 0.5) > 0.5:
            visible = float((gray * alpha).sum() / max(alpha.sum(), 1e-6))
            backdrop = 1.0 if visible < 0.5 else 0.0
        else:
            backdrop = float(np.median(_border(gray)[border_alpha >= 0.5]))
        gray = gray * alpha + backdrop * (1 - alpha)
    background = float(np.median(_border(gray)))
    if background > 0.5:  # dark ink on light paper
        ink, level = 1 - gray, 1 - background
    else:
        ink, level = gray, background
    return np.clip((ink - level) / max(1 - level, 1e-3), 0, 1).astype(np.float32)


# ------------------------------------------------------------------------------------------------ normalising

def _resize(a: np.ndarray, height: int, width: int) -> np.ndarray:
    """Anti-aliased bilinear resize (area-like when shrinking, smooth when enlarging)."""
    t = torch.from_numpy(np.ascontiguousarray(a))[None, None]
    return F.interpolate(t, size=(height, width), mode="bilinear", antialias=True, align_corners=False)[0, 0].numpy()


def disk(radius: int) -> torch.Tensor:
    """A round structuring element / pen tip of ``radius`` pixels, as a (1, 1, 2r+1, 2r+1) conv kernel."""
    r = torch.arange(-radius, radius + 1, dtype=torch.float32)
    return ((r[:, None] ** 2 + r[None, :] ** 2) <= radius ** 2 + 0.5).float()[None, None]


DIRECT_RADIUS = 4  # disks up to this radius are applied directly; larger ones through the FFT


def disk_sum(image: np.ndarray, radius: int) -> np.ndarray:
    """For every pixel, the sum of ``image`` under a :func:`disk` of ``radius`` centred there (zero outside).

    A large disk is applied through the FFT: the same sums (to float rounding), at a cost that does not grow with
    the disk. Applied directly, a radius-50 disk (a dot or a short first stroke scaled up to the work size) took
    over a second.
    """
    if radius <= DIRECT_RADIUS:
        t = torch.from_numpy(np.ascontiguousarray(image, dtype=np.float32))[None, None]
        return F.conv2d(t, disk(radius), padding=radius)[0, 0].numpy()
    summed = signal.fftconvolve(image.astype(np.float64), disk(radius)[0, 0].numpy().astype(np.float64), mode="same")
    return summed.astype(np.float32)


def stroke_width(ink: np.ndarray) -> float:
    """Typical stroke width in pixels: twice the median distance from the strokes' centre lines to the paper.

    The median over the skeleton ignores blots and filled-in loops, which an average over the ink would count as
    very wide strokes (and thinning the whole digit to suit them would erase its thin strokes).
    """
    drawn = ink > 0.5
    if not drawn.any():
        return 0.0
    depth = ndimage.distance_transform_edt(drawn)  # distance to the nearest paper pixel
    centre_lines = skeletonize(drawn)
    return 2.0 * float(np.median(depth[centre_lines]) if centre_lines.any() else depth.max())


def normalise_stroke(ink: np.ndarray, box: int, width: float | None = None) -> np.ndarray:
    """Thickens thin pens and thins markers towards MNIST's stroke width, relative to the digit's size ``box``.

    ``width``: the pen's width in ``ink``'s pixels when it is known (the drawing pad sends it); otherwise it is
    measured with :func:`stroke_width`.
    """
    target = TARGET_STROKE * box
    width = stroke_width(ink) if width is None else width
    ink = np.ascontiguousarray(ink, dtype=np.float32)
    if 0 < width < THICKEN_BELOW * target:
        r = max(1, round((target - width) / 2))
        return np.clip(disk_sum(ink, r), 0, 1)  # dilation by a disk: a rounder, wider pen
    if width > THIN_ABOVE * target:
        r = max(1, round((width - THIN_TO * target) / 2))
        drawn = ink > 0.5
        # Never erase most of the digit. Where the distance to the paper says at once that eroding would leave far
        # less than a quarter (a dot, a short first stroke, scaled up to the work size), it is not even tried.
        if r > DIRECT_RADIUS and (ndimage.distance_transform_edt(drawn) > r).sum() < 0.15 * drawn.sum():
            return ink
        thinned = 1 - np.clip(disk_sum(1 - ink, r), 0, 1)  # erosion by a disk
        if (thinned > 0.5).sum() >= 0.25 * drawn.sum():
            return thinned
    return ink


def _longest_side(image: Image.Image | np.ndarray) -> int:
    if isinstance(image, Image.Image):
        return max(image.size)
    shape = np.shape(image)
    return max(shape[:2]) if len(shape) == 2 or shape[-1] <= 4 else max(shape[1:3])


def preprocess(image: Image.Image | np.ndarray, pen_width: float | None = None) -> Preprocessed:
    """Any drawing -> the 28×28 input the model sees, plus the steps on the way. Raises InvalidImageError.

    ``pen_width``: the width of the pen in ``image``'s pixels, when it is known (a drawing from the pad, one pen for
    every stroke). It replaces measuring the width from the ink, which is most of the preprocessing's time.
    """
    ink = to_ink(image)
    if pen_width is not None:
        pen_width *= max(ink.shape) / max(_longest_side(image), 1)  # large images are reduced on reading
    caption = plain("core.preprocess.step_ink", width=ink.shape[1], height=ink.shape[0])
    steps: list[tuple[str, np.ndarray]] = [(caption, ink)]
    drawn = ink > INK_THRESHOLD
    if not drawn.any():
        uniform = float(ink.max()) < INK_THRESHOLD
        # One flat colour: an empty canvas, or one covered entirely in ink (no background left to find a digit on).
        message = plain("core.preprocess.empty_canvas" if uniform else "core.preprocess.no_digit")
        return Preprocessed(np.zeros((MNIST_SIZE, MNIST_SIZE), np.float32), True, message, steps)

    rows, cols = np.flatnonzero(drawn.any(1)), np.flatnonzero(drawn.any(0))
    crop = ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    h, w = crop.shape
    scale = WORK_SIZE / max(h, w)
    work = _resize(crop, max(1, round(h * scale)), max(1, round(w * scale)))
    if int(drawn.sum()) < MIN_INK_PIXELS:
        return Preprocessed(np.zeros((MNIST_SIZE, MNIST_SIZE), np.float32), True,
                            plain("core.preprocess.speck"), steps)
    # Pad by the widest dilation so thickening a pen never clips the stroke at the crop's edge.
    margin = round(TARGET_STROKE * WORK_SIZE)
    work = normalise_stroke(np.pad(work, margin), WORK_SIZE, None if pen_width is None else pen_width * scale)
    steps.append((plain("core.preprocess.step_cropped"), work))

    rows, cols = np.flatnonzero((work > 0.05).any(1)), np.flatnonzero((work > 0.05).any(0))
    work = work[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    h, w = work.shape
    scale = MNIST_BOX / max(h, w)
    box = _resize(work, max(1, round(h * scale)), max(1, round(w * scale)))
    box = np.clip(box / max(float(box.max()), 1e-6), 0, 1)  # the stroke core is full ink, as in MNIST
    steps.append((plain("core.preprocess.step_scaled", box=MNIST_BOX, width=box.shape[1], height=box.shape[0]), box))

    # Centre of mass to the centre of the 28×28 field (integer shift: resampling again would blur the digit).
    total = float(box.sum())
    cy = float((box.sum(1) * np.arange(box.shape[0])).sum() / total)
    cx = float((box.sum(0) * np.arange(box.shape[1])).sum() / total)
    top = int(np.clip(round(MNIST_CENTRE - cy), 0, MNIST_SIZE - box.shape[0]))
    left = int(np.clip(round(MNIST_CENTRE - cx), 0, MNIST_SIZE - box.shape[1]))
    input28 = np.zeros((MNIST_SIZE, MNIST_SIZE), np.float32)
    input28[top:top + box.shape[0], left:left + box.shape[1]] = box
    steps.append((plain("core.preprocess.step_centred"), input28))
    return Preprocessed(input28, False, "ok", steps)
