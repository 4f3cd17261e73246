"""The page in the visitor's language, in Chromium: a browser set to Spanish or German sees the header, the tab
titles and the first tab in its language, and the answer with a decimal comma; a ?lang= link wins over the
browser's language and is remembered."""

from __future__ import annotations

import re

import pytest

from demo.texts import entries
from tests.harness import draw_strokes, example_strokes_unit, open_page, wait_settled

pytestmark = [pytest.mark.browser, pytest.mark.server]


def _texts_arrived(page, code: str) -> None:
    """Waits until the load event has put the page's fixed texts in ``code``: the header, and every tab title shown
    (Gradio applies the updates one component after another)."""
    english = [text for key, text in entries("en").items() if key.startswith(("page.lesson_tabs.tab_",
                                                                             "page.insight_tabs.tab_"))]
    english = [t for t in english if t not in entries(code).values()]  # titles the same in both say nothing
    # The header's language (its data-lang), not only its title: the title may read the same in two languages.
    page.wait_for_function("""([code, title, english]) => document.querySelector('.header')?.dataset.lang === code
                              && document.querySelector('.header h1')?.textContent === title
                              && ![...document.querySelectorAll("#lessons button[role='tab']")]
                                     .some(b => english.includes(b.textContent.trim()))""",
                           arg=[code, entries(code)["page.layout.header_title"], english], timeout=15_000)


@pytest.mark.parametrize(("code", "locale"), [("es", "es-ES"), ("de", "de-DE")])
def test_a_browser_in_another_language_gets_the_page_in_it(browser, app_server, code, locale):
    texts = entries(code)
    context = browser.new_context(locale=locale)
    try:
        page = open_page(context, app_server)
        _texts_arrived(page, code)
        tab_titles = page.locator("#lessons button[role='tab']").all_inner_texts()
        assert texts["page.lesson_tabs.tab_layers"] in tab_titles and texts["page.lesson_tabs.tab_conv"] in tab_titles
        page.wait_for_function("w => document.querySelector('#clear').textContent === w",
                               arg=texts["page.pad.clear"], timeout=10_000)  # the pad's words, put in by its script
        assert page.locator("#undo").inner_text() == texts["page.pad.undo"]
        assert page.locator("#pad canvas").get_attribute("aria-label") == texts["page.pad.canvas_label"]
        title = page.locator(".example-button[data-digit='3']").first.get_attribute("title")
        assert title.startswith(texts["page.pad.example_style_title"].split("{")[0]), title
        first_tab = page.locator("#tab-layers").inner_text()
        assert texts["page.layout.kernels_accordion"] in first_tab
        assert re.search(r"0,\d{4}", first_tab), first_tab[:400]  # MNIST's mean and spread, with a decimal comma
        draw_strokes(page, example_strokes_unit(3, 0))
        wait_settled(page)
        answer = page.locator("#prediction").inner_text()
        share = {"es": "probabilidad softmax", "de": "Softmax-Wahrscheinlichkeit"}[code]
        assert share in answer and re.search(r"\d,\d %", answer), answer
        assert page.locator("#answer-announcement").get_attribute("aria-live") == "polite"
    finally:
        context.close()


def test_a_lang_link_beats_the_browser_and_is_remembered(browser, app_server):
    context = browser.new_context(locale="de-DE")
    try:
        page = open_page(context, app_server + "/?lang=es")
        _texts_arrived(page, "es")
        assert page.evaluate("document.documentElement.lang") == "es"
        page.goto(app_server)  # the link's choice, kept in a cookie, beats the browser's German
        _texts_arrived(page, "es")
    finally:
        context.close()


def test_the_header_s_language_links_switch_the_page(browser, app_server):
    context = browser.new_context(locale="es-ES")
    try:
        page = open_page(context, app_server)
        _texts_arrived(page, "es")
        switch = page.locator(".header nav.languages")
        assert switch.get_attribute("aria-label") == entries("es")["page.layout.languages_label"]
        assert switch.locator("a[aria-current]").inner_text() == "Español"
        switch.locator("a[hreflang='de']").click()  # a plain link: the keyboard reaches it like any other
        page.wait_for_selector("#pad canvas", timeout=30_000)
        _texts_arrived(page, "de")
        # <html lang> follows the header once both it and Gradio's own locale have settled (page_language.js)
        page.wait_for_function("() => document.documentElement.lang === 'de'", timeout=10_000)
        assert switch.locator("a[aria-current]").inner_text() == "Deutsch"
    finally:
        context.close()


def test_the_class_room_pages_are_in_each_browser_s_language(browser, classroom_server):
    from tests.harness import teacher_url

    pupil, teacher = browser.new_context(locale="es-ES"), browser.new_context(locale="de-DE")
    try:
        page = open_page(pupil, classroom_server)
        _texts_arrived(page, "es")
        es = entries("es")
        page.wait_for_function("w => document.querySelector('#send-to-class').textContent === w",
                               arg=es["page.classroom.send_bar.send"], timeout=10_000)
        placeholder = page.locator("#nickname").get_attribute("placeholder")
        assert placeholder == es["page.classroom.send_bar.nickname_placeholder"]
        projector = open_page(teacher, teacher_url(classroom_server))
        _texts_arrived(projector, "de")
        de = entries("de")
        projector.wait_for_function("w => document.querySelector('#step-forward span').textContent === w",
                                    arg=de["page.classroom.toolbar.next"], timeout=10_000)
        assert projector.locator("#freeze").get_attribute("title") == de["page.classroom.toolbar.freeze_title"]
    finally:
        pupil.close()
        teacher.close()


def test_gradio_s_own_words_follow_the_browser_before_any_event(browser, app_server):
    """The tab titles, labels and Gradio's own words (the upload box) come with the page in every language
    (gr.I18n): a German browser shows them in German even while no event has run."""
    context = browser.new_context(locale="de-DE")
    try:
        page = context.new_page()
        page.route("**/queue/join*", lambda route: route.abort())  # no event reaches the server: the first paint
        page.goto(app_server)
        de = entries("de")
        page.wait_for_function("t => [...document.querySelectorAll('button[role=tab]')].some(b => b.textContent"
                               ".trim() === t)", arg=de["page.lesson_tabs.tab_conv"], timeout=30_000)
        upload = page.locator("#upload").inner_text()
        assert upload.strip() and "Drop File Here" not in upload, upload
    finally:
        context.close()


def test_the_switch_renames_the_controls_of_a_browser_in_another_language(browser, app_server):
    """A Spanish browser switched to English, and an English one to German: the controls Gradio names follow the
    switch (sent when the page loads), the menus' choices and the browser tab's title too."""
    for locale, code in (("es-ES", "en"), ("en-US", "de")):
        context = browser.new_context(locale=locale)
        texts = entries(code)
        try:
            page = open_page(context, f"{app_server}/?lang={code}")
            _texts_arrived(page, code)
            page.locator("#lessons button[role='tab']", has_text=texts["page.lesson_tabs.tab_conv"]).click()
            page.wait_for_function("w => document.querySelector('#conv-mode')?.innerText.includes(w)",
                                   arg=texts["tabs.convolution.mode_same"], timeout=10_000)
            assert texts["page.lesson_tabs.conv_mode"] in page.locator("#conv-mode").inner_text()
            page.wait_for_function("t => document.title === t", arg=texts["page.ui.title"], timeout=10_000)
            page.locator("#lessons button[role='tab']", has_text=texts["page.insight_tabs.tab_learning"]).click()
            assert page.locator("#learning-play").inner_text() == texts["page.insight_tabs.play"]
        finally:
            context.close()
