"""The networks: staged forward is exactly model(x) (oracle test), batch-norm folding, checkpoints."""

from __future__ import annotations

import json
import shlex
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

import train
from demo import WeightsError, load_classifier
from demo.core.checkpoint import load_checkpoint, rebuild_command, save_checkpoint
from demo.core.model import (
    ACTIVATION,
    CONV,
    POOL,
    build_model,
    default_config,
    fold_batchnorm,
    inference_config,
    stage_kind,
    staged_forward,
)


def _random_inputs(n: int = 8) -> torch.Tensor:
    return torch.rand(n, 1, 28, 28, generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize("arch", ["cnn", "cnn-small", "mlp"])
def test_staged_forward_is_exactly_the_model(arch):
    torch.manual_seed(0)
    model = build_model(default_config(arch)).eval()
    x = _random_inputs()
    logits, outputs = staged_forward(model, x)
    assert torch.equal(logits, model(x))
    assert list(outputs) == [name for name, _ in model.named_children()]


def test_staged_forward_of_the_shipped_model_by_hand(clf):
    """Re-computing each stage from the previous stage's recorded output gives the next recorded output."""
    x = torch.from_numpy(clf.predict(np.asarray(_random_inputs(1)[0, 0] > 0.7, np.float32)).input28)[None, None]
    logits, outputs = staged_forward(clf.model, x)
    previous = x
    for name, stage in clf.model.named_children():
        assert torch.equal(stage(previous), outputs[name]), name
        previous = outputs[name]
    assert torch.equal(logits, clf.model(x))


def test_shipped_cnn_has_the_tutorials_layer_kinds(clf):
    kinds = [stage_kind(m) for _, m in clf.model.named_children()]
    for kind in (CONV, ACTIVATION, POOL, "flatten", "fc"):
        assert kind in kinds
    for name, module in clf.model.named_children():
        if stage_kind(module) == CONV:
            assert module.out_channels <= 64, name


def test_activations_are_every_conv_activation_and_pool_stage(clf):
    from demo.core.examples import example_image

    r = clf.predict(example_image(4))
    expected = [n for n, m in clf.model.named_children() if stage_kind(m) in (CONV, ACTIVATION, POOL)]
    assert list(r.activations) == expected
    assert r.activations["conv1"].shape == (32, 28, 28)
    assert r.activations["pool1"].shape == (32, 14, 14)
    assert all(a.ndim == 3 for a in r.activations.values())
    assert abs(sum(r.probs) - 1) < 1e-9 and len(r.probs) == 10
    assert r.label == int(np.argmax(r.probs))


def test_fold_batchnorm_is_equivalent():
    torch.manual_seed(1)
    model = build_model(default_config("cnn"))
    model.train()
    for _ in range(3):  # give batch norm non-trivial running statistics
        model(_random_inputs(32) * 3)
    model.eval()
    folded = fold_batchnorm(model)
    x = _random_inputs()
    assert torch.allclose(model(x), folded(x), atol=1e-5)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in folded.modules())
    assert build_model(inference_config(default_config("cnn"))).state_dict().keys() == folded.state_dict().keys()


def test_checkpoint_round_trip(tmp_path):
    torch.manual_seed(2)
    config = inference_config(default_config("cnn-small"))
    model = build_model(config).eval()
    path = save_checkpoint(model, config, tmp_path / "net.safetensors", {"test_accuracy": 0.5})
    loaded, loaded_config, report = load_checkpoint(path)
    assert loaded_config == config and report["test_accuracy"] == 0.5
    for (name, a), (_, b) in zip(model.state_dict().items(), loaded.state_dict().items(), strict=True):
        assert torch.equal(a, b), name
    x = _random_inputs()
    assert torch.equal(model(x), loaded(x))
    assert not loaded.training


def _saved(tmp_path, name="cnn.safetensors"):
    config = inference_config(default_config("cnn-small"))
    return save_checkpoint(build_model(config), config, tmp_path / name, {"note": "test"}), config


def test_missing_weights_name_the_file_and_the_fix(tmp_path):
    path = tmp_path / "nowhere" / "cnn.safetensors"
    with pytest.raises(WeightsError) as error:
        load_classifier(path)
    assert str(path) in str(error.value) and "does not exist" in str(error.value)
    assert "python train.py" in str(error.value)


def test_truncated_weights(tmp_path):
    path, _ = _saved(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(WeightsError, match="truncated or corrupted") as error:
        load_classifier(path)
    assert str(path) in str(error.value) and "python train.py" in str(error.value)


def test_garbage_weights(tmp_path):
    path = tmp_path / "cnn.safetensors"
    path.write_bytes(b"\x80\x04 this is a pickle, not safetensors" * 10)
    with pytest.raises(WeightsError, match="not a readable safetensors file"):
        load_classifier(path)


def test_weights_that_do_not_match_the_config(tmp_path):
    """A config claiming other layer sizes than the tensors have is caught."""
    from safetensors.torch import load_file, save_file

    path, config = _saved(tmp_path)
    tensors = load_file(str(path))
    bigger = {**config, "hidden": config["hidden"] * 2}
    save_file(tensors, str(path), metadata={"convscope_config": json.dumps(bigger)})
    (tmp_path / "cnn.json").unlink()
    with pytest.raises(WeightsError, match="does not match its architecture"):
        load_classifier(path)


def test_metadata_that_disagrees_with_the_weights(tmp_path):
    path, config = _saved(tmp_path)
    meta = path.with_suffix(".json")
    meta.write_text(json.dumps({"config": {**config, "hidden": 7}}))
    with pytest.raises(WeightsError, match="different architecture"):
        load_classifier(path)
    meta.write_text("{not json")
    with pytest.raises(WeightsError, match="not valid JSON"):
        load_classifier(path)


def test_non_finite_weights(tmp_path):
    from safetensors.torch import load_file, save_file

    path, config = _saved(tmp_path)
    tensors = load_file(str(path))
    tensors["fc2.bias"][0] = float("nan")
    save_file(tensors, str(path), metadata={"convscope_config": json.dumps(config)})
    with pytest.raises(WeightsError, match="non-finite"):
        load_classifier(path)


def test_header_length_lie(tmp_path):
    """A header length pointing past the end of the file is reported, not a crash."""
    path, _ = _saved(tmp_path)
    data = bytearray(path.read_bytes())
    data[:8] = struct.pack("<Q", 10**12)
    path.write_bytes(bytes(data))
    with pytest.raises(WeightsError):
        load_classifier(path)


@pytest.mark.parametrize("stem", ["cnn", "cnn_fast", "mlp", "my_cnn"])
def test_the_rebuild_command_writes_that_very_file(stem, tmp_path):
    """The command a weights error suggests names the file that is missing, not another one."""
    command = shlex.split(rebuild_command(tmp_path / f"{stem}.safetensors"))
    assert command[:2] == ["python", "train.py"]
    args = train.parse_args(command[2:])
    assert Path(args.out_dir) / f"{args.name}.safetensors" == tmp_path / f"{stem}.safetensors"
