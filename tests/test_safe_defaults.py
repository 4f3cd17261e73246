"""Safe defaults for a class (demo/server/room.py, the pupil's send bar in demo/texts/en.toml): a new class room keeps
every drawing back until the teacher reveals it, a room file keeps the teacher's own choice across a restart, the
teacher may turn review off, nicknames stay optional and short, and the pupil's page asks for a made-up name.

Documents a school reads (docs/privacy.md, docs/troubleshooting.md) name these defaults, so they are checked here."""

from __future__ import annotations

import sqlite3

import pytest

from demo.page.pad import pad_examples
from demo.server.room import Room
from demo.server.room_rules import RoomLimits, clean_nickname
from demo.texts import plain

TOKEN = "a-teacher-token"


def example(index: int) -> dict:
    """One of the pad's example drawings, as a pupil's page sends it."""
    examples, _ = pad_examples()
    return {"w": 280, "h": 280, "pen": 20, "strokes": examples[index]["strokes"]}


def revealed(room: Room) -> dict[int, bool]:
    """Each drawing's id and whether the class may see it (what the teacher's projector page is given)."""
    return {d["id"]: d["revealed"] for d in room.state()["drawings"]}


@pytest.fixture
def room(tmp_path):
    r = Room(tmp_path / "room.db", TOKEN)
    yield r
    r.close()


def test_a_new_room_reviews_first_and_keeps_a_sent_drawing_back_until_revealed(room):
    assert room.state()["review_first"] is True
    kept = room.add(example(0), 0, 0.9, True, meant=0, nickname="Star", sender="pupil-1")
    assert revealed(room) == {kept: False}  # on the projector: blurred, "waiting for review", no nickname (room.js)
    assert room.reveal(kept)
    assert revealed(room) == {kept: True}


def test_a_temporary_room_reviews_first_too():
    """``python -m demo --classroom`` without ``--room-db``: a temporary room, the same default."""
    temporary = Room(None, TOKEN)
    try:
        assert temporary.state()["review_first"] is True
        drawing = temporary.add(example(1), 1, 0.8, True)
        assert revealed(temporary) == {drawing: False}
    finally:
        temporary.close()


def test_the_teacher_may_turn_review_off_and_a_room_file_keeps_that_choice(tmp_path):
    path = tmp_path / "kept.db"
    first = Room(path, TOKEN)
    assert first.set_review_first(False)
    shown = first.add(example(0), 0, 0.9, True)
    assert revealed(first) == {shown: True}
    first.close()
    again = Room(path, TOKEN)  # a restart with the same --room-db
    try:
        assert again.state()["review_first"] is False
        later = again.add(example(3), 1, 0.9, True)
        assert revealed(again)[later] is True
    finally:
        again.close()


def test_a_room_file_made_before_the_default_changed_keeps_review_off(tmp_path):
    """A --room-db file from an older ConvScope, whose settings said review off: the teacher's file is not changed."""
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        db.executescript("CREATE TABLE settings (name TEXT PRIMARY KEY, value INTEGER NOT NULL);"
                         "INSERT INTO settings VALUES ('version', 7), ('review_first', 0);")
    db.close()
    old = Room(path, TOKEN)
    try:
        state = old.state()
        assert state["review_first"] is False and state["version"] == 7
    finally:
        old.close()


def test_nicknames_are_optional_and_short():
    limit = RoomLimits().nickname_chars
    assert limit == 24  # also the send bar's maxlength (demo/page/classroom.py: send_bar)
    assert clean_nickname("", limit) is None and clean_nickname(None, limit) is None
    assert clean_nickname("x" * 100, limit) == "x" * limit


def test_the_pupils_page_asks_for_a_made_up_name_not_a_real_one():
    placeholder = plain("page.classroom.send_bar.nickname_placeholder")
    label = plain("page.classroom.send_bar.nickname_label")
    assert "made-up" in placeholder.lower()
    assert "not your real name" in label.lower() and "optional" in label.lower()
    # The placeholder is all a pupil sees in the box: on a 390 px wide phone the box shows 117 px of the page's
    # 16 px Source Sans Pro (measured in Chromium), which "Made-up name" fills to 100 px; a longer one is cut short.
    assert len(placeholder) <= 14
