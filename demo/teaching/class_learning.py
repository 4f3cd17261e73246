"""The class teaches the network new symbols: a copy of the network for one class room, its output layer widened
from the ten digits to ten plus the class's symbols, fine-tuned on the class's drawings with digits replayed so
that it does not forget them.

What learns, and why:

* **Only the fully connected layers** (fc1 and the widened fc2). The convolutions keep the shipped kernels: they
  are the ones every view shows, they already find strokes, corners and curves in any drawing, and a class's few
  dozen drawings could only blur them. Each drawing goes through the convolutions once (its features at
  ``flatten``); every step of learning is then a small matrix product, a few milliseconds on two cores, so the
  projector can show the curves step by step.
* **The new outputs start silent** (zero weights, a bias below every digit's), so before the first step the copy
  gives the shipped network's outputs for the ten digits, and the new ones a low constant.
* **Digits are replayed** in every batch (MNIST training digits when the server has them, and the class's own
  digit drawings): fine-tuning on new symbols alone would pull fc1 towards them and the digits would be forgotten
  (catastrophic forgetting). Replay keeps most of them; what is lost is measured on the 10,000 MNIST test digits
  before and after, and shown.
* **It keeps answering the digits as the shipped network does** (knowledge distillation, as in *Learning without
  Forgetting*, Li and Hoiem 2016): each step's loss adds how far the copy's shares among the ten digits, for every
  input of the batch (the symbols' too), are from the shipped network's. With MNIST replayed it loses about 0.1
  points of MNIST test accuracy instead of 0.2; with only the pad's example digits to replay (a server without
  MNIST), about 0.5 instead of 2.7 (three symbols, three classes of twenty simulated pupils).
* **Judged on hands it never saw**: a share of the pupils is held back, all of their drawings, and the accuracy on
  their drawings of the new symbols is the one reported. A drawing the network saw in training says little.
* **Shifted and turned copies** of each drawing it learns from (``AUGMENT``), as the shipped network was trained:
  a pupil's star is still a star one pixel to the left.

Pure computation on tensors: the caller turns drawings into 28×28 inputs, runs this off the web server's event
loop, and keeps the result (demo/server: a room's network).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from demo.core.room_network import widen
from demo.core.transform import shift_rotate

MAX_SYMBOLS = 5
MIN_DRAWINGS = 6  # of each new symbol: fewer cannot be learned and judged
MIN_PUPILS = 2  # who drew each new symbol: one (at least) to learn from, one held back
HELD_SHARE = 0.25  # of the pupils, held back with all their drawings
STEPS = 200
BATCH = 96
LEARNING_RATE = 1e-3
AUGMENT = 6  # shifted and turned copies of each drawing it learns from, besides the drawing itself
REPORT_EVERY = 5  # steps between points of the curves
DISTIL = 1.0  # the weight of keeping the shipped network's shares among the digits, beside learning the labels
CHECK_DIGITS = 500  # replayed digits the curves' digit accuracy is measured on (a few milliseconds a point)


class NotEnoughDrawings(ValueError):
    """The class's drawings cannot teach a symbol: ``symbol`` has ``drawings`` from ``pupils`` pupils."""

    def __init__(self, symbol: str, drawings: int, pupils: int) -> None:
        super().__init__(f"{symbol}: {drawings} drawings from {pupils} pupils")
        self.symbol, self.drawings, self.pupils = symbol, drawings, pupils


@dataclass(frozen=True)
class ClassDrawing:
    """One drawing of the class: the 28×28 input the network sees, its label (0-9 a digit, 10 + i the class's
    i-th symbol) and who drew it."""

    input28: np.ndarray
    label: int
    pupil: str


@dataclass(frozen=True)
class Step:
    """One point of the curves: the loss of the batch; the share of the class's drawings of the new symbols it
    learns from that it reads right (``accuracy``), and which it still reads wrong (their indices in the drawings
    given to :func:`learn`); and the share of the digits it replays that it reads right (``digits``): it should
    stay high."""

    step: int
    loss: float
    accuracy: float
    wrong: tuple[int, ...] = ()
    digits: float = float("nan")


@dataclass
class Learned:
    model: nn.Sequential  # the widened copy, in eval mode
    curve: list[Step]
    held_back_accuracy: float | None  # on the held-back pupils' drawings of the new symbols (None: none held back)
    held_back: list[tuple[ClassDrawing, int]] = field(default_factory=list)  # each with what the network read
    learned_from: int = 0  # drawings of the new symbols it learned from (without their copies)
    mnist_before: float | None = None  # accuracy on the MNIST test digits, shipped network (None: no MNIST)
    mnist_after: float | None = None
    seconds: float = 0.0


def check_enough(drawings: Sequence[ClassDrawing], symbols: int) -> None:
    """Raises :class:`NotEnoughDrawings` for the first new symbol with too few drawings or pupils."""
    for i in range(symbols):
        mine = [d for d in drawings if d.label == 10 + i]
        pupils = len({d.pupil for d in mine})
        if len(mine) < MIN_DRAWINGS or pupils < MIN_PUPILS:
            raise NotEnoughDrawings(str(i), len(mine), pupils)


def split_by_pupil(drawings: Sequence[ClassDrawing], share: float = HELD_SHARE,
                   seed: int = 0) -> tuple[list[ClassDrawing], list[ClassDrawing]]:
    """The drawings to learn from and those held back: all the drawings of a ``share`` of the pupils (at least one)
    who drew new symbols, chosen so that every new symbol keeps drawings to learn from."""
    pupils = sorted({d.pupil for d in drawings if d.label >= 10})
    order = list(np.random.default_rng(seed).permutation(len(pupils)))
    symbols = {d.label for d in drawings if d.label >= 10}
    held: set[str] = set()
    for index in order:
        if len(held) >= max(1, round(share * len(pupils))):
            break
        candidate = held | {pupils[index]}
        if all(any(d.label == s and d.pupil not in candidate for d in drawings) for s in symbols):
            held = candidate
    return [d for d in drawings if d.pupil not in held], [d for d in drawings if d.pupil in held]


def _trunk_and_head(model: nn.Sequential) -> tuple[nn.Sequential, nn.Sequential]:
    """The stages up to and including ``flatten`` (kept as shipped) and the fully connected ones after it."""
    names = [name for name, _ in model.named_children()]
    cut = names.index("flatten") + 1
    stages = list(model.children())
    return nn.Sequential(*stages[:cut]), nn.Sequential(*stages[cut:])


@torch.inference_mode()
def features(model: nn.Sequential, inputs: torch.Tensor, batch: int = 64) -> torch.Tensor:
    """``inputs`` (N, 28, 28) in [0, 1] through the network up to ``flatten``: (N, D). Batches of 64 keep each one's
    feature maps in the CPU's caches: on one core the 10,000 MNIST test digits take 2.1 s against 3.4 s in batches
    of 256; with the weights channels-last, as the learning process has them, 1.2 s against 1.4 s."""
    trunk, _ = _trunk_and_head(model)
    if len(inputs) == 0:
        return torch.zeros(0, trunk(torch.zeros(1, 1, 28, 28)).shape[1])
    return torch.cat([trunk(inputs[i:i + batch, None].float()) for i in range(0, len(inputs), batch)])


def augmented(inputs: torch.Tensor, copies: int, seed: int) -> torch.Tensor:
    """``inputs`` and ``copies`` shifted (±2 px) and turned (±12°) copies of each, in that order."""
    rng = np.random.default_rng(seed)
    out = [inputs]
    for _ in range(copies):
        out.append(torch.stack([shift_rotate(x, *rng.uniform(-2, 2, 2), rng.uniform(-12, 12)) for x in inputs]))
    return torch.cat(out)


def _accuracy(head: nn.Module, feats: torch.Tensor, labels: torch.Tensor) -> float:
    with torch.inference_mode():
        return float((head(feats).argmax(1) == labels).float().mean()) if len(labels) else float("nan")


def _stacked(drawings: Sequence[ClassDrawing]) -> tuple[torch.Tensor, torch.Tensor]:
    if not drawings:
        return torch.zeros(0, 28, 28), torch.zeros(0, dtype=torch.long)
    return (torch.from_numpy(np.stack([d.input28 for d in drawings]).astype(np.float32)),
            torch.tensor([d.label for d in drawings]))


def learn(model: nn.Sequential, drawings: Sequence[ClassDrawing], symbols: int,
          replay: tuple[torch.Tensor, torch.Tensor], mnist_test: tuple[torch.Tensor, torch.Tensor] | None = None,
          steps: int = STEPS, seed: int = 0, on_step: Callable[[Step], None] | None = None,
          stop: Callable[[], bool] = lambda: False) -> Learned:
    """Teaches a widened copy of ``model`` the class's ``symbols`` new symbols from ``drawings`` (digits among them
    are replayed too), with the digits ``replay`` ((N, 28, 28) in [0, 1], labels) replayed in every batch.
    ``mnist_test`` (uint8 images, labels): accuracy before and after. ``on_step`` gets the curves' points as they
    come; ``stop()`` true ends the learning early (the result is what it learned so far)."""
    start = time.perf_counter()
    check_enough(drawings, symbols)
    torch.manual_seed(seed)
    wider = widen(model, symbols)
    learn_set, held = split_by_pupil(drawings, seed=seed)
    new = [d for d in learn_set if d.label >= 10]
    position = {id(d): i for i, d in enumerate(drawings)}
    new_inputs, new_labels = _stacked(new)
    new_feats = features(wider, augmented(new_inputs, AUGMENT, seed))
    new_labels = new_labels.repeat(AUGMENT + 1)
    own_digits = [d for d in learn_set if d.label < 10]
    digit_inputs, digit_labels = _stacked(own_digits)
    digit_feats = features(wider, torch.cat([replay[0].float(), digit_inputs]))
    digit_labels = torch.cat([replay[1].long(), digit_labels])
    _, head = _trunk_and_head(wider)
    _, shipped_head = _trunk_and_head(model)
    shipped_head.eval()
    head.train()
    optimiser = torch.optim.Adam(head.parameters(), lr=LEARNING_RATE)
    generator = torch.Generator().manual_seed(seed)
    # Each batch: the new symbols in proportion to the outputs (k of 10 + k), at least a quarter; digits the rest.
    new_per_batch = max(BATCH // 4, round(BATCH * symbols / (10 + symbols)))
    check = torch.linspace(0, len(digit_feats) - 1, min(CHECK_DIGITS, len(digit_feats))).long()  # every class
    curve: list[Step] = []
    for step in range(1, steps + 1):
        pick_new = torch.randint(len(new_feats), (new_per_batch,), generator=generator)
        pick_digits = torch.randint(len(digit_feats), (BATCH - new_per_batch,), generator=generator)
        x = torch.cat([new_feats[pick_new], digit_feats[pick_digits]])
        y = torch.cat([new_labels[pick_new], digit_labels[pick_digits]])
        logits = head(x)
        with torch.no_grad():
            kept = F.log_softmax(shipped_head(x), 1)
        # Learning without forgetting: the copy's shares among the ten digits stay those of the shipped network.
        keep = F.kl_div(F.log_softmax(logits[:, :10], 1), kept, log_target=True, reduction="batchmean")
        loss = F.cross_entropy(logits, y) + DISTIL * keep
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        if step % REPORT_EVERY == 0 or step == steps or stop():
            head.eval()
            with torch.inference_mode():
                misread = (head(new_feats[:len(new)]).argmax(1) != new_labels[:len(new)]).nonzero()[:, 0]
            curve.append(Step(step, loss.item(), 1 - len(misread) / len(new),
                              tuple(position[id(new[i])] for i in misread.tolist()),
                              _accuracy(head, digit_feats[check], digit_labels[check])))
            head.train()
            if on_step is not None:
                on_step(curve[-1])
            if stop():
                break
    head.eval()
    wider.eval()
    held_new = [d for d in held if d.label >= 10]
    held_inputs, held_labels = _stacked(held_new)
    with torch.inference_mode():
        read = head(features(wider, held_inputs)).argmax(1).tolist() if held_new else []
    accuracy = float(np.mean([r == d.label for r, d in zip(read, held_new, strict=True)])) if held_new else None
    before = after = None
    if mnist_test is not None:
        test_feats = features(wider, mnist_test[0].float() / 255)
        before = _accuracy(shipped_head, test_feats, mnist_test[1])
        after = _accuracy(head, test_feats, mnist_test[1])
    return Learned(wider, curve, accuracy, list(zip(held_new, read, strict=True)), len(new), before, after,
                   time.perf_counter() - start)
