"""A class room's own network: the room's new symbols learned in the background, what the teacher's page shows while
it learns, and undoing it.

The state is one row of the room's file (table ``learning``, demo/server/room.py): every copy of the app sharing
the file sees the same, and the learning process (demo/server/learn_job.py) writes its progress there. The room's
network is a file beside the room's (``<room file>.learned.safetensors``); no row, or no file, is the shipped
network.

- :func:`start` checks that each symbol has enough drawings (a clear refusal naming the one that has not), that
  the room is not learning already and that this copy of the app is not learning for another room
  (:data:`MAX_LEARNING`), then starts the process and a thread that waits for it at most :data:`LEARN_WITHIN_S`
  (then it is stopped and the state says so).
- :func:`status` is what ``GET .../learn`` answers; :func:`undo` goes back to the shipped network.
"""

from __future__ import annotations

import contextlib
import json
import logging
import multiprocessing
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from demo.teaching.class_learning import MIN_DRAWINGS, MIN_PUPILS, STEPS
from demo.texts import plain

from .room import Room
from .room_symbols import symbols
from .work import start_method

log = logging.getLogger("convscope")

LEARN_WITHIN_S = 180.0  # a learning that takes longer is stopped (on 2 busy cores it takes well under a minute)
MAX_LEARNING = 1  # learning processes at once per copy of the app: each holds a network, and the cores are the pads'
_learning = threading.BoundedSemaphore(MAX_LEARNING)


class CannotLearn(Exception):
    """Learning cannot start: ``message`` says why, for the teacher; ``status`` is the HTTP status."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message, self.status = message, status


def network_file(room: Room) -> Path:
    """Where the room's own network is kept: beside its file."""
    return room.path.with_name(room.path.name + ".learned.safetensors")


def network_in_use(room: Room | None) -> str:
    """The file of the network that reads the room's drawings: its own once learned, else "" (the shipped one)."""
    path = network_file(room) if room is not None else None
    return str(path) if path is not None and path.is_file() else ""


def _row(room: Room) -> sqlite3.Row | None:
    db = room.read()
    db.row_factory = sqlite3.Row
    try:
        return db.execute("SELECT * FROM learning WHERE id = 1").fetchone()
    finally:
        db.row_factory = None


def check_drawings(room: Room, names: list[str]) -> None:
    """Raises :class:`CannotLearn` when the room has no symbols, or one of them has too few drawings or pupils: the
    drawings the class sees (shown, not hidden: with "review first", those the teacher let through) from pupils with
    an identity."""
    if not names:
        raise CannotLearn(plain("server.room_learning.no_symbols"))
    db = room.read()
    for i, name in enumerate(names):
        drawings, pupils = db.execute("SELECT COUNT(*), COUNT(DISTINCT sender) FROM drawings WHERE meant = ? "
                                      "AND hidden = 0 AND revealed = 1 AND sender IS NOT NULL",
                                      (10 + i,)).fetchone()
        if drawings < MIN_DRAWINGS or pupils < MIN_PUPILS:
            raise CannotLearn(plain("server.room_learning.too_few", symbol=name, drawings=drawings, pupils=pupils,
                                    min_drawings=MIN_DRAWINGS, min_pupils=MIN_PUPILS))


def start(room: Room, weights: str, data_dir: str | None) -> None:
    """Starts learning the room's symbols in a process of its own. Raises :class:`CannotLearn`."""
    names = symbols(room)
    check_drawings(room, names)
    now = time.time()

    def claim(db: sqlite3.Connection) -> bool:
        running = db.execute("SELECT started FROM learning WHERE id = 1 AND state = 'running'").fetchone()
        if running is not None and now - running[0] < LEARN_WITHIN_S:
            raise CannotLearn(plain("server.room_learning.running"), 409)
        db.execute("INSERT OR REPLACE INTO learning (id, state, names, started, steps) VALUES (1, 'running', ?, ?, ?)",
                   (json.dumps(names), now, STEPS))
        return True

    row = _row(room)
    if row is not None and row["state"] == "running" and now - row["started"] < LEARN_WITHIN_S:
        raise CannotLearn(plain("server.room_learning.running"), 409)  # (checked again as it is claimed)
    if not _learning.acquire(blocking=False):  # another room of this copy is learning: one at a time
        raise CannotLearn(plain("server.room_learning.busy"), 503)
    try:
        room.change(claim)
        from .learn_job import run

        # The workers' start method (demo/server/work.py): on Linux a child of the forkserver, which has imported
        # torch and the app already, so the learning starts at once and shares those pages with the workers.
        process = multiprocessing.get_context(start_method()).Process(
            target=run, args=(str(room.path), weights, str(network_file(room)), data_dir), daemon=True,
            name="convscope-learning")
        process.start()
    except BaseException:
        _learning.release()
        raise
    threading.Thread(target=_watch, args=(room.path, process), name="convscope-learning-watch", daemon=True).start()


def _watch(room_file: Path, process: multiprocessing.process.BaseProcess) -> None:
    """Waits for the learning process; one that runs too long is stopped, and one that ended without saying how
    (killed, out of memory) is marked failed."""
    try:
        process.join(LEARN_WITHIN_S)
        stopped = process.is_alive()
        if stopped:
            process.kill()
            process.join(10)
            log.warning("a class room's learning took longer than %.0f s and was stopped", LEARN_WITHIN_S)
    finally:
        _learning.release()
    code = process.exitcode
    error = "timeout" if stopped else f"signal:{-code}" if code is not None and code < 0 else f"exit:{code}"
    with contextlib.closing(sqlite3.connect(room_file, timeout=30.0, isolation_level=None)) as db:
        db.execute("UPDATE learning SET state = 'failed', finished = ?, error = ? WHERE id = 1 AND state = 'running'",
                   (time.time(), error))


def status(room: Room) -> dict[str, Any]:
    """``GET .../learn``: ``{"state": "idle|running|done|failed", "step", "steps", "seconds", "names", "curve",
    "held_back_accuracy", "mnist_accuracy_before", "mnist_accuracy_after", "wrong", ...}``."""
    row = _row(room)
    if row is None:
        return {"state": "idle", "step": 0, "steps": STEPS, "seconds": None, "names": [], "curve": [],
                "held_back_accuracy": None, "mnist_accuracy_before": None, "mnist_accuracy_after": None, "wrong": []}
    result = json.loads(row["result"]) if row["result"] else {}
    # A learning whose server stopped while it ran (so nobody marked it) is said to have failed once it is overdue.
    overdue = row["state"] == "running" and time.time() - row["started"] > LEARN_WITHIN_S + 30
    state = "failed" if overdue else row["state"]
    seconds = row["seconds"] if row["seconds"] is not None else (row["finished"] or time.time()) - row["started"]
    answer = {"state": state, "step": row["step"], "steps": row["steps"], "seconds": round(seconds, 2),
              "names": json.loads(row["names"]), "curve": json.loads(row["curve"]),
              "held_back_accuracy": None, "mnist_accuracy_before": None, "mnist_accuracy_after": None, "wrong": [],
              **result}
    if state == "failed":
        answer["error"] = plain("server.room_learning.failed")
    return answer


def undo(room: Room) -> bool:
    """Back to the shipped network: the room's own is deleted (a learning still running is left to finish and
    is then undone too). Returns whether there was anything to undo."""

    def forget(db: sqlite3.Connection) -> bool:
        return db.execute("DELETE FROM learning WHERE id = 1").rowcount > 0

    changed = room.change(forget)
    network_file(room).unlink(missing_ok=True)
    return changed
