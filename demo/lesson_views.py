"""The teaching views as HTML: convolution playground, pooling explorer, one value, CNN vs ANN, saliency,
architecture, model card, and the layer-by-layer network for classroom mode.

The numbers come from :mod:`demo.lessons` (pure computations, tested against PyTorch); pictures from
:mod:`demo.render`; texts from :mod:`demo.explanations`. Each function returns one HTML string whose outer element
has a stable id and ``data-*`` attributes carrying the key numbers, for tests. No Gradio here.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from torch import nn

from . import explanations, lessons, render, theme
from .views import _legend, probability_rows
from .classifier import Classifier, Prediction
from .transform import shift_rotate

CELL_PX = 7  # screen pixels per value in the playground's pictures, the same for input and output
LEARNED_PREFIX = "learned: conv1 kernel "


def _lesson(element_id: str, title: str, body: str, explanation: str, data: str = "") -> str:
    return (f'<div id="{element_id}" class="lesson"{data}><div class="view-title">{title}</div>'
            f'<div class="lesson-body">{body}</div><p class="explain">{explanation}</p></div>')


def _placeholder(element_id: str, title: str, explanation: str) -> str:
    return _lesson(element_id, title, '<div class="placeholder">draw a digit (or pick an example) to see this on '
                   'your own drawing</div>', explanation, ' data-state="empty"')


def _img(uri: str, alt: str, width_px: int, cls: str = "pixelated") -> str:
    return f'<img class="{cls}" src="{uri}" alt="{html.escape(alt)}" style="width:{width_px}px">'


def _number_table(values: np.ndarray, cls: str = "", highlight: tuple[int, int] | None = None,
                  digits: int = 2) -> str:
    """A small 2-D array as an HTML table of numbers (for kernels, patches, products)."""
    rows = []
    for r, row in enumerate(np.asarray(values)):
        cells = "".join(f'<td{" class=hit" if highlight == (r, c) else ""}>{v:.{digits}f}</td>'
                        for c, v in enumerate(row))
        rows.append(f"<tr>{cells}</tr>")
    return f'<table class="numbers {cls}">{"".join(rows)}</table>'


def kernel_choices(model: nn.Sequential) -> list[str]:
    """The playground's kernel menu: hand-made kernels, then every learned kernel of the first conv layer."""
    first = next(m for m in model.children() if isinstance(m, nn.Conv2d))
    return list(lessons.KERNELS) + [f"{LEARNED_PREFIX}{i}" for i in range(first.out_channels)]


def _padded_rgb(image: np.ndarray, g: lessons.ConvGeometry) -> np.ndarray:
    """The input with the zero padding the mode adds, padding cells tinted so the class can see them."""
    padded = np.pad(np.clip(image, 0, 1), ((g.pad_top, g.pad_bottom), (g.pad_left, g.pad_right)))
    rgb = (padded[..., None] * 255).repeat(3, axis=2)
    mask = np.ones(padded.shape, bool)
    mask[g.pad_top:g.pad_top + image.shape[0], g.pad_left:g.pad_left + image.shape[1]] = False
    rgb[mask] = theme.PADDING_COLOUR
    return rgb.round().astype(np.uint8)


def conv_playground_html(input28: np.ndarray | None, model: nn.Sequential, kernel_name: str, size: int, mode: str,
                         stride: int) -> str:
    """The chosen kernel applied to the drawing's 28×28 input: sizes, the formula, where the padding goes."""
    title = "Convolution playground"
    if input28 is None:
        return _placeholder("conv-playground", title, explanations.CONVOLUTION)
    if kernel_name.startswith(LEARNED_PREFIX):
        kernel = lessons.learned_kernel(model, int(kernel_name[len(LEARNED_PREFIX):]))
        size_note = f" (learned kernels are {kernel.shape[0]}×{kernel.shape[1]}: the size slider does not apply)"
    else:
        kernel = lessons.KERNELS[kernel_name](size)
        size_note = ""
    k = kernel.shape[0]
    g = lessons.conv_geometry(28, k, mode, stride)
    out = lessons.apply_kernel(input28, kernel, mode, stride)
    padded = _padded_rgb(input28, g)
    indices, vmax = render.to_indices(out, "signed")
    kernel_indices, kmax = render.to_indices(kernel, "signed")
    pad_text = (f"zero padding: {g.pad_top} above, {g.pad_bottom} below, {g.pad_left} left, {g.pad_right} right"
                if (g.pad_top + g.pad_bottom + g.pad_left + g.pad_right) else "no padding")
    body = (
        '<div class="conv-row">'
        f'<figure><figcaption>input {g.n}×{g.n}, {pad_text}</figcaption>'
        f'{_img(render.rgb_data_uri(padded), "padded input", padded.shape[1] * CELL_PX)}</figure>'
        '<div class="conv-op">⊛</div>'
        f'<figure><figcaption>kernel {k}×{k}{html.escape(size_note)}</figcaption>'
        f'{_img(render.png_data_uri(kernel_indices, "signed"), "kernel", 120)}'
        f'{_number_table(kernel) if k <= 7 else ""}</figure>'
        '<div class="conv-op">=</div>'
        f'<figure><figcaption>output {out.shape[0]}×{out.shape[1]}</figcaption>'
        f'{_img(render.png_data_uri(indices, "signed"), "output", out.shape[1] * CELL_PX)}'
        f'<div class="layer-caption">{_legend("signed", f"−{vmax:.2f}", f"+{vmax:.2f}")}</div></figure>'
        '</div>'
        f'<div class="formula">{html.escape(g.formula)}</div>'
        + (f'<div class="view-note">{html.escape(g.padding_note)}</div>' if g.padding_note else ""))
    data = (f' data-state="ready" data-in="{g.n}" data-k="{k}" data-mode="{mode}" data-stride="{stride}" '
            f'data-out="{out.shape[0]}x{out.shape[1]}"')
    return _lesson("conv-playground", title, body, explanations.CONVOLUTION, data)


def _probability_bars(probs: Sequence[float], colour: str) -> str:
    """All ten probabilities in one network's colour, the largest in bold."""
    return f'<div class="mini-probs">{probability_rows(list(probs), int(np.argmax(probs)), colour, colour)}</div>'


def cnn_vs_ann_html(input28: np.ndarray | None, cnn: Classifier, mlp: Classifier | None, dx: int, dy: int,
                    angle: float, robustness: dict[str, Any] | None) -> str:
    """The drawing moved and turned, read by the CNN and the MLP side by side; the measured accuracy-vs-shift chart."""
    title = "CNN vs plain fully connected net (ANN)"
    chart = robustness_charts_html(robustness, dx, dy, angle)
    if mlp is None:
        return _lesson("cnn-vs-ann", title, '<div class="placeholder">the MLP weights (weights/mlp.safetensors) are '
                       'missing: train them with <code>python train.py --arch mlp</code></div>' + chart,
                       explanations.CNN_VS_ANN, ' data-state="no-mlp"')
    if input28 is None:
        return _lesson("cnn-vs-ann", title, '<div class="placeholder">draw a digit, then move it with the sliders'
                       '</div>' + chart, explanations.CNN_VS_ANN, ' data-state="empty"')
    moved = shift_rotate(input28.astype(np.float32), dx, dy, angle)
    p_cnn = cnn.predict_mnist(moved[None])[0]
    p_mlp = mlp.predict_mnist(moved[None])[0]
    uri = render.gray_picture(moved).data_uri()
    cnn_label, mlp_label = int(p_cnn.argmax()), int(p_mlp.argmax())
    body = ('<div class="versus">'
            f'<figure><figcaption>your digit moved {dx:+d} px right, {dy:+d} px down, turned {angle:+.0f}°'
            f'</figcaption>{_img(uri, "moved input", 168)}</figure>'
            f'<div class="versus-side"><div class="versus-title" style="color:{theme.CNN_COLOUR}">CNN says '
            f'<b class="versus-digit">{cnn_label}</b> ({100 * p_cnn[cnn_label]:.0f}%)</div>'
            f'{_probability_bars(p_cnn, theme.CNN_COLOUR)}</div>'
            f'<div class="versus-side"><div class="versus-title" style="color:{theme.MLP_COLOUR}">ANN says '
            f'<b class="versus-digit">{mlp_label}</b> ({100 * p_mlp[mlp_label]:.0f}%)</div>'
            f'{_probability_bars(p_mlp, theme.MLP_COLOUR)}</div></div>' + chart)
    data = f' data-state="ready" data-cnn-label="{cnn_label}" data-mlp-label="{mlp_label}"'
    return _lesson("cnn-vs-ann", title, body, explanations.CNN_VS_ANN, data)


def robustness_charts_html(robustness: dict[str, Any] | None, dx: int = 0, dy: int = 0, angle: float = 0) -> str:
    """Accuracy against shift and rotation for both networks, as measured by bench/shift_robustness.py."""
    if not robustness:
        return ('<div class="placeholder">no robustness measurements shipped (run '
                '<code>python bench/shift_robustness.py</code>)</div>')
    colours = {"CNN": theme.CNN_COLOUR, "ANN": theme.MLP_COLOUR}
    charts = []
    for key, label, marker in (("shift_x", "shift right (px)", dx), ("shift_y", "shift down (px)", dy),
                               ("rotation", "rotation (degrees)", angle)):
        curve = robustness.get(key)
        if not curve:
            continue
        series = {"CNN": [100 * a for a in curve["cnn"]], "ANN": [100 * a for a in curve["mlp"]]}
        charts.append(render.line_chart_svg(list(curve["values"]), series, label, "test accuracy (%)", colours,
                                            marker_x=marker))
    key_html = "".join(f'<span class="key"><span class="swatch" style="background:{c}"></span>{n}</span>'
                       for n, c in colours.items())
    return (f'<div class="charts"><div class="view-note">Measured on all 10,000 MNIST test digits moved the same '
            f'way {key_html} (dashed line: your sliders)</div>{"".join(charts)}</div>')


def saliency_html(input28: np.ndarray | None, model: nn.Sequential, target: int | None, method: str) -> str:
    """Which input pixels drove the score of ``target`` (None: the predicted class), as a heat overlay."""
    title = "Saliency: which pixels drove the answer"
    if input28 is None:
        return _placeholder("saliency", title, explanations.SALIENCY)
    result = lessons.saliency(model, input28, target)
    chosen = result.target
    if method == "Grad-CAM":
        heat = lessons.grad_cam(model, input28, chosen)
        what = "Grad-CAM on the last convolution stage (7×7, enlarged)"
    else:
        positive = result.gradient_x_input[result.gradient_x_input > 0]
        # Scaled to the 98th percentile so a few extreme pixels do not leave the rest invisible.
        scale = float(np.percentile(positive, 98)) if positive.size else 1.0
        heat = np.clip(result.gradient_x_input / max(scale, 1e-12), 0, 1)  # raising pixels; lowering ones stay dark
        what = "gradient × input: pixels whose ink raises the score"
    rgb = render.heat_overlay(input28, heat)
    body = (f'<figure>{_img(render.rgb_data_uri(rgb), "saliency overlay", 224)}'
            f'<figcaption>{what}, for class <b>{chosen}</b></figcaption></figure>')
    return _lesson("saliency", title, body, explanations.SALIENCY,
                   f' data-state="ready" data-target="{chosen}" data-method="{html.escape(method)}"')


def architecture_html(model: nn.Sequential, mlp: nn.Sequential | None = None) -> str:
    """Every stage of the network with its output shape and parameter count, read from the model."""
    rows = lessons.architecture(model)
    total = sum(r.parameters for r in rows)
    body_rows = "".join(
        f'<tr class="kind-{r.kind}"><td>{html.escape(r.name)}</td><td>{html.escape(r.kind)}</td>'
        f'<td>{html.escape(r.detail)}</td><td>{"×".join(str(s) for s in r.output_shape)}</td>'
        f'<td class="num">{r.parameters:,}</td></tr>' for r in rows)
    table = ('<table class="arch"><thead><tr><th>stage</th><th>kind</th><th>what it does</th><th>output shape</th>'
             f'<th class="num">parameters</th></tr></thead><tbody><tr class="kind-input"><td>input</td><td></td>'
             f'<td>your drawing, preprocessed</td><td>1×28×28</td><td class="num">0</td></tr>{body_rows}</tbody>'
             f'<tfoot><tr><td colspan="4">total</td><td class="num">{total:,}</td></tr></tfoot></table>')
    if mlp is not None:
        mlp_total = sum(r.parameters for r in lessons.architecture(mlp))
        table += (f'<div class="view-note">For comparison, the plain fully connected net (784 → 512 → 256 → 10) has '
                  f'{mlp_total:,} parameters.</div>')
    return _lesson("architecture", "Architecture (read from the model)", table, explanations.ARCHITECTURE,
                   f' data-total="{total}"')


def model_card_html(report: dict[str, Any], curves_uri: str | None, mlp_report: dict[str, Any] | None) -> str:
    """Test accuracy, per-class accuracy, confusion matrix and training curves, from the weights' metadata."""
    acc = report.get("test_accuracy")
    if acc is None:
        return _lesson("model-card", "Model card", '<div class="placeholder">these weights carry no training report'
                       '</div>', explanations.MODEL_CARD, ' data-state="empty"')
    facts = [f"<b>{100 * acc:.2f}%</b> of the 10,000 MNIST test digits right"]
    if report.get("epochs"):
        facts.append(f"{report['epochs']} epochs, seed {report.get('seed')}, {report.get('train_seconds', '?')} s of "
                     f"training on {report.get('threads', '?')} CPU threads")
    if report.get("parameters"):
        facts.append(f"{report['parameters']:,} parameters")
    if mlp_report and mlp_report.get("test_accuracy") is not None:
        facts.append(f"the plain fully connected net: {100 * mlp_report['test_accuracy']:.2f}%")
    if report.get("command"):
        facts.append(f"made by <code>{html.escape(report['command'])}</code>")
    per_class = report.get("per_class_accuracy") or []
    class_row = "".join(f"<td>{100 * a:.1f}%</td>" for a in per_class)
    confusion = report.get("confusion_matrix") or []
    matrix = ""
    if confusion:
        peak = max(max(row[:d] + row[d + 1:]) for d, row in enumerate(confusion)) or 1
        rows = []
        for true, row in enumerate(confusion):
            cells = []
            for pred, n in enumerate(row):
                if true == pred:
                    cells.append(f'<td class="diag">{n}</td>')
                else:
                    shade = 0 if n == 0 else 0.15 + 0.85 * n / peak
                    cells.append(f'<td style="background:rgba(239,68,68,{shade:.2f})">{n or ""}</td>')
            rows.append(f"<tr><th>{true}</th>{''.join(cells)}</tr>")
        head = "".join(f"<th>{d}</th>" for d in range(len(confusion)))
        matrix = (f'<table class="confusion"><caption>confusion matrix: rows = true digit, columns = answer'
                  f'</caption><thead><tr><th></th>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>')
    curves = f'<img class="curves" src="{curves_uri}" alt="training curves">' if curves_uri else ""
    body = (f'<ul class="facts">{"".join(f"<li>{f}</li>" for f in facts)}</ul>'
            f'<table class="per-class"><caption>accuracy per digit</caption><thead><tr>'
            f'{"".join(f"<th>{d}</th>" for d in range(len(per_class)))}</tr></thead><tbody><tr>{class_row}</tr>'
            f'</tbody></table><div class="card-row">{matrix}{curves}</div>')
    return _lesson("model-card", "Model card", body, explanations.MODEL_CARD, f' data-accuracy="{acc}"')


def network_html(pred: Prediction | None, model: nn.Sequential) -> str:
    """Classroom mode: the whole forward pass in order, one step per stage group, for revealing layer by layer.

    Each step carries ``data-step`` (1 = the input ... last = the answer); the page's stepper hides later steps.
    """
    if pred is None or not pred.activations:
        return ('<div id="network" class="network empty" data-steps="0"><div class="placeholder">draw a digit and '
                'step through the network layer by layer</div></div>')
    steps = [("input", "1×28×28 numbers", _img(render.gray_picture(pred.input28).data_uri(), "model input", 168))]
    modules = dict(model.named_children())
    for name, maps in pred.activations.items():
        c, h, w = maps.shape
        if h == 1:  # fully connected activations: a strip of bars, not a map
            picture = render.feature_map_picture(maps.reshape(1, 8, -1), columns=1)
            steps.append((name, f"{c} hidden units (fully connected + ReLU)",
                          _img(picture.data_uri(), name, 256)))
            continue
        if isinstance(modules[name], nn.Conv2d):  # before ReLU: negative values matter, so a signed scale
            picture = render.signed_maps_picture(maps)
            shape = f"{c}×{h}×{w}, blue < 0 < red"
        else:
            picture = render.feature_map_picture(maps)
            shape = f"{c}×{h}×{w}"
        steps.append((name, shape, _img(picture.data_uri(), name, min(480, picture.indices.shape[1] * 2))))
    label = pred.label
    bars = _probability_bars(pred.probs, theme.ACCENT)
    steps.append(("answer", f"softmax → {label}", bars))
    figures = "".join(f'<figure class="net-step" data-step="{i}"><figcaption><span class="step-no">{i}</span> '
                      f'{html.escape(name)} <span class="shape">{html.escape(shape)}</span></figcaption>{content}'
                      f'</figure>' for i, (name, shape, content) in enumerate(steps, start=1))
    return f'<div id="network" class="network" data-steps="{len(steps)}">{figures}</div>'


def _highlighted(uri: str, alt: str, shape: tuple[int, int], width_px: int, top: int, left: int, height: int,
                 width: int) -> str:
    """A picture with a rectangle drawn over cells [top, top+height) × [left, left+width) (CSS, stays crisp)."""
    h, w = shape
    box = (f'<div class="hl" style="top:{100 * top / h:.3f}%;left:{100 * left / w:.3f}%;'
           f'height:{100 * height / h:.3f}%;width:{100 * width / w:.3f}%"></div>')
    return f'<div class="hl-wrap" style="width:{width_px}px">{_img(uri, alt, width_px)}{box}</div>'


def pooling_html(input28: np.ndarray | None, clf: Classifier, stage: str, channel: int, kind: str, window: int,
                 stride: int, row: int, col: int) -> str:
    """One feature map of the drawing, pooled; for one output cell, the window it saw and the value it kept."""
    title = "Pooling explorer"
    if input28 is None:
        return _placeholder("pooling", title, explanations.POOLING)
    _, activations = clf.forward_staged(input28)
    fmap = activations[stage][channel]
    pooled = lessons.pool_map(fmap, kind, window, stride)
    pw = lessons.pool_window(fmap, kind, window, stride, row, col)
    vmax = float(max(fmap.max(), 1e-6))  # one colour scale for the map and its pooled version
    size = 252
    map_uri = render.png_data_uri(render.to_indices(fmap, "activation", vmax)[0], "activation")
    pooled_uri = render.png_data_uri(render.to_indices(pooled, "activation", vmax)[0], "activation")
    pooled_px = max(pooled.shape[1] * max(1, size // fmap.shape[1]), 40)
    note = ""
    if stage == "relu1" and kind == "max" and window == 2 and stride == 2:
        note = ("This is exactly the network's own pool1: compare with the pooled maps in the Feature maps tab.")
    kept_cell = pw.kept_at if kind == "max" else None
    how = (f"max of the {window * window} values = <b>{pw.kept:.3f}</b>" if kind == "max"
           else f"mean of the {window * window} values = {float(pw.values.sum()):.3f} / {window * window} = "
                f"<b>{pw.kept:.3f}</b>")
    body = (
        '<div class="conv-row">'
        f'<figure><figcaption>{html.escape(stage)} map {channel}: {fmap.shape[0]}×{fmap.shape[1]}</figcaption>'
        f'{_highlighted(map_uri, "feature map", fmap.shape, size, pw.top, pw.left, window, window)}</figure>'
        f'<div class="conv-op">→</div>'
        f'<figure><figcaption>{kind} pooling {window}×{window}, stride {stride}: {pooled.shape[0]}×{pooled.shape[1]}'
        f'</figcaption>{_highlighted(pooled_uri, "pooled map", pooled.shape, pooled_px, row, col, 1, 1)}</figure>'
        f'<figure><figcaption>the window of output cell ({row}, {col})</figcaption>'
        f'{_number_table(pw.values, "window", kept_cell, 3)}<div class="formula">{how}</div></figure>'
        '</div>' + (f'<div class="view-note">{note}</div>' if note else "")
        + f'<div class="layer-caption">{_legend("activation", "0", f"{vmax:.2f}")}</div>')
    data = (f' data-state="ready" data-kept="{pw.kept:.6f}" data-out="{pooled.shape[0]}x{pooled.shape[1]}" '
            f'data-kind="{kind}"')
    return _lesson("pooling", title, body, explanations.POOLING, data)


def one_value_html(input28: np.ndarray | None, clf: Classifier, layer: str, channel: int, row: int,
                   col: int) -> str:
    """How one feature-map value of ``layer`` is computed from the drawing, number by number."""
    title = "How one value was computed"
    if input28 is None:
        return _placeholder("one-value", title, explanations.ONE_VALUE)
    ov = lessons.one_value(clf.model, input28, layer, channel, row, col)
    _, activations = clf.forward_staged(input28)
    own = float(activations[ov.activation_stage][channel, row, col]) if ov.activation_stage else None
    c_in, k, _ = ov.patch.shape
    # The input channel that contributes most is shown in full; for conv1 that is the only one.
    shown = int(np.abs(ov.channel_sums).argmax())
    source = ov.layer_input[shown]
    h, w = source.shape
    uri = render.png_data_uri(render.to_indices(source, "signed")[0], "signed")
    top, left = max(ov.top, 0), max(ov.left, 0)
    bottom, right = min(ov.top + k, h), min(ov.left + k, w)
    where = _highlighted(uri, "layer input", (h, w), 196, top, left, bottom - top, right - left)
    tables = ('<div class="conv-row">'
              f'<figure><figcaption>patch (input channel {shown}; zeros = padding)</figcaption>'
              f'{_number_table(ov.patch[shown])}</figure><div class="conv-op">×</div>'
              f'<figure><figcaption>kernel weights</figcaption>{_number_table(ov.kernel[shown])}</figure>'
              '<div class="conv-op">=</div>'
              f'<figure><figcaption>products (sum {ov.channel_sums[shown]:+.3f})</figcaption>'
              f'{_number_table(ov.products[shown])}</figure></div>')
    if c_in > 1:
        top_channels = np.argsort(-np.abs(ov.channel_sums))[:6]
        listed = ", ".join(f"channel {int(i)}: {ov.channel_sums[i]:+.3f}" for i in top_channels)
        tables += (f'<div class="view-note">{layer} reads all {c_in} channels of {html.escape(ov.input_stage)}: '
                   f'each gets its own {k}×{k} kernel, and the {c_in} channel sums add up. Largest: {listed}, ...'
                   '</div>')
    activation = (f' → ReLU → <b>{ov.activation:.4f}</b>' if ov.activation is not None else "")
    check = (f'<div class="check">The model\'s own {html.escape(ov.activation_stage)} value at ({row}, {col}) of map '
             f'{channel}: <b>{own:.4f}</b></div>' if own is not None else "")
    body = (f'<div class="conv-row"><figure><figcaption>{html.escape(ov.input_stage)}, channel {shown} '
            f'({h}×{w}): the patch under the kernel</figcaption>{where}</figure>'
            f'<div class="view-note">{html.escape(ov.input_note)}</div></div>{tables}'
            f'<div class="formula">sum of products {ov.total:+.4f} + bias {ov.bias:+.4f} = '
            f'{ov.pre_activation:+.4f}{activation}</div>{check}')
    data = (f' data-state="ready" data-layer="{layer}" data-value="{ov.activation if ov.activation is not None else ov.pre_activation:.6f}"'
            f' data-model-value="{own if own is not None else ov.pre_activation:.6f}"')
    return _lesson("one-value", title, body, explanations.ONE_VALUE, data)


def curves_uri(weights_path: str | Path) -> str | None:
    """The training curves saved beside the weights (``<name>_curves.png``) as a data URI, or None."""
    path = Path(weights_path).with_name(Path(weights_path).stem + "_curves.png")
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii") if path.is_file() else None
