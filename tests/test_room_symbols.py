"""A class's new symbols (demo/server/room_symbols.py, room_symbol_routes.py), without a browser: the teacher names
them, pupils read the names and send drawings meant as them by name, bad lists are refused with the reason, and
drawings follow their symbol when the list changes."""

from __future__ import annotations

import pytest

from demo.server.room_routes import TOKEN_HEADER
from demo.server.room_symbols import NAME_CHARS, BadSymbols, clean_names, meant_of
from tests.test_rooms import send_to, start, state


def set_names(http, made: dict, names, token: str | None = None):
    return http.post(f"/convscope/rooms/{made['code']}/classes", json={"names": names},
                     headers={TOKEN_HEADER: made["token"] if token is None else token})


def test_the_teacher_names_symbols_and_pupils_send_drawings_meant_as_them(http):
    made, other = start(http), start(http)
    answer = set_names(http, made, ["  Star ", "heart", "Christmas   tree"])
    assert answer.status_code == 200 and answer.json() == {"names": ["Star", "heart", "Christmas tree"]}
    assert http.get(f"/convscope/rooms/{made['code']}/classes").json() == {"names": ["Star", "heart", "Christmas tree"]}
    assert http.get(f"/convscope/rooms/{other['code']}/classes").json() == {"names": []}  # rooms are their own
    for meant in ("star", "HEART", 12, 3):
        assert send_to(http, made["code"], 4, meant=meant).status_code == 200
    shown = state(http, made["code"], made["token"]).json()
    assert shown["symbols"] == ["Star", "heart", "Christmas tree"]
    assert [d["meant"] for d in shown["drawings"]] == [10, 11, 12, 3]
    # A name another room has, or none of the list: not meant as anything.
    assert send_to(http, other["code"], 4, meant="star").status_code == 200
    assert state(http, other["code"], other["token"]).json()["drawings"][0]["meant"] is None


def test_drawings_follow_their_symbol_when_the_list_changes(http):
    made = start(http)
    set_names(http, made, ["star", "heart", "tree"])
    for meant in ("star", "heart", "tree", 0):
        send_to(http, made["code"], 1, meant=meant)
    assert set_names(http, made, ["star", "tree", "sun"]).status_code == 200  # heart taken off, tree moves up
    assert [d["meant"] for d in state(http, made["code"], made["token"]).json()["drawings"]] == [10, None, 11, 0]
    assert set_names(http, made, []).json() == {"names": []}
    assert [d["meant"] for d in state(http, made["code"], made["token"]).json()["drawings"]] == [None, None, None, 0]


def test_bad_lists_are_refused_with_the_reason_and_only_the_teacher_sets_them(http):
    made, other = start(http), start(http)
    cases = {"a name, not a list": "Give the new symbols as a list of names",
             "5": "Give the new symbols",
             "six": "at most 5 symbols"}
    lists = {"a name, not a list": "star", "5": 5, "six": ["a", "b", "c", "d", "e", "f"]}
    for case, reason in cases.items():
        refused = set_names(http, made, lists[case])
        assert refused.status_code == 400 and reason in refused.json()["error"], case
    for names, reason in ((["x" * (NAME_CHARS + 1)], "1 to 20 characters"), ([""], "1 to 20 characters"),
                          (["7"], "cannot be a symbol's name"), (["<b>star</b>"], "cannot be a symbol's name"),
                          (["star", "STAR"], "is in the list twice"), ([3], "1 to 20 characters")):
        refused = set_names(http, made, names)
        assert refused.status_code == 400 and reason in refused.json()["error"], names
    set_names(http, made, ["star"])
    for body in ({}, {"names": None}, "not json"):  # a request without a list changes nothing
        refused = http.post(f"/convscope/rooms/{made['code']}/classes", headers={TOKEN_HEADER: made["token"]},
                            **({"content": body} if isinstance(body, str) else {"json": body}))
        assert refused.status_code == 400 and "Give the new symbols" in refused.json()["error"]
    assert set_names(http, made, []).json() == {"names": []}  # none: said so, with an empty list
    assert set_names(http, made, ["star"], token=other["token"]).status_code == 403
    assert http.post(f"/convscope/rooms/{made['code']}/classes", json={"names": ["star"]}).status_code == 403
    assert http.get(f"/convscope/rooms/{made['code']}/classes").json() == {"names": []}  # nothing stored
    assert http.get("/convscope/rooms/ZZZZZZ/classes").status_code == 404


def test_names_in_any_script_and_what_a_pupil_may_mean():
    assert clean_names(["Stern", "corazón", "ёлка", "l'étoile"]) == ["Stern", "corazón", "ёлка", "l'étoile"]
    with pytest.raises(BadSymbols):
        clean_names(["a/b"])
    names = ["star", "heart"]
    assert [meant_of(v, names) for v in (0, "9", "Star", " heart ", 11, 12, 10.0, True, None, "tree")] == [
        0, 9, 10, 11, 11, None, None, None, None, None]


def test_what_a_stranger_sends_to_the_symbols_and_learning_routes_is_refused_without_harm(http):
    made = start(http)
    for route in ("classes", "learn"):  # oversized bodies: answered 413 unread, token or not
        huge = http.post(f"/convscope/rooms/{made['code']}/{route}", content=b"{" * 10_000,
                         headers={TOKEN_HEADER: made["token"], "Content-Type": "application/json"})
        assert huge.status_code == 413, route
    for bad in ("0OI1L0", "..%2F..%2Fetc", "A" * 5000, "%00"):  # codes that are not codes name no room
        assert http.get(f"/convscope/rooms/{bad}/classes").status_code == 404, bad
        assert http.get(f"/convscope/rooms/{bad}/learn", headers={TOKEN_HEADER: made["token"]}).status_code == 404
    assert http.get(f"/convscope/rooms/{made['code']}/classes").json() == {"names": []}  # nothing stored
