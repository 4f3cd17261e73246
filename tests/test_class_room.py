"""The class room end to end in real Chromium: one teacher (the projector's page, 1280×720) and three pupils on
phones (390×844, touch), each in a browser context of their own, against one ``python -m demo --classroom``.

The readings are checked against the model itself (demo.views.live.read_drawing on the drawing the pupil's pad holds);
the store and the routes alone are tests/test_room.py.
"""

from __future__ import annotations

import json
import time
import urllib.request

import httpx
import pytest

from demo.page.pad import pad_examples
from demo.server.identity import FIRST_SEND_AFTER_S
from demo.server.room_routes import TOKEN_HEADER
from demo.views.live import read_drawing
from tests.harness import (
    CLASSROOM_ARGS,
    CLASSROOM_TOKEN,
    example_strokes_unit,
    running_app,
    teacher_url,
    touch_strokes,
    wait_for_live_workers,
)

pytestmark = pytest.mark.browser
PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True, "device_scale_factor": 2}
FIGURES = "#class-gallery [data-drawing]"


@pytest.fixture(scope="module")
def app(classroom_server):
    """The run's classroom app with its class room (tests/conftest.py); each test starts with the room emptied."""
    return classroom_server


def teacher_action(url: str, **action) -> dict:
    request = urllib.request.Request(f"{url}/convscope/room/teacher", data=json.dumps(action).encode(),
                                     headers={"Content-Type": "application/json", TOKEN_HEADER: CLASSROOM_TOKEN})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


@pytest.fixture
def room(app, browser):
    """An empty room, the teacher's page open on it, and a way to open pupils' phones; all closed afterwards."""
    teacher_action(app, action="clear")
    teacher_action(app, action="review_first", on=False)
    contexts = []

    def open_page(url: str, **options):
        context = browser.new_context(**options)
        contexts.append(context)
        page = context.new_page()
        page.goto(url)
        page.wait_for_selector("#pad canvas", timeout=30_000)
        return page

    teacher = open_page(teacher_url(app), viewport={"width": 1280, "height": 720})
    teacher.wait_for_selector("#class-room[data-state='teacher'] #class-gallery", timeout=30_000)
    yield teacher, lambda: open_page(app + "/", **PHONE)
    for context in contexts:
        context.close()


def draw_and_send(pupil, digit: int, meant: int | None = None, nickname: str = "") -> dict:
    """Draws ``digit`` with a finger, picks the digit meant and a nickname, sends; returns the page's status."""
    pupil.click("#clear")
    # Real touch events, one per point of the example and without pauses: what is sent is the pad's drawing (drawing
    # at a person's pace, answered while the pen moves, is tests/test_browser.py's).
    touch_strokes(pupil, example_strokes_unit(digit), step_ms=0, points_per_segment=1)
    if meant is not None:
        pupil.click(f".meant-button[data-digit='{meant}']")
    pupil.fill("#nickname", nickname)
    pupil.click("#send-to-class")
    pupil.wait_for_function("() => ['sent', 'error'].includes(document.querySelector('#send-status').dataset.kind)",
                            timeout=20_000)
    return {"kind": pupil.locator("#send-status").get_attribute("data-kind"),
            "text": pupil.locator("#send-status").inner_text(),
            "drawing": pupil.evaluate("() => JSON.stringify(window.convscopePad.drawing())")}


def figures(teacher) -> list[dict]:
    return teacher.eval_on_selector_all(FIGURES, "els => els.map(e => ({...e.dataset, text: e.innerText}))")


def wait_for_figures(teacher, count: int) -> list[dict]:
    """Waits (no reload) until the gallery shows ``count`` drawings."""
    teacher.wait_for_function(f"() => document.querySelectorAll('{FIGURES}').length === {count}", timeout=10_000)
    return figures(teacher)


def test_three_pupils_sends_arrive_with_the_networks_readings_and_the_tally(room, clf):
    teacher, phone = room
    pupils = [phone() for _ in range(3)]
    # Pupil 3 draws a 7 and says it meant a 1: a mistake of the network as far as the tally can tell.
    plans = [(2, 2, "Ana"), (5, 5, ""), (7, 1, "Zeddo-9")]
    sent = [draw_and_send(p, digit, meant, nick) for p, (digit, meant, nick) in zip(pupils, plans, strict=True)]
    assert all(s["kind"] == "sent" for s in sent), sent
    oracle = [read_drawing(clf, s["drawing"])["label"] for s in sent]
    assert [f"read it as {label}" in s["text"] for s, label in zip(sent, oracle, strict=True)] == [True] * 3
    shown = wait_for_figures(teacher, 3)
    by_id = sorted(shown, key=lambda f: int(f["drawing"]))  # the gallery shows the newest first
    assert [int(f["label"]) for f in by_id] == oracle
    assert [f["meant"] for f in by_id] == ["2", "5", "1"]
    assert "Ana" in by_id[0]["text"] and "Zeddo-9" in by_id[2]["text"]
    assert [f["drawing"] for f in shown] == [f["drawing"] for f in reversed(by_id)]
    # The tally: what was meant against what was read, and the class's accuracy over the drawings that say.
    right = sum(label == meant for label, (_, meant, _) in zip(oracle, plans, strict=True))
    accuracy = teacher.locator("#class-accuracy")
    assert (accuracy.get_attribute("data-right"), accuracy.get_attribute("data-counted")) == (str(right), "3")
    for label, (_, meant, _) in zip(oracle, plans, strict=True):
        assert teacher.locator(f"#class-tally td[data-meant='{meant}'][data-read='{label}']").inner_text() == "1"
    # Wrong or unsure first puts the 7-meant-as-1 first.
    teacher.click("#wrong-first")
    assert figures(teacher)[0]["drawing"] == by_id[2]["drawing"] and figures(teacher)[0]["wrong"] == "true"
    # A click loads that drawing into the teacher's own views (and so the stepper's overview).
    teacher.click(f"{FIGURES}[data-drawing='{by_id[1]['drawing']}']")
    teacher.wait_for_function(f"() => document.querySelector('#prediction')?.dataset.label === '{oracle[1]}'",
                              timeout=15_000)
    teacher.wait_for_function("() => document.querySelector('#overview')?.dataset.state === 'ready'")
    loaded = teacher.evaluate("() => JSON.stringify(window.convscopePad.drawing())")
    assert read_drawing(clf, loaded)["label"] == oracle[1]
    # The keyboard does the same: Enter on a drawing's picture (a button named for what it does).
    thumb = teacher.locator(f"{FIGURES}[data-drawing='{by_id[2]['drawing']}'] canvas.thumb")
    assert thumb.get_attribute("role") == "button" and thumb.get_attribute("aria-label")
    caption = teacher.locator("#" + thumb.get_attribute("aria-describedby")).inner_text()
    assert "Zeddo-9" in caption  # its description tells it from the other drawings
    thumb.focus()
    teacher.keyboard.press("Enter")
    teacher.wait_for_function(f"() => document.querySelector('#prediction')?.dataset.label === '{oracle[2]}'",
                              timeout=15_000)
    # A pupil sees none of it: no other drawing, no teacher control, no projector toolbar.
    for pupil in pupils:
        assert pupil.locator(FIGURES).count() == 0 and pupil.locator("#clear-room, #review-first").count() == 0
        assert pupil.locator("#class-room").is_hidden() and pupil.locator("#classroom-bar").is_hidden()
        assert "Zeddo-9" not in pupil.locator("body").inner_text() or pupil is pupils[2]
        assert pupil.locator("#send-to-class").is_visible()
    # The phone's page: the pad, then the answer, then the send bar, one column, nothing sticking out sideways.
    boxes = pupils[0].evaluate("""() => Object.fromEntries(['#pad canvas', '#prediction', '#send-bar'].map((s) =>
        [s, document.querySelector(s).getBoundingClientRect().toJSON()]))""")
    assert boxes["#pad canvas"]["bottom"] <= boxes["#prediction"]["top"] <= boxes["#send-bar"]["top"]
    assert pupils[0].evaluate("() => document.documentElement.scrollWidth") <= PHONE["viewport"]["width"]


def test_a_wrong_token_sees_no_drawing_and_changes_nothing(room, app, browser):
    teacher, phone = room
    assert draw_and_send(phone(), 3, 3, "Mowgli-7")["kind"] == "sent"
    wait_for_figures(teacher, 1)
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    try:
        intruder = context.new_page()
        intruder.goto(teacher_url(app, "not-the-token"))
        intruder.wait_for_selector("#class-room[data-state='denied']", timeout=30_000)
        assert intruder.locator(FIGURES).count() == 0 and intruder.locator("#clear-room").count() == 0
        assert "Mowgli-7" not in intruder.locator("body").inner_text()
        # Its requests, made by hand, are refused by the server.
        status = intruder.evaluate("""async () => (await fetch('convscope/room/teacher', {method: 'POST',
            headers: {'Content-Type': 'application/json', 'X-Teacher-Token': 'not-the-token'},
            body: JSON.stringify({action: 'clear'})})).status""")
        assert status == 403
    finally:
        context.close()
    assert len(figures(teacher)) == 1


def test_a_pupil_sending_again_at_once_is_told_to_wait(room):
    teacher, phone = room
    pupil = phone()
    assert draw_and_send(pupil, 4, 4)["kind"] == "sent"
    again = draw_and_send(pupil, 4, 4)
    assert again["kind"] == "error" and "wait" in again["text"]
    assert len(wait_for_figures(teacher, 1)) == 1


def test_hide_review_first_and_clear(room, app, browser):
    teacher, phone = room
    first, second = phone(), phone()
    assert draw_and_send(first, 0, 0, "Kai")["kind"] == "sent"
    assert draw_and_send(second, 1, 1, "Lu")["kind"] == "sent"
    shown = wait_for_figures(teacher, 2)
    # A second teacher page (the teacher's laptop beside the projector) follows the first's actions.
    other = browser.new_context(viewport={"width": 1280, "height": 720}).new_page()
    other.goto(teacher_url(app))
    other.wait_for_function(f"() => document.querySelectorAll('{FIGURES}').length === 2", timeout=30_000)
    hidden = shown[0]["drawing"]
    teacher.click(f"{FIGURES}[data-drawing='{hidden}'] .hide-drawing")
    wait_for_figures(teacher, 1)
    other.wait_for_function(f"() => document.querySelectorAll('{FIGURES}').length === 1", timeout=10_000)
    assert hidden not in [f["drawing"] for f in figures(other)]

    # Review first: a new drawing arrives blurred, without its nickname, and cannot be loaded until revealed.
    teacher.check("#review-first")
    other.wait_for_function("() => document.querySelector('#review-first').checked", timeout=10_000)
    third = phone()
    assert draw_and_send(third, 8, 8, "Secret")["kind"] == "sent"
    kept = [f for f in wait_for_figures(teacher, 2) if f["revealed"] == "false"]
    assert len(kept) == 1 and "Secret" not in kept[0]["text"] and "waiting for review" in kept[0]["text"]
    locator = teacher.locator(f"{FIGURES}[data-drawing='{kept[0]['drawing']}']")
    assert "blur" in locator.locator("canvas").evaluate("c => getComputedStyle(c).filter")
    before = teacher.locator("#pad canvas").get_attribute("data-seq")
    locator.click(position={"x": 10, "y": 40})
    teacher.wait_for_timeout(500)
    assert teacher.locator("#pad canvas").get_attribute("data-seq") == before  # nothing loaded
    locator.locator(".reveal-drawing").click()
    teacher.wait_for_function(f"() => document.querySelector(\"{FIGURES}[data-drawing='{kept[0]['drawing']}']\")"
                              ".dataset.revealed === 'true'", timeout=10_000)
    assert "Secret" in locator.inner_text()

    # Clear the room (after the browser's confirmation): every page empties.
    teacher.once("dialog", lambda dialog: dialog.accept())
    teacher.click("#clear-room")
    wait_for_figures(teacher, 0)
    other.wait_for_function(f"() => document.querySelectorAll('{FIGURES}').length === 0", timeout=10_000)
    assert "No drawings yet" in teacher.locator("#class-gallery").inner_text()
    other.context.close()


def test_a_restart_with_the_room_db_keeps_the_gallery(browser, tmp_path):
    args = [*CLASSROOM_ARGS, "--room-db", str(tmp_path / "kept.db"), "--workers", "0"]  # quicker to start
    examples, _ = pad_examples()
    drawing = {"w": 280, "h": 280, "pen": 20, "strokes": examples[6]["strokes"]}
    with running_app(args) as url:
        wait_for_live_workers(url)
        teacher_action(url, action="review_first", on=False)  # the nickname shows only once a drawing is shown
        with httpx.Client(base_url=url, timeout=60) as pupil:  # keeps the identity cookie, as a browser does
            pupil.post("/convscope/room/hello").raise_for_status()
            time.sleep(FIRST_SEND_AFTER_S)
            sent = pupil.post("/convscope/room/send", json={"drawing": drawing, "meant": 3, "nickname": "Kept"})
            label = sent.json()["label"]
    with running_app(args) as url:
        page = browser.new_page(viewport={"width": 1280, "height": 720})
        page.goto(teacher_url(url))
        page.wait_for_function(f"() => document.querySelectorAll('{FIGURES}').length === 1", timeout=30_000)
        shown = figures(page)[0]
        assert (shown["label"], shown["meant"]) == (str(label), "3") and "Kept" in shown["text"]
        page.close()
