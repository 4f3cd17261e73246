"""Watch it learn: the learner's drawing read by the network as it was at each snapshot taken during training
(demo/teaching/snapshots.py): the answer and probabilities, the first layer's kernels and feature maps, and where that
snapshot sits on the test-accuracy curve."""

from __future__ import annotations

import html
import math

import numpy as np
import torch
from markupsafe import Markup, escape

from demo.core.model import CONV, stage_kind, staged_forward
from demo.teaching.explanations import signed
from demo.teaching.snapshots import SnapshotInfo, Snapshots
from demo.texts import localised, plain, say
from demo.views import render, theme
from demo.views.panels import legend

from .common import img, lesson, probability_bars

WIDTH, HEIGHT = 520, 190
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 12, 34
FLOOR = 0.0  # the curve's accuracy axis starts here (before training the network is at chance, about 10 %)
SNAPSHOTS_COMMAND = "python train.py --data-dir ../shared/data/mnist"  # writes the snapshots beside the network


def explanation(snaps: Snapshots) -> str:
    first, last = snaps.infos[0], snaps.infos[-1]  # before training; the app's own network
    run = say("tabs.learning.run_same" if snaps.same_run else "tabs.learning.run_rerun")
    early = next((i for i in snaps.infos if i.test_accuracy >= 0.97), last)
    return say("tabs.learning.explanation", start=100 * first.test_accuracy,
               batch=round(60_000 / snaps.steps_per_epoch), early=early.label,
               early_accuracy=100 * early.test_accuracy,
               factor=(1 - early.test_accuracy) / max(1 - last.test_accuracy, 1e-4),
               final_accuracy=100 * last.test_accuracy, mistakes_then=round(10_000 * (1 - early.test_accuracy)),
               mistakes_end=round(10_000 * (1 - last.test_accuracy)), run=run)


def _x(info_epoch: float, steps_per_epoch: int, last_epoch: float) -> float:
    """Steps on a logarithmic axis, so the first ten steps and the last ten epochs both get room."""
    top = math.log10(1 + last_epoch * steps_per_epoch)
    return LEFT + (WIDTH - LEFT - RIGHT) * math.log10(1 + info_epoch * steps_per_epoch) / top


def _y(accuracy: float) -> float:
    return TOP + (HEIGHT - TOP - BOTTOM) * (1 - (accuracy - FLOOR) / (1 - FLOOR))


def curve_svg(snaps: Snapshots, index: int) -> str:
    """Test accuracy against training steps (log axis), a dot per snapshot, the chosen one ringed."""
    spe, last = snaps.steps_per_epoch, snaps.infos[-1].epoch
    # The run's evaluations (4 an epoch) and the snapshots' own, in order: the early snapshots fall between them.
    points = sorted({*((i.epoch, i.test_accuracy) for i in snaps.infos), *(p for p in snaps.curve if p[0] <= last)})
    path = " ".join(f"{_x(e, spe, last):.1f},{_y(a):.1f}" for e, a in points)
    grid = []
    for acc in (0.1, 0.5, 0.9, 1.0):
        grid.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{_y(acc):.1f}" y2="{_y(acc):.1f}" '
                    f'stroke="currentColor" stroke-opacity="0.15"/><text x="{LEFT - 4}" y="{_y(acc) + 4:.1f}" '
                    f'text-anchor="end" font-size="11">{localised(f"{100 * acc:.0f}")} %</text>')
    ticks = ((10, plain("tabs.learning.tick_steps", steps=10)), (100, "100"),
             (spe, plain("tabs.learning.tick_epoch", epochs=1)), (5 * spe, "5"), (last * spe, f"{last:g}"))
    for steps, text in ticks:
        x = _x(steps / spe, spe, last)
        grid.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" y2="{HEIGHT - BOTTOM}" stroke="currentColor" '
                    f'stroke-opacity="0.15"/><text x="{x:.1f}" y="{HEIGHT - BOTTOM + 14}" text-anchor="middle" '
                    f'font-size="11">{escape(text)}</text>')
    dots = []
    for i, info in enumerate(snaps.infos):
        x, y = _x(info.epoch, spe, last), _y(info.test_accuracy)
        chosen = i == index
        dots.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{6 if chosen else 3.5}" fill="'
                    f'{theme.ACCENT if chosen else "currentColor"}"><title>{html.escape(info.label)}: '
                    f'{localised(f"{100 * info.test_accuracy:.2f}")} %</title></circle>')
    return (f'<svg class="learning-curve" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
            f'role="img" aria-label="{escape(plain("tabs.learning.curve_label"))}">{"".join(grid)}'
            f'<polyline points="{path}" fill="none" stroke="{theme.CNN_COLOUR}" stroke-width="2"/>{"".join(dots)}'
            f'<text x="{(LEFT + WIDTH - RIGHT) / 2}" y="{HEIGHT - 4}" text-anchor="middle" font-size="11">'
            f'{say("tabs.learning.curve_axis")}</text></svg>')


def timeline(snaps: Snapshots, index: int) -> str:
    """One button per snapshot (``data-snapshot``); a click moves the tab's slider (demo/page/static/snapshots.js)."""
    buttons = []
    for i, info in enumerate(snaps.infos):
        chosen = ' class="snapshot selected" aria-pressed="true"' if i == index else \
            ' class="snapshot" aria-pressed="false"'
        buttons.append(f'<button type="button"{chosen} data-snapshot="{i}" data-step="{info.step}" '
                       f'data-accuracy="{info.test_accuracy:.4f}">{html.escape(_short(info, i, len(snaps)))}'
                       '</button>')
    return f'<div class="snapshot-timeline">{"".join(buttons)}</div>'


def _short(info: SnapshotInfo, i: int, count: int) -> str:
    if i == count - 1:
        return plain("tabs.learning.button_trained")
    if info.step == 0:
        return plain("tabs.learning.button_start")
    if info.epoch < 1 or info.epoch != int(info.epoch):
        return plain("tabs.learning.button_steps", steps=info.step)
    return plain("tabs.learning.button_epoch", epoch=int(info.epoch))


@torch.inference_mode()
def _read(model: torch.nn.Sequential, input28: np.ndarray) -> tuple[np.ndarray, np.ndarray, str]:
    """Probabilities, and the first convolution's feature maps after its ReLU (what the next layer reads)."""
    x = torch.from_numpy(np.ascontiguousarray(input28, dtype=np.float32))[None, None]
    logits, outputs = staged_forward(model, x)
    names = list(outputs)
    first_conv = next(n for n, m in model.named_children() if stage_kind(m) == CONV)
    relu = names[names.index(first_conv) + 1]
    return torch.softmax(logits.double(), 1)[0].numpy(), outputs[relu][0].numpy(), relu


def learning_html(snaps: Snapshots | None, input28: np.ndarray | None, index: int) -> str:
    """Snapshot ``index`` (clamped) read on ``input28`` (None: only the kernels and the curve)."""
    if snaps is None:
        missing = say("tabs.learning.missing", command=Markup(f"<code>{SNAPSHOTS_COMMAND}</code>"))
        return lesson("learning", say("tabs.learning.title"), f'<div class="notice info">{missing}</div>', "",
                      ' data-state="off"')
    index = min(max(int(index), 0), len(snaps) - 1)
    info, model = snaps.infos[index], snaps.models[index]
    conv = next(m for m in model if stage_kind(m) == CONV)
    kernels = render.kernel_picture(conv.weight.detach().numpy())
    when = say("tabs.learning.when", label=info.label, step=info.step, epoch=info.epoch,
               accuracy=100 * info.test_accuracy)
    head = f'<div class="learning-when">{when}</div>'
    kernel_fig = (f'<figure class="layer"><figcaption class="layer-title">{say("tabs.learning.kernels_title")}'
                  f'</figcaption>{img(kernels.data_uri(), plain("tabs.learning.kernels_alt"), 256)}'
                  '<div class="layer-caption">'
                  f'{legend("signed", signed(-kernels.vmax), signed(kernels.vmax, plus=True))}</div></figure>')
    if input28 is None:
        reading = f'<div class="placeholder">{say("tabs.learning.draw_prompt")}</div>'
        answer, state = "", "empty"
    else:
        probs, maps, relu = _read(model, input28)
        label = int(probs.argmax())
        picture = render.feature_map_picture(maps)
        said = say("tabs.learning.answer", digit=Markup(f'<b data-answer="{label}">{label}</b>'),
                   share=100 * probs[label])
        maps_title = say("tabs.learning.maps_title", stage=relu)
        reading = (f'<div class="learning-answer">{said}</div>{probability_bars(probs.tolist(), theme.CNN_COLOUR)}'
                   f'<figure class="layer"><figcaption class="layer-title">{maps_title}</figcaption>'
                   f'{img(picture.data_uri(), plain("tabs.learning.maps_alt"), 256)}'
                   f'<div class="layer-caption">{legend("activation", "0", signed(picture.vmax))}</div></figure>')
        answer, state = f' data-answer="{label}" data-confidence="{probs[label]:.4f}"', "ready"
    body = (f'{timeline(snaps, index)}{head}<div class="learning-row">{curve_svg(snaps, index)}{kernel_fig}</div>'
            f'<div class="learning-row">{reading}</div>')
    data = (f' data-state="{state}" data-index="{index}" data-count="{len(snaps)}" data-step="{info.step}"'
            f' data-same-run="{str(snaps.same_run).lower()}"{answer}')
    return lesson("learning", say("tabs.learning.title"), body, explanation(snaps), data)
