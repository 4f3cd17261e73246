"""The learning of a class room's new symbols, in a process of its own (started by demo/server/room_learning.py).

It runs at a lower priority than the live workers (:data:`LEARNING_NICENESS`, one thread), so the pupils' pads
are served first; it reads the room's drawings from the room's file, learns (demo/teaching/class_learning.py),
writes its progress to the room's file as it goes (the teacher's page reads it there, through any copy of the
app), and saves the room's network beside the room's file. Its result, or the reason it failed, is written there
too.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

log = logging.getLogger("convscope")

# Below the live workers (demo/server/work.py: WORKER_NICENESS, 5), which are below the web server: the pupils' pads
# first, then the learning, which takes what they leave (their load comes in bursts, as pupils draw).
LEARNING_NICENESS = 15
REPLAY_PER_DIGIT = 200  # MNIST training digits of each class replayed (2,000 in all)
EXAMPLE_COPIES = 20  # without MNIST: shifted and turned copies of each of the pad's example digits
WRONG_SHOWN = 30  # of the drawings it still reads wrong, those a point of the curves names (the projector shows them)


def _inputs(rows: list[tuple[int, str, int, str]]) -> list[tuple[int, Any]]:
    """The room's drawings (id, strokes, meant, sender) as the network's 28×28 inputs, with what they were meant as
    and who drew them, each with its id."""
    from demo.core.preprocess import preprocess
    from demo.core.strokes import InvalidDrawingError, parse_drawing
    from demo.teaching.class_learning import ClassDrawing

    drawings = []
    for drawing_id, strokes, meant, sender in rows:
        try:
            pad = parse_drawing(strokes)
            prep = preprocess(pad.rasterize(), pad.pen)
        except (InvalidDrawingError, ValueError):
            continue  # (stored drawings were read once already; one that cannot be now is left out)
        if not prep.empty:
            drawings.append((drawing_id, ClassDrawing(prep.input28, int(meant), sender)))
    return drawings


def replay_digits(data_dir: str | None, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """The digits replayed while it learns: MNIST training digits when the server has MNIST, else the pad's example
    digits, shifted and turned."""
    if data_dir:
        from demo.core.data import load_mnist

        mnist = load_mnist(data_dir, download=False)
        generator = torch.Generator().manual_seed(seed)
        picks = [torch.nonzero(mnist.train_labels == d)[:, 0] for d in range(10)]
        picks = [p[torch.randperm(len(p), generator=generator)[:REPLAY_PER_DIGIT]] for p in picks]
        index = torch.cat(picks)
        return mnist.train_images[index].float() / 255, mnist.train_labels[index]
    from demo.core.examples import EXAMPLES, example_image
    from demo.core.preprocess import preprocess
    from demo.teaching.class_learning import augmented

    styles = [(digit, style) for digit, drawn in EXAMPLES.items() for style in range(len(drawn))]
    inputs = torch.from_numpy(np.stack([preprocess(example_image(digit, style), 18).input28
                                        for digit, style in styles]))
    labels = torch.tensor([digit for digit, _ in styles])
    return augmented(inputs, EXAMPLE_COPIES, seed), labels.repeat(EXAMPLE_COPIES + 1)


def reference_points(clf: Any, drawings: list[Any], learned: Any, seed: int) -> dict[str, np.ndarray] | None:
    """Where the room's symbols lie for "none of these" (demo/core/room_network.py): the drawings of them it
    learned from, with their shifted and turned copies. None when the shipped network has no digitness statistics."""
    from demo.core.room_network import symbol_points
    from demo.teaching.class_learning import AUGMENT, augmented

    if clf.digitness is None:
        return None
    held = {id(drawing) for drawing, _ in learned.held_back}
    mine = [d.input28 for d in drawings if d.label >= 10 and id(d) not in held]
    inputs = augmented(torch.from_numpy(np.stack(mine).astype(np.float32)), AUGMENT, seed)
    return symbol_points(clf.model, clf.digitness, inputs)


def run(room_file: str, weights: str, out: str, data_dir: str | None, seed: int = 0) -> None:
    """The process's work (its target): learns the room's symbols and writes everything to the room's file."""
    if hasattr(os, "nice"):  # not on Windows: there it learns at the server's priority
        os.nice(LEARNING_NICENESS)
    torch.set_num_threads(1)
    db = sqlite3.connect(room_file, timeout=30.0, isolation_level=None)
    try:
        _learn(db, weights, out, data_dir, seed)
    except Exception as error:  # written for the teacher's page (in general words) and logged in full
        log.exception("a class room's learning failed")
        db.execute("UPDATE learning SET state = 'failed', finished = ?, error = ? WHERE id = 1",
                   (time.time(), type(error).__name__))
    finally:
        db.close()


def _learn(db: sqlite3.Connection, weights: str, out: str, data_dir: str | None, seed: int) -> None:
    from demo.core.classifier import load_classifier
    from demo.core.data import load_mnist_test
    from demo.core.room_network import save_room_network
    from demo.teaching.class_learning import learn

    started = time.perf_counter()
    names = json.loads(db.execute("SELECT names FROM learning WHERE id = 1").fetchone()[0])
    rows = db.execute("SELECT id, strokes, meant, sender FROM drawings WHERE hidden = 0 AND revealed = 1 "
                      "AND meant IS NOT NULL "
                      "AND sender IS NOT NULL AND meant < ? ORDER BY id", (10 + len(names),)).fetchall()
    numbered = _inputs(rows)
    drawings = [drawing for _, drawing in numbered]
    ids = {id(drawing): drawing_id for drawing_id, drawing in numbered}
    clf = load_classifier(weights)
    # Channels-last convolutions, as in the live workers (demo/server/work.py): the features of the replayed and the
    # 10,000 test digits take about half as long.
    clf.model.to(memory_format=torch.channels_last)
    mnist_test = load_mnist_test(data_dir, download=False) if data_dir else None

    def progress(step: Any) -> None:
        # A point of the curves: [step, loss, accuracy on the symbols' drawings, the drawings it still reads wrong,
        # accuracy on the digits it replays].
        wrong = [numbered[i][0] for i in step.wrong[:WRONG_SHOWN]]
        point = [step.step, round(step.loss, 4), round(step.accuracy, 4), wrong, round(step.digits, 4)]
        db.execute("UPDATE learning SET step = ?, curve = json_insert(curve, '$[#]', json(?)) WHERE id = 1",
                   (step.step, json.dumps(point)))

    learned = learn(clf.model, drawings, len(names), replay_digits(data_dir, seed), mnist_test, seed=seed,
                    on_step=progress)
    path = Path(out)
    save_room_network(path, learned.model, [*clf.names, *names], reference_points(clf, drawings, learned, seed))
    result = {"held_back_accuracy": learned.held_back_accuracy, "held_back": len(learned.held_back),
              "learned_from": learned.learned_from, "mnist_accuracy_before": learned.mnist_before,
              "mnist_accuracy_after": learned.mnist_after,
              "wrong": [{"id": ids.get(id(d)), "meant": d.label, "read": read}
                        for d, read in learned.held_back if read != d.label]}
    kept = db.execute("UPDATE learning SET state = 'done', finished = ?, seconds = ?, result = ? WHERE id = 1",
                      (time.time(), time.perf_counter() - started, json.dumps(result))).rowcount
    if not kept:  # undone while it learned (room_learning.undo): its network goes too
        path.unlink(missing_ok=True)
