"""A class room's own network as the live pad uses it (demo/core/room_network.py, demo/server/jobs.py): saved and
read back exactly, reading the class's symbols by name, "none of these" for what is neither a digit nor one of
them, every view with the class's names, and a live update naming a room asking the server for its network."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch

from bench.class_symbols import class_drawings
from bench.non_digits import non_digits
from demo.core.digitness import stage_features
from demo.core.examples import example_image
from demo.core.preprocess import preprocess
from demo.core.room_network import RoomNetworkError, load_room_classifier, save_room_network, symbol_points
from demo.core.strokes import MAX_JSON_CHARS, parse_drawing
from demo.server import jobs
from demo.server.learn_job import reference_points, replay_digits
from demo.teaching.class_learning import ClassDrawing, learn
from demo.views import overview, panels
from demo.views.live import views_for_drawing

SYMBOLS = ["star", "heart", "tree"]


def model_input(drawing: dict) -> np.ndarray:
    pad = parse_drawing(json.dumps(drawing))
    return preprocess(pad.rasterize(), pad.pen).input28


@pytest.fixture(scope="module")
def room_file(clf, tmp_path_factory) -> str:
    """A room's network that learned three symbols from twelve simulated pupils (the pad's example digits
    replayed: no MNIST needed)."""
    drawings = [ClassDrawing(model_input(d.drawing), 10 + SYMBOLS.index(d.symbol), d.pupil)
                for d in class_drawings(SYMBOLS, pupils=12, per_pupil=1, seed=3)]
    learned = learn(clf.model, drawings, len(SYMBOLS), replay_digits(None), None, steps=120, seed=0)
    path = tmp_path_factory.mktemp("room") / "room.db.learned.safetensors"
    save_room_network(path, learned.model, [*clf.names, *SYMBOLS], reference_points(clf, drawings, learned, 0))
    return str(path)


@pytest.fixture(scope="module")
def fresh_hands() -> list:
    """Drawings of the symbols by pupils the network never saw (another seed)."""
    return class_drawings(SYMBOLS, pupils=6, per_pupil=1, seed=77)


def test_the_saved_network_reads_back_exactly(clf, room_file):
    net = load_room_classifier(room_file, clf)
    assert net.names == (*[str(d) for d in range(10)], *SYMBOLS)
    x = torch.rand(4, 1, 28, 28)
    again = load_room_classifier(room_file, clf)
    assert torch.equal(net.model(x), again.model(x)) and net.model(x).shape == (4, 13)
    # The convolutions are the shipped ones; the shipped network is untouched.
    assert torch.equal(net.model.conv1.weight, clf.model.conv1.weight) and clf.model.fc2.out_features == 10


def test_a_file_that_is_not_a_room_network_is_refused(clf, tmp_path):
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(b"not a network")
    with pytest.raises(RoomNetworkError):
        load_room_classifier(broken, clf)
    with pytest.raises(RoomNetworkError):
        load_room_classifier(tmp_path / "missing.safetensors", clf)
    assert jobs.room_classifier(clf, str(broken)) is clf  # the live pad reads with the shipped network instead


def test_it_reads_the_symbols_of_hands_it_never_saw_and_still_the_digits(clf, room_file, fresh_hands):
    net = load_room_classifier(room_file, clf)
    read = [net.predict(model_input(d.drawing), pen_width=d.drawing["pen"]) for d in fresh_hands]
    pairs = [(p.names[p.label], d.symbol) for p, d in zip(read, fresh_hands, strict=True)]
    right = [p for p, (name, meant) in zip(read, pairs, strict=True) if name == meant]
    assert len(right) >= 0.8 * len(fresh_hands), pairs
    assert all(p.looks_like_digit for p in right)  # "one of these": near the class's own drawings
    for digit in range(10):
        pred = net.predict(example_image(digit))
        assert pred.label == digit and pred.looks_like_digit


def test_what_is_neither_a_digit_nor_a_symbol_is_none_of_these(clf, room_file):
    net = load_room_classifier(room_file, clf)
    others = [d for d in non_digits(per_family=8, seed=5, families=["hash", "zigzag", "text", "smiley"])]
    read = [net.predict(d.image, pen_width=d.pen) for d in others]
    flagged = [p for p in read if not p.looks_like_digit]
    assert len(flagged) >= 0.8 * len(others)
    said = panels.prediction_html(flagged[0])
    assert "None of these: not a digit, and not one of the class" in said and "one of its 13 possible answers" in said
    assert "This looks like no digit and none of the class" in said  # what a screen reader announces
    # The symbols' reference points are what lets a star through: without them, a star is not a digit either.
    star = class_drawings(["star"], pupils=1, per_pupil=1, seed=9)[0].drawing
    assert net.predict(model_input(star), pen_width=star["pen"]).looks_like_digit
    assert not clf.predict(model_input(star), pen_width=star["pen"]).looks_like_digit


def test_every_view_names_the_classes(clf, room_file, fresh_hands):
    net = load_room_classifier(room_file, clf)
    star = next(d for d in fresh_hands if d.symbol == "star")
    update = views_for_drawing(net, json.dumps(star.drawing))
    assert 'data-name="star"' in update.html["prediction"] and 'class="digit symbol">star<' in update.html["prediction"]
    assert update.html["probabilities"].count('class="prob-row') == 13
    assert ">heart</span>" in update.html["probabilities"] and "3 symbols" in update.html["probabilities"]
    assert update.html["overview"].count('class="ov-bar-row') == 13 and ">tree</span>" in update.html["overview"]
    shipped = views_for_drawing(clf, json.dumps(star.drawing))
    assert shipped.html["probabilities"].count('class="prob-row') == 10 and "star" not in shipped.html["overview"]
    empty = overview.stages(None, net.model)[-1]
    assert empty.shape == (13,)
    assert panels.probabilities_html(None).count('class="prob-row') == 10


def test_a_symbol_name_is_shown_as_text(clf, room_file):
    """Names are the teacher's (cleaned by the server); the views escape them anyway."""
    net = load_room_classifier(room_file, clf)
    net.names = (*net.names[:10], "<b>star</b>", "a&b", 'say "hi"')
    pred = net.predict(model_input(class_drawings(["star"], pupils=1, seed=1)[0].drawing))
    pred.label = 10
    html = panels.prediction_html(pred) + panels.probabilities_html(pred) + overview.overview_html(pred, net.model)
    assert "<b>star</b>" not in html and "&lt;b&gt;star&lt;/b&gt;" in html and "a&amp;b" in html


def test_a_live_update_naming_a_room_asks_for_its_network(clf, room_file, fresh_hands):
    star = next(d for d in fresh_hands if d.symbol == "star")
    raw = json.dumps({**star.drawing, "room": "ABC123"}).encode()
    assert jobs.live_update(clf, raw, False) == jobs.RoomAsked("ABC123")
    body = json.loads(jobs.live_update(clf, raw, False, room_file))
    assert body["network"] == "room" and 'data-name="star"' in body["html"]["prediction"]
    body = json.loads(jobs.live_update(clf, raw, False, ""))  # a room without a network of its own
    assert body["network"] == "shipped" and int(body["html"]["prediction"].split('data-label="')[1][0]) < 10
    plain = json.loads(jobs.live_update(clf, json.dumps(star.drawing).encode(), False))
    assert "network" not in plain
    for odd in (["ABC123"], 7, "", None):  # a room that is not a code's text is not asked for
        assert isinstance(jobs.live_update(clf, json.dumps({**star.drawing, "room": odd}).encode(), False), bytes)


def test_symbol_points_lie_where_the_digitness_statistics_measure(clf):
    """A drawing's own point from symbol_points is at distance 0 from the drawing as the shipped statistics measure
    it, at every stage: the points are in the statistics' (whitened) space."""
    bar = model_input({"w": 280, "h": 280, "pen": 20, "strokes": [[[140, 40], [150, 240]]]})
    dn = clf.digitness
    points = symbol_points(clf.model, dn, torch.from_numpy(bar[None].astype(np.float32)))
    assert set(points) == set(dn.stages)
    with_it = dataclasses.replace(dn, means={s: np.concatenate([dn.means[s], points[s]]) for s in dn.stages})
    _, activations = clf.forward_staged(bar)
    terms = with_it.terms(stage_features(activations, dn.stages))
    for s in dn.stages:
        assert terms[s] == pytest.approx(-dn.centre[s] / dn.spread[s], abs=1e-3)


def test_what_a_stranger_sends_to_a_room_s_live_route_is_refused_or_read_by_the_shipped_network(http):
    made = http.post("/convscope/rooms").json()
    url = f"/convscope/rooms/{made['code']}/live"
    huge = http.post(url, content=b"{" * (4 * MAX_JSON_CHARS + 1), headers={"Content-Type": "application/json"})
    assert huge.status_code == 413  # unread, past the live route's own cap
    star = {**class_drawings(["star"], pupils=1, seed=1)[0].drawing, "views": ["prediction"]}
    padded = {**star, "padding": "x" * 20_000}  # past the rooms' small cap, within the live route's: read
    assert http.post(url, json=padded).json()["network"] == "shipped"
    for bad in ("0OI1L0", "A" * 5000, "%00"):  # codes that are no room: the shipped network reads
        answer = http.post(f"/convscope/rooms/{bad}/live", json=star)
        assert answer.status_code == 200 and answer.json()["network"] == "shipped", bad
    assert http.post("/convscope/rooms/..%2F..%2Fetc/live", json=star).status_code == 404  # a path: no such route
    broken = http.post(url, content=b'{"strokes": [[[1, 2]', headers={"Content-Type": "application/json"})
    assert broken.status_code == 200 and broken.json()["kept"] is True  # said on the page, nothing lost
