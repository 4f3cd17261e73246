"""The model card: test accuracy, per-class accuracy, confusion matrix and training curves, from the weights'
metadata (weights/*.json)."""

from __future__ import annotations

import base64
import html
import math
from pathlib import Path
from typing import Any

from markupsafe import Markup, escape

from demo.teaching import explanations
from demo.texts import decimal, plain, say
from demo.views import theme

from .common import lesson


def model_card_html(report: dict[str, Any], curves_uri: str | None, mlp_report: dict[str, Any] | None,
                    calibration: dict[str, Any] | None = None) -> str:
    """Test accuracy, per-class accuracy, confusion matrix and training curves, from the weights' metadata; with
    ``calibration`` (weights/calibration.json), what its softmax probabilities mean: a reliability diagram."""
    acc = report.get("test_accuracy")
    if acc is None:
        return lesson("model-card", say("tabs.model_card.title"),
                      f'<div class="placeholder">{say("tabs.model_card.no_report")}</div>', explanations.MODEL_CARD,
                      ' data-state="empty"')
    facts = [say("tabs.model_card.test_accuracy", accuracy=100 * acc)]
    if report.get("epochs"):
        facts.append(say("tabs.model_card.training", epochs=report["epochs"], seed=report.get("seed"),
                         duration=duration(report.get("train_seconds")), threads=report.get("threads", "?")))
    if report.get("parameters"):
        facts.append(say("tabs.model_card.parameters", parameters=report["parameters"]))
    if mlp_report and mlp_report.get("test_accuracy") is not None:
        facts.append(say("tabs.model_card.mlp_accuracy", accuracy=100 * mlp_report["test_accuracy"]))
    if report.get("command"):
        facts.append(say("tabs.model_card.made_by", command=Markup(f"<code>{html.escape(report['command'])}</code>")))
    per_class = report.get("per_class_accuracy") or []
    class_row = "".join(f"<td>{decimal(100 * a, 2)} %</td>" for a in per_class)
    confusion = report.get("confusion_matrix") or []
    matrix = ""
    if confusion:
        red, green, blue = theme.MISTAKE_RGB
        peak = max(max(row[:d] + row[d + 1:]) for d, row in enumerate(confusion)) or 1
        rows = []
        for true, row in enumerate(confusion):
            cells = []
            for pred, n in enumerate(row):
                if true == pred:
                    cells.append(f'<td class="diag">{n}</td>')
                else:
                    shade = 0 if n == 0 else 0.15 + 0.85 * n / peak
                    cells.append(f'<td style="background:rgba({red},{green},{blue},{shade:.2f})">{n or ""}</td>')
            rows.append(f"<tr><th>{true}</th>{''.join(cells)}</tr>")
        head = "".join(f"<th>{d}</th>" for d in range(len(confusion)))
        matrix = (f'<table class="confusion"><caption>{say("tabs.model_card.confusion_caption")}'
                  f'</caption><thead><tr><th></th>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>')
    curves = ""
    if curves_uri:
        note = ""
        if report.get("label_smoothing") is not None:
            smoothing = float(report["label_smoothing"])
            note = (f'<div class="view-note">'
                    f'{explanations.training_loss_note(smoothing, smoothed_loss_floor(smoothing))}</div>')
        alt = escape(plain("tabs.model_card.curves_alt"))
        curves = f'<figure class="curves"><img src="{curves_uri}" alt="{alt}">{note}</figure>'
    body = (f'<ul class="facts">{"".join(f"<li>{f}</li>" for f in facts)}</ul>'
            f'<table class="per-class"><caption>{say("tabs.model_card.per_class_caption")}</caption><thead><tr>'
            f'{"".join(f"<th>{d}</th>" for d in range(len(per_class)))}</tr></thead><tbody><tr>{class_row}</tr>'
            f'</tbody></table><div class="card-row">{matrix}{curves}</div>'
            f'{calibration_html(calibration, report.get("label_smoothing"))}')
    return lesson("model-card", say("tabs.model_card.title"), body, explanations.MODEL_CARD,
                  f' data-accuracy="{acc}"')


def reliability_svg(bins: list[dict[str, Any]]) -> str:
    """Accuracy per bin of top probability (bars, with each bin's answer count) against the line where the two
    would be equal (a perfectly calibrated network)."""
    width, height, left, bottom = 440, 230, 40, 56
    plot_w, plot_h = width - left - 8, height - bottom - 10
    shown = [b for b in bins if b["count"]]
    step = plot_w / max(len(shown), 1)
    parts = [f'<line x1="{left}" y1="{10 + plot_h}" x2="{left + plot_w}" y2="{10 + plot_h}" stroke="currentColor"/>']
    for i, b in enumerate(shown):
        x = left + i * step
        bar = plot_h * b["accuracy"]
        ideal = plot_h * b["confidence"]
        parts.append(f'<rect x="{x + 3:.1f}" y="{10 + plot_h - bar:.1f}" width="{step - 6:.1f}" height="{bar:.1f}" '
                     f'fill="{theme.CNN_COLOUR}"><title>{_bin_title(b)}</title></rect>')
        parts.append(f'<line x1="{x + 3:.1f}" x2="{x + step - 3:.1f}" y1="{10 + plot_h - ideal:.1f}" '
                     f'y2="{10 + plot_h - ideal:.1f}" stroke="currentColor" stroke-dasharray="3 2"/>')
        parts.append(f'<text x="{x + step / 2:.1f}" y="{10 + plot_h + 13}" font-size="9" text-anchor="middle">'
                     f'{decimal(100 * b["low"], spec="g")}–{decimal(100 * b["high"], spec="g")} %</text>'
                     f'<text x="{x + step / 2:.1f}" y="{10 + plot_h + 26}" font-size="9" text-anchor="middle">'
                     f'{b["count"]:,}</text>')
    parts.append(f'<text x="2" y="14" font-size="10">100 %</text>'
                 f'<text x="2" y="{10 + plot_h}" font-size="10">0 %</text>'
                 f'<text x="2" y="{10 + plot_h + 26}" font-size="9">{say("tabs.model_card.count_axis")}</text>'
                 f'<text x="{left + plot_w / 2:.0f}" y="{height - 4}" font-size="10" text-anchor="middle">'
                 f'{say("tabs.model_card.x_axis")}</text>')
    return (f'<svg class="reliability" viewBox="0 0 {width} {height}" width="{width}" role="img" '
            f'aria-label="{escape(plain("tabs.model_card.diagram_label"))}">{"".join(parts)}</svg>')


def _bin_title(b: dict[str, Any]) -> Markup:
    """A bar's hover text: its range, how many answers fell in it, how many were right, their mean probability."""
    return say("tabs.model_card.bin_title", low=100 * b["low"], high=100 * b["high"], count=b["count"],
               accuracy=100 * b["accuracy"], confidence=100 * b["confidence"])


def calibration_html(calibration: dict[str, Any] | None, smoothing: float | None) -> str:
    """The reliability diagram and what the softmax percentage means for this network (nothing without data)."""
    if not calibration:
        return ""
    return (f'<figure class="calibration">{reliability_svg(calibration["bins"])}<figcaption>'
            f'{explanations.calibration_note(calibration, smoothing)}</figcaption></figure>')


def curves_uri(weights_path: str | Path) -> str | None:
    """The training curves saved beside the weights (``<name>_curves.png``) as a data URI, or None."""
    path = Path(weights_path).with_name(Path(weights_path).stem + "_curves.png")
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii") if path.is_file() else None


def duration(seconds: float | None) -> str:
    """Training time for people: '45 s', '19 min', '1 h 5 min'."""
    if seconds is None:
        return "? s"
    if seconds < 100:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h {minutes % 60} min"


def smoothed_loss_floor(smoothing: float, classes: int = 10) -> float:
    """The smallest cross-entropy a label-smoothed target allows (its entropy): reached by a perfect prediction."""
    true, other = 1 - smoothing + smoothing / classes, smoothing / classes
    return -(true * math.log(true) + (classes - 1) * other * math.log(other)) if smoothing > 0 else 0.0
