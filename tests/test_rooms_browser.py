"""Class rooms started from the page, in Chromium, on the plain ``python -m demo`` (no flag): a teacher presses
"Start a class" and gets the projector's page of a new room with its code and QR code; pupils join by typing the
code (in any case) and send; two classes at once see only their own pupils' drawings; closing a class deletes its
drawings and a pupil's next send is told the class is gone. axe-core checks the class controls and a started
class's page in both themes (the other pages: tests/test_accessibility.py)."""

from __future__ import annotations

import re

import pytest

from demo.server.rooms import CODE_ALPHABET, CODE_LENGTH
from tests.harness import open_page
from tests.test_accessibility import in_both_themes
from tests.test_class_room import FIGURES, PHONE, draw_and_send, wait_for_figures

pytestmark = [pytest.mark.browser, pytest.mark.server]


def axe():
    """axe-core for playwright (imported when a browser test runs)."""
    from axe_playwright_python.sync_playwright import Axe

    return Axe()


def start_class(browser, url: str):
    """A teacher's laptop: the plain page, then "Start a class"; returns the page (the new room's) and its code."""
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = open_page(context, url)
    page.click("#class-start-bar summary")  # the header's "Start or join a class"
    assert "closing the class deletes them" in page.locator("#class-start-bar").inner_text()  # said before it starts
    page.click("#start-class")
    page.wait_for_selector("#class-room[data-state='teacher']", timeout=30_000)
    page.wait_for_function("() => document.querySelector('#join-url')?.textContent.includes('?room=')")
    code = page.locator("#room-code").inner_text().strip()
    return context, page, code


def join(browser, url: str, typed: str):
    """A pupil's phone: the plain page, the code typed into "Join a class"."""
    context = browser.new_context(**PHONE)
    page = open_page(context, url)
    page.click("#class-start-bar summary")
    page.fill("#class-code", typed)
    page.press("#class-code", "Enter")
    page.wait_for_url(re.compile(r"\?room="), timeout=30_000)
    page.wait_for_selector("#pad canvas", timeout=30_000)
    return context, page


def test_two_classes_started_from_the_page_each_see_their_own_pupils(browser, app_server):
    contexts = []
    try:
        first_ctx, first, first_code = start_class(browser, app_server)
        second_ctx, second, second_code = start_class(browser, app_server)
        contexts += [first_ctx, second_ctx]
        for code in (first_code, second_code):
            assert len(code) == CODE_LENGTH and set(code) <= set(CODE_ALPHABET)
        assert first_code != second_code
        # The teacher's page: the projector's, its token gone from the address bar, the QR code holding the link.
        assert first.evaluate("document.body.classList.contains('projector')")
        assert "teacher=" not in first.url and f"room={first_code}" in first.url
        assert first.locator("#join-url").get_attribute("data-url").endswith(f"/?room={first_code}")
        assert first.locator(".room-qr svg").count() == 1
        assert in_both_themes(axe(), first, "#class-room") == {}  # its code and Close button: WCAG 2.1 AA (axe)

        pupil_ctx, pupil = join(browser, app_server, f"{first_code[:3].lower()} {first_code[3:].lower()}")
        other_ctx, other = join(browser, app_server, second_code)
        contexts += [pupil_ctx, other_ctx]
        assert first_code in pupil.locator("#class-name").inner_text()
        assert pupil.locator("#class-send").is_visible() and not pupil.evaluate(
            "document.body.classList.contains('projector')")
        assert draw_and_send(pupil, 4, 4, "Ana")["kind"] == "sent"
        assert draw_and_send(other, 7, 7, "Ben")["kind"] == "sent"
        assert [f["meant"] for f in wait_for_figures(first, 1)] == ["4"]
        assert [f["meant"] for f in wait_for_figures(second, 1)] == ["7"]
        # The drawings were pushed to the projectors (server-sent events), not found by polling.
        for teacher in (first, second):
            assert teacher.locator("#class-room").get_attribute("data-pushed") == "true"

        # Closing the first class: its drawings are deleted, its pupil is told, the second class carries on.
        first.once("dialog", lambda dialog: dialog.accept())
        first.click("#close-class")
        first.wait_for_selector("#class-room[data-state='closed']", timeout=10_000)
        assert first.locator(FIGURES).count() == 0
        pupil.wait_for_timeout(3500)  # the room's limit between one pupil's sends
        answer = draw_and_send(pupil, 4)
        assert answer["kind"] == "error" and "no class with this code" in answer["text"].lower(), answer
        assert draw_and_send(other, 1, 1)["kind"] == "sent"
        assert [f["meant"] for f in wait_for_figures(second, 2)] == ["1", "7"]  # newest first
    finally:
        for context in contexts:
            context.close()


def test_a_mistyped_code_is_said_on_the_page(browser, app_server):
    context = browser.new_context(**PHONE)
    try:
        page = open_page(context, app_server)
        page.click("#class-start-bar summary")
        page.fill("#class-code", "AB0O1")
        page.press("#class-code", "Enter")
        page.wait_for_function("() => document.querySelector('#class-start-status').textContent !== ''")
        assert "6 characters" in page.locator("#class-start-status").inner_text()
        assert "room=" not in page.url
        assert not page.locator("#class-send").is_visible()  # in no class: no send bar
        assert in_both_themes(axe(), page, "#class-start-bar") == {}  # the open controls: WCAG 2.1 AA (axe)
    finally:
        context.close()

