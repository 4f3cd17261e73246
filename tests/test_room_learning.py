"""A class room's own network learning the class's symbols over HTTP (demo/server/room_learning.py, learn_job.py,
room_learning_routes.py): refusals that say why, the state while it learns and after, the shipped network and the
other rooms untouched, and undo."""

from __future__ import annotations

import dataclasses
import time

import pytest

from bench.class_symbols import class_drawings
from demo.server.room_learning import network_file
from demo.server.room_routes import TOKEN_HEADER
from tests.test_room import example
from tests.test_rooms import start

SYMBOLS = ["star", "heart", "tree"]


def learn_url(made: dict) -> str:
    return f"/convscope/rooms/{made['code']}/learn"


def teacher(made: dict) -> dict[str, str]:
    return {TOKEN_HEADER: made["token"]}


def fill(rooms, made: dict, pupils: int = 12) -> None:
    """The class draws: each simulated pupil one drawing of each symbol (stored as sends of that pupil)."""
    room = rooms.get(made["code"])
    room.limits = dataclasses.replace(room.limits, pupil_interval_s=0.0, room_per_second=10_000)  # all at once
    for d in class_drawings(SYMBOLS, pupils=pupils, per_pupil=1, seed=5):
        room.add(d.drawing, 0, 0.5, False, meant=10 + SYMBOLS.index(d.symbol), sender=d.pupil)
    room.reveal(None)  # the teacher's review: "Reveal all"


def finished(http, made: dict, within_s: float) -> dict:
    """The room's learning state once it is no longer running (asked every 0.2 s, at most ``within_s``)."""
    deadline = time.monotonic() + within_s
    while (state := http.get(learn_url(made), headers=teacher(made)).json())["state"] == "running":
        assert time.monotonic() < deadline, state
        time.sleep(0.2)
    return state


def read_live(http, url: str, drawing: dict, **extra) -> tuple[str | None, str]:
    """The live pad's answer at ``url``: which network read the drawing (None: not said) and the class it named;
    every name but the digits' is one of the class's symbols."""
    answer = http.post(url, json={**drawing, "views": ["prediction"], **extra})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    name = body["html"]["prediction"].split('data-name="')[1].split('"')[0]
    return body.get("network"), name


def wait_until_free(timeout: float = 30.0) -> None:
    """Until this process learns for no room (the last learning's process has ended)."""
    from demo.server import room_learning

    deadline = time.monotonic() + timeout
    while not room_learning._learning.acquire(timeout=0.1):
        assert time.monotonic() < deadline, "a learning process did not end"
    room_learning._learning.release()


def test_learning_is_refused_with_the_reason(http, rooms):
    made, other = start(http), start(http)
    assert http.get(learn_url(made), headers=teacher(made)).json()["state"] == "idle"
    refused = http.post(learn_url(made), headers=teacher(made))
    assert refused.status_code == 400 and refused.json()["error"].startswith("Add the new symbols first")
    http.post(f"/convscope/rooms/{made['code']}/classes", json={"names": SYMBOLS}, headers=teacher(made))
    room = rooms.get(made["code"])
    for pupil in range(3):  # three stars, from three pupils: too few
        room.add(example(0), 0, 0.5, False, meant=10, sender=f"pupil-{pupil}")
    room.reveal(None)
    for pupil in range(3, 13):  # ten more, still waiting for the teacher's review ("review first"): they do not count
        room.add(example(0), 0, 0.5, False, meant=10, sender=f"pupil-{pupil}")
    refused = http.post(learn_url(made), headers=teacher(made))
    assert refused.status_code == 400
    assert refused.json()["error"].startswith("Not enough drawings of “star” yet (drawings: 3; pupils who drew it: 3)")
    for route in (http.post, http.get, http.delete):
        assert route(learn_url(made), headers=teacher(other)).status_code == 403
    assert http.get("/convscope/rooms/ZZZZZZ/learn", headers=teacher(made)).status_code == 404


@pytest.mark.slow
def test_a_room_learns_its_symbols_and_undoes_it(http, rooms, mnist_dir, clf):
    made, other = start(http), start(http)
    http.post(f"/convscope/rooms/{made['code']}/classes", json={"names": SYMBOLS}, headers=teacher(made))
    fill(rooms, made)
    rooms.data_dir = str(mnist_dir)
    shipped = {name: t.clone() for name, t in clf.model.state_dict().items()}
    started = http.post(learn_url(made), headers=teacher(made))
    assert started.status_code == 202 and started.json()["state"] == "running"
    assert http.post(learn_url(made), headers=teacher(made)).status_code == 409  # one learning at a time
    http.post(f"/convscope/rooms/{other['code']}/classes", json={"names": SYMBOLS}, headers=teacher(other))
    fill(rooms, other, pupils=6)
    busy = http.post(learn_url(other), headers=teacher(other))  # and one room at a time on this copy
    assert busy.status_code == 503 and "already teaching a network" in busy.json()["error"]
    state = finished(http, made, within_s=150)
    assert state["state"] == "done", state
    assert state["names"] == SYMBOLS and state["step"] == state["steps"]
    steps = [point[0] for point in state["curve"]]
    assert steps == sorted(steps) and steps[-1] == state["steps"]
    assert state["curve"][-1][1] < state["curve"][0][1]  # the loss went down
    assert state["held_back_accuracy"] >= 0.8 and state["held_back"] >= 6  # pupils it never learned from
    assert state["mnist_accuracy_after"] >= state["mnist_accuracy_before"] - 0.01
    assert network_file(rooms.get(made["code"])).is_file()
    assert all(w["meant"] != w["read"] for w in state["wrong"])
    # The shipped network and the other room: untouched.
    assert all(t.equal(clf.model.state_dict()[name]) for name, t in shipped.items())
    assert http.get(learn_url(other), headers=teacher(other)).json()["state"] == "idle"
    # The pads in that room read the symbols (stars by pupils it never saw); another room and the plain page read
    # digits only, and a room a client names that is not one is the plain page.
    stars = [d.drawing for d in class_drawings(["star"], pupils=3, per_pupil=1, seed=61)]
    by_body = [read_live(http, "/convscope/live", star, room=made["code"].lower()) for star in stars]
    by_path = [read_live(http, f"/convscope/rooms/{made['code']}/live", star) for star in stars]
    assert by_body == by_path and all(network == "room" for network, _ in by_body)
    assert [name for _, name in by_body].count("star") >= 2, by_body
    assert read_live(http, "/convscope/live", stars[0])[0] is None  # the plain page: no room named
    elsewhere = [read_live(http, "/convscope/live", stars[0], room=other["code"]),
                 read_live(http, f"/convscope/rooms/{other['code']}/live", stars[0]),
                 *[read_live(http, "/convscope/live", stars[0], room=stranger)
                   for stranger in ("../../etc/passwd", "A" * 5000, "ZZZZZZ")]]
    assert all(network == "shipped" and name.isdigit() for network, name in elsewhere), elsewhere
    # A pupil's send is read by the room's network too: the teacher's gallery and tally show the symbol.
    http.cookies.clear()
    assert http.post(f"/convscope/rooms/{made['code']}/hello").status_code == 200
    sent = http.post(f"/convscope/rooms/{made['code']}/send", json={"drawing": stars[0], "meant": "star"})
    assert sent.status_code == 200 and sent.json()["label"] == 10 + SYMBOLS.index(by_body[0][1]), sent.text
    # Undo: back to the shipped network.
    wait_until_free()
    undone = http.delete(learn_url(made), headers=teacher(made))
    assert undone.status_code == 200 and undone.json()["state"] == "idle"
    assert not network_file(rooms.get(made["code"])).exists()
    assert read_live(http, f"/convscope/rooms/{made['code']}/live", stars[0])[0] == "shipped"


def test_a_learning_that_runs_too_long_is_stopped_and_said_to_have_failed(http, rooms, monkeypatch):
    from demo.server import room_learning

    made = start(http)
    http.post(f"/convscope/rooms/{made['code']}/classes", json={"names": SYMBOLS}, headers=teacher(made))
    fill(rooms, made, pupils=6)
    wait_until_free()
    monkeypatch.setattr(room_learning, "LEARN_WITHIN_S", 0.5)  # far less than it needs
    assert http.post(learn_url(made), headers=teacher(made)).status_code == 202
    state = finished(http, made, within_s=60)
    assert state["state"] == "failed" and state["error"].startswith("The network could not finish learning.")
    assert not network_file(rooms.get(made["code"])).exists()


def test_a_learning_left_running_by_a_stopped_server_is_said_to_have_failed(http, rooms):
    """(The server stopped while its room learned: nobody marked the learning; it is overdue, so it failed.)"""
    from demo.server import room_learning

    made = start(http)
    room = rooms.get(made["code"])
    room.change(lambda db: db.execute(
        "INSERT INTO learning (id, state, names, started, steps) VALUES (1, 'running', '[\"star\"]', ?, 200)",
        (time.time() - room_learning.LEARN_WITHIN_S - 60,)).rowcount > 0)
    state = http.get(learn_url(made), headers=teacher(made)).json()
    assert state["state"] == "failed" and state["error"].startswith("The network could not finish learning.")
