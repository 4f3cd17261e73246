"""A class teaches the network new symbols, in Chromium, on the plain ``python -m demo`` (with MNIST when it is
there): the teacher names a star, a heart and a tree; a pupil's phone offers them ("Draw a star") and sends one; the
rest of the class sends from their phones; the teacher lets them through and presses "Learn them"; the projector
shows the curves growing step by step, then the accuracy on pupils it never learned from and on the MNIST test
digits before and after; the pupils' pads in that class read a star as "star" while a page in no class reads
digits; undo goes back to digits. axe-core checks the panel in both themes."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from bench.class_symbols import CANVAS, class_drawings
from demo.server.identity import FIRST_SEND_AFTER_S
from tests.harness import open_page, touch_strokes, wait_settled
from tests.test_accessibility import in_both_themes
from tests.test_class_room import PHONE
from tests.test_rooms_browser import axe, join, start_class

pytestmark = [pytest.mark.browser, pytest.mark.server, pytest.mark.slow]

SYMBOLS = ["star", "heart", "tree"]
STAR = [[(x / CANVAS, y / CANVAS) for x, y in stroke]
        for stroke in class_drawings(["star"], pupils=1, per_pupil=1, seed=2)[0].drawing["strokes"]]


def sent_from_phones(url: str, code: str, drawings: list) -> int:
    """The class sends: each drawing from a phone of its own (a pupil's identity each), a few at a time; returns how
    many were stored."""
    def phone(d) -> bool:
        with httpx.Client(base_url=url, timeout=60) as client:
            client.post(f"/convscope/rooms/{code}/hello").raise_for_status()
            time.sleep(FIRST_SEND_AFTER_S)
            answer = client.post(f"/convscope/rooms/{code}/send", json={"drawing": d.drawing, "meant": d.symbol})
            return answer.status_code == 200

    with ThreadPoolExecutor(12) as pool:
        return sum(pool.map(phone, drawings))


def draw(page, strokes) -> str:
    """Draws ``strokes`` on the pad with a finger; returns the name of the class the network reads."""
    page.click("#clear")
    page.wait_for_selector("#prediction[data-state='empty']")
    touch_strokes(page, strokes, step_ms=0, points_per_segment=1)
    wait_settled(page, 20_000)  # the answer to the pen-up's update
    return page.locator("#prediction").get_attribute("data-name")


def test_a_class_teaches_the_network_a_star_a_heart_and_a_tree(browser, app_server):
    contexts = []
    try:
        teacher_ctx, teacher, code = start_class(browser, app_server)
        contexts.append(teacher_ctx)
        assert teacher.locator("#class-symbols").is_visible()
        teacher.fill("#symbols-input", "star, heart, tree")
        teacher.click("#symbols-save")
        teacher.wait_for_function("() => document.querySelectorAll('#symbols-list li').length === 3")
        assert "The pupils' phones now ask for: star, heart, tree." in teacher.locator("#learn-status").inner_text()

        # A pupil's phone offers the symbols beside the digits, and says what to draw.
        pupil_ctx, pupil = join(browser, app_server, code)
        contexts.append(pupil_ctx)
        pupil.wait_for_selector(".meant-button.symbol[data-symbol='star']", timeout=20_000)
        assert "new symbols: star, heart, tree" in pupil.locator("#send-ask").inner_text()
        pupil.click(".meant-button.symbol[data-symbol='star']")
        assert pupil.locator("#send-status").inner_text() == "Draw: star. Then send it."
        assert draw(pupil, STAR).isdigit()  # before it learns, the class's pads read digits only
        pupil.click("#send-to-class")
        pupil.wait_for_selector("#send-status[data-kind='sent']", timeout=20_000)

        # The rest of the class sends from their phones; the teacher lets the drawings through ("review first").
        assert sent_from_phones(app_server, code, class_drawings(SYMBOLS, pupils=8, per_pupil=1, seed=4)) == 24
        teacher.wait_for_selector("#reveal-all:not([hidden])", timeout=20_000)
        teacher.click("#reveal-all")
        teacher.wait_for_function("() => document.querySelector(\"#symbols-list li[data-symbol='star']\")"
                                  "?.dataset.count === '9'", timeout=20_000)
        assert teacher.locator("#symbols-list li[data-enough='true']").count() == 3

        # "Learn them": the curves grow step by step on the projector, then the results.
        teacher.click("#learn-start")
        teacher.wait_for_selector("#learn-box[data-state='running']", timeout=20_000)
        teacher.wait_for_function("() => +document.querySelector('#learn-curves').dataset.points >= 2",
                                  timeout=60_000)
        assert teacher.locator("#learn-progress").inner_text().startswith("Step ")
        teacher.wait_for_selector("#learn-box[data-state='done']", timeout=150_000)
        held = teacher.locator("#held-back-accuracy")
        assert float(held.get_attribute("data-accuracy")) >= 0.8, held.inner_text()
        assert held.inner_text().startswith("Pupils it never learned from:")
        assert "MNIST test digits" in teacher.locator("#mnist-accuracy").inner_text()
        assert teacher.locator("#learn-wrong .wrong-title").count() == 1
        assert teacher.locator("#learn-curves polyline.curve-loss").count() == 1
        assert in_both_themes(axe(), teacher, "#class-symbols") == {}

        # The pads in that class read the new symbols; a page in no class reads digits only.
        assert draw(pupil, STAR) == "star"
        assert pupil.locator("#probabilities .prob-row").count() == 13
        lone_ctx = browser.new_context(**PHONE)
        contexts.append(lone_ctx)
        assert draw(open_page(lone_ctx, app_server), STAR).isdigit()

        # The lesson's drawings kept on the teacher's computer before the class is closed.
        with teacher.expect_download() as download:
            teacher.click("#download-drawings")
        kept = json.loads(Path(download.value.path()).read_text())
        assert kept["classes"] == [*map(str, range(10)), *SYMBOLS] and len(kept["drawings"]) == 25
        assert sum(d["meant"] == "star" for d in kept["drawings"]) == 9
        assert all(d["drawing"]["strokes"] for d in kept["drawings"])

        # Undo: back to the shipped network, and the class's pads read digits again.
        teacher.click("#learn-undo")
        teacher.wait_for_selector("#learn-box", state="hidden", timeout=20_000)
        assert draw(pupil, STAR).isdigit()
    finally:
        for context in contexts:
            context.close()
