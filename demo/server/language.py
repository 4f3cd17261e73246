"""Every answer in the visitor's language: the language is chosen per request, from what the browser sends.

- Plain HTTP routes (the live pad, REST predict, the class room's JSON): :class:`RequestLanguage`, an ASGI
  middleware, runs each request inside ``use_language(...)``; work sent on to the worker processes carries it
  (demo/server/work.py), so views made there are in it too.
- Gradio's events run in the queue's own tasks, not the request's: demo/page/language.py wraps their handlers with
  :func:`language_of` the event's request.

The choice (demo/texts/choice.py): ``?lang=`` on the request, else the language switch's cookie, else the browser's
Accept-Language; a ``?lang=`` on a page's address also sets the cookie, so the page's later requests follow it.
Nothing a client sends is trusted: only known language codes come out, read from bounded headers.
"""

from __future__ import annotations

from collections.abc import Mapping
from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from demo.texts import chosen_language, use_language
from demo.texts.choice import COOKIE, MAX_HEADER, QUERY, browser_first

COOKIE_MAX_AGE = 365 * 24 * 3600  # a class keeps its language all year
MAX_FIELDS = 20  # a query with more fields is not read for ?lang= (parse_qs refuses it), never an error


def _cookie(header: str | None) -> str | None:
    if not header:
        return None
    jar = SimpleCookie()
    try:
        jar.load(header[:MAX_HEADER * 4])
    except CookieError:
        return None
    morsel = jar.get(COOKIE)
    return morsel.value if morsel is not None else None


def asked_for(query: str) -> str | None:
    """The ``?lang=`` of a query string, as sent (None without one, or for a query too long or with too many
    fields to read)."""
    try:
        return parse_qs(query[:MAX_HEADER], max_num_fields=MAX_FIELDS).get(QUERY, [None])[0]
    except ValueError:
        return None


def language_of(headers: Mapping[str, str], query: str = "") -> str:
    """The language for a request with these headers (lower-case names) and query string."""
    return chosen_language(asked_for(query), _cookie(headers.get("cookie")), headers.get("accept-language"))


def browser_language(headers: Mapping[str, str]) -> str:
    """The language the browser itself shows Gradio's words in (demo/page/language.py), whatever the visitor chose."""
    return browser_first(headers.get("accept-language"))


class RequestLanguage:
    """ASGI middleware: each HTTP request is answered in its language; ``?lang=xx`` also remembers the choice."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        query = scope.get("query_string", b"").decode("latin-1")
        code = language_of(headers, query)
        # remembered only when ?lang= names a language we have (and then it is the one chosen)
        asked = (asked_for(query) or "").strip().lower() == code

        async def remember(message: Message) -> None:
            if asked and message["type"] == "http.response.start":
                cookie = f"{COOKIE}={code}; Path=/; Max-Age={COOKIE_MAX_AGE}; SameSite=Lax"
                message.setdefault("headers", []).append((b"set-cookie", cookie.encode("latin-1")))
            await send(message)

        with use_language(code):
            await self.app(scope, receive, remember)
