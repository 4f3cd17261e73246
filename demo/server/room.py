"""The class room (``python -m demo --classroom``): pupils send drawings, the teacher's projector page shows them.

The room lives in SQLite (Python's ``sqlite3``, WAL mode) at one file, so every process of the app on the machine
(the copies behind deploy/cluster.py) shares it, and a file given with ``--room-db`` survives a restart. A drawing
is stored as the pad's stroke JSON (simplified: demo/server/room_strokes.py) with what the network read in it.
About a pupil nothing else is kept but the digit they meant and the nickname they chose, both optional, and their
sender id: random, issued by the server in a cookie signed with :meth:`Room.secret`, with the time of its last
stored send and whether the teacher blocked it. The limits are checked in the write that stores a send, so every
process sharing the file enforces them together. A ``version`` counter goes up with every change, so the teacher's
page asks "anything new since version N?" and gets a one-line answer when not.

The HTTP side is demo/server/room_routes.py; the pages are demo/page/static/room.js (teacher) and send.js (pupil).
"""

from __future__ import annotations

import contextlib
import hmac
import json
import math
import os
import secrets
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from demo.texts import plain

from .room_rules import RoomLimits, SendRefused, valid_sender, write_transaction
from .room_strokes import simplify_drawing

SCHEMA = """
CREATE TABLE IF NOT EXISTS drawings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created REAL NOT NULL,          -- unix time of the send
    strokes TEXT NOT NULL,          -- the pad's drawing JSON: {"w", "h", "pen", "strokes"}
    meant INTEGER,                  -- the digit the pupil meant (0-9), a class's symbol (10 + its position), or NULL
    nickname TEXT,                  -- as the pupil typed it (cleaned), or NULL
    label INTEGER NOT NULL,         -- the network's reading
    confidence REAL NOT NULL,       -- its softmax probability
    digit_like INTEGER NOT NULL,    -- did it look like a digit at all (demo/core/digitness.py)
    hidden INTEGER NOT NULL DEFAULT 0,
    revealed INTEGER NOT NULL DEFAULT 1,
    sender TEXT                     -- senders.id, or NULL for a send without one
);
CREATE INDEX IF NOT EXISTS drawings_created ON drawings (created);
CREATE TABLE IF NOT EXISTS senders (
    id TEXT PRIMARY KEY,            -- the random id the server issued (at most 64 characters)
    last_send REAL,                 -- unix time of their last stored send
    blocked INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS secrets (name TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
-- The class's new symbols, beside the ten digits (demo/server/room_symbols.py): a drawing meant as the symbol at
-- position i has meant = 10 + i.
CREATE TABLE IF NOT EXISTS symbols (position INTEGER PRIMARY KEY, name TEXT NOT NULL);
-- The room's own network learning those symbols (demo/server/room_learning.py): no row, the shipped network.
CREATE TABLE IF NOT EXISTS learning (
    id INTEGER PRIMARY KEY CHECK (id = 1),  -- one learning per room
    state TEXT NOT NULL,            -- running | done | failed
    names TEXT NOT NULL,            -- JSON: the symbols it learns, in order (outputs 10, 11, ...)
    started REAL NOT NULL,
    finished REAL,
    step INTEGER NOT NULL DEFAULT 0,
    steps INTEGER NOT NULL,
    seconds REAL,
    curve TEXT NOT NULL DEFAULT '[]',  -- JSON: [step, loss, accuracy] every few steps
    result TEXT,                    -- JSON: held-back and MNIST accuracies, the held-back drawings it got wrong
    error TEXT                      -- the kind of failure, for the log's reader
);
-- A new room keeps every drawing back until the teacher reveals it (Review first): the first rude drawing or
-- nickname then never reaches the projector unseen. The teacher may turn it off; a --room-db file keeps its choice.
INSERT OR IGNORE INTO settings VALUES ('version', 0), ('review_first', 1);
"""
COLUMNS = ("id", "created", "meant", "nickname", "label", "confidence", "digit_like", "revealed")
STROKES_PER_STATE = 40  # drawings' strokes per state answer: a page opened on a full room gets it in pages


class Room:
    """One class's drawings in a SQLite file; safe to use from many threads and processes at once."""

    def __init__(self, path: str | Path | None = None, token: str | None = None,
                 limits: RoomLimits | None = None) -> None:
        """``path``: the database (made if missing); None makes a temporary one, removed by :meth:`close`.
        ``token``: the teacher's secret (default: a new random one)."""
        self.temporary = path is None
        if path is None:
            fd, name = tempfile.mkstemp(prefix="convscope-room-", suffix=".db")
            os.close(fd)
            path = name
        self.path = Path(path)
        if not self.path.exists():  # readable by this user only: it holds the pupils' cookies' signing secret
            with contextlib.suppress(FileExistsError):  # (SQLite gives its -wal and -shm files the same mode)
                os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        self.token = token or secrets.token_urlsafe(12)
        self.limits = limits or RoomLimits()
        self.join_url = ""  # set once the app knows the address pupils reach (demo/page/ui.py: launch)
        self._local = threading.local()
        self._secret: bytes | None = None
        self._db().executescript(SCHEMA)  # each statement is idempotent, so several processes may run it at once
        with self._transaction() as db:  # a --room-db file outlives the app's versions: add what its tables lack
            if "sender" not in {row[1] for row in db.execute("PRAGMA table_info(drawings)")}:
                db.execute("ALTER TABLE drawings ADD COLUMN sender TEXT")

    # -------------------------------------------------------------------------------------------- plumbing
    def _db(self) -> sqlite3.Connection:
        """This thread's connection (sqlite3 connections must not be shared between threads)."""
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=10.0, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer, across processes
            db.execute("PRAGMA synchronous=NORMAL")  # safe with WAL; a power cut may lose the last send only
            self._local.db = db
        return db

    def _transaction(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        return write_transaction(self._db())

    @staticmethod
    def _bump(db: sqlite3.Connection) -> int:
        db.execute("UPDATE settings SET value = value + 1 WHERE name = 'version'")
        return db.execute("SELECT value FROM settings WHERE name = 'version'").fetchone()[0]

    def change(self, change: Callable[[sqlite3.Connection], bool]) -> bool:
        """Runs ``change`` in one write transaction; the version goes up when it returns True (something the
        teacher's page shows changed). For the room's parts kept in modules of their own (room_symbols.py)."""
        with self._transaction() as db:
            changed = change(db)
            if changed:
                self._bump(db)
            return changed

    def read(self) -> sqlite3.Connection:
        """This thread's connection, for reading."""
        return self._db()

    def is_teacher(self, token: str | None) -> bool:
        """The teacher's token, compared in constant time."""
        return isinstance(token, str) and hmac.compare_digest(token.encode(), self.token.encode())

    def secret(self) -> bytes:
        """32 random bytes for signing pupils' cookies, made once per room file: whichever process asks first
        stores its own (INSERT OR IGNORE), and every copy of the app sharing the file reads the same."""
        if self._secret is None:
            with self._transaction() as db:
                db.execute("INSERT OR IGNORE INTO secrets VALUES ('cookies', ?)", (secrets.token_bytes(32),))
                self._secret = bytes(db.execute("SELECT value FROM secrets WHERE name = 'cookies'").fetchone()[0])
        return self._secret

    # -------------------------------------------------------------------------------------------- pupils
    def check_room(self, now: float | None = None, sender: str | None = None) -> None:
        """Raises :class:`SendRefused` when ``sender`` is blocked or sent too recently, or the room is full or
        busy: a quick look before the network's work, checked again atomically by :meth:`add`."""
        now = time.time() if now is None else now
        db = self._db()
        if sender is not None:
            self._check_sender(db, valid_sender(sender), now)
        self._check(db, now)

    def _check_sender(self, db: sqlite3.Connection, sender: str, now: float) -> None:
        row = db.execute("SELECT last_send, blocked FROM senders WHERE id = ?", (sender,)).fetchone()
        last, blocked = row or (None, 0)
        if blocked:
            raise SendRefused(plain("server.room.blocked"), "blocked")
        interval = self.limits.pupil_interval_s
        if last is not None and -interval < now - last < interval:  # (a clock set back does not lock anyone out)
            wait = interval - max(0.0, now - last)
            raise SendRefused(plain("server.room.pupil_wait", seconds=math.ceil(wait)), "pupil", wait)

    def _check(self, db: sqlite3.Connection, now: float) -> None:
        count = db.execute("SELECT COUNT(*) FROM drawings").fetchone()[0]
        if count >= self.limits.max_drawings:
            raise SendRefused(plain("server.room.full", limit=self.limits.max_drawings), "full")
        recent = db.execute("SELECT COUNT(*) FROM drawings WHERE created > ?", (now - 1.0,)).fetchone()[0]
        if recent >= self.limits.room_per_second:
            raise SendRefused(plain("server.room.room_busy"), "room", 1.0)

    def add(self, drawing: dict[str, Any], label: int, confidence: float, digit_like: bool,
            meant: int | None = None, nickname: str | None = None, sender: str | None = None) -> int:
        """Stores a sent drawing (the pad's JSON as a dict, its strokes simplified) with the network's reading and
        its sender; returns its id. Raises :class:`SendRefused` over a limit: nothing is stored then, and only a
        stored send starts the sender's interval."""
        sender = None if sender is None else valid_sender(sender)
        strokes = json.dumps(simplify_drawing(drawing), separators=(",", ":"))  # outside the lock: CPU work
        now = time.time()
        with self._transaction() as db:
            if sender is not None:
                self._check_sender(db, sender, now)
            self._check(db, now)
            review = db.execute("SELECT value FROM settings WHERE name = 'review_first'").fetchone()[0]
            cursor = db.execute(
                "INSERT INTO drawings (created, strokes, meant, nickname, label, confidence, digit_like, revealed, "
                "sender) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (now, strokes, meant, nickname, int(label), float(confidence), int(bool(digit_like)),
                 0 if review else 1, sender))
            if sender is not None:
                db.execute("INSERT INTO senders (id, last_send) VALUES (?, ?) "
                           "ON CONFLICT (id) DO UPDATE SET last_send = excluded.last_send", (sender, now))
            self._bump(db)
            return int(cursor.lastrowid)

    # -------------------------------------------------------------------------------------------- teacher
    def version(self) -> int:
        return self._db().execute("SELECT value FROM settings WHERE name = 'version'").fetchone()[0]

    def state(self, known_version: int | None = None, have: int = 0) -> dict[str, Any]:
        """What the teacher's page shows: ``{"version", "unchanged": true}`` when nothing changed since
        ``known_version`` and no strokes above ``have`` are waiting; else every drawing not hidden (oldest first,
        without strokes), the review switch, the strokes of at most :data:`STROKES_PER_STATE` drawings with an id
        above ``have`` (lowest first; the page keeps those it has), and ``more``: whether others wait above them."""
        have = max(0, min(int(have), 2**63 - 1))  # SQLite's integers are 64-bit
        db = self._db()
        db.execute("BEGIN")  # one consistent snapshot of the version and the drawings
        try:
            version = db.execute("SELECT value FROM settings WHERE name = 'version'").fetchone()[0]
            waiting = "SELECT id, strokes FROM drawings WHERE hidden = 0 AND id > ? ORDER BY id LIMIT ?"
            pages = db.execute(waiting, (have, STROKES_PER_STATE + 1)).fetchall()
            if known_version is not None and version == known_version and not pages:
                return {"version": version, "unchanged": True}
            review = db.execute("SELECT value FROM settings WHERE name = 'review_first'").fetchone()[0]
            drawings = []
            for row in db.execute(f"SELECT {', '.join(COLUMNS)} FROM drawings WHERE hidden = 0 ORDER BY id"):
                item = dict(zip(COLUMNS, row, strict=True))
                item["digit_like"], item["revealed"] = bool(item["digit_like"]), bool(item["revealed"])
                item["confidence"] = round(item["confidence"], 4)
                drawings.append(item)
        finally:
            db.execute("COMMIT")
        strokes = {str(drawing_id): json.loads(text) for drawing_id, text in pages[:STROKES_PER_STATE]}
        names = [name for (name,) in db.execute("SELECT name FROM symbols ORDER BY position")]
        return {"version": version, "review_first": bool(review), "drawings": drawings, "strokes": strokes,
                "more": len(pages) > STROKES_PER_STATE, "symbols": names}

    def hide(self, drawing_id: int) -> bool:
        return self._update("UPDATE drawings SET hidden = 1 WHERE id = ? AND hidden = 0", (drawing_id,))

    def reveal(self, drawing_id: int | None = None) -> bool:
        """Reveals one drawing kept back for review, or every one (``None``)."""
        if drawing_id is None:
            return self._update("UPDATE drawings SET revealed = 1 WHERE revealed = 0", ())
        return self._update("UPDATE drawings SET revealed = 1 WHERE id = ? AND revealed = 0", (drawing_id,))

    def block(self, drawing_id: int) -> bool:
        """Blocks the sender of a drawing until :meth:`clear`: every drawing they sent is hidden and their later
        sends are refused. A drawing without a sender is hidden only. Returns whether anything changed."""
        with self._transaction() as db:
            row = db.execute("SELECT sender FROM drawings WHERE id = ?", (drawing_id,)).fetchone()
            if row is None:
                return False
            if row[0] is None:
                changed = db.execute("UPDATE drawings SET hidden = 1 WHERE id = ? AND hidden = 0",
                                     (drawing_id,)).rowcount > 0
            else:
                blocked = db.execute("INSERT INTO senders (id, blocked) VALUES (?, 1) "
                                     "ON CONFLICT (id) DO UPDATE SET blocked = 1 WHERE blocked = 0", row).rowcount
                hidden = db.execute("UPDATE drawings SET hidden = 1 WHERE sender = ? AND hidden = 0", row).rowcount
                changed = blocked + hidden > 0
            if changed:
                self._bump(db)
            return changed

    def set_review_first(self, on: bool) -> bool:
        return self._update("UPDATE settings SET value = ? WHERE name = 'review_first' AND value != ?",
                            (int(on), int(on)))

    def clear(self) -> bool:
        """Removes every drawing and forgets every sender, blocked or waiting: a fresh lesson. Drawings' ids keep
        growing (AUTOINCREMENT), so a teacher's page holding strokes up to some id misses none of the next."""
        return self._update("DELETE FROM drawings", (), "DELETE FROM senders")

    def _update(self, sql: str, args: tuple, *more: str) -> bool:
        """Runs one change (and the statements in ``more``, without arguments) in one transaction; the version
        goes up only when something changed."""
        with self._transaction() as db:
            changed = db.execute(sql, args).rowcount > 0
            for statement in more:
                changed = db.execute(statement).rowcount > 0 or changed
            if changed:
                self._bump(db)
            return changed

    def close(self) -> None:
        """Closes this thread's connection; a temporary room's files are removed."""
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None
        if self.temporary:
            for suffix in ("", "-wal", "-shm"):
                Path(str(self.path) + suffix).unlink(missing_ok=True)
