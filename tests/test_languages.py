"""The catalogue in every language: the same keys, placeholders and tags as English; numbers written each
language's way; the language chosen from what a client sends, trusting none of it."""

from __future__ import annotations

import re
import string
import threading

import pytest
from markupsafe import Markup

from demo import texts
from demo.texts import catalogue, choice

OTHERS = [code for code in texts.LANGUAGES if code != texts.LANGUAGE]
TAG = re.compile(r"</?\s*([a-zA-Z]+)[^>]*>")


def fields(template: str) -> list[tuple[str, str]]:
    return sorted((field, spec) for _, field, spec, _ in string.Formatter().parse(template) if field is not None)


def test_there_are_three_languages_each_with_its_file():
    assert set(texts.LANGUAGES) == {"en", "es", "de"}
    for code in texts.LANGUAGES:
        assert (catalogue.HOME / f"{code}.toml").is_file()
    assert texts.language_names() == {"en": "English", "es": "Español", "de": "Deutsch"}


@pytest.mark.parametrize("code", OTHERS)
def test_every_key_is_translated_with_the_same_placeholders_and_tags(code):
    english, other = texts.entries("en"), texts.entries(code)
    assert sorted(english.keys() - other.keys()) == [], "missing in " + code
    assert sorted(other.keys() - english.keys()) == [], "not in English"
    for key, template in english.items():
        assert fields(other[key]) == fields(template), key  # names and format specs
        assert sorted(TAG.findall(other[key])) == sorted(TAG.findall(template)), key
        assert other[key] or not template, key


@pytest.mark.parametrize("code", OTHERS)
def test_a_translation_is_not_english_left_in_place(code):
    english, other = texts.entries("en"), texts.entries(code)
    # entries of several words that are the same as English: only placeholder-and-symbol captions may be
    words = re.compile(r"[a-z]{3,}")
    same = [key for key, text in english.items()
            if other[key] == text and len(words.findall(re.sub(r"\{[^}]*\}", "", text))) > 2]
    assert same == []


@pytest.mark.parametrize("code", texts.LANGUAGES)
def test_every_template_fills_in_every_language(code):
    with texts.use_language(code):
        for key, template in texts.entries().items():
            values = {name: 1234.5 for name in catalogue.placeholders(template)}
            if TAG.search(template):
                texts.say(key, **values)
            else:
                texts.plain(key, **values)


def test_numbers_are_written_the_language_s_way():
    with texts.use_language("de"):
        assert texts.say("views.panels.confidence", percent=95.83) == "95,8 % Softmax-Wahrscheinlichkeit"
        assert texts.plain("tabs.model_card.parameters", parameters=1234567).startswith("1.234.567 ")
        assert texts.localised("60,000.5") == "60.000,5"
    with texts.use_language("es"):
        assert texts.plain("tabs.model_card.parameters", parameters=1234567).startswith("1\u00a0234\u00a0567 ")
        assert texts.say("views.panels.confidence", percent=95.83).startswith("95,8 %")
    assert texts.say("views.panels.confidence", percent=95.83) == "95.8 % softmax probability"


def test_values_stay_escaped_in_every_language():
    for code in texts.LANGUAGES:
        with texts.use_language(code):
            html = texts.say("tabs.digit_or_not.softmax_still", digit="<script>", share=97.0)
            assert "<script>" not in html and "&lt;script&gt;" in html
            kept = texts.say("tabs.digit_or_not.softmax_still", digit=Markup("<b>4</b>"), share=1)
            assert kept.count("<b>4</b>") == 1


def test_the_language_of_the_moment_belongs_to_its_block_and_thread():
    seen = {}

    def other_thread():
        seen["thread"] = texts.current_language()

    with texts.use_language("de"):
        assert texts.current_language() == "de"
        worker = threading.Thread(target=other_thread)
        worker.start()
        worker.join()
        with texts.use_language("es"):
            assert texts.current_language() == "es"
        assert texts.current_language() == "de"
    assert texts.current_language() == "en" and seen["thread"] == "en"
    with pytest.raises(ValueError, match="no catalogue"):
        with texts.use_language("../etc/passwd"):
            pass


@pytest.mark.parametrize(("query", "cookie", "header", "expected"), [
    (None, None, None, "en"),
    (None, None, "de-DE,de;q=0.9,en;q=0.8", "de"),
    (None, None, "fr-FR,fr;q=0.9,es;q=0.7,en;q=0.5", "es"),
    (None, None, "en;q=0.2,de;q=0.8", "de"),
    (None, None, "fr", "en"),
    (None, None, "de;q=0", "en"),  # q=0 means "not this one"
    (None, None, "de;q=abc, es", "es"),
    (None, "es", "de", "es"),  # the switch's cookie beats the browser
    ("de", "es", "en", "de"),  # a ?lang= link beats both
    ("DE ", None, None, "de"),
    ("xx", "../../secret", "de", "de"),  # unknown codes are ignored, never used as a file name
    (None, None, "es," * 5000 + "de", "es"),
    (None, None, "x," * 5000 + "de", "en"),  # only the first ranges of a huge header are read
])
def test_the_language_is_chosen_from_what_the_client_sends(query, cookie, header, expected):
    assert choice.chosen_language(query, cookie, header) == expected
