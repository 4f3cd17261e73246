"""Gradio's events in the visitor's language (the choice itself: demo/server/language.py).

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
from demo.texts import use_language


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
