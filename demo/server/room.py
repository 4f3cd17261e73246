"""The class room (``python -m demo --classroom``): pupils send drawings, the teacher's projector page shows them.

The room lives in SQLite (Python's ``sqlite3``, WAL mode) at one file, so every process of the app on the machine
(the copies behind deploy/cluster.py) shares it, and a file given with ``--room-db`` survives a restart. A drawing
is stored as the pad's stroke JSON with what the network read in it; about a pupil nothing else is kept but the
digit they meant and the nickname they chose, both optional. A ``version`` counter in the same database goes up
with every change, so the teacher's page asks "anything new since version N?" and gets a one-line answer when not.

The HTTP side is demo/server/room_routes.py; the pages are demo/page/static/room.js (teacher) and send.js (pupil).
"""

from __future__ import annotations

import hmac
import json
import math
import os
import secrets
import socket
import sqlite3
import tempfile
import threading
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS drawings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created REAL NOT NULL,          -- unix time of the send
    strokes TEXT NOT NULL,          -- the pad's drawing JSON: {"w", "h", "pen", "strokes"}
    meant INTEGER,                  -- the digit the pupil meant (0-9), or NULL
    nickname TEXT,                  -- as the pupil typed it (cleaned), or NULL
    label INTEGER NOT NULL,         -- the network's reading
    confidence REAL NOT NULL,       -- its softmax probability
    digit_like INTEGER NOT NULL,    -- did it look like a digit at all (demo/core/digitness.py)
    hidden INTEGER NOT NULL DEFAULT 0,
    revealed INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX IF NOT EXISTS drawings_created ON drawings (created);
CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO settings VALUES ('version', 0), ('review_first', 0);
"""
COLUMNS = ("id", "created", "meant", "nickname", "label", "confidence", "digit_like", "revealed")


@dataclass(frozen=True)
class RoomLimits:
    """What one pupil and the whole room may send; each refusal says which limit and when to try again."""

    pupil_interval_s: float = 3.0  # one send per pupil every 3 s
    room_per_second: int = 20  # sends accepted per second in the whole room (a class of 60 sends ~6/s)
    max_drawings: int = 500  # drawings kept in the room (hidden ones count) until the teacher clears it
    nickname_chars: int = 24


class SendRefused(Exception):
    """A send over a limit: ``message`` is for the pupil, ``limit`` names it (``pupil``, ``room`` or ``full``),
    ``retry_after`` in seconds (0: trying again soon will not help)."""

    def __init__(self, message: str, limit: str, retry_after: float = 0.0) -> None:
        super().__init__(message)
        self.message = message
        self.limit = limit
        self.retry_after = retry_after


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


class Room:
    """One class's drawings in a SQLite file; safe to use from many threads and processes at once."""

    def __init__(self, path: str | Path | None = None, token: str | None = None,
                 limits: RoomLimits = RoomLimits()) -> None:
        """``path``: the database (made if missing); None makes a temporary one, removed by :meth:`close`.
        ``token``: the teacher's secret (default: a new random one)."""
        self.temporary = path is None
        if path is None:
            fd, name = tempfile.mkstemp(prefix="convscope-room-", suffix=".db")
            os.close(fd)
            path = name
        self.path = Path(path)
        self.token = token or secrets.token_urlsafe(12)
        self.limits = limits
        self.join_url = ""  # set once the app knows the address pupils reach (demo/page/ui.py: launch)
        self._local = threading.local()
        self._db().executescript(SCHEMA)  # each statement is idempotent, so several processes may run it at once

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

    class _Transaction:
        def __init__(self, db: sqlite3.Connection) -> None:
            self.db = db

        def __enter__(self) -> sqlite3.Connection:
            self.db.execute("BEGIN IMMEDIATE")  # one writer at a time, in every process
            return self.db

        def __exit__(self, kind: object, *_: object) -> None:
            self.db.execute("COMMIT" if kind is None else "ROLLBACK")

    def _transaction(self) -> Room._Transaction:
        return Room._Transaction(self._db())

    @staticmethod
    def _bump(db: sqlite3.Connection) -> int:
        db.execute("UPDATE settings SET value = value + 1 WHERE name = 'version'")
        return db.execute("SELECT value FROM settings WHERE name = 'version'").fetchone()[0]

    def is_teacher(self, token: str | None) -> bool:
        """The teacher's token, compared in constant time."""
        return isinstance(token, str) and hmac.compare_digest(token.encode(), self.token.encode())

    # -------------------------------------------------------------------------------------------- pupils
    def check_room(self, now: float | None = None) -> None:
        """Raises :class:`SendRefused` when the room is full or busy (checked again, atomically, by :meth:`add`)."""
        self._check(self._db(), time.time() if now is None else now)

    def _check(self, db: sqlite3.Connection, now: float) -> None:
        count = db.execute("SELECT COUNT(*) FROM drawings").fetchone()[0]
        if count >= self.limits.max_drawings:
            raise SendRefused(f"The class room is full ({self.limits.max_drawings} drawings): "
                              "ask your teacher to clear it.", "full")
        recent = db.execute("SELECT COUNT(*) FROM drawings WHERE created > ?", (now - 1.0,)).fetchone()[0]
        if recent >= self.limits.room_per_second:
            raise SendRefused("The whole class is sending at once: trying again in a moment.", "room", 1.0)

    def add(self, drawing: dict[str, Any], label: int, confidence: float, digit_like: bool,
            meant: int | None = None, nickname: str | None = None) -> int:
        """Stores a sent drawing (the pad's JSON as a dict) with the network's reading; returns its id."""
        now = time.time()
        with self._transaction() as db:
            self._check(db, now)
            review = db.execute("SELECT value FROM settings WHERE name = 'review_first'").fetchone()[0]
            cursor = db.execute(
                "INSERT INTO drawings (created, strokes, meant, nickname, label, confidence, digit_like, revealed) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (now, json.dumps(drawing, separators=(",", ":")), meant, nickname, int(label), float(confidence),
                 int(bool(digit_like)), 0 if review else 1))
            self._bump(db)
            return int(cursor.lastrowid)

    # -------------------------------------------------------------------------------------------- teacher
    def version(self) -> int:
        return self._db().execute("SELECT value FROM settings WHERE name = 'version'").fetchone()[0]

    def state(self, known_version: int | None = None, have: int = 0) -> dict[str, Any]:
        """What the teacher's page shows: ``{"version", "unchanged": true}`` when nothing changed since
        ``known_version``; else every drawing not hidden (oldest first, without strokes), the review switch, and the
        strokes of the drawings with an id above ``have`` (the page keeps those it already has)."""
        db = self._db()
        db.execute("BEGIN")  # one consistent snapshot of the version and the drawings
        try:
            version = db.execute("SELECT value FROM settings WHERE name = 'version'").fetchone()[0]
            if known_version is not None and version == known_version:
                return {"version": version, "unchanged": True}
            review = db.execute("SELECT value FROM settings WHERE name = 'review_first'").fetchone()[0]
            rows = db.execute(f"SELECT {', '.join(COLUMNS)}, strokes FROM drawings WHERE hidden = 0 ORDER BY id")
            drawings, strokes = [], {}
            for row in rows:
                item = dict(zip(COLUMNS, row[:-1], strict=True))
                item["digit_like"], item["revealed"] = bool(item["digit_like"]), bool(item["revealed"])
                item["confidence"] = round(item["confidence"], 4)
                drawings.append(item)
                if item["id"] > have:
                    strokes[str(item["id"])] = json.loads(row[-1])
        finally:
            db.execute("COMMIT")
        return {"version": version, "review_first": bool(review), "drawings": drawings, "strokes": strokes}

    def hide(self, drawing_id: int) -> bool:
        return self._update("UPDATE drawings SET hidden = 1 WHERE id = ? AND hidden = 0", (drawing_id,))

    def reveal(self, drawing_id: int | None = None) -> bool:
        """Reveals one drawing kept back for review, or every one (``None``)."""
        if drawing_id is None:
            return self._update("UPDATE drawings SET revealed = 1 WHERE revealed = 0", ())
        return self._update("UPDATE drawings SET revealed = 1 WHERE id = ? AND revealed = 0", (drawing_id,))

    def set_review_first(self, on: bool) -> bool:
        return self._update("UPDATE settings SET value = ? WHERE name = 'review_first' AND value != ?",
                            (int(on), int(on)))

    def clear(self) -> bool:
        return self._update("DELETE FROM drawings", ())

    def _update(self, sql: str, args: tuple) -> bool:
        """Runs one change; the version goes up only when something changed."""
        with self._transaction() as db:
            changed = db.execute(sql, args).rowcount > 0
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


class PupilLimiter:
    """One send per pupil every ``interval`` seconds. A pupil is the random id their page made; it is kept in this
    process's memory only, for as long as the interval (each browser stays on one copy of the app behind the
    balancer, deploy/haproxy.cfg.in), and never stored."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()

    def take(self, pupil: str, now: float | None = None) -> float:
        """Counts a send; raises :class:`SendRefused` saying how long to wait when it comes too soon. Returns the
        send's time, for :meth:`give_back`."""
        now = time.monotonic() if now is None else now
        with self._lock:
            if len(self._last) > 10_000:  # forget pupils whose interval is over
                self._last = {p: t for p, t in self._last.items() if now - t < self.interval}
            last = self._last.get(pupil)
            if last is not None and now - last < self.interval:
                wait = self.interval - (now - last)
                raise SendRefused(f"You just sent a drawing: wait {math.ceil(wait)} s before sending another.",
                                  "pupil", wait)
            self._last[pupil] = now
            return now

    def give_back(self, pupil: str, taken: float) -> None:
        """Uncounts a send that was not stored (refused, or the server busy), so trying again is not "too soon"."""
        with self._lock:
            if self._last.get(pupil) == taken:
                del self._last[pupil]


def network_address() -> str:
    """This machine's address on its network (the one its default route uses), for pupils' devices to reach; no
    packet is sent (a UDP socket's connect only picks the route). 127.0.0.1 when there is no network."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.254.254.254", 1))
            return s.getsockname()[0]
        except OSError:
            return "127.0.0.1"


def room_urls(host: str, port: int, public_url: str | None, token: str) -> tuple[str, str]:
    """The pupils' and the teacher's addresses: ``public_url`` when there is one (the share link of ``--share``, a
    load balancer's address), else this machine's network address when listening on every interface, else the
    address listened on."""
    if public_url:
        base = public_url.rstrip("/")
    else:
        reachable = network_address() if host in ("0.0.0.0", "::", "") else host
        base = f"http://{f'[{reachable}]' if ':' in reachable else reachable}:{port}"
    return f"{base}/", f"{base}/?teacher={token}"
