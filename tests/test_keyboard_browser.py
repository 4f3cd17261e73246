"""The page by keyboard alone, in Chromium: Tab walks through every control of the first screen (the language
links, the pad's buttons, the examples, the upload, the MNIST samples, the lesson tabs), each stop visible and
ringed; an example, an upload and a sample are read by the network without a pointer; a visitor who asks for less
motion gets no transitions."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from demo.core.examples import example_image
from tests.harness import open_page

pytestmark = [pytest.mark.browser, pytest.mark.server]

MAX_TABS = 90  # key presses from the top of the page; the first lesson tab is about 45 stops in

# What has the focus: where it is, whether it can be seen, and its focus ring against the page's background.
FOCUSED = """() => {
  const e = document.activeElement;
  e.getAnimations?.({subtree: true}).forEach(a => a.finish());  // a transition's end, not a frame of it
  const box = e.getBoundingClientRect();
  const style = getComputedStyle(e);
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).slice(0, 3).map(Number);
  const light = (c) => { const v = rgb(c).map(x => { x /= 255; return x <= 0.04045 ? x / 12.92
                                                     : Math.pow((x + 0.055) / 1.055, 2.4); });
                         return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2]; };
  let under = e.parentElement;  // the first background behind the element that is not transparent
  while (under && (getComputedStyle(under).backgroundColor.match(/[\\d.]+/g) || [0, 0, 0, 0])[3] === '0')
    under = under.parentElement;
  const background = under ? getComputedStyle(under).backgroundColor : 'rgb(255, 255, 255)';
  const ring = light(style.outlineColor), page = light(background);
  return {tag: e.tagName, id: e.id, cls: String(e.className), name: e.getAttribute('aria-label') || e.innerText,
          digit: e.dataset.digit || null, language: !!e.closest('.header nav'), inUpload: !!e.closest('#upload'),
          inSamples: !!e.closest('#mnist-samples'),
          tab: e.getAttribute('role') === 'tab' && !!e.closest('#lessons'),
          seen: box.width > 2 && box.height > 2 && style.visibility === 'visible' && !e.closest('[aria-hidden=true]'),
          ring: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2,
          colours: [style.outlineColor, background],
          contrast: (Math.max(ring, page) + 0.05) / (Math.min(ring, page) + 0.05)};
}"""


def walk(page, stop=None) -> list[dict]:
    """Presses Tab from the top of the page, up to MAX_TABS times or until ``stop(focused)``; what had the focus."""
    page.evaluate("document.activeElement?.blur(); window.scrollTo(0, 0)")
    page.locator(".header h1").click()  # the focus starts at the top, as after loading the page
    stops = []
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        stops.append(page.evaluate(FOCUSED))
        if stop is not None and stop(stops[-1]):
            break
    return stops


def png_of(digit: int) -> bytes:
    """A drawn digit as a phone's photo of paper would give it: dark ink on white, 280 px."""
    ink = example_image(digit, 0, 280, 20)
    buffer = io.BytesIO()
    Image.fromarray((255 - ink * 255).round().astype(np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def answer_is(page, label: str) -> None:
    page.wait_for_function("l => document.querySelector('#prediction')?.dataset.label === l", arg=label,
                           timeout=20_000)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_tab_reaches_every_control_each_stop_seen_and_ringed(browser, app_server, theme):
    page = open_page(browser, app_server)
    try:
        if theme == "dark":
            page.evaluate("document.body.classList.add('dark')")
        stops = walk(page, stop=lambda s: s["tab"])
        hidden = [s for s in stops if not s["seen"]]
        assert hidden == [], hidden  # no stop on something invisible
        unringed = [s for s in stops if not s["ring"] or s["contrast"] < 3]
        # WCAG 2.4.7, and the ring at 3:1 against what is behind it (1.4.11)
        assert unringed == [], [(s["name"], s["colours"], s["contrast"], s["ring"]) for s in unringed[:3]]
        reached = {s["id"] for s in stops if s["id"]}
        assert {"undo", "clear", "pen-width"} <= reached, reached
        assert sum(s["language"] for s in stops) == 3  # the language links
        assert {s["digit"] for s in stops if s["digit"]} == {str(d) for d in range(10)}  # every example
        assert any(s["inUpload"] for s in stops), "the upload box is not reachable"
        if page.locator("#mnist-samples").count():
            assert sum(s["inSamples"] for s in stops) >= 10  # every sample thumbnail
        assert stops[-1]["tab"], "the lesson tabs were not reached"
    finally:
        page.close()


def test_an_example_an_upload_and_a_sample_are_read_without_a_pointer(browser, app_server):
    page = open_page(browser, app_server)
    choosers = []  # listened for from the start: Playwright asks Chromium to hand file choosers over only then
    page.on("filechooser", lambda chooser: choosers.append(chooser))
    try:
        walk(page, stop=lambda s: s["digit"] == "3")
        page.keyboard.press("Enter")
        answer_is(page, "3")

        focused = walk(page, stop=lambda s: s["inUpload"])[-1]
        assert focused["inUpload"] and focused["name"] == page.locator("#upload label").inner_text().strip()
        page.keyboard.press("Enter")
        for _ in range(100):
            if choosers:
                break
            page.wait_for_timeout(100)
        assert choosers, "Enter on the upload box opened no file chooser"
        choosers[0].set_files(files=[{"name": "seven.png", "mimeType": "image/png", "buffer": png_of(7)}])
        answer_is(page, "7")

        if page.locator("#mnist-samples").count():
            walk(page, stop=lambda s: s["inSamples"])  # the first sample: MNIST's first test 0
            page.keyboard.press("Enter")
            answer_is(page, "0")
    finally:
        page.close()


def test_less_motion_asked_for_means_no_transitions(browser, app_server):
    """Chromium's prefers-reduced-motion: every transition and animation on the page is cut to nothing; without
    it, the page does have some (so the check can tell)."""
    longest = """() => Math.max(...[...document.querySelectorAll('*')].flatMap(e => {
        const s = getComputedStyle(e);
        return [...s.transitionDuration.split(','), ...s.animationDuration.split(',')].map(parseFloat); }))"""
    durations = {}
    for motion in ("no-preference", "reduce"):
        context = browser.new_context(reduced_motion=motion)
        try:
            page = open_page(context, app_server)
            durations[motion] = page.evaluate(longest)
        finally:
            context.close()
    assert durations["no-preference"] > 0.05, durations
    assert durations["reduce"] <= 0.001, durations
