"""The class room's store (demo/server/room.py) and HTTP routes (demo/server/room_routes.py), without a browser:
SQLite in WAL mode shared by processes, the limits, the teacher's token checked on every teacher route, and the
readings equal to the network's own. The pages themselves: tests/test_class_room.py."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from demo.__main__ import main as cli
from demo.page.pad import pad_examples
from demo.server.live_route import LiveService
from demo.server.room import PupilLimiter, Room, RoomLimits, SendRefused, clean_meant, clean_nickname, room_urls
from demo.server.room_routes import TOKEN_HEADER, add_room_routes, qr_svg
from demo.views.live import read_drawing
from tests.harness import ROOT, free_port, stop_process

TOKEN = "a-teacher-token"


def example(index: int) -> dict:
    examples, _ = pad_examples()
    return {"w": 280, "h": 280, "pen": 20, "strokes": examples[index]["strokes"]}


@pytest.fixture
def room(tmp_path):
    r = Room(tmp_path / "room.db", TOKEN)
    yield r
    r.close()


def test_the_room_is_sqlite_in_wal_mode_and_a_second_connection_sees_every_change(room):
    assert room._db().execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    other = Room(room.path, TOKEN)  # another copy of the app on the same file
    first = room.add(example(0), 0, 0.99, True, meant=0, nickname="Ana")
    second = other.add(example(3), 1, 0.55, False)
    state = other.state()
    assert [d["id"] for d in state["drawings"]] == [first, second]
    assert state["drawings"][0] | {"created": 0} == {"id": first, "created": 0, "meant": 0, "nickname": "Ana",
                                                      "label": 0, "confidence": 0.99, "digit_like": True,
                                                      "revealed": True}
    assert state["strokes"][str(first)] == example(0)
    assert other.state(have=first)["strokes"].keys() == {str(second)}  # the page keeps what it has
    assert room.state(state["version"]) == {"version": state["version"], "unchanged": True}
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


def test_a_temporary_room_is_removed_when_closed():
    temporary = Room()
    temporary.add(example(0), 0, 0.9, True)
    path = temporary.path
    assert path.exists() and temporary.token and len(temporary.token) >= 16
    temporary.close()
    assert not path.exists() and not path.with_name(path.name + "-wal").exists()


def test_limits_per_room_and_per_pupil(tmp_path):
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

    pupils = PupilLimiter(3.0)
    pupils.take("a", now=100.0)
    pupils.take("b", now=100.5)
    with pytest.raises(SendRefused) as soon:
        pupils.take("a", now=101.0)
    assert soon.value.limit == "pupil" and "wait 2 s" in soon.value.message
    pupils.take("a", now=103.1)
    taken = pupils.take("c", now=104.0)
    pupils.give_back("c", taken)  # not stored (the server was busy): trying again is fine
    pupils.take("c", now=104.1)


def test_nicknames_and_meant_digits_are_cleaned():
    assert clean_nickname("  Ana\u0007\n  <b>Lee</b>  ", 24) == "Ana <b>Lee</b>"  # escaped by the page, not here
    assert clean_nickname("x" * 50, 24) == "x" * 24
    assert clean_nickname("\u200b \t", 24) is None and clean_nickname(7, 24) is None
    assert [clean_meant(v) for v in (0, 9, "7", 10, -1, True, "12", None, 3.0)] == [0, 9, 7, None, None, None, None,
                                                                                    None, None]


def test_the_addresses_printed_for_pupils_and_the_teacher(monkeypatch):
    assert room_urls("127.0.0.1", 7860, None, "tok") == ("http://127.0.0.1:7860/", "http://127.0.0.1:7860/?teacher=tok")
    monkeypatch.setattr("demo.server.room.network_address", lambda: "192.168.4.20")
    assert room_urls("0.0.0.0", 7860, None, "tok")[0] == "http://192.168.4.20:7860/"
    assert room_urls("0.0.0.0", 7860, "https://abc.gradio.live/", "tok") == (
        "https://abc.gradio.live/", "https://abc.gradio.live/?teacher=tok")
    assert room_urls("::1", 80, None, "t")[0] == "http://[::1]:80/"
    assert qr_svg("http://192.168.4.20:7860/").startswith("<svg")


def test_the_command_line_refuses_room_flags_without_the_classroom_and_weak_tokens(capsys):
    with pytest.raises(SystemExit):
        cli(["--room-db", "x.db"])
    assert "add --classroom" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli(["--classroom", "--teacher-token", "short"])
    assert "--teacher-token must be" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli(["--classroom", "--public-url", "not a url"])
    assert "--public-url must be" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------------ the routes
@pytest.fixture
def client(room, clf):
    app = Starlette()
    service = LiveService(clf.path, 0, clf)  # threads of this process, with the session's classifier
    add_room_routes(app, room, service)
    with TestClient(app) as c:
        yield c
    service.close()


def send(client, drawing, pupil="p1", **extra):
    return client.post("/convscope/room/send", json={"drawing": drawing, "pupil": pupil, **extra})


def teacher(client, token=TOKEN, **action):
    return client.post("/convscope/room/teacher", json=action, headers={TOKEN_HEADER: token})


def state(client, token=TOKEN, query=""):
    return client.get(f"/convscope/room/state{query}", headers={TOKEN_HEADER: token})


def test_a_send_stores_the_networks_own_reading(client, clf):
    examples, _ = pad_examples()
    for i, pupil in zip((0, 5, 11), ("a", "b", "c"), strict=True):
        answer = send(client, example(i), pupil, meant=examples[i]["digit"], nickname="Kim")
        assert answer.status_code == 200, answer.text
        oracle = read_drawing(clf, json.dumps(example(i)))  # the model itself, on the same drawing
        assert answer.json()["label"] == oracle["label"]
        assert answer.json()["confidence"] == pytest.approx(oracle["confidence"], abs=1e-4)
    drawings = state(client).json()["drawings"]
    assert [(d["meant"], d["nickname"]) for d in drawings] == [(examples[i]["digit"], "Kim") for i in (0, 5, 11)]


@pytest.mark.parametrize(("body", "status", "says"), [
    ({"drawing": {"w": 280, "h": 280, "strokes": []}}, 400, "empty"),
    ({"drawing": "{not json"}, 400, "could not be used"),
    ({"drawing": {"w": 280, "h": 280, "strokes": [[["a", 1]]]}}, 400, "finite number"),
    ({"drawing": {"w": 99999, "strokes": [[[1, 1]]]}}, 400, "canvas must be"),
    ({"nothing": 1}, 400, "empty"),
    ([1, 2], 400, "could not be read"),
])
def test_bad_sends_are_refused_with_a_reason(client, body, status, says):
    answer = client.post("/convscope/room/send", json=body)
    assert answer.status_code == status and says in answer.json()["error"]
    assert state(client).json()["drawings"] == []


def test_a_huge_send_is_refused_unread(client):
    answer = client.post("/convscope/room/send", content=b"[" * 900_000, headers={"Content-Type": "application/json"})
    assert answer.status_code == 400 and "at most" in answer.json()["error"]


def test_a_pupil_sending_again_at_once_is_told_to_wait(client):
    assert send(client, example(0), "same").status_code == 200
    again = send(client, example(0), "same")
    assert again.status_code == 429 and again.json()["limit"] == "pupil" and "wait" in again.json()["error"]
    assert int(again.headers["Retry-After"]) >= 1
    assert send(client, example(0), "another").status_code == 200
    assert len(state(client).json()["drawings"]) == 2
    # A send that is refused is not counted: the pupil may send a usable drawing straight away.
    speck = send(client, {"w": 280, "h": 280, "pen": 1, "strokes": [[[100, 100]]]}, "third")
    assert speck.status_code == 400 and "speck" in speck.json()["error"]
    assert send(client, example(0), "third").status_code == 200


@pytest.mark.parametrize("token", ["", "wrong", TOKEN + "x", TOKEN.upper()])
def test_every_teacher_route_checks_the_token_on_the_server(client, token):
    send(client, example(0))
    version = state(client).json()["version"]
    headers = {TOKEN_HEADER: token} if token else {}
    assert client.get("/convscope/room/state", headers=headers).status_code == 403
    assert client.get("/convscope/room/join", headers=headers).status_code == 403
    for action in ({"action": "clear"}, {"action": "hide", "id": 1}, {"action": "review_first", "on": True}):
        denied = client.post("/convscope/room/teacher", json=action, headers=headers)
        assert denied.status_code == 403 and "drawings" not in denied.text
    after = state(client).json()
    assert after["version"] == version and len(after["drawings"]) == 1 and after["review_first"] is False


def test_the_teachers_actions(client):
    ids = [send(client, example(i), f"p{i}").json()["id"] for i in range(3)]
    version = state(client).json()["version"]
    assert state(client, query=f"?version={version}&have={ids[-1]}").json() == {"version": version, "unchanged": True}
    assert teacher(client, action="hide", id=ids[0]).json()["changed"] is True
    assert [d["id"] for d in state(client).json()["drawings"]] == ids[1:]
    assert teacher(client, action="review_first", on=True).json()["changed"] is True
    kept = send(client, example(4), "p9").json()["id"]
    assert {d["id"]: d["revealed"] for d in state(client).json()["drawings"]}[kept] is False
    assert teacher(client, action="reveal", id=kept).json()["changed"] is True
    assert teacher(client, action="nonsense").status_code == 400
    assert teacher(client, action="hide").status_code == 400  # no id
    assert teacher(client, action="hide", id="1").status_code == 400
    assert teacher(client, action="hide", id=2**70).status_code == 400
    assert teacher(client, action=["clear"]).status_code == 400
    assert client.post("/convscope/room/teacher", content=b"[", headers={TOKEN_HEADER: TOKEN}).status_code == 400
    assert teacher(client, action="clear").json()["changed"] is True
    assert state(client).json()["drawings"] == []
    assert state(client, query="?version=x").status_code == 400


def test_the_join_route_gives_the_address_and_its_qr_code(client, room):
    room.join_url = "http://192.168.4.20:7860/"
    join = client.get("/convscope/room/join", headers={TOKEN_HEADER: TOKEN}).json()
    assert join["join_url"] == room.join_url and join["qr_svg"].startswith("<svg")


def test_a_full_room_says_so(tmp_path, clf):
    small = Room(tmp_path / "small.db", TOKEN, RoomLimits(max_drawings=2))
    app = Starlette()
    add_room_routes(app, small, LiveService(clf.path, 0, clf))
    with TestClient(app) as c:
        assert [send(c, example(0), f"p{i}").status_code for i in range(2)] == [200, 200]
        full = send(c, example(0), "p3")
        assert full.status_code == 429 and full.json()["limit"] == "full" and "clear" in full.json()["error"]
    assert sqlite3.connect(small.path).execute("SELECT COUNT(*) FROM drawings").fetchone()[0] == 2
    small.close()


def test_a_locked_database_is_answered_busy_not_a_crash(client, room, monkeypatch):
    def locked(*_args, **_kwargs):
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(room, "state", locked)
    monkeypatch.setattr(room, "check_room", locked)
    answer = state(client)
    assert answer.status_code == 503 and "busy" in answer.json()["error"]
    answer = send(client, example(0), "p")
    assert answer.status_code == 503 and "busy" in answer.json()["error"]
    monkeypatch.undo()
    assert send(client, example(0), "p").status_code == 200  # the refused send did not count against the pupil


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
        teacher = next(line.split()[1] for line in printed if line.startswith("Teacher:"))
        assert students == f"http://127.0.0.1:{port}/"
        token = teacher.removeprefix(students + "?teacher=")
        assert teacher.startswith(students + "?teacher=") and len(token) >= 16
        assert len(list(tmp_path.glob("convscope-room-*.db"))) == 1
    finally:
        stop_process(proc, timeout=30)
    assert proc.returncode == 0
    assert not list(tmp_path.glob("convscope-room-*")), list(tmp_path.iterdir())
