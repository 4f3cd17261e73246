"""The convolution playground: any hand-made or learned kernel applied to the drawing, with the padded input, the
kernel's numbers, the output, its size and the formula with the numbers filled in."""

from __future__ import annotations

import html

import numpy as np
from markupsafe import Markup
from torch import nn

from demo.teaching import explanations
from demo.teaching.explanations import signed
from demo.teaching.lessons import convolution
from demo.texts import plain, say
from demo.views import render
from demo.views.panels import legend

from .common import img, lesson, number_table, placeholder

CELL_PX = 7  # screen pixels per value in the playground's pictures, the same for input and output
LEARNED_PREFIX = "learned: conv1 kernel "  # the menu's value for a learned kernel, followed by its index
# The legend under the input, by (zero padding shown, learned kernel).
_INPUT_LEGENDS = {
    (False, False): "tabs.convolution.input_legend",
    (True, False): "tabs.convolution.input_legend_padded",
    (False, True): "tabs.convolution.input_legend_normalised",
    (True, True): "tabs.convolution.input_legend_padded_normalised",
}
_FORMULAS = {"valid": "tabs.convolution.formula_valid", "full": "tabs.convolution.formula_full"}  # stride 1
_STRIDED_FORMULAS = {"valid": "tabs.convolution.formula_valid_strided",
                     "full": "tabs.convolution.formula_full_strided"}
_MODE_NAMES = {"valid": "tabs.convolution.mode_valid", "same": "tabs.convolution.mode_same",
               "full": "tabs.convolution.mode_full"}
_EVERY_NTH = {2: "tabs.convolution.nth_2", 3: "tabs.convolution.nth_3"}  # stride -> ordinal, up to MAX_STRIDE


def kernel_choices(model: nn.Sequential) -> list[tuple[str, str]]:
    """The playground's kernel menu as (what it shows, the name the view is given): hand-made kernels, then every
    learned kernel of the first conv layer."""
    first = next(m for m in model.children() if isinstance(m, nn.Conv2d))
    hand_made = [(plain(convolution.KERNEL_NAMES[name]), name) for name in convolution.KERNELS]
    learned = [(plain("tabs.convolution.kernel_learned", index=i), f"{LEARNED_PREFIX}{i}")
               for i in range(first.out_channels)]
    return hand_made + learned


def mode_choices() -> list[tuple[str, str]]:
    """The mode menu as (what it shows, the mode the view is given)."""
    return [(plain(_MODE_NAMES[mode]), mode) for mode in convolution.MODES]


def _padded_picture(image: np.ndarray, g: convolution.ConvGeometry) -> np.ndarray:
    """The input (black = 0, white = 1) with the zero padding the mode adds, hatched so the class can see it;
    enlarged to CELL_PX screen pixels per value."""
    padded = np.pad(np.clip(image, 0, 1), ((g.pad_top, g.pad_bottom), (g.pad_left, g.pad_right)))
    rgb = (padded[..., None] * 255).repeat(3, axis=2).round().astype(np.uint8)
    mask = np.ones(padded.shape, bool)
    mask[g.pad_top:g.pad_top + image.shape[0], g.pad_left:g.pad_left + image.shape[1]] = False
    return render.hatched(rgb, mask, CELL_PX)


def _input_caption(g: convolution.ConvGeometry) -> Markup:
    if g.pad_top + g.pad_bottom + g.pad_left + g.pad_right:
        return say("tabs.convolution.input_caption_padded", n=g.n, top=g.pad_top, bottom=g.pad_bottom,
                   left=g.pad_left, right=g.pad_right)
    return say("tabs.convolution.input_caption", n=g.n)


def _learned_captions(kernel: np.ndarray, out: np.ndarray, index: int, bias: float,
                      own_map: bool) -> tuple[Markup, Markup]:
    """The kernel's and the output's captions for learned kernel ``index``; ``own_map``: the output is the layer's
    own feature map (same padding, stride 1)."""
    k = kernel.shape[0]
    kernel_caption = say("tabs.convolution.kernel_caption_learned", k=k)
    bias_text = signed(bias, 3, plus=True)
    if own_map:
        return kernel_caption, say("tabs.convolution.output_caption_own_map", rows=out.shape[0], cols=out.shape[1],
                                   index=index, bias=bias_text)
    return kernel_caption, say("tabs.convolution.output_caption_learned", rows=out.shape[0], cols=out.shape[1],
                               bias=bias_text)


def conv_playground_html(input28: np.ndarray | None, model: nn.Sequential, kernel_name: str, size: int, mode: str,
                         stride: int) -> str:
    """The chosen kernel applied to the drawing's 28×28 input: sizes, the formula, where the padding goes."""
    title = say("tabs.convolution.title")
    if input28 is None:
        return placeholder("conv-playground", title, explanations.CONVOLUTION)
    learned = kernel_name.startswith(LEARNED_PREFIX)
    if learned:
        index = int(kernel_name[len(LEARNED_PREFIX):])
        kernel = convolution.learned_kernel(model, index)
        out = convolution.learned_feature_map(model, input28, index, mode, stride)
        kernel_caption, output_caption = _learned_captions(kernel, out, index,
                                                           convolution.learned_kernel_bias(model, index),
                                                           (mode, stride) == ("same", 1))
    else:
        kernel = convolution.KERNELS[kernel_name](size)
        out = convolution.apply_kernel(input28, kernel, mode, stride)
        kernel_caption = say("tabs.convolution.kernel_caption", k=kernel.shape[0])
        output_caption = say("tabs.convolution.output_caption", rows=out.shape[0], cols=out.shape[1])
    k = kernel.shape[0]
    g = convolution.conv_geometry(28, k, mode, stride)
    padded = _padded_picture(input28, g)
    indices, vmax = render.to_indices(out, "signed")
    kernel_indices, _ = render.to_indices(kernel, "signed")
    pad_total = g.pad_top + g.pad_bottom + g.pad_left + g.pad_right
    body = (
        '<div class="conv-row">'
        f'<figure><figcaption>{_input_caption(g)}</figcaption>'
        f'{img(render.rgb_data_uri(padded), plain("tabs.convolution.alt_input"), padded.shape[1])}'
        f'<div class="layer-caption">{say(_INPUT_LEGENDS[bool(pad_total), learned])}</div></figure>'
        '<div class="conv-op">⊛</div>'
        f'<figure><figcaption>{kernel_caption}</figcaption>'
        f'{img(render.png_data_uri(kernel_indices, "signed"), plain("tabs.convolution.alt_kernel"), 120)}'
        f'{number_table(kernel) if k <= 7 else ""}</figure>'
        '<div class="conv-op">=</div>'
        f'<figure><figcaption>{output_caption}</figcaption>'
        f'{img(render.png_data_uri(indices, "signed"), plain("tabs.convolution.alt_output"), out.shape[1] * CELL_PX)}'
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
        return plain("tabs.convolution.padding_valid")
    if g.mode == "full":
        return plain("tabs.convolution.padding_full", zeros=k - 1)
    if k == 1:
        return plain("tabs.convolution.padding_none_needed")
    if before == after:
        return plain("tabs.convolution.padding_same", zeros=before)
    return plain("tabs.convolution.padding_same_uneven", zeros=k - 1, before=before, after=after)


def formula_text(g: convolution.ConvGeometry) -> str:
    """How the output size follows from n, k, the padding and the stride, with the numbers filled in."""
    n, k, stride, out = g.n, g.k, g.stride, g.out
    if stride == 1:
        if g.mode == "same":
            return plain("tabs.convolution.formula_same", out=out)
        return plain(_FORMULAS[g.mode], n=n, k=k, out=out)
    sizes = {"n": n, "k": k, "stride": stride, "before": g.pad_top, "after": g.pad_bottom, "out": out}
    if g.mode == "same":
        return plain("tabs.convolution.formula_same_strided", **sizes, nth=plain(_EVERY_NTH[stride]))
    return plain(_STRIDED_FORMULAS[g.mode], **sizes)
