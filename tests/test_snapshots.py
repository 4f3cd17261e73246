"""Training snapshots (demo/teaching/snapshots.py, train.py --snapshots) and the Watch it learn view: they load back as
the networks they were, and the last is the shipped network itself. That taking them leaves training unchanged is
tests/test_training.py's reproducibility test."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file

import train
from demo.core.checkpoint import load_checkpoint
from demo.teaching.snapshots import DEFAULT_PATH, SNAPSHOTS_KEY, dequantize, load_snapshots, quantize, snapshots_path
from demo.views.tabs.learning import learning_html


def accuracy(model: torch.nn.Module, images: np.ndarray, labels: np.ndarray, batch: int = 128) -> float:
    """Test accuracy of ``model`` on uint8 images, in batches (small ones stay in the CPU's caches)."""
    with torch.inference_mode():
        right = sum(int((model(torch.from_numpy(images[i:i + batch]).float()[:, None] / 255).argmax(1).numpy()
                         == labels[i:i + batch]).sum()) for i in range(0, len(images), batch))
    return right / len(images)


SMALL = ["--limit", "512", "--epochs", "2", "--evals-per-epoch", "1", "--quiet", "--preset", "fast", "--threads", "1",
         "--snapshot-steps", "0,1,3", "--snapshot-epochs", "1"]


@pytest.fixture(scope="module")
def small_run(tmp_path_factory, mnist_dir):
    """A short run with snapshots (that they leave training unchanged: tests/test_training.py)."""
    root = tmp_path_factory.mktemp("snapshots")
    assert train.main(["--data-dir", str(mnist_dir), *SMALL, "--out-dir", str(root / "with")]) == 0
    return root


@pytest.mark.slow  # a short training run, and each snapshot on the 10,000 test digits
@pytest.mark.full_pass  # a snapshot's stored accuracy is the one on all 10,000
def test_small_run_snapshots_load_back(small_run, mnist_test):
    weights = small_run / "with" / "cnn_fast.safetensors"
    model, _, report = load_checkpoint(weights)
    snaps = load_snapshots(model, weights, report)
    assert snaps is not None and snaps.same_run
    steps_per_epoch = snaps.steps_per_epoch
    assert steps_per_epoch == 4  # 512 images, batches of 128
    assert [i.step for i in snaps.infos] == [0, 1, 3, 4, 8]  # 0, 1, 3 steps; end of epoch 1; the trained network
    assert snaps.models[-1] is model
    assert [i.label for i in snaps.infos[:4]] == ["before training", "after 1 steps", "after 3 steps",
                                                  "after epoch 1"]
    # Each stored snapshot, dequantized, scores on the 10,000 test digits what it scored in float32 when it was taken
    # (these barely trained networks put many digits near a boundary, where rounding a weight can tip them).
    images, labels = mnist_test
    for info, m in zip(snaps.infos[:-1], snaps.models[:-1], strict=True):
        measured = accuracy(m, images, labels)
        assert abs(measured - info.test_accuracy) < 0.01, (info, measured)


def test_quantization_rounds_each_weight_by_at_most_half_a_step():
    torch.manual_seed(0)
    w = torch.randn(16, 3, 5, 5) * torch.logspace(-3, 1, 16)[:, None, None, None]
    w[4] = 0  # a row of zeros (a filter switched off) stays zeros
    q, scale = quantize(w)
    assert q.dtype == torch.int8 and scale.dtype == torch.float16 and scale.shape == (16,)
    back = dequantize(q, scale)
    step = scale.float()[:, None, None, None]
    assert torch.all((back - w).abs() <= step / 2 + 1e-7)
    assert torch.equal(back[4], torch.zeros_like(back[4]))


@pytest.mark.slow
@pytest.mark.full_pass  # a snapshot's stored accuracy is the one on all 10,000
def test_shipped_snapshots(clf, mnist_test):
    assert DEFAULT_PATH == snapshots_path(clf.path) and DEFAULT_PATH.is_file()
    assert DEFAULT_PATH.stat().st_size <= 5 * 1024 * 1024
    snaps = load_snapshots(clf.model, clf.path, clf.report)
    assert snaps is not None and 8 <= len(snaps) <= 14
    # The last step is the shipped network itself, with its own report.
    assert snaps.models[-1] is clf.model
    assert snaps.infos[-1].test_accuracy == clf.report["test_accuracy"]
    assert snaps.infos[-1].epoch == clf.report["epochs"]
    steps = [i.step for i in snaps.infos]
    assert steps == sorted(set(steps)) and steps[0] == 0
    images, labels = mnist_test
    # Stored as int8 rows, a snapshot scores on the 10,000 test digits what its float32 original did when training
    # took it (all of them measured: within 0.2 points, the largest gaps at the barely trained early steps). Three
    # are checked here, early, middle and late: each takes ~8 s on 2 cores.
    for i in (1, len(snaps) // 2, len(snaps) - 2):
        measured = accuracy(snaps.models[i], images, labels)
        assert abs(measured - snaps.infos[i].test_accuracy) < 0.003, (snaps.infos[i], measured)
    # Along the way, on the first 1,000: from a guess to the trained network, better and better on the whole.
    accuracies = [accuracy(m, images[:1000], labels[:1000]) for m in snaps.models]
    assert accuracies[0] < 0.3 and accuracies[-1] > 0.99
    assert accuracies[3] > accuracies[1] > accuracies[0] and min(accuracies[4:]) > 0.98


def test_missing_or_broken_snapshots_turn_the_tab_off(tmp_path, clf):
    assert load_snapshots(clf.model, clf.path, clf.report, tmp_path / "none.safetensors") is None
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"not a safetensors file")
    assert load_snapshots(clf.model, clf.path, clf.report, junk) is None
    wrong = tmp_path / "wrong.safetensors"
    save_file({"x": torch.zeros(1)}, str(wrong), metadata={SNAPSHOTS_KEY: json.dumps({"snapshots": []})})
    assert load_snapshots(clf.model, clf.path, clf.report, wrong) is None
    html = learning_html(None, None, 0)
    assert 'id="learning"' in html and 'data-state="off"' in html and "train.py" in html


def test_learning_view(clf, mnist_test):
    snaps = load_snapshots(clf.model, clf.path, clf.report)
    images, _ = mnist_test
    input28 = images[0].astype(np.float32) / 255
    html = learning_html(snaps, input28, 999)  # clamped to the last
    assert html.count("data-snapshot=") == len(snaps)
    assert f'data-index="{len(snaps) - 1}"' in html and 'data-state="ready"' in html
    probs, _ = clf.forward_staged(input28)
    assert f'data-answer="{int(probs.argmax())}"' in html
    first = learning_html(snaps, None, -5)
    assert 'data-index="0"' in first and 'data-state="empty"' in first and "before training" in first


def test_snapshot_header_describes_its_run():
    with safe_open(str(DEFAULT_PATH), framework="pt") as f:
        header = json.loads(f.metadata()[SNAPSHOTS_KEY])
    assert header["config"]["batchnorm"] is False  # folded, as the shipped network
    assert len(header["curve"]) >= 20 and header["steps_per_epoch"] == 469
