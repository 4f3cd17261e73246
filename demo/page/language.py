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

from demo.server.language import language_of
from demo.texts import LANGUAGE, current_language, plain, use_language


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
# The page is built once, in English. What it shows before any event (the header, the tab titles, the controls'
# labels, the pad's words, the first views) is sent again, in the visitor's language, by one event when the page
# loads: each such component is registered with a function that makes its update (:func:`again`), and
# :func:`send_texts_on_load` wires that event. English visitors get nothing from it: the page already is English.
_registered: list[tuple[Any, Callable[[], Any]]] | None = None


def again(component: Any, make: Callable[[], Any]) -> Any:
    """Registers ``component``'s update ``make()`` (made in the visitor's language when the page loads); returns the
    component, so it can wrap a constructor."""
    if _registered is not None:
        _registered.append((component, make))
    return component


def again_label(component: Any, key: str) -> Any:
    """Registers a component whose label is the catalogue's ``key``."""
    return again(component, lambda: type(component)(label=plain(key)))


def collect_texts() -> list[tuple[Any, Callable[[], Any]]]:
    """Starts collecting the page's fixed texts (call before laying the page out); returns the list they go to."""
    global _registered
    _registered = []
    return _registered


def send_texts_on_load(demo: gr.Blocks, registered: list[tuple[Any, Callable[[], Any]]]) -> None:
    """Wires the load event that sends ``registered``'s updates in the visitor's language; stops collecting."""
    global _registered
    _registered = None
    components = [component for component, _ in registered]

    def texts() -> dict[Any, Any]:
        if current_language() == LANGUAGE:
            return {}
        return {component: make() for component, make in registered}

    if components:
        demo.load(in_request_language(texts), outputs=components, show_progress="hidden", api_visibility="private")


def again_html(component: Any, make_html: Callable[[], str]) -> Any:
    """Registers a ``gr.HTML`` whose value is ``make_html()``."""
    return again(component, lambda: gr.HTML(make_html()))


def tab(key: str, **options: Any) -> gr.Tab:
    """A ``gr.Tab`` titled with the catalogue's ``key``, its title sent again in the visitor's language."""
    return again_label(gr.Tab(plain(key), **options), key)


def labelled(kind: type, key: str, *args: Any, **options: Any) -> Any:
    """A component ``kind(*args, label=<key's text>, **options)``, its label sent again in the visitor's language."""
    return again_label(kind(*args, label=plain(key), **options), key)
