"""A class's new symbols beside the ten digits ("star", "heart", "tree"): named by the teacher, drawn by the pupils,
then learned by the room's own copy of the network (demo/teaching/class_learning.py).

The names live in the room's file (table ``symbols``, demo/server/room.py), in order: the symbol at position i is
output 10 + i of the room's network, and a drawing meant as it has ``meant = 10 + i``. The teacher sets the whole
list at once (``POST /convscope/rooms/{code}/classes``); the drawings meant as a symbol follow it to its new
position, and a symbol taken off the list takes its drawings' "meant" with it (they stay in the gallery, as
drawings nobody said what they were).
"""

from __future__ import annotations

import sqlite3
import unicodedata

from demo.teaching.class_learning import MAX_SYMBOLS
from demo.texts import plain

from .room import Room
from .room_rules import clean_meant

NAME_CHARS = 20  # a word or two on a phone's button: "Draw a Christmas tree"


class BadSymbols(ValueError):
    """The teacher's list of symbols cannot be used; the message says why, for people."""


def clean_names(value: object) -> list[str]:
    """The teacher's list as it is stored: each name trimmed, its spaces single, in Unicode's composed form. Raises
    :class:`BadSymbols` for anything else than 1-5 different names of 1-20 letters, digits, spaces, hyphens or
    apostrophes that are not a digit."""
    if not isinstance(value, list) or not value:
        raise BadSymbols(plain("server.room_symbols.none"))
    if len(value) > MAX_SYMBOLS:
        raise BadSymbols(plain("server.room_symbols.too_many", limit=MAX_SYMBOLS))
    names: list[str] = []
    for raw in value:
        name = " ".join(unicodedata.normalize("NFC", raw).split()) if isinstance(raw, str) else ""
        if not name or len(name) > NAME_CHARS:
            raise BadSymbols(plain("server.room_symbols.bad_length", limit=NAME_CHARS))
        if not all(c.isalnum() or c in " -'’" for c in name) or name.isdigit():
            raise BadSymbols(plain("server.room_symbols.bad_characters", name=name))
        if name.casefold() in (n.casefold() for n in names):
            raise BadSymbols(plain("server.room_symbols.twice", name=name))
        names.append(name)
    return names


def symbols(room: Room) -> list[str]:
    """The room's symbols, in order (none: the ten digits only)."""
    return [name for (name,) in room.read().execute("SELECT name FROM symbols ORDER BY position")]


def set_symbols(room: Room, value: object) -> list[str]:
    """Stores the teacher's list (cleaned by :func:`clean_names`; ``[]`` for none) and returns it. Drawings meant as
    a symbol follow it; those meant as a symbol taken off lose their "meant". Anything but a list (a request
    without one) raises :class:`BadSymbols` and changes nothing."""
    names = [] if value == [] else clean_names(value)

    def store(db: sqlite3.Connection) -> bool:
        before = [name for (name,) in db.execute("SELECT name FROM symbols ORDER BY position")]
        if before == names:
            return False
        now = {name.casefold(): 10 + i for i, name in enumerate(names)}
        # Each drawing follows its symbol to its new position: marked negative meanwhile (-1: taken off), as digits
        # (0-9) never are.
        for i, name in enumerate(before):
            db.execute("UPDATE drawings SET meant = ? WHERE meant = ?", (-now.get(name.casefold(), 1), 10 + i))
        db.execute("UPDATE drawings SET meant = CASE WHEN meant = -1 THEN NULL ELSE -meant END WHERE meant < 0")
        db.execute("DELETE FROM symbols")
        db.executemany("INSERT INTO symbols VALUES (?, ?)", list(enumerate(names)))
        return True

    room.change(store)
    return names


def meant_of(value: object, names: list[str]) -> int | None:
    """What a pupil meant: a digit (0-9, as :func:`clean_meant`), or one of the room's symbols, by name (any case)
    or by its output (10 + position); None for anything else."""
    digit = clean_meant(value)
    if digit is not None:
        return digit
    if isinstance(value, str):
        folded = " ".join(value.split()).casefold()
        return next((10 + i for i, name in enumerate(names) if name.casefold() == folded), None)
    if isinstance(value, int) and not isinstance(value, bool) and 10 <= value < 10 + len(names):
        return value
    return None
