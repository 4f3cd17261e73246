"""The digit score (demo/core/digitness.py): its file, its direction on clear cases, the empty canvas, a clean
import."""

from __future__ import annotations

import ast
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from demo.core.digitness import DEFAULT_PATH, DigitnessError, load_digitness

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def dn():
    return load_digitness()


def test_threshold_and_statistics_load_from_the_weights_files(dn):
    report = json.loads(DEFAULT_PATH.with_suffix(".json").read_text())
    assert dn.threshold == pytest.approx(report["threshold"])
    assert np.isfinite(dn.threshold)
    assert dn.info["method"] == report["method"]
    assert DEFAULT_PATH.stat().st_size < 1_000_000  # small enough to ship beside the weights
    # fitted on the shipped classifier: its last layer and its file hash match
    assert dn.info["classifier_sha256"] == hashlib.sha256((ROOT / "weights" / dn.info["classifier"]).read_bytes()
                                                          ).hexdigest()


def test_missing_file_names_the_fix(tmp_path):
    with pytest.raises(DigitnessError, match="fit_digitness"):
        load_digitness(tmp_path / "nope.safetensors")


def test_digits_score_higher_than_obvious_non_digits(clf, dn, mnist_test):
    from bench.non_digits import non_digits

    images, _ = mnist_test
    digits = np.array([dn.score(clf.predict(images[i]).activations) for i in range(12)])
    marks = [dn.score(clf.predict(d.image).activations) for d in non_digits(3, seed=0, families=["dot", "hline"])]
    scribbles = [dn.score(clf.predict(d.image).activations) for d in non_digits(3, seed=0, families=["scribble"])]
    # A dot and a line are never digits; scribbles are flagged most of the time (2 of these 3), not always.
    assert max(marks) < dn.threshold
    assert np.median(digits) > max(marks + scribbles)
    assert np.mean(np.array(scribbles) < dn.threshold) >= 2 / 3
    # Test digit 8 (a cramped 5) is the one of these twelve the score flags: about 1-2 % of MNIST digits are.
    assert (digits >= dn.threshold).sum() >= 11


def test_empty_canvas_is_not_flagged(clf, dn):
    pred = clf.predict(np.zeros((280, 280), np.float32))
    assert pred.empty
    assert dn.score(pred.activations) is None
    assert dn.looks_like_digit(pred.activations)  # the caller says "empty", not "not a digit"


def test_score_of_one_drawing_matches_the_batch_form(clf, dn, mnist_test):
    from demo.core.digitness import stage_features

    images, _ = mnist_test
    acts = [clf.predict(images[i]).activations for i in range(4)]
    batch = {s: np.stack([stage_features(a)[s] for a in acts]) for s in dn.stages}
    np.testing.assert_allclose(dn.score_features(batch), [dn.score(a) for a in acts], rtol=1e-9)


def test_module_has_no_side_effects_on_import():
    source = (ROOT / "demo" / "core" / "digitness.py").read_text()
    for node in ast.parse(source).body:  # only imports, definitions, constants and the docstring at top level
        assert isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef, ast.Expr, ast.Assign)), \
            ast.dump(node)
        if isinstance(node, ast.Assign):
            names = {n.id for n in ast.walk(node.value) if isinstance(n, ast.Name)}
            assert names <= {"Path", "__file__"}, ast.dump(node)
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            assert "torch" not in ast.dump(node)
    run = subprocess.run([sys.executable, "-c", "import demo.core.digitness"], cwd=ROOT, capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 0 and run.stdout == "" and run.stderr == ""
