"""Every answer in the visitor's language: the live route, Gradio's events (the named /draw endpoint), the class
room's JSON errors, chosen from Accept-Language, the switch's cookie or ?lang=, through a real running app."""

from __future__ import annotations

import httpx
import pytest

from demo.page.language import in_request_language
from demo.page.pad import pad_examples
from demo.server.language import language_of
from demo.texts import current_language

pytestmark = pytest.mark.server  # one real app for the module


@pytest.fixture(scope="module")
def drawing():
    strokes = next(e for e in pad_examples()[0] if e["digit"] == 3)["strokes"]
    return {"w": 280, "h": 280, "pen": 20, "seq": 1, "strokes": strokes}


def _answer(app_server, drawing, **headers) -> str:
    with httpx.Client(base_url=app_server, timeout=60) as http:
        response = http.post("/convscope/live", json={**drawing, "views": ["prediction"]}, headers=headers)
    assert response.status_code == 200
    return response.json()["html"]["prediction"]


def test_the_live_route_answers_in_the_browser_s_language(app_server, drawing):
    english = _answer(app_server, drawing)
    german = _answer(app_server, drawing, **{"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"})
    spanish = _answer(app_server, drawing, Cookie="convscope_lang=es", **{"Accept-Language": "de"})
    assert "softmax probability" in english and "." in english.split("% softmax")[0][-6:]
    assert "Softmax-Wahrscheinlichkeit" in german and "," in german.split(" % Softmax")[0][-6:]
    assert "probabilidad softmax" in spanish  # the switch's cookie beats the browser's language
    assert 'data-label="3"' in english and 'data-label="3"' in german  # only the words change
    assert 'data-announce="Das Netz liest eine 3, mit ' in german  # the screen reader's sentence too


def test_a_lang_link_answers_in_it_and_remembers_it(app_server):
    def get(path: str, **headers: str) -> httpx.Response:
        with httpx.Client(base_url=app_server, timeout=60) as http:  # a fresh client: no cookie kept from before
            return http.get(path, headers=headers)

    linked, browser, unknown = get("/?lang=de"), get("/", **{"Accept-Language": "es"}), get("/?lang=../../etc")
    crowded = get("/?" + "&".join(f"f{i}=1" for i in range(50)) + "&lang=es")  # too many fields: not read, no error
    assert crowded.status_code == 200 and "convscope_lang" not in crowded.headers.get("set-cookie", "")
    assert linked.status_code == 200 and "convscope_lang=de" in linked.headers.get("set-cookie", "")
    assert "convscope_lang" not in browser.headers.get("set-cookie", "")  # the browser's language is not stored
    assert "convscope_lang" not in unknown.headers.get("set-cookie", "")  # an unknown code is never stored


def test_gradio_events_run_in_the_request_s_language(app_server, drawing):
    import json

    from gradio_client import Client

    client = Client(app_server, verbose=False, headers={"Accept-Language": "de"})
    views = client.predict(json.dumps(drawing), api_name="/draw")
    assert "Softmax-Wahrscheinlichkeit" in views[0]


def test_the_wrapper_reads_the_request_and_leaves_the_language_as_it_was():
    class FakeRequest:
        headers = {"Accept-Language": "es", "cookie": "convscope_lang=de; other=1"}

    wrapped = in_request_language(lambda value: (value, current_language()))
    assert wrapped(5, FakeRequest()) == (5, "de")
    assert wrapped(5) == (5, "en") and current_language() == "en"
    assert language_of({"cookie": "convscope_lang=es"}, "lang=de") == "de"
    assert language_of({"cookie": 'bad"cookie;;'}, "") == "en"
    assert language_of({"accept-language": "de"}, "&".join(f"f{i}=1" for i in range(50)) + "&lang=es") == "de"
    assert language_of({}, "lang=" + "x" * 100_000) == "en"
