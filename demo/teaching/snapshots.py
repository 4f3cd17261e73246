"""Weights saved while the CNN trained, for the "Watch it learn" tab: written by train.py, read by the app.

One safetensors file beside the CNN (``weights/cnn_snapshots.safetensors``) holds the network as it was before the
first step, after a few early steps and at the end of some epochs. Its header says when each was taken and how the
network then did on the 10,000 MNIST test digits. The last step of the tab is always the network the app runs; the
file records the SHA-256 of the network its own run ended with, so the tab can say whether both are one run.

Storage: eleven float16 copies of 459,082 parameters would take 10 MB. Each weight row (one output channel or unit)
is stored as int8 with one float16 scale instead (``q * scale``, 1 byte per weight, about 0.46 MB a snapshot);
biases stay float16. Rounding changes a weight by at most half a step of its row's scale, which moves the test
accuracy of a snapshot by a few hundredths of a percent (tests/test_snapshots.py measures it).
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from demo.core.checkpoint import read_safetensors
from demo.core.data import sha256_file
from demo.core.model import build_model, fold_batchnorm, inference_config
from demo.core.paths import WEIGHTS_DIR
from demo.texts import plain

log = logging.getLogger("convscope")

SNAPSHOTS_KEY = "convscope_snapshots"
DEFAULT_STEPS = (0, 10, 50, 200, 1000)  # optimizer steps after which a snapshot is taken (0 = before the first)
DEFAULT_EPOCHS = (3, 5, 8, 12, 16)  # epochs at whose end a snapshot is taken


def snapshots_path(weights: str | Path) -> Path:
    """``weights/cnn.safetensors`` -> ``weights/cnn_snapshots.safetensors``."""
    weights = Path(weights)
    return weights.with_name(f"{weights.stem}_snapshots.safetensors")


@dataclass(frozen=True)
class SnapshotInfo:
    step: int  # optimizer steps taken before it
    epoch: float  # the same, in passes over the training set
    test_accuracy: float  # on the 10,000 MNIST test digits, float32 weights, when it was taken
    test_loss: float

    @property
    def label(self) -> str:
        """When it was taken, for people: 'before training', 'after 1,000 steps', 'after epoch 3'."""
        if self.step == 0:
            return plain("teaching.snapshots.label_start")
        if self.epoch < 1 or self.epoch != int(self.epoch):
            return plain("teaching.snapshots.label_steps", steps=self.step)
        return plain("teaching.snapshots.label_epoch", epoch=int(self.epoch))


# ------------------------------------------------------------------------------------------------- int8 rows

def quantize(tensor: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(int8 values, float16 scale per row) of a weight whose first dimension is its output channels."""
    rows = tensor.detach().float().reshape(tensor.shape[0], -1)
    # The scale is rounded to float16 first, so q is computed against exactly the scale that will be read back.
    scale = (rows.abs().amax(dim=1) / 127).half()
    safe = torch.where(scale > 0, scale.float(), torch.ones_like(scale, dtype=torch.float32))
    q = torch.round(rows / safe[:, None]).clamp(-127, 127).to(torch.int8)
    return q.reshape(tensor.shape), scale


def dequantize(q: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    return (q.float().reshape(q.shape[0], -1) * scale.float()[:, None]).reshape(q.shape)


def pack(index: int, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The stored tensors of snapshot ``index``: ``s3.fc1.weight.q``/``.scale``, ``s3.fc1.bias`` (float16)."""
    out = {}
    for name, tensor in state.items():
        if tensor.ndim >= 2:
            out[f"s{index}.{name}.q"], out[f"s{index}.{name}.scale"] = quantize(tensor)
        else:
            out[f"s{index}.{name}"] = tensor.detach().half().contiguous()
    return out


def unpack(index: int, tensors: dict[str, torch.Tensor], names: list[str]) -> dict[str, torch.Tensor]:
    """The float32 state dict of snapshot ``index`` (``names``: the parameters of the model to fill)."""
    prefix = f"s{index}."
    state = {}
    for name in names:
        if prefix + name in tensors:
            state[name] = tensors[prefix + name].float()
        else:
            state[name] = dequantize(tensors[f"{prefix}{name}.q"], tensors[f"{prefix}{name}.scale"])
    return state


# ---------------------------------------------------------------------------------------- writing (training)

@dataclass
class SnapshotRecorder:
    """Takes snapshots during training without changing it: the network is copied, folded and evaluated in eval
    mode on the copy, and the random generator is restored, so a run with snapshots trains exactly like one without
    (tests/test_snapshots.py checks this)."""

    config: dict[str, Any]  # the training config (batchnorm folded away before storing)
    steps_per_epoch: int
    evaluate: Callable[[nn.Module], tuple[float, float]]  # model -> (test accuracy, test loss)
    steps: tuple[int, ...] = DEFAULT_STEPS
    epochs: tuple[int, ...] = DEFAULT_EPOCHS
    taken: list[tuple[SnapshotInfo, dict[str, torch.Tensor]]] = field(default_factory=list)

    def after_step(self, model: nn.Module, step: int) -> None:
        """Called with the number of optimizer steps taken so far (0 before the first)."""
        epoch, rest = divmod(step, self.steps_per_epoch)
        if step in self.steps or (rest == 0 and epoch in self.epochs):
            self.take(model, step)

    @torch.no_grad()
    def take(self, model: nn.Module, step: int) -> None:
        # Folding builds new conv layers, whose initialisation draws from torch's global generator (dropout's):
        # fork_rng puts that generator back afterwards, so the rest of training draws the same numbers.
        with torch.random.fork_rng(devices=[]):
            shipped = copy.deepcopy(model)
            shipped = fold_batchnorm(shipped) if self.config.get("batchnorm") else shipped.eval()
            accuracy, loss = self.evaluate(shipped)
        info = SnapshotInfo(step, round(step / self.steps_per_epoch, 4), round(accuracy, 4), round(loss, 4))
        if not any(s.step == step for s, _ in self.taken):
            self.taken.append((info, {k: v.clone() for k, v in shipped.state_dict().items()}))

    def save(self, path: str | Path, final_weights: Path, curve: list[dict[str, float]]) -> Path:
        """Writes the snapshots; ``final_weights`` is the network this run ended with (the tab's last step)."""
        from safetensors.torch import save_file

        tensors: dict[str, torch.Tensor] = {}
        for i, (_, state) in enumerate(self.taken):
            tensors.update(pack(i, state))
        header = {
            "config": inference_config(self.config),
            "steps_per_epoch": self.steps_per_epoch,
            "snapshots": [vars(info) for info, _ in self.taken],
            "final_sha256": sha256_file(Path(final_weights)),
            "curve": [[round(p["epoch"], 4), round(p["test_acc"], 4)] for p in curve],
        }
        path = Path(path)
        save_file(tensors, str(path), metadata={SNAPSHOTS_KEY: json.dumps(header, sort_keys=True)})
        return path


# ------------------------------------------------------------------------------------------- reading (the app)

@dataclass(frozen=True)
class Snapshots:
    """The networks along training, the last being the one the app runs, with what is known about each."""

    infos: list[SnapshotInfo]  # one per model; the last describes the app's own network
    models: list[nn.Sequential]  # eval mode, float32; models[-1] is the app's network itself
    curve: list[tuple[float, float]]  # (epoch, test accuracy) of the run the snapshots come from
    steps_per_epoch: int
    same_run: bool  # did the snapshots' run end with exactly the app's weights file?

    def __len__(self) -> int:
        return len(self.models)


def load_snapshots(model: nn.Sequential, weights: str | Path, report: dict[str, Any],
                   path: str | Path | None = None) -> Snapshots | None:
    """The snapshots beside ``weights`` ending with ``model`` (the app's network, ``report`` its training report).

    None, logged, when the file is missing, unreadable or made for another architecture: the tab then says how to
    make it, and nothing else in the app depends on it."""
    path = Path(path) if path is not None else snapshots_path(weights)
    if not path.is_file():
        log.info("no training snapshots at %s: the Watch it learn tab is off", path)
        return None
    try:
        metadata, tensors = read_safetensors(path, "pt")
        header = json.loads(metadata[SNAPSHOTS_KEY])
        config = header["config"]
        names = list(model.state_dict())
        models = []
        for i in range(len(header["snapshots"])):
            m = build_model(config)
            m.load_state_dict(unpack(i, tensors, names))
            models.append(m.eval())
        infos = [SnapshotInfo(**s) for s in header["snapshots"]]
    except Exception:  # a broken optional file must not stop the app
        log.warning("the training snapshots in %s cannot be read: the Watch it learn tab is off", path, exc_info=True)
        return None
    epochs = report.get("epochs", 0)
    steps_per_epoch = int(header["steps_per_epoch"])
    final = SnapshotInfo(epochs * steps_per_epoch, float(epochs), report.get("test_accuracy", float("nan")),
                         report.get("test_loss", float("nan")))
    same_run = header["final_sha256"] == sha256_file(Path(weights))
    return Snapshots([*infos, final], [*models, model], [tuple(p) for p in header["curve"]], steps_per_epoch,
                     same_run)


DEFAULT_PATH = snapshots_path(WEIGHTS_DIR / "cnn.safetensors")
