"""Watch it learn: the learner's drawing read by the network as it was at each snapshot taken during training
(demo/teaching/snapshots.py): the answer and probabilities, the first layer's kernels and feature maps, and where that
snapshot sits on the test-accuracy curve."""

from __future__ import annotations

import html
import math

import numpy as np
import torch

from demo.core.model import CONV, stage_kind, staged_forward
from demo.teaching.explanations import signed
from demo.teaching.snapshots import SnapshotInfo, Snapshots
from demo.views import render, theme
from demo.views.panels import legend

from .common import img, lesson, probability_bars

TITLE = "Watch it learn"
WIDTH, HEIGHT = 520, 190
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 12, 34
FLOOR = 0.0  # the curve's accuracy axis starts here (before training the network is at chance, about 10 %)
MISSING = ("The training snapshots are not here (weights/cnn_snapshots.safetensors). <code>python train.py "
           "--data-dir ../shared/data/mnist</code> writes them beside the network it trains.")


def explanation(snaps: Snapshots) -> str:
    first, last = snaps.infos[0], snaps.infos[-1]  # before training; the app's own network
    run = ("The snapshots and the network you use come from one training run." if snaps.same_run else
           "The snapshots before the last come from a rerun of the same recipe (same seed, same starting weights); "
           "floating-point rounding differs from one processor to another, so the rerun's weights drift a little "
           "from the run that made the network you use, which is the last step.")
    early = next((i for i in snaps.infos if i.test_accuracy >= 0.97), last)
    return ("Training starts from random weights: before the first step the network answers about as well as a "
            f"guess ({100 * first.test_accuracy:.1f} % of the 10,000 MNIST test digits). Each training step shows "
            f"it a batch of {round(60_000 / snaps.steps_per_epoch)} labelled digits and nudges every weight a little "
            "downhill on the loss (gradient descent). Watch the first layer's kernels turn from noise into stroke "
            "and edge detectors, the feature maps of your drawing sharpen, and the answer settle. Most of the "
            f"learning happens early: {early.label} it already reads {100 * early.test_accuracy:.1f} % of the test "
            f"digits right. The rest of training still matters: it divides the mistakes by "
            f"{(1 - early.test_accuracy) / max(1 - last.test_accuracy, 1e-4):.0f}, to {100 * last.test_accuracy:.2f} % "
            f"right ({round(10_000 * (1 - early.test_accuracy)):,} mistakes then, "
            f"{round(10_000 * (1 - last.test_accuracy)):,} at the end). The training here uses AdamW, a variant of "
            "gradient descent that adapts each weight's step, with a learning rate that rises and then falls "
            f"(one-cycle), on digits moved, turned and re-drawn a little at random. {run}")


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
                    f'text-anchor="end" font-size="11">{100 * acc:.0f} %</text>')
    for steps, text in ((10, "10 steps"), (100, "100"), (spe, "1 epoch"), (5 * spe, "5"), (last * spe, f"{last:g}")):
        x = _x(steps / spe, spe, last)
        grid.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" y2="{HEIGHT - BOTTOM}" stroke="currentColor" '
                    f'stroke-opacity="0.15"/><text x="{x:.1f}" y="{HEIGHT - BOTTOM + 14}" text-anchor="middle" '
                    f'font-size="11">{text}</text>')
    dots = []
    for i, info in enumerate(snaps.infos):
        x, y = _x(info.epoch, spe, last), _y(info.test_accuracy)
        chosen = i == index
        dots.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{6 if chosen else 3.5}" fill="'
                    f'{theme.ACCENT if chosen else "currentColor"}"><title>{html.escape(info.label)}: '
                    f'{100 * info.test_accuracy:.2f} %</title></circle>')
    return (f'<svg class="learning-curve" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
            f'role="img" aria-label="test accuracy during training">{"".join(grid)}'
            f'<polyline points="{path}" fill="none" stroke="{theme.CNN_COLOUR}" stroke-width="2"/>{"".join(dots)}'
            f'<text x="{(LEFT + WIDTH - RIGHT) / 2}" y="{HEIGHT - 4}" text-anchor="middle" font-size="11">'
            'training steps (logarithmic), then epochs · test accuracy</text></svg>')


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
        return "trained"
    if info.step == 0:
        return "start"
    return f"{info.step:,} steps" if info.epoch < 1 or info.epoch != int(info.epoch) else f"epoch {int(info.epoch)}"


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
        return lesson("learning", TITLE, f'<div class="notice info">{MISSING}</div>', "", ' data-state="off"')
    index = min(max(int(index), 0), len(snaps) - 1)
    info, model = snaps.infos[index], snaps.models[index]
    conv = next(m for m in model if stage_kind(m) == CONV)
    kernels = render.kernel_picture(conv.weight.detach().numpy())
    head = (f'<div class="learning-when"><b>{html.escape(info.label)}</b> · step {info.step:,} · epoch '
            f'{info.epoch:.2f} · test accuracy <b>{100 * info.test_accuracy:.2f} %</b></div>')
    kernel_fig = (f'<figure class="layer"><figcaption class="layer-title">conv1 kernels</figcaption>'
                  f'{img(kernels.data_uri(), "conv1 kernels at this snapshot", 256)}<div class="layer-caption">'
                  f'{legend("signed", signed(-kernels.vmax), signed(kernels.vmax, plus=True))}</div></figure>')
    if input28 is None:
        reading = '<div class="placeholder">draw a digit to see how the network read it at this point</div>'
        answer, state = "", "empty"
    else:
        probs, maps, relu = _read(model, input28)
        label = int(probs.argmax())
        picture = render.feature_map_picture(maps)
        reading = (f'<div class="learning-answer">answer <b data-answer="{label}">{label}</b> '
                   f'({100 * probs[label]:.1f} %)</div>{probability_bars(probs.tolist(), theme.CNN_COLOUR)}'
                   f'<figure class="layer"><figcaption class="layer-title">{relu}: conv1 feature maps of your '
                   f'drawing</figcaption>{img(picture.data_uri(), "feature maps at this snapshot", 256)}'
                   f'<div class="layer-caption">{legend("activation", "0", signed(picture.vmax))}</div></figure>')
        answer, state = f' data-answer="{label}" data-confidence="{probs[label]:.4f}"', "ready"
    body = (f'{timeline(snaps, index)}{head}<div class="learning-row">{curve_svg(snaps, index)}{kernel_fig}</div>'
            f'<div class="learning-row">{reading}</div>')
    data = (f' data-state="{state}" data-index="{index}" data-count="{len(snaps)}" data-step="{info.step}"'
            f' data-same-run="{str(snaps.same_run).lower()}"{answer}')
    return lesson("learning", TITLE, body, explanation(snaps), data)
