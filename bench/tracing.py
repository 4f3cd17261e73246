"""Tracing a raster MNIST digit as what a canvas pen would draw: its centre lines, plus the areas the writer filled.

The drawn-digit test set (``bench/drawn_digits.py``) re-draws each MNIST test digit with a uniform pen, starting
from its skeleton. A skeleton alone is not faithful, though: where the writer's stroke closed a loop into a solid
blob (a 9 whose loop is filled in, a blotted 8), the skeleton of the blob is a single line, and the re-drawing turns
the 9 into a 7, which no reader would call a 9. :func:`trace` therefore also returns the *filled* areas: parts of the
digit much thicker than its own typical stroke, which a person with a pen would colour in.

The training augmentation in ``train.py`` still re-draws skeletons only: a retrain that coloured filled areas in too
(the same recipe otherwise) was no better on these drawings or on MNIST, so the shipped weights were kept.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage
from skimage.morphology import skeletonize

TRACE_SCALE = 4  # digits are traced at 4× (112×112) so re-drawn curves stay smooth
INK_LEVEL = 0.4  # upsampled grey level that counts as ink
# A region is "filled" where the ink is thicker than FILL_FACTOR × the digit's own median stroke half-width.
# Chosen by how often it fires on the 10,000 MNIST test digits: at 1.6 about two in five get some filled area, at
# 1.8 1,312 (most of them 2s with a small looped base, 6s, 8s and 9s), at 2.0 about one in 27.
FILL_FACTOR = 1.8


def upsampled_ink(image28: np.ndarray) -> np.ndarray:
    """A uint8 (28, 28) digit -> bool (112, 112) ink mask (bilinear upsampling, then :data:`INK_LEVEL`)."""
    t = torch.from_numpy(image28)[None, None].float() / 255
    return (F.interpolate(t, scale_factor=TRACE_SCALE, mode="bilinear", align_corners=False)[0, 0] > INK_LEVEL).numpy()


def trace(ink: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A bool (H, W) ink mask -> (skeleton, filled), both bool (H, W).

    ``filled`` is the union of the largest discs that fit where the ink is at least :data:`FILL_FACTOR` times
    thicker than the digit's median stroke (a morphological opening), so a pen no wider than those discs can
    colour it in without leaving the digit's outline.
    """
    skeleton = skeletonize(ink)
    filled = np.zeros_like(ink)
    if not skeleton.any():
        return skeleton, filled
    depth = ndimage.distance_transform_edt(ink)  # distance to the background: the local stroke half-width
    radius = FILL_FACTOR * float(np.median(depth[skeleton]))
    centres = depth >= radius
    if centres.any():
        filled = (ndimage.distance_transform_edt(~centres) <= radius) & ink
    return skeleton, filled
