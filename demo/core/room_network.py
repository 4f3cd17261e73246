"""A class room's own network: the shipped network with its output layer widened from the ten digits to ten plus
the class's symbols (demo/teaching/class_learning.py teaches it), saved beside the room's file and read by the live
pad of that room.

"Not a digit" becomes "none of these". The shipped network's digitness statistics (demo/core/digitness.py) measure
how far a drawing's features lie from the reference points of the digits, in the *shipped* network's feature space.
A room's network shares the shipped convolutions (they do not learn), so the same features are at hand; the
shipped fc1 gives the last hidden layer as the statistics know it. The room adds reference points of its own: the
features of the drawings its network learned from (with their shifted and turned copies). A drawing near a digit or
near one of the class's symbols is "one of these", at the shipped network's threshold: the nearest reference point
can only come closer, so whatever the plain page finds digit-like is one of these here too.

    net = load_room_classifier(path, shipped)   # a Classifier whose names are "0"-"9" and the symbols
    pred = net.predict(image)                    # pred.names[pred.label]; pred.looks_like_digit: "one of these"

No side effects on import. The file is safetensors (no pickle): the widened network's tensors, the symbols'
reference points (``points.<stage>``) and the names in its header.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .classifier import Classifier
from .digitness import Digitness, stage_features
from .model import staged_forward

NAMES_KEY = "names"
POINTS = "points."


class RoomNetworkError(RuntimeError):
    """A room's network file that cannot be used (missing, half written, another network's)."""


def widen(model: nn.Sequential, extra: int) -> nn.Sequential:
    """A copy of ``model`` whose last layer has ``extra`` more outputs, silent at first: zero weights and a bias
    below every digit's: until it learns, the copy gives ``model``'s outputs for the digits and the new ones a low
    constant. ``model`` is untouched."""
    wider = copy.deepcopy(model)
    name, last = list(wider.named_children())[-1]
    if not isinstance(last, nn.Linear):
        raise ValueError(f"the network's last stage {name!r} is not a fully connected layer")
    grown = nn.Linear(last.in_features, last.out_features + extra)
    with torch.no_grad():
        grown.weight.zero_()
        grown.weight[:last.out_features] = last.weight
        grown.bias[:last.out_features] = last.bias
        grown.bias[last.out_features:] = last.bias.min() - 1.0
    setattr(wider, name, grown)
    return wider.eval()


def _stage_inputs(outputs: Mapping[str, torch.Tensor], stages: Sequence[str]) -> dict[str, np.ndarray]:
    """The digitness features of a batch from its stage outputs by name ((N, C) for the fully connected ones)."""
    return stage_features({s: outputs[s].reshape(*outputs[s].shape[:2], -1, 1).numpy() for s in stages},
                          tuple(stages))


@torch.inference_mode()
def symbol_points(shipped: nn.Sequential, digitness: Digitness, inputs: torch.Tensor) -> dict[str, np.ndarray]:
    """Reference points for the room's symbols: ``inputs`` (N, 28, 28) through the shipped network, as the digitness
    statistics measure them (whitened: ready to stand beside the digits' points)."""
    _, outputs = staged_forward(shipped, inputs[:, None].float())
    feats = _stage_inputs(outputs, digitness.stages)
    return {s: digitness.whitened(s, feats[s]).astype(np.float32) for s in digitness.stages}

def save_room_network(path: str | Path, model: nn.Sequential, names: Sequence[str],
                      points: Mapping[str, np.ndarray] | None) -> None:
    """Writes the room's network (and its symbols' reference points) to ``path``, whole or not at all: a reader
    never sees half a file."""
    from safetensors.torch import save_file

    path = Path(path)
    tensors = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    tensors.update({POINTS + s: torch.from_numpy(np.ascontiguousarray(p)) for s, p in (points or {}).items()})
    partial = path.with_name(path.name + ".tmp")
    save_file(tensors, str(partial), metadata={NAMES_KEY: json.dumps(list(names))})
    partial.replace(path)


class RoomClassifier(Classifier):
    """The shipped classifier widened to a room's symbols. Its ``names`` are the ten digits, then the symbols;
    ``looks_like_digit`` on its predictions means "one of these" (a digit or one of the symbols)."""

    def __init__(self, model: nn.Sequential, names: Sequence[str], shipped: Classifier,
                 points: Mapping[str, np.ndarray], path: Path) -> None:
        digitness = shipped.digitness
        if digitness is not None and points:
            means = {s: np.concatenate([digitness.means[s], np.asarray(points[s], np.float64)])
                     for s in digitness.stages}
            digitness = dataclasses.replace(digitness, means=means)
        super().__init__(model, shipped.config, {}, path, digitness, names=tuple(names))
        self.shipped_fc1 = dict(shipped.model.named_children())["fc1"]

    @torch.inference_mode()
    def scored_activations(self, activations: Mapping[str, np.ndarray]) -> Mapping[str, np.ndarray]:
        """The last hidden layer as the shipped network gives it (the statistics' space), the others as they are:
        the convolutions are the shipped ones."""
        pooled = torch.from_numpy(np.ascontiguousarray(activations["pool2"])).reshape(1, -1)
        relu4 = torch.relu(self.shipped_fc1(pooled))[0].numpy().reshape(-1, 1, 1)
        return {**activations, "relu4": relu4}


def load_room_classifier(path: str | Path, shipped: Classifier) -> RoomClassifier:
    """The room's network at ``path``, built on ``shipped``. Raises :class:`RoomNetworkError`."""
    from safetensors import SafetensorError, safe_open

    path = Path(path)
    try:
        with safe_open(str(path), framework="pt") as f:
            names = json.loads((f.metadata() or {})[NAMES_KEY])
            tensors = {key: f.get_tensor(key) for key in f.keys()}
        points = {k[len(POINTS):]: tensors.pop(k).numpy() for k in list(tensors) if k.startswith(POINTS)}
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names) or len(names) < 10:
            raise ValueError("no names")
        model = widen(shipped.model, len(names) - 10)
        model.load_state_dict(tensors)
    except (SafetensorError, OSError, ValueError, KeyError, RuntimeError) as error:
        raise RoomNetworkError(f"the room's network {path.name} cannot be used ({error})") from error
    return RoomClassifier(model.eval(), names, shipped, points, path)
