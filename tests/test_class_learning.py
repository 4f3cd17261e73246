"""A class teaching the network new symbols (demo/teaching/class_learning.py), without a server: the widened copy
reads digits exactly as the shipped network until it learns, learning changes only the copy, pupils held back are
never learned from, too few drawings are refused with the symbol named, and a short run learns three symbols from
simulated pupils (bench/class_symbols.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from bench.class_symbols import class_drawings
from demo.core.preprocess import preprocess
from demo.core.strokes import parse_drawing
from demo.teaching.class_learning import (
    MIN_DRAWINGS,
    ClassDrawing,
    NotEnoughDrawings,
    check_enough,
    features,
    learn,
    split_by_pupil,
    widen,
)

SYMBOLS = ["star", "heart", "tree"]


def model_input(drawing: dict) -> np.ndarray:
    pad = parse_drawing(json.dumps(drawing))
    return preprocess(pad.rasterize(), pad.pen).input28


@pytest.fixture(scope="module")
def class_set() -> list[ClassDrawing]:
    return [ClassDrawing(model_input(d.drawing), 10 + SYMBOLS.index(d.symbol), d.pupil)
            for d in class_drawings(SYMBOLS, pupils=12, per_pupil=1, seed=3)]


def test_the_widened_copy_reads_digits_as_the_shipped_network_until_it_learns(clf, mnist_test):
    images, labels = mnist_test
    x = torch.from_numpy(images[:300]).float()[:, None] / 255
    wider = widen(clf.model, 3)
    with torch.inference_mode():
        shipped, copied = clf.model(x), wider(x)
    assert copied.shape == (300, 13) and torch.allclose(copied[:, :10], shipped, atol=1e-5)
    assert (copied[:, 10:].max(1).values < shipped.max(1).values).all()  # the new outputs start below the answer
    assert torch.equal(copied.argmax(1), shipped.argmax(1))
    assert wider.fc2 is not clf.model.fc2 and clf.model.fc2.out_features == 10  # the shipped network is untouched


def test_pupils_held_back_are_never_learned_from(class_set):
    learn_set, held = split_by_pupil(class_set, share=0.25, seed=0)
    held_pupils = {d.pupil for d in held}
    assert len(held_pupils) == 3  # a quarter of twelve
    assert not held_pupils & {d.pupil for d in learn_set}
    assert len(learn_set) + len(held) == len(class_set)
    for label in (10, 11, 12):  # every symbol keeps drawings to learn from and to judge with
        assert any(d.label == label for d in learn_set) and any(d.label == label for d in held)


def test_too_few_drawings_of_a_symbol_are_refused_naming_it(class_set):
    stars = [d for d in class_set if d.label == 10]
    with pytest.raises(NotEnoughDrawings) as refused:
        check_enough([*stars, *[d for d in class_set if d.label == 11][:MIN_DRAWINGS - 1]], 2)
    assert refused.value.symbol == "1" and refused.value.drawings == MIN_DRAWINGS - 1
    one_pupil = [ClassDrawing(d.input28, 10, "pupil-00") for d in stars]  # many drawings, one hand
    with pytest.raises(NotEnoughDrawings) as refused:
        check_enough(one_pupil, 1)
    assert refused.value.pupils == 1


def test_a_short_run_learns_the_symbols_and_leaves_the_shipped_network_alone(clf, class_set, mnist_test):
    images, labels = mnist_test
    shipped = {name: t.clone() for name, t in clf.model.state_dict().items()}
    replay = (torch.from_numpy(images[:1000]).float() / 255, torch.from_numpy(labels[:1000]).long())
    points = []
    result = learn(clf.model, class_set, 3, replay, (torch.from_numpy(images[1000:3000]),
                                                      torch.from_numpy(labels[1000:3000]).long()),
                   steps=60, on_step=points.append)
    assert all(torch.equal(t, clf.model.state_dict()[name]) for name, t in shipped.items())
    assert points == result.curve and [p.step for p in points] == list(range(5, 61, 5))
    assert points[-1].loss < points[0].loss and points[-1].accuracy > points[0].accuracy
    assert all(p.digits >= 0.9 for p in points)  # the digits it replays stay read right
    assert result.model.fc2.out_features == 13
    # Each point names the drawings of the symbols it learns from that it still reads wrong, fewer as it learns; the
    # model at the end reads exactly the last point's list wrong.
    held_ids = {id(d) for d, _ in result.held_back}
    learned = [i for i, d in enumerate(class_set) if d.label >= 10 and id(d) not in held_ids]
    assert set(points[0].wrong) <= set(learned) and len(points[-1].wrong) < len(points[0].wrong)
    with torch.inference_mode():
        now = result.model(torch.from_numpy(np.stack([class_set[i].input28 for i in learned]))[:, None]).argmax(1)
    assert [i for i, r in zip(learned, now.tolist(), strict=True) if r != class_set[i].label] == list(points[-1].wrong)
    assert result.held_back and result.held_back_accuracy >= 0.7  # hands it never saw, after 60 steps
    assert result.mnist_after >= result.mnist_before - 0.02
    # The learned copy reads the held-back drawings as the result says.
    held = torch.from_numpy(np.stack([d.input28 for d, _ in result.held_back]))
    with torch.inference_mode():
        read = result.model(held[:, None]).argmax(1).tolist()
    assert read == [r for _, r in result.held_back]
    assert features(result.model, held).shape[1] == result.model.fc1.in_features
