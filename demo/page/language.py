"""Gradio's events, and the page's fixed texts, in the visitor's language (the choice: demo/server/language.py).

Gradio runs an event's handler in its queue's own task, not in the request's, so the request's language is not set
there by the middleware: :func:`in_request_language` wraps a handler so that Gradio passes it the event's
``gr.Request`` (a parameter annotated so, among the positional ones), and runs it in that request's language.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import gradio as gr

from demo.server.language import browser_language, language_of
from demo.texts import LANGUAGE, LANGUAGES, plain, use_language


def in_request_language(handler: Callable[..., Any]) -> Callable[..., Any]:
    """``handler`` run in the language of the Gradio event's request. Gradio fills a parameter annotated
    ``gr.Request`` among the positional ones, so the wrapper declares one more, last, and takes it off again."""
    signature = inspect.signature(handler)
    params = list(signature.parameters.values())
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if len(positional) != len(params):
        raise TypeError(f"{handler!r}: only handlers with plain positional parameters can be wrapped")

    @functools.wraps(handler)
    def wrapper(*args: Any) -> Any:
        request = args[len(positional)] if len(args) > len(positional) else None
        headers = {k.lower(): v for k, v in dict(request.headers).items()} if request is not None else {}
        with use_language(language_of(headers)):
            return handler(*args[:len(positional)])

    extra = inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None,
                              annotation=gr.Request)
    wrapper.__signature__ = signature.replace(parameters=[*params, extra])  # type: ignore[attr-defined]
    wrapper.__annotations__ = {**getattr(handler, "__annotations__", {}), "request": gr.Request}
    return wrapper


# ---------------------------------------------------------------------------------------------- the page's fixed texts
# The page is built once. Gradio's own components name themselves through ``gr.I18n`` (:func:`word`): the page
# carries their words in every language and Gradio shows the browser's own from the first paint. The HTML views are
# built in English. What the page shows before any event is sent again, in the visitor's language, by one event when
# the page loads: each such component is registered with a function that makes its update (:func:`again`), and
# :func:`send_texts_on_load` wires that event. The views are sent to every visitor not reading English; the
# components' words only where the visitor's choice (the switch, ?lang=) differs from the browser's language.
_registered: list[tuple[Any, Callable[[], Any], bool]] | None = None
_I18N = gr.I18n()  # only names the words (I18nData); :func:`page_i18n` holds their texts
_words: dict[str, dict[str, str]] = {}  # a word's name -> its text in each language


def _in_every_language(make: Callable[[], Any]) -> dict[str, Any]:
    result = {}
    for code in LANGUAGES:
        with use_language(code):
            result[code] = make()
    return result


def word(key: str, /, **values: Any) -> Any:
    """The catalogue's ``key`` (filled with ``values``) as a word Gradio shows in the browser's language."""
    name = key + "".join(f"|{k}={v}" for k, v in sorted(values.items()))
    _words[name] = _in_every_language(lambda: plain(key, **values))
    return _I18N(name)


def worded_choices(name: str, make: Callable[[], list[tuple[str, Any]]]) -> list[tuple[Any, Any]]:
    """``make()``'s (text, value) choices with each text a word Gradio shows in the browser's language; ``name``
    names them (unique on the page)."""
    per_language = _in_every_language(make)
    choices = []
    for index, (_, value) in enumerate(per_language[LANGUAGE]):
        _words[f"{name}#{index}"] = {code: str(per_language[code][index][0]) for code in LANGUAGES}
        choices.append((_I18N(f"{name}#{index}"), value))
    return choices


def page_i18n() -> gr.I18n:
    """Every word of the pages built so far, in every language: ``launch(i18n=...)``."""
    return gr.I18n(**{code: {name: texts[code] for name, texts in _words.items()} for code in LANGUAGES})


def again(component: Any, make: Callable[[], Any], *, words: bool = False) -> Any:
    """Registers ``component``'s update ``make()`` (made in the visitor's language when the page loads); ``words``:
    the update only renames it (its words already follow the browser's language). Returns the component, so it can
    wrap a constructor."""
    if _registered is not None:
        _registered.append((component, make, words))
    return component


def again_label(component: Any, key: str) -> Any:
    """Registers a component whose label is the catalogue's ``key``."""
    return again(component, lambda: type(component)(label=plain(key)), words=True)


def collect_texts() -> list[tuple[Any, Callable[[], Any], bool]]:
    """Starts collecting the page's fixed texts (call before laying the page out); returns the list they go to."""
    global _registered
    _registered = []
    return _registered


def send_texts_on_load(demo: gr.Blocks, registered: list[tuple[Any, Callable[[], Any], bool]]) -> None:
    """Wires the load event that sends ``registered``'s updates in the visitor's language; stops collecting."""
    global _registered
    _registered = None
    components = [component for component, _, _ in registered]

    def texts(request: gr.Request) -> dict[Any, Any]:
        headers = {k.lower(): v for k, v in dict(request.headers).items()}
        chosen, browser = language_of(headers), browser_language(headers)
        with use_language(chosen):
            return {component: make() for component, make, words in registered
                    if (chosen != browser if words else chosen != LANGUAGE)}

    if components:
        demo.load(texts, outputs=components, show_progress="hidden", api_visibility="private")


def again_html(component: Any, make_html: Callable[[], str]) -> Any:
    """Registers a ``gr.HTML`` whose value is ``make_html()``."""
    return again(component, lambda: gr.HTML(make_html()))


def tab(key: str, **options: Any) -> gr.Tab:
    """A ``gr.Tab`` titled with the catalogue's ``key``, its title sent again in the visitor's language."""
    return again_label(gr.Tab(word(key), **options), key)


def labelled(kind: type, key: str, *args: Any, choices: Callable[[], list[tuple[str, Any]]] | None = None,
             **options: Any) -> Any:
    """A component ``kind(*args, label=<key's text>, **options)``, its label sent again in the visitor's language;
    ``choices()`` its (text, value) choices, named in every language the same way."""
    if choices is None:
        return again_label(kind(*args, label=word(key), **options), key)
    component = kind(worded_choices(key, choices), *args, label=word(key), **options)
    return again(component, lambda: kind(choices(), label=plain(key)), words=True)


def button(key: str, **options: Any) -> gr.Button:
    """A ``gr.Button`` showing the catalogue's ``key``, sent again in the visitor's language."""
    return again(gr.Button(word(key), **options), lambda: gr.Button(plain(key)), words=True)
