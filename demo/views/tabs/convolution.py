"""The convolution playground: any hand-made or learned kernel applied to the drawing, with the padded input, the
kernel's numbers, the output, its size and the formula with the numbers filled in."""

from __future__ import annotations

import html

import numpy as np
from torch import nn

from demo.teaching import explanations
from demo.teaching.explanations import signed
from demo.teaching.lessons import convolution
from demo.views import render
from demo.views.panels import legend

from .common import img, lesson, number_table, placeholder

CELL_PX = 7  # screen pixels per value in the playground's pictures, the same for input and output
LEARNED_PREFIX = "learned: conv1 kernel "


def kernel_choices(model: nn.Sequential) -> list[str]:
    """The playground's kernel menu: hand-made kernels, then every learned kernel of the first conv layer."""
    first = next(m for m in model.children() if isinstance(m, nn.Conv2d))
    return list(convolution.KERNELS) + [f"{LEARNED_PREFIX}{i}" for i in range(first.out_channels)]


def _padded_picture(image: np.ndarray, g: convolution.ConvGeometry) -> np.ndarray:
    """The input (black = 0, white = 1) with the zero padding the mode adds, hatched so the class can see it;
    enlarged to CELL_PX screen pixels per value."""
    padded = np.pad(np.clip(image, 0, 1), ((g.pad_top, g.pad_bottom), (g.pad_left, g.pad_right)))
    rgb = (padded[..., None] * 255).repeat(3, axis=2).round().astype(np.uint8)
    mask = np.ones(padded.shape, bool)
    mask[g.pad_top:g.pad_top + image.shape[0], g.pad_left:g.pad_left + image.shape[1]] = False
    return render.hatched(rgb, mask, CELL_PX)


def conv_playground_html(input28: np.ndarray | None, model: nn.Sequential, kernel_name: str, size: int, mode: str,
                         stride: int) -> str:
    """The chosen kernel applied to the drawing's 28×28 input: sizes, the formula, where the padding goes."""
    title = "Convolution playground"
    if input28 is None:
        return placeholder("conv-playground", title, explanations.CONVOLUTION)
    learned = kernel_name.startswith(LEARNED_PREFIX)
    if learned:
        index = int(kernel_name[len(LEARNED_PREFIX):])
        kernel = convolution.learned_kernel(model, index)
        bias = convolution.learned_kernel_bias(model, index)
        size_note = f" (learned kernels are {kernel.shape[0]}×{kernel.shape[1]}: the size slider does not apply)"
        out = convolution.learned_feature_map(model, input28, index, mode, stride)
        output_note = (f" = conv1's map {index} before ReLU, bias {signed(bias, 3, plus=True)} included"
                       if (mode, stride) == ("same", 1) else f", bias {signed(bias, 3, plus=True)} included")
    else:
        kernel = convolution.KERNELS[kernel_name](size)
        size_note = output_note = ""
        out = convolution.apply_kernel(input28, kernel, mode, stride)
    k = kernel.shape[0]
    g = convolution.conv_geometry(28, k, mode, stride)
    padded = _padded_picture(input28, g)
    indices, vmax = render.to_indices(out, "signed")
    kernel_indices, _ = render.to_indices(kernel, "signed")
    pad_total = g.pad_top + g.pad_bottom + g.pad_left + g.pad_right
    pad_text = (f"zero padding: {g.pad_top} above, {g.pad_bottom} below, {g.pad_left} left, {g.pad_right} right"
                if pad_total else "no padding")
    body = (
        '<div class="conv-row">'
        f'<figure><figcaption>input {g.n}×{g.n}, {pad_text}</figcaption>'
        f'{img(render.rgb_data_uri(padded), "padded input", padded.shape[1])}'
        f'<div class="layer-caption">black = 0, white = 1{", hatched = zero padding" if pad_total else ""}'
        f'{" (normalised before the kernel is applied)" if learned else ""}</div></figure>'
        '<div class="conv-op">⊛</div>'
        f'<figure><figcaption>kernel {k}×{k}{html.escape(size_note)}</figcaption>'
        f'{img(render.png_data_uri(kernel_indices, "signed"), "kernel", 120)}'
        f'{number_table(kernel) if k <= 7 else ""}</figure>'
        '<div class="conv-op">=</div>'
        f'<figure><figcaption>output {out.shape[0]}×{out.shape[1]}{html.escape(output_note)}</figcaption>'
        f'{img(render.png_data_uri(indices, "signed"), "output", out.shape[1] * CELL_PX)}'
        f'<div class="layer-caption">{legend("signed", signed(-vmax), signed(vmax, plus=True))}</div></figure>'
        '</div>'
        f'<div class="formula">{html.escape(formula_text(g))}</div>'
        f'<div class="view-note">{html.escape(padding_text(g))}</div>'
        + (f'<div class="view-note">{explanations.LEARNED_KERNEL_NOTE}</div>' if learned else ""))
    data = (f' data-state="ready" data-in="{g.n}" data-k="{k}" data-mode="{mode}" data-stride="{stride}" '
            f'data-out="{out.shape[0]}x{out.shape[1]}" data-kernel="{"learned" if learned else "hand-made"}"')
    return lesson("conv-playground", title, body, explanations.CONVOLUTION, data)


def padding_text(g: convolution.ConvGeometry) -> str:
    """Where the zeros go, in words."""
    k, before, after = g.k, g.pad_top, g.pad_bottom
    if g.mode == "valid":
        return "No padding: the kernel only visits positions where it lies entirely inside the image."
    if g.mode == "full":
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


def formula_text(g: convolution.ConvGeometry) -> str:
    """How the output size follows from n, k, the padding and the stride, with the numbers filled in."""
    n, k, stride, out = g.n, g.k, g.stride, g.out
    if stride == 1:
        if g.mode == "valid":
            return f"valid: n − k + 1 = {n} − {k} + 1 = {out}"
        if g.mode == "full":
            return f"full: n + k − 1 = {n} + {k} − 1 = {out}"
        return f"same: n = {out}"
    general = (f"{g.mode}, stride {stride}: ⌊(n + p_before + p_after − k) / s⌋ + 1 = "
               f"⌊({n} + {g.pad_top} + {g.pad_bottom} − {k}) / {stride}⌋ + 1 = {out}")
    if g.mode == "same":
        return f"{general} = ⌈n / s⌉ (same padding as stride 1, then every {_ORDINAL[stride]} position)"
    return general
