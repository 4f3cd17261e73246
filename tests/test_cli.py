"""The command-line tools: python -m demo.predict and python -m demo.evaluate, run as real processes."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from demo.core.examples import example_image
from tests.harness import ROOT

pytestmark = pytest.mark.slow  # each test starts a Python process that loads torch


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


def _write_digits(folder):
    paths = []
    for digit in (2, 7):
        path = folder / f"digit{digit}.png"
        ink = (example_image(digit, 0, 200, 14) * 255).astype(np.uint8)
        rgba = np.zeros((200, 200, 4), np.uint8)
        rgba[..., 3] = ink  # a canvas export: black ink on a transparent background
        Image.fromarray(rgba, "RGBA").save(path)
        paths.append(path)
    return paths


def test_predict_answers_good_files_and_names_the_broken_one(tmp_path):
    good = _write_digits(tmp_path)
    broken = tmp_path / "broken.png"
    broken.write_bytes(good[0].read_bytes()[:200])  # a truncated PNG
    text = tmp_path / "notes.txt"
    text.write_text("not an image")
    result = run("demo.predict", str(good[0]), str(broken), str(text), str(good[1]))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{good[0]}: 2 (") and lines[1].startswith(f"{good[1]}: 7 (")
    assert str(broken) in result.stderr and "truncated" in result.stderr
    assert str(text) in result.stderr and "not an image" in result.stderr
    assert "Traceback" not in result.stderr


def test_predict_json(tmp_path):
    good = _write_digits(tmp_path)
    blank = tmp_path / "blank.png"
    Image.new("L", (100, 100), 255).save(blank)
    result = run("demo.predict", "--json", *map(str, good), str(blank))
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["label"] for r in rows] == [2, 7, None]
    assert [r["path"] for r in rows] == [str(p) for p in (*good, blank)]
    for r in rows:
        assert len(r["probs"]) == 10 and abs(sum(r["probs"]) - 1) < 1e-4


def test_predict_with_missing_weights(tmp_path):
    good = _write_digits(tmp_path)
    result = run("demo.predict", "--weights", str(tmp_path / "none.safetensors"), str(good[0]))
    assert result.returncode == 2
    assert "none.safetensors" in result.stderr and "python train.py" in result.stderr


def test_evaluate_prints_accuracy(mnist_dir, mnist_test, clf):
    """The command's report on the first 2,000 test digits, equal to the model's own reading of them (the shipped
    network's accuracy on all 10,000 is tests/test_accuracy.py's)."""
    result = run("demo.evaluate", "--data-dir", str(mnist_dir), "--limit", "2000")
    assert result.returncode == 0, result.stderr
    first = result.stdout.splitlines()[0]
    assert first.startswith("test accuracy: ") and "2,000" in first
    images, labels = mnist_test
    expected = np.mean(clf.predict_mnist(images[:2000]).argmax(1) == labels[:2000])
    assert first.split()[2] == f"{100 * expected:.2f}%" and expected >= 0.99
    assert len(result.stdout.splitlines()) == 11  # overall + one line per digit


def test_evaluate_as_images_puts_each_digit_through_predict(mnist_dir, mnist_test):
    from demo import load_classifier

    # The MLP, on 200 digits: there the two ways of feeding the digits differ (99.5 % raw, 100 % as images).
    weights = ROOT / "weights" / "mlp.safetensors"
    common = ("--data-dir", str(mnist_dir), "--weights", str(weights), "--limit", "200")
    as_images, raw = run("demo.evaluate", *common, "--as-images"), run("demo.evaluate", *common)
    assert as_images.returncode == 0 and raw.returncode == 0, as_images.stderr + raw.stderr
    first = as_images.stdout.splitlines()[0]
    assert "on 200 MNIST test images, each put through predict()'s preprocessing" in first
    mlp = load_classifier(weights)
    images, labels = mnist_test
    expected = np.mean([mlp.predict(image).label == label
                        for image, label in zip(images[:200], labels[:200], strict=True)])
    assert first.split()[2] == f"{100 * expected:.2f}%"
    assert raw.stdout.splitlines()[0].split()[2] != first.split()[2]
