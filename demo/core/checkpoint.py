"""Saving and loading weights as safetensors (no pickle: loading never runs code from the file).

A checkpoint is ``<name>.safetensors`` whose header metadata carries the architecture config (so the file alone
rebuilds the model), plus ``<name>.json`` beside it with the training report (accuracy, confusion matrix, timings,
data hashes...). Every failure becomes a :class:`WeightsError` naming the file, what is wrong, and the command that
rebuilds it.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .model import build_model

CONFIG_KEY = "convscope_config"


class WeightsError(RuntimeError):
    """The weights file is missing, unreadable or does not match its architecture."""


# train.py flags that write each shipped file (the file name is train.py's --name, which these flags default).
TRAIN_FLAGS = {"cnn": [], "cnn_fast": ["--preset", "fast"], "mlp": ["--arch", "mlp"]}


def rebuild_command(path: Path) -> str:
    """The train.py command that writes ``path`` again (a CNN under that name for files it did not ship)."""
    flags = TRAIN_FLAGS.get(path.stem, ["--name", path.stem])
    return shlex.join(["python", "train.py", *flags, "--data-dir", "../shared/data/mnist", "--out-dir",
                       str(path.parent)])


def metadata_path(weights_path: str | Path) -> Path:
    return Path(weights_path).with_suffix(".json")


def save_checkpoint(model: nn.Module, config: dict[str, Any], path: str | Path,
                    report: dict[str, Any] | None = None) -> Path:
    """Writes the model's tensors (and ``report`` as JSON beside them); returns the weights path."""
    from safetensors.torch import save_file

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {name: t.detach().contiguous().cpu() for name, t in model.state_dict().items()}
    save_file(tensors, str(path), metadata={CONFIG_KEY: json.dumps(config, sort_keys=True)})
    if report is not None:
        metadata_path(path).write_text(json.dumps({"config": config, **report}, indent=2) + "\n")
    return path


def read_safetensors(path: str | Path, framework: str = "numpy") -> tuple[dict[str, str], dict[str, Any]]:
    """A safetensors file's header metadata and every tensor (``framework``: "numpy" or "pt"); the reader's own
    errors (SafetensorError, OSError...) pass through for the caller to explain."""
    from safetensors import safe_open

    with safe_open(str(path), framework=framework) as f:
        return f.metadata() or {}, {key: f.get_tensor(key) for key in f.keys()}


def load_checkpoint(path: str | Path) -> tuple[nn.Sequential, dict[str, Any], dict[str, Any]]:
    """Rebuilds the eval-mode model stored at ``path``; returns ``(model, config, report)``.

    ``report`` is the JSON beside the weights, or ``{}`` when that file is absent.
    """
    from safetensors import SafetensorError

    path = Path(path)
    fix = f"Rebuild it with: {rebuild_command(path)}"
    if not path.is_file():
        raise WeightsError(f"weights file {path} does not exist. {fix}")
    try:
        header, tensors = read_safetensors(path, "pt")
    except (SafetensorError, OSError, ValueError, RuntimeError) as error:
        raise WeightsError(f"weights file {path} is not a readable safetensors file ({error}); it may be truncated "
                           f"or corrupted. {fix}") from error
    if CONFIG_KEY not in header:
        raise WeightsError(f"weights file {path} carries no ConvScope architecture config. {fix}")
    try:
        config = json.loads(header[CONFIG_KEY])
        model = build_model(config)
    except (ValueError, KeyError, TypeError) as error:
        raise WeightsError(f"weights file {path} has an unusable architecture config ({error}). {fix}") from error
    try:
        model.load_state_dict(tensors, strict=True)
    except RuntimeError as error:
        raise WeightsError(f"weights file {path} does not match its architecture config: {error}. {fix}") from error
    for name, tensor in tensors.items():
        if not torch.isfinite(tensor).all():
            raise WeightsError(f"weights file {path} holds non-finite values in {name}. {fix}")

    report: dict[str, Any] = {}
    meta_file = metadata_path(path)
    if meta_file.is_file():
        try:
            report = json.loads(meta_file.read_text())
        except (ValueError, OSError) as error:
            raise WeightsError(f"metadata file {meta_file} is not valid JSON ({error}). {fix}") from error
        if report.get("config", config) != config:
            raise WeightsError(f"metadata file {meta_file} describes a different architecture than {path}. {fix}")
    return model.eval(), config, report
