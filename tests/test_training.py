"""train.py: a short real run end to end, augmentation, and finding MNIST."""

from __future__ import annotations

import json

import pytest
import torch

import train
from demo import load_classifier
from demo.core.data import MnistNotFoundError, resolve_mnist_root
from demo.core.examples import example_image


@pytest.mark.slow
def test_training_smoke_run(tmp_path, mnist_dir):
    """One short epoch on 2,000 images writes weights, metadata and curves that load_classifier reads back."""
    code = train.main(["--data-dir", str(mnist_dir), "--limit", "2000", "--epochs", "1", "--out-dir",
                       str(tmp_path), "--evals-per-epoch", "2", "--quiet", "--preset", "fast", "--name", "smoke"])
    assert code == 0
    report = json.loads((tmp_path / "smoke.json").read_text())
    for key in ("config", "test_accuracy", "per_class_accuracy", "confusion_matrix", "epochs", "seed",
                "train_seconds", "wall_seconds", "reached_99_percent", "versions", "data_sha256", "curve"):
        assert key in report, key
    assert report["train_images"] == 2000 and len(report["curve"]) == 2
    assert sum(map(sum, report["confusion_matrix"])) == 10000
    assert report["test_accuracy"] > 0.8  # 2,000 images, one epoch: far above chance, far below the shipped model
    assert report["data_sha256"]["t10k-images-idx3-ubyte"].startswith("0fa7898d")
    assert (tmp_path / "smoke_curves.png").stat().st_size > 10_000
    clf = load_classifier(tmp_path / "smoke.safetensors")
    assert clf.report["test_accuracy"] == report["test_accuracy"]
    assert clf.predict(example_image(0)).label is not None


@pytest.mark.slow
def test_training_is_reproducible(tmp_path, mnist_dir):
    args = ["--data-dir", str(mnist_dir), "--limit", "256", "--epochs", "1", "--evals-per-epoch", "1", "--quiet",
            "--preset", "fast", "--threads", "1"]
    # The second run takes no snapshots (the first takes them, by default, several within its few steps): equal
    # weights show both that a run is reproducible and that taking snapshots changes nothing in it.
    train.main(args + ["--snapshot-steps", "0,1,2", "--out-dir", str(tmp_path / "a")])
    train.main(args + ["--no-snapshots", "--out-dir", str(tmp_path / "b")])
    assert (tmp_path / "a" / "cnn_fast_snapshots.safetensors").is_file()
    assert not (tmp_path / "b" / "cnn_fast_snapshots.safetensors").exists()
    a = load_classifier(tmp_path / "a" / "cnn_fast.safetensors").model.state_dict()
    b = load_classifier(tmp_path / "b" / "cnn_fast.safetensors").model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_augment_keeps_shape_and_range():
    g = torch.Generator().manual_seed(0)
    x = torch.zeros(16, 1, 28, 28)
    x[:, :, 6:22, 12:16] = 1
    images = (x[:, 0] * 255).to(torch.uint8)
    out = train.augment(x, train.skeletons(images), 1.0, g)
    assert out.shape == x.shape and out.min() >= 0 and out.max() <= 1
    assert not torch.equal(out, x)
    assert torch.equal(train.augment(x, None, 0.0, g), x)


def test_redraw_draws_uniform_strokes():
    images = torch.zeros(4, 28, 28, dtype=torch.uint8)
    images[:, 5:23, 13:15] = 255
    out = train.redraw(train.skeletons(images), torch.Generator().manual_seed(0))
    assert out.shape == (4, 1, 28, 28)
    # Solid pen strokes: the thinnest pen (1.25 px at 28×28) may not cover a whole pixel, so its peak can be 0.75;
    # augment() stretches every image back to a full-ink core.
    assert (out.amax(dim=(1, 2, 3)) >= 0.75).all()
    assert (out >= 0.999).any()


def test_missing_data_names_the_folder(tmp_path, monkeypatch):
    import torchvision.datasets

    def offline(*args, **kwargs):
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz")

    monkeypatch.setattr(torchvision.datasets, "MNIST", offline)
    with pytest.raises(MnistNotFoundError) as error:
        resolve_mnist_root(tmp_path / "empty")
    assert str(tmp_path / "empty") in str(error.value) and "downloading it failed" in str(error.value)
    with pytest.raises(MnistNotFoundError, match="was not found"):
        resolve_mnist_root(tmp_path / "empty", download=False)


def test_train_cli_reports_missing_data(tmp_path, monkeypatch, capsys):
    import torchvision.datasets

    monkeypatch.setattr(torchvision.datasets, "MNIST", lambda *a, **k: (_ for _ in ()).throw(OSError("offline")))
    assert train.main(["--data-dir", str(tmp_path), "--quiet"]) == 2
    assert str(tmp_path) in capsys.readouterr().err


def test_presets_and_flags():
    with pytest.raises(SystemExit):
        train.parse_args(["--epochs", "0"])
    args = train.parse_args(["--preset", "fast"])
    assert (args.model, args.epochs, args.name) == ("cnn-small", 2, "cnn_fast")
    args = train.parse_args(["--arch", "mlp"])
    assert (args.model, args.name) == ("mlp", "mlp")


def test_every_flag_states_its_default(capsys):
    with pytest.raises(SystemExit):
        train.parse_args(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    for flag in ("--data-dir", "--arch", "--preset", "--epochs", "--batch-size", "--lr", "--seed", "--limit",
                 "--threads", "--out-dir", "--evals-per-epoch"):
        assert flag in text
    assert text.count("(default:") >= 14
