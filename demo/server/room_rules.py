"""The class room's rules (demo/server/room.py holds the room): what a pupil and a room may send, the refusal that
says which limit was reached, and what is kept of what a pupil typed. Each write is one SQLite transaction, the
same in every process sharing the room's file.
"""

from __future__ import annotations

import contextlib
import sqlite3
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

SENDER_CHARS = 64


@dataclass(frozen=True)
class RoomLimits:
    """What one pupil and the whole room may send; each refusal says which limit and when to try again."""

    pupil_interval_s: float = 3.0  # one stored send per sender every 3 s
    room_per_second: int = 20  # sends accepted per second in the whole room (a class of 60 sends ~6/s)
    max_drawings: int = 500  # drawings kept in the room (hidden ones count) until the teacher clears it
    nickname_chars: int = 24


class SendRefused(Exception):
    """A send over a limit: ``message`` is for the pupil, ``limit`` names it (``pupil``, ``room``, ``full`` or
    ``blocked``), ``retry_after`` in seconds (0: trying again soon will not help)."""

    def __init__(self, message: str, limit: str, retry_after: float = 0.0) -> None:
        super().__init__(message)
        self.message = message
        self.limit = limit
        self.retry_after = retry_after


@contextlib.contextmanager
def write_transaction(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction on ``db`` (opened with ``isolation_level=None``): one writer at a time, in every
    process sharing the file; rolled back on any error."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def clean_nickname(text: object, limit: int) -> str | None:
    """A nickname as shown on the projector: printable characters only, spaces collapsed, at most ``limit``."""
    if not isinstance(text, str):
        return None
    kept = "".join(c if unicodedata.category(c)[0] not in "CZ" or c == " " else " " for c in text)
    kept = " ".join(kept.split())[:limit].strip()
    return kept or None


def clean_meant(value: object) -> int | None:
    """The digit a pupil meant: 0-9, else none."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and 0 <= value <= 9:
        return value
    if isinstance(value, str) and len(value) == 1 and value.isdigit():
        return int(value)
    return None


def valid_sender(sender: object) -> str:
    """A sender id as the server issues them: a non-empty string of at most SENDER_CHARS characters."""
    if not isinstance(sender, str) or not 0 < len(sender) <= SENDER_CHARS:
        raise ValueError(f"a sender is the server's id of 1-{SENDER_CHARS} characters")
    return sender
