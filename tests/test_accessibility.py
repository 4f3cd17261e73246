"""WCAG 2.1 A/AA with axe-core in Chromium: no serious or critical violation on the pupil's page and the teacher's
projector page, each in the light and the dark theme, with every tab open in turn, after a digit was drawn."""

from __future__ import annotations

import pytest

from demo.texts import entries
from tests.harness import draw_strokes, example_strokes_unit, open_page, open_tab, teacher_url, wait_settled

pytestmark = [pytest.mark.browser, pytest.mark.server]

# Only the violations are wanted: axe then skips writing up every passing check (quicker on a page this size).
WCAG_21_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
              "resultTypes": ["violations"]}
TAB_KEYS = ("page.lesson_tabs.tab_", "page.insight_tabs.tab_")


@pytest.fixture(scope="module")
def axe():
    from axe_playwright_python.sync_playwright import Axe

    return Axe()


def serious(axe, page, within: str | None = None) -> list[tuple[str, str, list]]:
    """axe-core's serious and critical WCAG 2.1 A/AA violations on the page as it is now (or in ``within``)."""
    context = {"include": [[within]]} if within else None
    found = axe.run(page, context=context, options=WCAG_21_AA).response["violations"]
    return [(v["id"], v["impact"], [(n["target"], n["failureSummary"][:300]) for n in v["nodes"]][:5])
            for v in found if v["impact"] in ("serious", "critical")]


def every_tab(page) -> list[str]:
    """The lesson tabs this page has, by their English titles (those in the catalogue that the tab bar shows or
    its "More tabs" menu lists)."""
    titles = [text for key, text in entries("en").items() if key.startswith(TAB_KEYS)]
    shown = page.locator("#lessons button[role='tab']").all_inner_texts()
    more = page.locator("#lessons .overflow-menu button[aria-label='More tabs']")
    listed = []
    if more.count() and more.is_visible():
        more.click()
        listed = page.locator("#lessons .overflow-dropdown button").all_inner_texts()
        page.keyboard.press("Escape")
        more.click() if page.locator("#lessons .overflow-dropdown").is_visible() else None
    on_page = {t.strip() for t in shown + listed}
    return [t for t in titles if t in on_page]


def in_both_themes(axe, page, within: str | None = None) -> dict[str, list]:
    """The violations in the light theme and in the dark one (Gradio's and the projector's: body.dark, as the
    toolbar's D key and Gradio's ?__theme=dark set it); the page is left in the theme it was in."""
    found, was_dark = {}, page.evaluate("document.body.classList.contains('dark')")
    for theme in ("light", "dark"):
        page.evaluate("d => document.body.classList.toggle('dark', d)", theme == "dark")
        page.evaluate("document.getAnimations().forEach(a => a.finish())")  # colours at their end, not mid-fade
        found[theme] = serious(axe, page, within)
    page.evaluate("d => document.body.classList.toggle('dark', d)", was_dark)
    return {theme: problems for theme, problems in found.items() if problems}


def check_page_and_tabs(axe, page) -> None:
    draw_strokes(page, example_strokes_unit(3, 0))
    wait_settled(page)
    problems = {"page": in_both_themes(axe, page)}
    tabs = every_tab(page)
    assert len(tabs) >= 10, tabs
    for title in tabs:
        open_tab(page, title)
        page.mouse.move(0, 0)  # nothing hovered: a button's hover colour is not its colour
        # The tab's view recomputed for the drawing: once the click's event is out (two frames), Gradio marks its
        # outputs pending until they arrive (the fade-in that follows is finished by in_both_themes).
        page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
        page.wait_for_function("() => !document.querySelector('#lessons .pending, #lessons .generating')",
                               timeout=15_000)
        problems[title] = in_both_themes(axe, page, "#lessons")  # the rest of the page was checked above
    bad = {where: found for where, found in problems.items() if found}
    assert bad == {}, repr(bad)[:3000]


def test_the_pupil_s_page_and_every_tab_pass_wcag_21_aa(browser, app_server, axe):
    page = open_page(browser, app_server)
    try:
        check_page_and_tabs(axe, page)
    finally:
        page.close()


def test_the_teacher_s_projector_page_and_every_tab_pass_wcag_21_aa(browser, classroom_server, axe):
    page = open_page(browser, teacher_url(classroom_server))
    try:
        assert page.evaluate("document.body.classList.contains('dark')")  # the projector's theme
        check_page_and_tabs(axe, page)
    finally:
        page.close()
