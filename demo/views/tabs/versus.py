"""CNN vs the MLP (a plain fully connected network): the drawing moved and turned, read by both, over the measured
accuracy of both networks on every MNIST test digit moved the same way (weights/robustness.json)."""

from __future__ import annotations

from typing import Any

import numpy as np
from markupsafe import Markup, escape
from torch import nn

from demo.core.classifier import Classifier
from demo.core.model import Normalize
from demo.core.transform import shift_rotate
from demo.teaching import explanations
from demo.teaching.explanations import signed
from demo.texts import plain, say
from demo.views import render, theme

from .common import img, lesson, probability_bars

SHIFTS = (3, 4, 5)  # the shifts (px) the explanation quotes
MLP_COMMAND = "python train.py --arch mlp"  # trains the MLP's weights
ROBUSTNESS_COMMAND = "python -m bench.shift_robustness"  # measures weights/robustness.json


def cnn_vs_mlp_html(input28: np.ndarray | None, cnn: Classifier, mlp: Classifier | None, dx: int, dy: int,
                    angle: float, robustness: dict[str, Any] | None) -> str:
    """The drawing moved and turned, read by the CNN and the MLP side by side; the measured accuracy-vs-shift chart."""
    title = say("tabs.versus.title")
    chart = robustness_charts_html(robustness, dx, dy, angle)
    explanation = explain(cnn, mlp, robustness)
    if mlp is None:
        missing = say("tabs.versus.no_mlp", command=Markup(f"<code>{MLP_COMMAND}</code>"))
        return lesson("cnn-vs-ann", title, f'<div class="placeholder">{missing}</div>' + chart,
                      explanation, ' data-state="no-mlp"')
    if input28 is None:
        return lesson("cnn-vs-ann", title, f'<div class="placeholder">{say("tabs.versus.draw_prompt")}</div>' + chart,
                      explanation, ' data-state="empty"')
    moved = shift_rotate(input28.astype(np.float32), dx, dy, angle)
    p_cnn = cnn.predict_mnist(moved[None])[0]
    p_mlp = mlp.predict_mnist(moved[None])[0]
    uri = render.gray_picture(moved).data_uri()
    cnn_label, mlp_label = int(p_cnn.argmax()), int(p_mlp.argmax())
    moves = say("tabs.versus.moved_caption", right=signed(dx, 0, plus=True), down=signed(dy, 0, plus=True),
                angle=signed(angle, 0, plus=True))
    cnn_says = say("tabs.versus.cnn_says", digit=_digit(cnn_label), share=100 * p_cnn[cnn_label])
    mlp_says = say("tabs.versus.mlp_says", digit=_digit(mlp_label), share=100 * p_mlp[mlp_label])
    body = ('<div class="versus">'
            f'<figure><figcaption>{moves}</figcaption>{img(uri, plain("tabs.versus.moved_alt"), 168)}</figure>'
            f'<div class="versus-side"><div class="versus-title tone-cnn">{cnn_says}</div>'
            f'{probability_bars(p_cnn, theme.CNN_COLOUR)}</div>'
            f'<div class="versus-side"><div class="versus-title tone-mlp">{mlp_says}</div>'
            f'{probability_bars(p_mlp, theme.MLP_COLOUR)}</div></div>' + chart)
    data = f' data-state="ready" data-cnn-label="{cnn_label}" data-mlp-label="{mlp_label}"'
    return lesson("cnn-vs-ann", title, body, explanation, data)


def _digit(label: int) -> Markup:
    """A network's answer, large, in its side's heading."""
    return Markup(f'<b class="versus-digit">{label}</b>')


def shift_figures(robustness: dict[str, Any] | None) -> dict[str, Any] | None:
    """From weights/robustness.json: both networks' accuracy at 3, 4 and 5 px right and down, and the share of ink
    still in the field 8 px down (None without the file)."""
    if not robustness:
        return None
    try:
        def at(sweep: str, field: str, value: int) -> float:
            curve = robustness[sweep]
            return float(curve[field][curve["values"].index(value)])

        return {"mlp_right": [at("shift_x", "mlp", v) for v in SHIFTS],
                "mlp_down": [at("shift_y", "mlp", v) for v in SHIFTS],
                "cnn_right": [at("shift_x", "cnn", v) for v in SHIFTS],
                "cnn_down": [at("shift_y", "cnn", v) for v in SHIFTS],
                "ink_down_8": at("shift_y", "ink_kept", 8)}
    except (KeyError, ValueError, IndexError, TypeError):
        return None


def mistakes(report: dict[str, Any]) -> int | None:
    """Wrong answers on the MNIST test set, from a training report's confusion matrix."""
    matrix = report.get("confusion_matrix")
    if not matrix:
        return None
    return sum(n for t, row in enumerate(matrix) for p, n in enumerate(row) if t != p)


def parameter_figures(cnn: nn.Sequential, mlp: nn.Sequential) -> tuple[int, int, int, int, int]:
    """(the CNN's convolution parameters, its first fully connected layer's, the CNN's in all, the MLP's first
    layer's, the MLP's in all)."""
    def count(module: nn.Module) -> int:
        return sum(p.numel() for p in module.parameters())

    convs = sum(count(m) for m in cnn.children() if isinstance(m, nn.Conv2d))
    cnn_fc = next(m for m in cnn.children() if isinstance(m, nn.Linear))
    mlp_fc = next(m for m in mlp.children() if isinstance(m, nn.Linear))
    return convs, count(cnn_fc), count(cnn), count(mlp_fc), count(mlp)


def background_value(mlp: nn.Sequential) -> float | None:
    """What a black background pixel (0) is once the MLP has normalised its input; None without a normalisation."""
    normalise = next((m for m in mlp.children() if isinstance(m, Normalize)), None)
    return None if normalise is None else (0.0 - normalise.mean) / normalise.std


def explain(cnn: Classifier, mlp: Classifier | None, robustness: dict[str, Any] | None) -> str:
    """The explanation, with figures from the two models, their reports and weights/robustness.json."""
    errors = None
    if mlp is not None and mistakes(cnn.report) is not None and mistakes(mlp.report) is not None:
        errors = (mistakes(cnn.report), mistakes(mlp.report))
    parameters = parameter_figures(cnn.model, mlp.model) if mlp is not None else None
    widths = None
    if mlp is not None:
        linears = [m for m in mlp.model.children() if isinstance(m, nn.Linear)]
        widths = [linears[0].in_features, *(m.out_features for m in linears)]
    background = background_value(mlp.model) if mlp is not None else None
    return explanations.cnn_vs_mlp(shift_figures(robustness), errors, parameters, widths, background)


def robustness_charts_html(robustness: dict[str, Any] | None, dx: int = 0, dy: int = 0, angle: float = 0) -> str:
    """Accuracy against shift and rotation for both networks, as measured by bench/shift_robustness.py."""
    if not robustness:
        missing = say("tabs.versus.no_robustness", command=Markup(f"<code>{ROBUSTNESS_COMMAND}</code>"))
        return f'<div class="placeholder">{missing}</div>'
    colours = {"CNN": theme.CNN_COLOUR, "MLP": theme.MLP_COLOUR}
    charts = []
    axes = (("shift_x", "tabs.versus.axis_right", dx), ("shift_y", "tabs.versus.axis_down", dy),
            ("rotation", "tabs.versus.axis_rotation", angle))
    for key, label, marker in axes:
        curve = robustness.get(key)
        if not curve:
            continue
        series = {"CNN": [100 * a for a in curve["cnn"]], "MLP": [100 * a for a in curve["mlp"]]}
        # The chart writes its axis labels into text and an aria-label as they are: escaped here.
        charts.append(render.line_chart_svg(list(curve["values"]), series, escape(plain(label)),
                                            escape(plain("tabs.versus.axis_accuracy")), colours, marker_x=marker))
    key_html = "".join(f'<span class="key"><span class="swatch" style="background:{c}"></span>{n}</span>'
                       for n, c in colours.items())
    note = say("tabs.versus.charts_note", key=Markup(key_html))
    return f'<div class="charts"><div class="view-note">{note}</div>{"".join(charts)}</div>'
