"""Many class rooms on one server (demo/server/rooms.py, rooms_routes.py, room_routes.py), without a browser: the
codes' alphabet, rooms started over HTTP and isolated from each other (a room's token opens that room only), a
closed room's drawings deleted and its routes answering 404, idle rooms closing by themselves, starting rooms
limited per address, and --classroom's room found again after a restart."""

from __future__ import annotations

import json
import re

import pytest

from demo.server.room_routes import TOKEN_HEADER
from demo.server.rooms import CODE_ALPHABET, CODE_LENGTH, Rooms, new_code, normal_code
from tests.harness import run_async
from tests.test_room import example

LOOK_ALIKES = set("0O1IL")


def start(http) -> dict:
    answer = http.post("/convscope/rooms")
    assert answer.status_code == 201, answer.text
    return answer.json()


def send_to(http, code: str, index: int = 0, **extra):
    http.cookies.clear()  # a new pupil's phone
    assert http.post(f"/convscope/rooms/{code}/hello").status_code == 200
    return http.post(f"/convscope/rooms/{code}/send", json={"drawing": example(index), **extra})


def state(http, code: str, token: str):
    return http.get(f"/convscope/rooms/{code}/state", headers={TOKEN_HEADER: token})


def test_codes_use_only_letters_and_digits_that_cannot_be_confused():
    assert not LOOK_ALIKES & set(CODE_ALPHABET) and len(set(CODE_ALPHABET)) == len(CODE_ALPHABET)
    codes = {new_code() for _ in range(2000)}
    assert len(codes) == 2000  # no repeats among a couple of thousand
    assert all(len(c) == CODE_LENGTH and set(c) <= set(CODE_ALPHABET) for c in codes)
    assert set("".join(codes)) == set(CODE_ALPHABET)  # every character is used
    code = next(iter(codes))
    typed = f" {code[:3].lower()}-{code[3:]} "
    assert normal_code(typed) == code  # as a pupil may type it
    # "abcdß" would be "ABCDSS" in Python's capitals but not in the balancer's ASCII ones: it is no code.
    for bad in ("ABC1EF", "ABCDE", "ABCDEFG", "ÄBCDEF", "abcdß", None, 123456, "A" * 100):
        assert normal_code(bad) is None, bad


def test_a_room_started_over_http_gives_the_pupils_and_the_teacher_s_links(http):
    made = start(http)
    code, token = made["code"], made["token"]
    assert normal_code(code) == code and len(token) >= 16
    assert made["students"] == f"http://school.example/?room={code}"
    assert made["teacher"] == f"{made['students']}#teacher={token}"
    joined = http.get(f"/convscope/rooms/{code}/join", headers={TOKEN_HEADER: token}).json()
    assert joined["code"] == code and joined["join_url"] == made["students"] and "<svg" in joined["qr_svg"]
    assert state(http, code, token).json()["drawings"] == []


def test_rooms_are_isolated_and_a_token_opens_its_own_room_only(http, clf):
    from demo.views.live import read_drawing

    first, second = start(http), start(http)
    assert first["code"] != second["code"]
    answer = send_to(http, first["code"], 5, meant=3, nickname="Ana")
    assert answer.status_code == 200, answer.text
    assert answer.json()["label"] == read_drawing(clf, json.dumps(example(5)))["label"]
    shown = state(http, first["code"], first["token"]).json()["drawings"]
    assert [(d["meant"], d["nickname"], d["revealed"]) for d in shown] == [(3, "Ana", False)]  # review first
    assert state(http, second["code"], second["token"]).json()["drawings"] == []
    # Another room's token, no token, a made-up one: 403, and nothing of the room in the answer.
    for token in (second["token"], "", "made-up-token-123"):
        refused = state(http, first["code"], token)
        assert refused.status_code == 403 and "drawings" not in refused.json()
        act = http.post(f"/convscope/rooms/{first['code']}/teacher", json={"action": "clear"},
                        headers={TOKEN_HEADER: token})
        assert act.status_code == 403
    assert len(state(http, first["code"], first["token"]).json()["drawings"]) == 1
    # A pupil's identity is the room's own: the first room's cookie does not let them send to the second room.
    assert http.post(f"/convscope/rooms/{second['code']}/send", json={"drawing": example(0)}).status_code == 401


def test_closing_a_room_deletes_its_drawings_and_its_routes_answer_404(http, rooms):
    made, other = start(http), start(http)
    assert send_to(http, made["code"], 1).status_code == 200
    assert send_to(http, other["code"], 2).status_code == 200
    files = sorted(rooms.folder.glob(f"{made['code']}.db*"))
    assert files, list(rooms.folder.iterdir())
    # A wrong token cannot close it.
    assert http.delete(f"/convscope/rooms/{made['code']}", headers={TOKEN_HEADER: other["token"]}).status_code == 403
    closed = http.delete(f"/convscope/rooms/{made['code']}", headers={TOKEN_HEADER: made["token"]})
    assert closed.status_code == 200 and closed.json() == {"closed": True}
    assert not any(path.exists() for path in files)  # the drawings are gone with the room's file
    assert state(http, made["code"], made["token"]).status_code == 404
    http.cookies.clear()
    assert http.post(f"/convscope/rooms/{made['code']}/hello").status_code == 404
    assert http.post(f"/convscope/rooms/{made['code']}/send", json={"drawing": example(0)}).status_code == 404
    assert http.delete(f"/convscope/rooms/{made['code']}", headers={TOKEN_HEADER: made["token"]}).status_code == 404
    assert len(state(http, other["code"], other["token"]).json()["drawings"]) == 1  # the other room carries on
    assert made["code"] not in rooms.open_codes() and other["code"] in rooms.open_codes()


def test_a_room_nobody_uses_closes_by_itself(tmp_path):
    rooms = Rooms(tmp_path / "rooms.db", idle_s=3600)
    try:
        idle, busy = rooms.create(now=1000.0), rooms.create(now=1000.0)
        main_code, main = rooms.open_main("the-classroom-token", now=1000.0)
        rooms.get(idle[0], now=1000.0).add(example(0), 0, 0.9, True)
        rooms.touch(busy[0], now=3000.0)  # a send or the teacher's page, half an hour later
        assert rooms.get(idle[0], now=4000.0) is not None  # under an hour idle: still open
        assert rooms.sweep(now=4700.0) == [idle[0]]
        assert rooms.get(idle[0], now=4700.0) is None and not list(rooms.folder.glob(f"{idle[0]}.db*"))
        assert rooms.get(busy[0], now=6700.0) is None  # idle past the hour when next asked for: closed then
        assert rooms.get(main_code, now=10**6) is main  # --classroom's room stays while the app runs
        assert rooms.create(now=10**6)[0] not in {idle[0], busy[0]}
    finally:
        rooms.shut()


def test_starting_rooms_is_limited_per_address(http):
    made = [http.post("/convscope/rooms") for _ in range(6)]
    assert [m.status_code for m in made[:5]] == [201] * 5
    assert made[5].status_code == 429 and int(made[5].headers["Retry-After"]) > 0
    assert re.search(r"\d+ s", made[5].json()["error"])


def test_no_rooms_means_no_room_can_be_started(clf):
    from starlette.applications import Starlette
    from starlette.testclient import TestClient

    from demo.server.routes import app_kwargs
    from demo.server.work import WorkPool

    pool = WorkPool(clf.path, 0, clf)
    try:
        with TestClient(Starlette(**app_kwargs(pool))) as client:
            assert client.post("/convscope/rooms").status_code in (404, 405)
            assert client.get("/convscope/rooms/ABCDEF/state").status_code == 404
    finally:
        pool.close()


def test_the_classroom_room_is_found_again_after_a_restart_and_by_its_code(tmp_path):
    path = tmp_path / "kept.db"
    first = Rooms(path)
    code, room = first.open_main("teacher-token-one")
    kept = room.add(example(0), 0, 0.9, True)
    first.shut()
    again = Rooms(path)
    try:
        same, room = again.open_main("teacher-token-one")
        assert same == code and [d["id"] for d in room.state()["drawings"]] == [kept]
        assert again.is_teacher(code, "teacher-token-one") and not again.is_teacher(code, "teacher-token-two")
        other, _ = again.open_main("teacher-token-two")  # a new token: a new room; the old one closed, emptied
        assert other != code and again.get(code) is None
        assert again.get(other).state()["drawings"] == []
    finally:
        again.shut()


def test_rooms_started_from_the_page_outlive_a_restart_with_the_same_register(tmp_path):
    path = tmp_path / "school.db"
    first = Rooms(path)
    code, token = first.create()
    kept = first.get(code).add(example(1), 1, 0.9, True)
    closed, _ = first.create()
    first.close(closed)
    first.shut()
    again = Rooms(path)
    try:
        assert again.open_codes() == [code] and again.is_teacher(code, token)
        assert [d["id"] for d in again.get(code).state()["drawings"]] == [kept]
        assert again.get(closed) is None
    finally:
        again.shut()

def test_a_room_s_changes_are_pushed_to_the_teacher_as_they_happen(tmp_path):
    """The event stream (demo/server/room_events.py) says the room's version at once, then each new one as a send is
    stored, without the page asking; it ends when the room is closed."""
    import asyncio

    from demo.server.room_events import RoomWatch

    rooms = Rooms(tmp_path / "rooms.db")
    code, _ = rooms.create()
    room = rooms.get(code)

    async def listen() -> list[str]:
        watch = RoomWatch(every_s=0.01)
        stream = watch.versions(code, room, lambda: rooms.get(code) is not None, heartbeat_s=0.2)
        seen = [await anext(stream), await anext(stream)]  # the retry hint, then where the page starts from
        await asyncio.to_thread(room.add, example(0), 0, 0.9, True)  # a pupil's send, stored elsewhere
        seen.append(await asyncio.wait_for(anext(stream), timeout=5))
        await asyncio.to_thread(rooms.close, code)
        seen += [message async for message in stream]  # the next heartbeat finds the room closed: the end
        assert watch.streams == 0 and not watch._listeners
        return seen

    try:
        seen = run_async(listen())  # (a thread of its own: the session's Chromium holds this one's loop)
    finally:
        rooms.shut()
    versions = [json.loads(m.split("data: ")[1])["version"] for m in seen if m.startswith("event: version")]
    assert seen[0].startswith("retry:") and len(versions) == 2 and versions[1] > versions[0], seen


def test_the_event_stream_is_the_teacher_s_only(http):
    made, other = start(http), start(http)
    route = f"/convscope/rooms/{made['code']}/events"
    assert http.get(route, headers={TOKEN_HEADER: other["token"]}).status_code == 403
    assert http.get(route).status_code == 403
    http.delete(f"/convscope/rooms/{made['code']}", headers={TOKEN_HEADER: made["token"]})
    assert http.get(route, headers={TOKEN_HEADER: made["token"]}).status_code == 404


def test_the_classroom_room_takes_sends_by_its_code_and_by_its_own_routes(rooms, clf, monkeypatch):
    """--classroom's room is a room like the others too: a pupil who typed its code sends to it (the identity
    cookie goes with the room's coded routes), and one who opened the plain link sends to /convscope/room/."""
    from starlette.applications import Starlette
    from starlette.testclient import TestClient

    from demo.server import identity
    from demo.server.routes import app_kwargs
    from demo.server.work import WorkPool

    monkeypatch.setattr(identity, "FIRST_SEND_AFTER_S", 0.0, raising=False)
    code, room = rooms.open_main("the-classroom-token")
    pool = WorkPool(clf.path, 0, clf)
    try:
        with TestClient(Starlette(**app_kwargs(pool, room, rooms, code))) as client:
            assert send_to(client, code, 0).status_code == 200
            client.cookies.clear()
            assert client.post("/convscope/room/hello").status_code == 200
            assert client.post("/convscope/room/send", json={"drawing": example(1)}).status_code == 200
            by_code = state(client, code, "the-classroom-token").json()["drawings"]
            own = client.get("/convscope/room/state", headers={TOKEN_HEADER: "the-classroom-token"}).json()
            assert len(by_code) == 2 and [d["id"] for d in own["drawings"]] == [d["id"] for d in by_code]
    finally:
        pool.close()


def test_what_a_stranger_names_in_a_room_s_routes_is_refused_without_harm(http):
    """Oversized bodies on the rooms' routes are answered 413 unread; codes that are not codes (look-alikes, a path,
    a huge one) name no room; past the cap on event streams a page is told to poll."""
    made = start(http)
    code, token = made["code"], made["token"]
    http.cookies.clear()
    assert http.post(f"/convscope/rooms/{code}/hello").status_code == 200
    huge = http.post(f"/convscope/rooms/{code}/send", content=b"[" * 900_000,
                     headers={"Content-Type": "application/json"})
    assert huge.status_code == 413 and "too large" in huge.json()["error"]
    assert http.post("/convscope/rooms", content=b"x" * 10_000).status_code == 413
    assert http.post(f"/convscope/rooms/{code}/teacher", content=b"{" * 10_000,
                     headers={TOKEN_HEADER: token}).status_code == 413
    for bad in ("0OI1L0", "..%2F..%2Fetc", "A" * 5000, "%00", code.lower() + "X"):
        assert http.get(f"/convscope/rooms/{bad}/state", headers={TOKEN_HEADER: token}).status_code == 404, bad
        assert http.delete(f"/convscope/rooms/{bad}", headers={TOKEN_HEADER: token}).status_code in (404, 405), bad
    assert state(http, code, token).json()["drawings"] == []  # nothing of it reached the room


def test_past_the_cap_on_event_streams_a_teacher_s_page_is_told_to_poll(http, monkeypatch):
    from demo.server import room_events, room_routes

    made = start(http)
    monkeypatch.setattr(room_routes, "MAX_STREAMS", 0)  # as if every stream this copy serves were taken
    busy = http.get(f"/convscope/rooms/{made['code']}/events", headers={TOKEN_HEADER: made["token"]})
    assert busy.status_code == 503 and int(busy.headers["Retry-After"]) > 0
    assert room_events.MAX_STREAMS > 0


def registered(rooms) -> list[str]:
    return [code for (code,) in rooms._db().execute("SELECT code FROM rooms")]


def test_on_several_machines_a_new_room_gets_a_code_the_balancer_routes_here(http, rooms, monkeypatch):
    """The balancer's answer decides: codes it routes to another machine are forgotten (never given out, nothing of
    them kept), and the first one it routes here is the room's."""
    from demo.server import room_placing

    asked = []

    def balancer(url: str, code: str, token: str, timeout: float) -> bool:
        asked.append((url, code, token))
        assert rooms.get(code) is not None and rooms.is_teacher(code, token)  # registered before it is asked
        return len(asked) == 3  # the third code hashes to this machine

    monkeypatch.setattr(room_placing, "lands_here", balancer)
    rooms.balancer_url = "http://balancer.school.example:8080"
    made = start(http)
    assert [a[0] for a in asked] == [rooms.balancer_url] * 3
    assert made["code"] == asked[2][1] and made["token"] == asked[2][2]
    assert registered(rooms) == [made["code"]]  # the two other codes are gone from the register
    assert {p.name.split(".")[0] for p in rooms.folder.iterdir()} == {made["code"]}  # and left no file
    assert state(http, made["code"], made["token"]).status_code == 200


@pytest.mark.parametrize("balancer", ["unreachable", "never here"])
def test_a_room_that_cannot_be_placed_is_refused_with_a_reason(http, rooms, monkeypatch, balancer):
    from demo.server import room_placing

    def lands_here(url: str, code: str, token: str, timeout: float) -> bool:
        if balancer == "unreachable":
            raise ConnectionRefusedError(111, "Connection refused")
        return False

    monkeypatch.setattr(room_placing, "lands_here", lands_here)
    rooms.balancer_url = "http://127.0.0.1:9"
    answer = http.post("/convscope/rooms")
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "10"
    assert "could not find a class code that the load balancer sends to this server" in answer.json()["error"]
    assert registered(rooms) == []  # no code kept, no file
    assert list(rooms.folder.iterdir()) == []
