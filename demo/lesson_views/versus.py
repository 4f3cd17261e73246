"""CNN vs the plain fully connected net: the drawing moved and turned, read by both, over the measured accuracy of
both networks on every MNIST test digit moved the same way (weights/robustness.json)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import explanations, render, theme
from ..classifier import Classifier
from ..transform import shift_rotate
from .common import img, lesson, probability_bars


def cnn_vs_ann_html(input28: np.ndarray | None, cnn: Classifier, mlp: Classifier | None, dx: int, dy: int,
                    angle: float, robustness: dict[str, Any] | None) -> str:
    """The drawing moved and turned, read by the CNN and the MLP side by side; the measured accuracy-vs-shift chart."""
    title = "CNN vs plain fully connected net (ANN)"
    chart = robustness_charts_html(robustness, dx, dy, angle)
    if mlp is None:
        return lesson("cnn-vs-ann", title, '<div class="placeholder">the MLP weights (weights/mlp.safetensors) are '
                       'missing: train them with <code>python train.py --arch mlp</code></div>' + chart,
                       explanations.CNN_VS_ANN, ' data-state="no-mlp"')
    if input28 is None:
        return lesson("cnn-vs-ann", title, '<div class="placeholder">draw a digit, then move it with the sliders'
                       '</div>' + chart, explanations.CNN_VS_ANN, ' data-state="empty"')
    moved = shift_rotate(input28.astype(np.float32), dx, dy, angle)
    p_cnn = cnn.predict_mnist(moved[None])[0]
    p_mlp = mlp.predict_mnist(moved[None])[0]
    uri = render.gray_picture(moved).data_uri()
    cnn_label, mlp_label = int(p_cnn.argmax()), int(p_mlp.argmax())
    body = ('<div class="versus">'
            f'<figure><figcaption>your digit moved {dx:+d} px right, {dy:+d} px down, turned {angle:+.0f}°'
            f'</figcaption>{img(uri, "moved input", 168)}</figure>'
            f'<div class="versus-side"><div class="versus-title" style="color:{theme.CNN_COLOUR}">CNN says '
            f'<b class="versus-digit">{cnn_label}</b> ({100 * p_cnn[cnn_label]:.0f}%)</div>'
            f'{probability_bars(p_cnn, theme.CNN_COLOUR)}</div>'
            f'<div class="versus-side"><div class="versus-title" style="color:{theme.MLP_COLOUR}">ANN says '
            f'<b class="versus-digit">{mlp_label}</b> ({100 * p_mlp[mlp_label]:.0f}%)</div>'
            f'{probability_bars(p_mlp, theme.MLP_COLOUR)}</div></div>' + chart)
    data = f' data-state="ready" data-cnn-label="{cnn_label}" data-mlp-label="{mlp_label}"'
    return lesson("cnn-vs-ann", title, body, explanations.CNN_VS_ANN, data)


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
