"""Many class rooms on one server: each with a short code pupils type or scan, and its own teacher's token.

A teacher starts a room from the page (``POST /convscope/rooms``, demo/server/rooms_routes.py); ``--classroom``
starts one when the app starts. Rooms are isolated: a room's token opens that room only, and each room's drawings
live in a SQLite file of its own (a :class:`~demo.server.room.Room`). The register of rooms is one more SQLite file,
``--room-db PATH`` (default: one in a temporary folder, removed at exit), shared by every copy of the app on the
machine; the rooms' files are in the folder ``PATH-rooms`` beside it. ``--classroom``'s room keeps its drawings in
``PATH`` itself, as it always did, so a restart with the same file and teacher's token finds it again.

A room closes when its teacher closes it, or by itself once nobody has used it for ``idle_s`` (the operator's
``--room-idle-hours``, default 12): closing deletes its file, so its drawings are gone. A closed room's code is
never given out again. Only a hash of each teacher's token is stored.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import secrets
import shutil
import sqlite3
import tempfile
import threading
import time
from pathlib import Path

from .room import Room
from .room_rules import RoomLimits, write_transaction

# A code is read off a projector and typed on a phone: capitals and digits without the look-alikes 0/O, 1/I/L.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6  # 31**6, about 887 million codes: a guessed code is a near miss, and sends are rate-limited too
IDLE_S = 12 * 3600
TOUCH_EVERY_S = 60.0  # a room's last use is written at most once a minute per process
MAIN_FILE = ""  # the register's own file: --classroom's room

SCHEMA = """
CREATE TABLE IF NOT EXISTS rooms (
    code TEXT PRIMARY KEY,
    token_hash BLOB NOT NULL,       -- sha256 of the teacher's token
    file TEXT NOT NULL,             -- the room's file in the rooms' folder, or '' for the register's own file
    created REAL NOT NULL,
    last_active REAL NOT NULL,
    pinned INTEGER NOT NULL DEFAULT 0,  -- --classroom's room: it does not close by itself
    closed REAL                     -- when it closed (its drawings deleted), or NULL while open
);
"""


def _hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def normal_code(text: object) -> str | None:
    """A code as a pupil may type it ("abc 234", "ABC-234") in its one spelling, or None for anything that cannot
    be a code."""
    # ASCII only: the balancer reads the code out of the path with ASCII rules too (deploy/haproxy.cfg.in), so both
    # find the same room for every spelling.
    if not isinstance(text, str) or len(text) > 4 * CODE_LENGTH or not text.isascii():
        return None
    code = "".join(c for c in text.upper() if c not in " -")
    return code if len(code) == CODE_LENGTH and all(c in CODE_ALPHABET for c in code) else None


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def _unused_code(db: sqlite3.Connection) -> str:
    """A code never given out before in this register, closed rooms' included."""
    while True:
        code = new_code()
        if db.execute("SELECT 1 FROM rooms WHERE code = ?", (code,)).fetchone() is None:
            return code


class Rooms:
    """The register of rooms in one SQLite file, and their :class:`Room` objects (opened once per process)."""

    def __init__(self, path: str | Path | None = None, idle_s: float = IDLE_S,
                 limits: RoomLimits | None = None) -> None:
        self.temporary = path is None
        self.path = Path(tempfile.mkdtemp(prefix="convscope-rooms-")) / "rooms.db" if path is None else Path(path)
        self.folder = self.path.with_name(self.path.name + "-rooms")
        self.folder.mkdir(mode=0o700, exist_ok=True)
        self.idle_s = idle_s
        self.limits = limits or RoomLimits()
        self.base_url = ""  # the address pupils reach, set once the app knows it (demo/page/ui.py: launch)
        self.balancer_url = ""  # several machines behind one balancer: its address (demo/server/room_placing.py)
        self.data_dir = ""  # MNIST, when the server has it: rooms' learning replays and measures with it
        self._local = threading.local()
        self._lock = threading.Lock()
        self._open: dict[str, Room] = {}
        self._touched: dict[str, float] = {}
        self._db().executescript(SCHEMA)

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=10.0, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            self._local.db = db
        return db

    def _transaction(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        return write_transaction(self._db())

    # ------------------------------------------------------------------------------------------------ opening
    def create(self, now: float | None = None) -> tuple[str, str]:
        """A new room: its code and its teacher's token."""
        now = time.time() if now is None else now
        token = secrets.token_urlsafe(12)
        with self._transaction() as db:
            code = _unused_code(db)
            db.execute("INSERT INTO rooms (code, token_hash, file, created, last_active) VALUES (?, ?, ?, ?, ?)",
                       (code, _hash(token), f"{code}.db", now, now))
        return code, token

    def open_main(self, token: str, now: float | None = None) -> tuple[str, Room]:
        """--classroom's room for ``token``: the one this register's file already holds for it (a restart), else a
        new code for it; the file's drawings are its. Another token's earlier room in the file is closed."""
        now = time.time() if now is None else now
        with self._transaction() as db:
            row = db.execute("SELECT code FROM rooms WHERE file = ? AND closed IS NULL AND token_hash = ?",
                             (MAIN_FILE, _hash(token))).fetchone()
            replaced = db.execute("UPDATE rooms SET closed = ? WHERE file = ? AND closed IS NULL AND token_hash != ?",
                                  (now, MAIN_FILE, _hash(token))).rowcount
            if row is not None:
                code = row[0]
                db.execute("UPDATE rooms SET last_active = ?, pinned = 1 WHERE code = ?", (now, code))
            else:
                code = _unused_code(db)
                db.execute("INSERT INTO rooms (code, token_hash, file, created, last_active, pinned) "
                           "VALUES (?, ?, ?, ?, ?, 1)", (code, _hash(token), MAIN_FILE, now, now))
        room = Room(self.path, token, self.limits)  # in the register's own file
        if replaced:  # the earlier room closed: its drawings go, as closing deletes them
            room.clear()
        with self._lock:
            self._open[code] = room
        return code, room

    def _row(self, code: str) -> tuple | None:
        return self._db().execute("SELECT file, last_active, pinned, token_hash FROM rooms "
                                  "WHERE code = ? AND closed IS NULL", (code,)).fetchone()

    def get(self, code: object, now: float | None = None) -> Room | None:
        """The open room with this code (in any spelling a pupil may type), or None: no such room, closed, or idle
        past the limit (then closed now)."""
        code = normal_code(code)
        row = self._row(code) if code is not None else None
        if row is None:
            if code is not None:  # closed by another process: this one lets go of it too
                with self._lock:
                    self._open.pop(code, None)
            return None
        now = time.time() if now is None else now
        if not row[2] and now - row[1] > self.idle_s:
            self.close(code, now)
            return None
        with self._lock:
            room = self._open.get(code)
            if room is None:
                room = self._open[code] = Room(self.folder / row[0] if row[0] else self.path, None, self.limits)
        return room

    def is_teacher(self, code: object, token: object) -> bool:
        """Whether ``token`` is the teacher's token of the open room ``code`` (compared in constant time)."""
        code = normal_code(code)
        row = self._row(code) if code is not None else None
        return row is not None and isinstance(token, str) and hmac.compare_digest(_hash(token), row[3])

    def touch(self, code: str, now: float | None = None) -> None:
        """Notes that the room was used (a send, the teacher's page): its idle time starts again."""
        now = time.time() if now is None else now
        if now - self._touched.get(code, 0.0) < TOUCH_EVERY_S:
            return
        self._touched[code] = now
        with self._transaction() as db:
            db.execute("UPDATE rooms SET last_active = ? WHERE code = ? AND closed IS NULL", (now, code))

    # ------------------------------------------------------------------------------------------------ closing
    def close(self, code: str, now: float | None = None) -> bool:
        """Closes an open room and deletes its drawings (its file; --classroom's room is emptied). False when
        there was no such open room."""
        now = time.time() if now is None else now
        with self._transaction() as db:
            row = db.execute("SELECT file FROM rooms WHERE code = ? AND closed IS NULL", (code,)).fetchone()
            if row is None:
                return False
            db.execute("UPDATE rooms SET closed = ? WHERE code = ?", (now, code))
        with self._lock:
            room = self._open.pop(code, None)
            self._touched.pop(code, None)
        if row[0] == MAIN_FILE:
            (room or Room(self.path, None, self.limits)).clear()
        else:
            if room is not None:
                room.close()
            for suffix in ("", "-wal", "-shm", ".learned.safetensors"):  # (its own network: room_learning.py)
                (self.folder / (row[0] + suffix)).unlink(missing_ok=True)
        return True

    def discard(self, code: str) -> None:
        """Forgets a code that was never given out (demo/server/room_placing.py: it belongs to another machine), so
        that nothing of it is kept; a code that was given out is closed instead."""
        self.close(code)
        with self._transaction() as db:
            db.execute("DELETE FROM rooms WHERE code = ? AND file != ?", (code, MAIN_FILE))

    def sweep(self, now: float | None = None) -> list[str]:
        """Closes every room idle for longer than the limit; returns their codes."""
        now = time.time() if now is None else now
        idle = [code for (code,) in self._db().execute(
            "SELECT code FROM rooms WHERE closed IS NULL AND pinned = 0 AND last_active < ?", (now - self.idle_s,))]
        return [code for code in idle if self.close(code, now)]

    def open_codes(self) -> list[str]:
        return [code for (code,) in self._db().execute("SELECT code FROM rooms WHERE closed IS NULL ORDER BY code")]

    def shut(self) -> None:
        """Closes this process's connections; a temporary register goes, with every room in it."""
        with self._lock:
            rooms, self._open = list(self._open.values()), {}
        for room in rooms:
            room.close()
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None
        if self.temporary:
            shutil.rmtree(self.path.parent, ignore_errors=True)
