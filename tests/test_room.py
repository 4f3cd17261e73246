"""The class room's store (demo/server/room.py, demo/server/room_strokes.py) and HTTP routes
(demo/server/room_routes.py), without a browser: SQLite in WAL mode shared by processes, the limits per sender and
per room checked in the database, the teacher's blocks, the stored strokes simplified and sent in pages, the
teacher's token checked on every teacher route, and the readings equal to the network's own. The pages themselves:
tests/test_class_room.py.

The store's tests import nothing of the HTTP layer, so they run whatever state it is in."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from bench.room_strokes import as_touched
from demo.page.pad import pad_examples
from demo.server.room import STROKES_PER_STATE, Room
from demo.server.room_addresses import room_urls
from demo.server.room_rules import RoomLimits, SendRefused, clean_meant, clean_nickname
from demo.server.room_strokes import (
    MAX_STORED_POINTS,
    TOLERANCE_PX,
    polyline_distance,
    simplify_drawing,
    simplify_strokes,
)
from tests.harness import ROOT, free_port, stop_process

TOKEN = "a-teacher-token"
FAST = RoomLimits(room_per_second=10_000)  # for tests that add many drawings at once


def example(index: int) -> dict:
    examples, _ = pad_examples()
    return {"w": 280, "h": 280, "pen": 20, "strokes": examples[index]["strokes"]}


def stored(drawing: dict) -> dict:
    """A drawing as the room stores it."""
    return simplify_drawing(drawing)


@pytest.fixture
def room(tmp_path):
    r = Room(tmp_path / "room.db", TOKEN)
    r.set_review_first(False)  # a new room reviews first (tests/test_safe_defaults.py); these tests show at once
    yield r
    r.close()


def test_the_room_is_sqlite_in_wal_mode_and_a_second_connection_sees_every_change(room):
    assert room._db().execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    other = Room(room.path, TOKEN)  # another copy of the app on the same file
    first = room.add(example(0), 0, 0.99, True, meant=0, nickname="Ana")
    second = other.add(example(3), 1, 0.55, False)
    state = other.state()
    assert [d["id"] for d in state["drawings"]] == [first, second] and state["more"] is False
    assert state["drawings"][0] | {"created": 0} == {"id": first, "created": 0, "meant": 0, "nickname": "Ana",
                                                      "label": 0, "confidence": 0.99, "digit_like": True,
                                                      "revealed": True}
    assert state["strokes"][str(first)] == stored(example(0))
    assert other.state(have=first)["strokes"].keys() == {str(second)}  # the page keeps what it has
    assert room.state(state["version"], have=second) == {"version": state["version"], "unchanged": True}
    assert room.hide(first) and not room.hide(first)  # the version moves only on a change
    assert [d["id"] for d in other.state()["drawings"]] == [second]
    assert other.clear() and room.state()["drawings"] == []
    other.close()


# Another process of the app (a copy behind the balancer, a live worker) adding a drawing to the same file.
ADD_IN_ANOTHER_PROCESS = ("import json, sys; from demo.server.room import Room; "
                          "Room(sys.argv[1], sys.argv[2]).add(json.loads(sys.argv[3]), 0, 0.9, True)")


def test_worker_processes_share_the_room(room):
    processes = [subprocess.Popen([sys.executable, "-c", ADD_IN_ANOTHER_PROCESS, str(room.path), TOKEN,
                                   json.dumps(example(0))], cwd=ROOT) for _ in range(2)]
    for p in processes:
        assert p.wait(60) == 0
    room.add(example(3), 1, 0.9, True)
    assert len(room.state()["drawings"]) == 3


def test_review_first_keeps_new_drawings_back_until_revealed(room):
    before = room.add(example(0), 0, 0.9, True)
    assert room.set_review_first(True) and not room.set_review_first(True)
    kept = [room.add(example(0), 0, 0.9, True) for _ in range(2)]
    revealed = {d["id"]: d["revealed"] for d in room.state()["drawings"]}
    assert revealed == {before: True, kept[0]: False, kept[1]: False}
    assert room.state()["review_first"] is True
    room.reveal(kept[0])
    assert {d["id"]: d["revealed"] for d in room.state()["drawings"]}[kept[0]] is True
    room.reveal(None)
    assert all(d["revealed"] for d in room.state()["drawings"])


def test_a_restart_with_the_same_file_keeps_the_room(tmp_path):
    first = Room(tmp_path / "kept.db", TOKEN)
    drawing_id = first.add(example(0), 0, 0.9, True, nickname="Bo")
    first.close()
    again = Room(tmp_path / "kept.db", "another-token")
    assert [d["nickname"] for d in again.state()["drawings"]] == ["Bo"] and again.state()["drawings"][0]["id"] == 1
    assert drawing_id == 1
    again.close()
    assert (tmp_path / "kept.db").exists()


def test_a_room_file_whose_drawings_have_no_sender_column_is_completed(tmp_path):
    path = tmp_path / "kept.db"
    with sqlite3.connect(path) as db:  # the drawings table as a room file without senders holds it
        db.executescript("CREATE TABLE drawings (id INTEGER PRIMARY KEY AUTOINCREMENT, created REAL NOT NULL, "
                         "strokes TEXT NOT NULL, meant INTEGER, nickname TEXT, label INTEGER NOT NULL, "
                         "confidence REAL NOT NULL, digit_like INTEGER NOT NULL, hidden INTEGER NOT NULL DEFAULT 0, "
                         "revealed INTEGER NOT NULL DEFAULT 1);"
                         "INSERT INTO drawings (created, strokes, label, confidence, digit_like) "
                         "VALUES (1.0, '{\"w\":280,\"h\":280,\"pen\":20,\"strokes\":[[[1,1]]]}', 4, 0.5, 1);")
    db.close()
    kept = Room(path, TOKEN)
    new = kept.add(example(0), 0, 0.9, True, sender="s1")
    assert [d["id"] for d in kept.state()["drawings"]] == [1, new]
    assert kept.block(1) and kept.block(new)  # one without a sender (hidden), one with
    assert kept.state()["drawings"] == []
    kept.close()


def test_a_temporary_room_is_removed_when_closed():
    temporary = Room()
    temporary.add(example(0), 0, 0.9, True)
    path = temporary.path
    assert path.exists() and temporary.token and len(temporary.token) >= 16
    temporary.close()
    assert not path.exists() and not path.with_name(path.name + "-wal").exists()


def test_limits_per_room(tmp_path):
    room = Room(tmp_path / "limits.db", TOKEN, RoomLimits(room_per_second=3, max_drawings=5))
    for _ in range(3):
        room.add(example(0), 0, 0.9, True)
    with pytest.raises(SendRefused) as busy:
        room.add(example(0), 0, 0.9, True)
    assert busy.value.limit == "room" and busy.value.retry_after > 0
    room.check_room(now=room.state()["drawings"][-1]["created"] + 1.5)  # a second later there is room again
    with pytest.raises(SendRefused):
        room.check_room()
    room._db().execute("UPDATE drawings SET created = created - 5")
    room.add(example(0), 0, 0.9, True)
    room.add(example(0), 0, 0.9, True)
    with pytest.raises(SendRefused) as full:
        room.add(example(0), 0, 0.9, True)
    assert full.value.limit == "full" and "full (5 drawings)" in full.value.message
    room.close()


# ------------------------------------------------------------------------------------------------ senders
def test_one_send_per_sender_per_interval_whichever_copy_of_the_app_stores_it(tmp_path):
    """The interval is kept in the database: a second Room on the same file (another copy of the app behind the
    balancer) refuses a sender the first one just stored a drawing from."""
    limits = RoomLimits(pupil_interval_s=3.0, room_per_second=3)
    one, two = Room(tmp_path / "r.db", TOKEN, limits), Room(tmp_path / "r.db", TOKEN, limits)
    one.add(example(0), 0, 0.9, True, sender="pupil-a")
    for refuse in (lambda: two.add(example(0), 0, 0.9, True, sender="pupil-a"),
                   lambda: two.check_room(sender="pupil-a")):
        with pytest.raises(SendRefused) as soon:
            refuse()
        assert soon.value.limit == "pupil" and "wait 3 s" in soon.value.message
        assert 2.0 < soon.value.retry_after <= 3.0
    two.add(example(0), 0, 0.9, True, sender="pupil-b")  # another sender, and a send without one, are not held
    two.add(example(0), 0, 0.9, True)
    # Only a stored send counts: refused because the room is busy, pupil-c may send as soon as it is not.
    with pytest.raises(SendRefused) as busy:
        two.add(example(0), 0, 0.9, True, sender="pupil-c")
    assert busy.value.limit == "room"
    two._db().execute("UPDATE drawings SET created = created - 1.5")
    one.add(example(0), 0, 0.9, True, sender="pupil-c")
    one._db().execute("UPDATE senders SET last_send = last_send - 3.1 WHERE id = 'pupil-a'")  # 3.1 s later
    two.add(example(0), 0, 0.9, True, sender="pupil-a")
    assert one._db().execute("SELECT sender FROM drawings ORDER BY id").fetchall() == [
        ("pupil-a",), ("pupil-b",), (None,), ("pupil-c",), ("pupil-a",)]
    with pytest.raises(ValueError):
        one.add(example(0), 0, 0.9, True, sender="x" * 65)  # a sender is the server's short id, nothing else
    one.close()
    two.close()


ADD_AS_ONE_SENDER = ("import json, sys; from demo.server.room import Room\n"
                     "from demo.server.room_rules import RoomLimits, SendRefused\n"
                     "room = Room(sys.argv[1], 't', RoomLimits(pupil_interval_s=60))\n"
                     "try:\n    room.add(json.loads(sys.argv[2]), 0, 0.9, True, sender='same'); print('stored')\n"
                     "except SendRefused as error:\n    print(error.limit)")


def test_processes_sending_as_one_sender_at_once_store_one_drawing(room):
    processes = [subprocess.Popen([sys.executable, "-c", ADD_AS_ONE_SENDER, str(room.path), json.dumps(example(0))],
                                  cwd=ROOT, stdout=subprocess.PIPE, text=True) for _ in range(3)]
    said = sorted(p.communicate(timeout=60)[0].strip() for p in processes)
    assert said == ["pupil", "pupil", "stored"]
    assert len(room.state()["drawings"]) == 1


def test_the_teacher_blocks_a_sender(tmp_path):
    room = Room(tmp_path / "r.db", TOKEN, FAST)
    mine = [room.add(example(0), 0, 0.9, True, sender="rude")]
    room._db().execute("UPDATE senders SET last_send = last_send - 10")
    mine.append(room.add(example(1), 0, 0.9, True, sender="rude"))
    other = room.add(example(2), 1, 0.9, True, sender="kind")
    nobody = room.add(example(3), 1, 0.9, True)
    version = room.version()
    assert room.block(mine[1]) and room.version() > version
    assert [d["id"] for d in room.state()["drawings"]] == [other, nobody]  # both of theirs hidden
    assert str(mine[0]) not in room.state()["strokes"]
    assert not room.block(mine[0]) and not room.block(10_000)  # nothing more to change
    for refuse in (lambda: room.add(example(0), 0, 0.9, True, sender="rude"),
                   lambda: room.check_room(sender="rude")):
        with pytest.raises(SendRefused) as blocked:
            refuse()
        assert blocked.value.limit == "blocked" and blocked.value.retry_after == 0
        assert blocked.value.message.startswith("Your teacher has turned off sending from this browser.")
    assert room.block(nobody) and [d["id"] for d in room.state()["drawings"]] == [other]  # without a sender: hidden
    room._db().execute("UPDATE senders SET last_send = last_send - 10")
    room.add(example(4), 1, 0.9, True, sender="kind")
    assert room.clear()  # a fresh lesson: blocks and senders forgotten
    assert room._db().execute("SELECT COUNT(*) FROM senders").fetchone()[0] == 0
    room.add(example(0), 0, 0.9, True, sender="rude")
    room.close()


def test_the_signing_secret_is_made_once_per_room_file(tmp_path):
    one, two = Room(tmp_path / "r.db", TOKEN), Room(tmp_path / "r.db", "other-token")
    secret = two.secret()
    assert isinstance(secret, bytes) and len(secret) == 32
    assert one.secret() == secret
    assert (tmp_path / "r.db").stat().st_mode & 0o077 == 0  # the file is this user's alone
    one.close()
    two.close()
    again = Room(tmp_path / "r.db", TOKEN)
    assert again.secret() == secret and again.clear() is False and again.secret() == secret
    elsewhere = Room(tmp_path / "other.db", TOKEN)
    assert elsewhere.secret() != secret
    again.close()
    elsewhere.close()


# ------------------------------------------------------------------------------------------------ strokes
def dense(index: int, spacing: float = 0.5, jitter: float = 0.2) -> dict:
    """An example as a phone sends it, a point every half pixel with a hand's tremor."""
    rng = np.random.default_rng(index)
    return example(index) | {"strokes": [as_touched(s, spacing, jitter, rng) for s in example(index)["strokes"]]}


def thumbnail_ink(drawing: dict, side: int = 84) -> np.ndarray:
    """Which pixels of the teacher's thumbnail the pen covers (pixel centres within half the pen of a stroke)."""
    scale = side / drawing["w"]
    centres = np.stack(np.meshgrid(np.arange(side), np.arange(side)), -1).reshape(-1, 2) + 0.5
    distance = np.min([polyline_distance(centres, np.array(s) * scale) for s in drawing["strokes"]], axis=0)
    return distance <= drawing["pen"] * scale / 2


def test_stored_strokes_are_simplified_within_half_a_pixel(room):
    for index in range(0, len(pad_examples()[0]), 4):
        drawing = dense(index)
        kept = room.state(have=room.add(drawing, 0, 0.9, True) - 1)["strokes"]
        (simplified,) = kept.values()
        before, after = sum(map(len, drawing["strokes"])), sum(map(len, simplified["strokes"]))
        assert after < before / 3 and after <= MAX_STORED_POINTS
        assert simplified | {"strokes": None} == drawing | {"strokes": None}
        for original, short in zip(drawing["strokes"], simplified["strokes"], strict=True):
            assert short[0] == original[0] and short[-1] == original[-1]
            assert all(p in original for p in short)  # the drawing's own points, none moved
            assert polyline_distance(np.array(original), np.array(short)).max() <= TOLERANCE_PX + 1e-9
        # The same picture on the teacher's thumbnail: a few pixels on the ink's edge differ, none inside.
        before, after = thumbnail_ink(drawing), thumbnail_ink(simplified)
        assert (before != after).sum() <= 0.03 * before.sum()


def test_a_drawing_over_the_cap_keeps_at_most_the_cap(room):
    rng = np.random.default_rng(0)
    scribble = np.round(rng.uniform(20, 260, (4, 5000, 2)), 1).tolist()  # 20,000 points, all corners
    simplified, tolerance = simplify_strokes(scribble, TOLERANCE_PX)
    assert sum(map(len, simplified)) <= MAX_STORED_POINTS and tolerance > TOLERANCE_PX
    for original, short in zip(scribble, simplified, strict=True):
        assert polyline_distance(np.array(original), np.array(short)).max() <= tolerance + 1e-9
    drawing_id = room.add({"w": 280, "h": 280, "pen": 20, "strokes": scribble}, 0, 0.1, False)
    assert sum(map(len, room.state()["strokes"][str(drawing_id)]["strokes"])) <= MAX_STORED_POINTS
    many = [[[i % 280, 10.0], [i % 280, 20.0], [i % 280, 30.0]] for i in range(400)]  # the most strokes a pad sends
    assert sum(map(len, simplify_strokes(many, TOLERANCE_PX)[0])) == 800  # each stroke's ends, whatever the cap
    assert simplify_strokes([[[5.0, 5.0]], [[1.0, 1.0], [1.0, 1.0]]], TOLERANCE_PX)[0] == [[[5.0, 5.0]],
                                                                                        [[1.0, 1.0], [1.0, 1.0]]]
    # A pen going back over its own line keeps its turning points (all the points lie on one straight line).
    retraced = [[[140.0, float(y)] for y in [*range(100, 201), *range(199, 49, -1), *range(51, 121)]]]
    assert simplify_strokes(retraced, TOLERANCE_PX)[0] == [[[140.0, 100.0], [140.0, 200.0], [140.0, 50.0],
                                                            [140.0, 120.0]]]


def test_the_state_sends_strokes_in_pages(tmp_path):
    room = Room(tmp_path / "r.db", TOKEN, FAST)
    ids = [room.add(example(i % 20), i % 10, 0.9, True) for i in range(2 * STROKES_PER_STATE + 15)]
    room.hide(ids[1])
    room.hide(ids[-3])
    have, pages = 0, []
    while True:
        state = room.state(have=have)
        assert len(state["drawings"]) == len(ids) - 2  # the list is always whole
        pages.append([int(i) for i in state["strokes"]])
        if not state["more"]:
            break
        have = max(pages[-1])
    assert [len(p) for p in pages] == [STROKES_PER_STATE, STROKES_PER_STATE, 13]
    assert sum(pages, []) == [i for i in ids if i not in (ids[1], ids[-3])]  # lowest first; hidden never sent
    # Strokes still waiting above ``have`` are sent even when the version has not moved.
    version = room.version()
    assert "unchanged" not in room.state(version, have=pages[0][-1])
    assert room.state(version, have=ids[-1]) == {"version": version, "unchanged": True}
    assert room.state(have=2**70)["strokes"] == {}  # any number the page sends is fine
    room.close()


def test_nicknames_and_meant_digits_are_cleaned():
    assert clean_nickname("  Ana\u0007\n  <b>Lee</b>  ", 24) == "Ana <b>Lee</b>"  # escaped by the page, not here
    assert clean_nickname("x" * 50, 24) == "x" * 24
    assert clean_nickname("\u200b \t", 24) is None and clean_nickname(7, 24) is None
    assert [clean_meant(v) for v in (0, 9, "7", 10, -1, True, "12", None, 3.0)] == [0, 9, 7, None, None, None, None,
                                                                                    None, None]


def test_the_addresses_printed_for_pupils_and_the_teacher(monkeypatch):
    """The teacher's token is in the fragment, which browsers never send to a server or proxy."""
    assert room_urls("127.0.0.1", 7860, None, "tok") == ("http://127.0.0.1:7860/", "http://127.0.0.1:7860/#teacher=tok")
    monkeypatch.setattr("demo.server.room_addresses.network_address", lambda: "192.168.4.20")
    assert room_urls("0.0.0.0", 7860, None, "tok")[0] == "http://192.168.4.20:7860/"
    assert room_urls("0.0.0.0", 7860, "https://abc.gradio.live/", "tok") == (
        "https://abc.gradio.live/", "https://abc.gradio.live/#teacher=tok")
    assert room_urls("::1", 80, None, "t")[0] == "http://[::1]:80/"


def test_the_command_line_refuses_room_flags_that_do_not_fit_and_tokens_in_sight(capsys, monkeypatch):
    from demo.__main__ import main as cli

    with pytest.raises(SystemExit):
        cli(["--teacher-token-file", "token.txt"])
    assert "add --classroom" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli(["--no-rooms", "--room-db", "x.db"])
    assert "--no-rooms" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli(["--room-idle-hours", "0"])
    assert "--room-idle-hours must be" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # every user of the machine can read a command line
        cli(["--classroom", "--teacher-token", "long-enough-token"])
    assert "--teacher-token is not accepted" in capsys.readouterr().err
    monkeypatch.setenv("CONVSCOPE_TEACHER_TOKEN", "short")
    with pytest.raises(SystemExit):
        cli(["--classroom"])
    assert "must be 8-128" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli(["--classroom", "--public-url", "not a url"])
    assert "--public-url must be" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------------ the routes
# Pupils here are TestClient cookie jars: ``hello`` gives the jar an identity as a pupil's page gets one.
@pytest.fixture
def app_for(clf, monkeypatch):
    """The room's routes over a room, as the app serves them (with the body limit), in a test client."""
    from starlette.applications import Starlette
    from starlette.testclient import TestClient

    from demo.server import identity
    from demo.server.routes import app_kwargs
    from demo.server.work import WorkPool

    monkeypatch.setattr(identity, "FIRST_SEND_AFTER_S", 0.0, raising=False)  # these pupils send as soon as they joined
    pools, clients = [], []

    def make(room: Room) -> TestClient:
        pools.append(WorkPool(clf.path, 0, clf))  # threads of this process, with the session's classifier
        clients.append(TestClient(Starlette(**app_kwargs(pools[-1], room))).__enter__())
        return clients[-1]

    yield make
    for c in clients:
        c.__exit__(None, None, None)
    for pool in pools:
        pool.close()


@pytest.fixture
def client(room, app_for):
    return app_for(room)


def hello(client) -> None:
    """A new pupil's page on this client: a fresh identity from the server."""
    client.cookies.clear()
    answer = client.post("/convscope/room/hello")
    assert answer.status_code == 200 and answer.json() == {"ok": True}, answer.text


def send(client, drawing, **extra):
    return client.post("/convscope/room/send", json={"drawing": drawing, **extra})


def teacher(client, token=TOKEN, **action):
    from demo.server.room_routes import TOKEN_HEADER

    return client.post("/convscope/room/teacher", json=action, headers={TOKEN_HEADER: token})


def state(client, token=TOKEN, query=""):
    from demo.server.room_routes import TOKEN_HEADER

    return client.get(f"/convscope/room/state{query}", headers={TOKEN_HEADER: token})


def test_a_send_stores_the_networks_own_reading(client, clf):
    from demo.views.live import read_drawing

    examples, _ = pad_examples()
    for i in (0, 5, 11):
        hello(client)
        answer = send(client, example(i), meant=examples[i]["digit"], nickname="Kim")
        assert answer.status_code == 200, answer.text
        oracle = read_drawing(clf, json.dumps(example(i)))  # the model itself, on the same drawing
        assert answer.json()["label"] == oracle["label"]
        assert answer.json()["confidence"] == pytest.approx(oracle["confidence"], abs=1e-4)
    drawings = state(client).json()["drawings"]
    assert [(d["meant"], d["nickname"]) for d in drawings] == [(examples[i]["digit"], "Kim") for i in (0, 5, 11)]


def test_a_send_needs_an_identity_from_the_server_and_a_blocked_one_is_refused(client, room):
    """What send.js relies on: 401 {"identity": "missing"} without one (the page then says hello and sends
    again); the identity is the server's random id, stored with the drawing; a blocked sender gets 403."""
    client.cookies.clear()
    missing = send(client, example(0), pupil="made-up")  # a client's own id is no identity
    assert missing.status_code == 401 and missing.json()["identity"] == "missing"
    hello(client)
    drawing_id = send(client, example(0)).json()["id"]
    (sender,) = room._db().execute("SELECT sender FROM drawings WHERE id = ?", (drawing_id,)).fetchone()
    assert isinstance(sender, str) and 8 <= len(sender) <= 64 and sender != "made-up"
    assert teacher(client, action="block", id=drawing_id).json()["changed"] is True
    room._db().execute("UPDATE senders SET last_send = last_send - 60")
    blocked = send(client, example(0))
    assert blocked.status_code == 403 and blocked.json()["limit"] == "blocked"
    assert "turned off sending" in blocked.json()["error"] and state(client).json()["drawings"] == []


@pytest.mark.parametrize(("body", "says"), [
    ({"drawing": {"w": 280, "h": 280, "strokes": []}}, "empty"),
    ({"drawing": "{not json"}, "could not be used"),
    ({"drawing": {"w": 280, "h": 280, "strokes": [[["a", 1]]]}}, "finite number"),
    ({"drawing": {"w": 99999, "strokes": [[[1, 1]]]}}, "canvas must be"),
    ({"nothing": 1}, "empty"),
    ([1, 2], "could not read"),
])
def test_bad_sends_are_refused_with_a_reason(client, body, says):
    hello(client)
    answer = client.post("/convscope/room/send", json=body)
    assert answer.status_code == 400 and says in answer.json()["error"]
    assert state(client).json()["drawings"] == []


def test_a_huge_send_is_refused_unread(client):
    hello(client)
    answer = client.post("/convscope/room/send", content=b"[" * 900_000, headers={"Content-Type": "application/json"})
    assert answer.status_code == 413 and "too large" in answer.json()["error"]


def test_a_pupil_sending_again_at_once_is_told_to_wait(client):
    hello(client)
    assert send(client, example(0)).status_code == 200
    again = send(client, example(0))
    assert again.status_code == 429 and again.json()["limit"] == "pupil" and "wait" in again.json()["error"]
    assert int(again.headers["Retry-After"]) >= 1
    hello(client)  # another pupil
    assert send(client, example(0)).status_code == 200
    assert len(state(client).json()["drawings"]) == 2
    # A send that is refused is not counted: the pupil may send a usable drawing straight away.
    hello(client)
    speck = send(client, {"w": 280, "h": 280, "pen": 1, "strokes": [[[100, 100]]]})
    assert speck.status_code == 400 and "speck" in speck.json()["error"]
    assert send(client, example(0)).status_code == 200


@pytest.mark.parametrize("token", ["", "wrong", TOKEN + "x", TOKEN.upper()])
def test_every_teacher_route_checks_the_token_on_the_server(client, room, token):
    room.add(example(0), 0, 0.9, True, sender="s1")
    version = state(client).json()["version"]
    headers = {"X-Teacher-Token": token} if token else {}
    assert client.get("/convscope/room/state", headers=headers).status_code == 403
    assert client.get("/convscope/room/join", headers=headers).status_code == 403
    for action in ({"action": "clear"}, {"action": "hide", "id": 1}, {"action": "block", "id": 1},
                   {"action": "review_first", "on": True}):
        denied = client.post("/convscope/room/teacher", json=action, headers=headers)
        assert denied.status_code == 403 and "drawings" not in denied.text
    after = state(client).json()
    assert after["version"] == version and len(after["drawings"]) == 1 and after["review_first"] is False


def test_the_teachers_actions(client, room):
    ids = [room.add(example(i), i, 0.9, True, sender=f"p{i}") for i in range(3)]
    version = state(client).json()["version"]
    assert state(client, query=f"?version={version}&have={ids[-1]}").json() == {"version": version, "unchanged": True}
    assert teacher(client, action="hide", id=ids[0]).json()["changed"] is True
    assert [d["id"] for d in state(client).json()["drawings"]] == ids[1:]
    assert teacher(client, action="block", id=ids[1]).json()["changed"] is True
    assert [d["id"] for d in state(client).json()["drawings"]] == ids[2:]
    assert teacher(client, action="review_first", on=True).json()["changed"] is True
    kept = room.add(example(4), 4, 0.9, True, sender="p9")
    assert {d["id"]: d["revealed"] for d in state(client).json()["drawings"]}[kept] is False
    assert teacher(client, action="reveal", id=kept).json()["changed"] is True
    assert teacher(client, action="nonsense").status_code == 400
    assert teacher(client, action="hide").status_code == 400  # no id
    assert teacher(client, action="hide", id="1").status_code == 400
    assert teacher(client, action="hide", id=2**70).status_code == 400
    assert teacher(client, action=["clear"]).status_code == 400
    assert client.post("/convscope/room/teacher", content=b"[",
                       headers={"X-Teacher-Token": TOKEN}).status_code == 400
    assert teacher(client, action="clear").json()["changed"] is True
    assert state(client).json()["drawings"] == []
    assert state(client, query="?version=x").status_code == 400


def test_the_join_route_gives_the_address_and_its_qr_code(client, room):
    from demo.server.room_routes import qr_svg

    room.join_url = "http://192.168.4.20:7860/"
    join = client.get("/convscope/room/join", headers={"X-Teacher-Token": TOKEN}).json()
    assert join["join_url"] == room.join_url and join["qr_svg"].startswith("<svg")
    assert qr_svg("http://192.168.4.20:7860/").startswith("<svg")


def test_a_full_room_says_so(tmp_path, app_for):
    small = Room(tmp_path / "small.db", TOKEN, RoomLimits(max_drawings=2))
    c = app_for(small)
    for _ in range(2):
        hello(c)
        assert send(c, example(0)).status_code == 200
    hello(c)
    full = send(c, example(0))
    assert full.status_code == 429 and full.json()["limit"] == "full" and "clear" in full.json()["error"]
    assert sqlite3.connect(small.path).execute("SELECT COUNT(*) FROM drawings").fetchone()[0] == 2
    small.close()


def test_a_locked_database_is_answered_busy_not_a_crash(client, room, monkeypatch):
    def locked(*_args, **_kwargs):
        raise sqlite3.OperationalError("database is locked")

    hello(client)
    with monkeypatch.context() as patched:
        patched.setattr(room, "state", locked)
        patched.setattr(room, "check_room", locked)
        answer = state(client)
        assert answer.status_code == 503 and "busy" in answer.json()["error"]
        answer = send(client, example(0))
        assert answer.status_code == 503 and "busy" in answer.json()["error"]
    assert send(client, example(0)).status_code == 200  # the refused send did not count against the pupil


@pytest.mark.server
@pytest.mark.slow  # starts the app
def test_the_app_prints_both_addresses_and_removes_its_temporary_room_when_stopped(tmp_path):
    """``--classroom`` without ``--room-db``: a temporary room file while the app runs, gone after SIGTERM."""
    port = free_port()
    env = {**os.environ, "TMPDIR": str(tmp_path), "GRADIO_TEMP_DIR": str(tmp_path / "uploads"),
           "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "demo", "--classroom", "--workers", "0", "--port", str(port)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    printed = []
    try:
        deadline = time.monotonic() + 120
        while not any(line.startswith("Teacher:") for line in printed):
            assert proc.poll() is None and time.monotonic() < deadline, "".join(printed)
            printed.append(proc.stdout.readline())
        students = next(line.split()[1] for line in printed if line.startswith("Students:"))
        said = next(line for line in printed if line.startswith("Teacher:"))
        # Not a terminal: the teacher's address is in a file only this user can read (demo/__main__.py: announce).
        kept = re.search(r"is in (\S+)", said)
        teacher = Path(kept.group(1)).read_text().strip() if kept else said.split()[1]
        assert students == f"http://127.0.0.1:{port}/"
        token = teacher.removeprefix(students + "#teacher=")
        assert teacher.startswith(students + "#teacher=") and len(token) >= 16
        assert len(list(tmp_path.glob("convscope-rooms-*/rooms.db"))) == 1
    finally:
        stop_process(proc, timeout=30)
    assert proc.returncode == 0
    assert not list(tmp_path.glob("convscope-room*")), list(tmp_path.iterdir())
