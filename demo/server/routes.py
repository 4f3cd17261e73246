"""Every HTTP route of ConvScope's own, in one table, and the cap on every request's body.

The routes live beside Gradio's in the one web app Gradio serves, so ``--share`` and every other way of starting
Gradio keep working. They get there through ``launch(app_kwargs=...)``, Gradio's documented way to configure its
FastAPI app: :func:`app_kwargs` passes them as the app's ``routes`` (Starlette's constructor argument, so they come
before every route Gradio adds, including its catch-alls) and :class:`BodyLimit` as ``middleware``.
:func:`check_mounted` fails loudly at start-up if a Gradio version ever stops passing them on.

- ``POST /convscope/live``, ``POST /convscope/predict``, ``GET /convscope/health``: demo/server/live_route.py.
- ``POST /convscope/rooms``, ``DELETE /convscope/rooms/{code}`` (unless ``--no-rooms``): demo/server/rooms_routes.py.
- ``/convscope/rooms/{code}/{hello,send,state,events,join,teacher}``, and ``/convscope/room/...`` for ``--classroom``'s
  room: demo/server/room_routes.py; ``.../classes`` (the class's new symbols): demo/server/room_symbol_routes.py;
  ``.../learn`` (the room's own network learning them): demo/server/room_learning_routes.py.

**Bodies are capped while they stream**, on every route (Gradio's too): a body larger than its route's cap is
answered 413 as soon as its ``Content-Length`` says so, or, for a body sent without one (chunked), as soon as that
many bytes have arrived; the rest is never read, so memory stays flat whatever a client sends.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from demo.core.strokes import MAX_JSON_CHARS
from demo.texts import plain

from . import room_learning
from .language import RequestLanguage
from .live_route import LiveRoutes
from .room import Room
from .room_learning_routes import LearningRoutes
from .room_routes import ROOMS_ROUTE, RoomRoutes, guarded
from .room_symbol_routes import SymbolRoutes
from .rooms import Rooms
from .rooms_routes import RoomsRoutes
from .work import WorkPool

LIVE_ROUTE = "/convscope/live"
PREDICT_ROUTE = "/convscope/predict"
HEALTH_ROUTE = "/convscope/health"
ROOM_ROUTE = "/convscope/room"
UPLOAD_ROUTE = "/gradio_api/upload"

MAX_UPLOAD_BYTES = 10 * 1024 * 1024  # an image of a digit; a phone's photo of a worksheet fits (Gradio's max_file_size)
# Each route's largest body, by path prefix; the first that matches wins. A drawing's JSON is at most MAX_JSON_CHARS
# characters (demo/core/strokes.py); the live route's body adds a few fields, and JSON may escape characters.
BODY_LIMITS: tuple[tuple[str, int], ...] = (
    (LIVE_ROUTE, 4 * MAX_JSON_CHARS),
    (PREDICT_ROUTE, MAX_UPLOAD_BYTES),
    (f"{ROOM_ROUTE}/send", 2 * MAX_JSON_CHARS),
    (f"{ROOM_ROUTE}/live", 4 * MAX_JSON_CHARS),
    (f"{ROOM_ROUTE}/", 4096),  # the teacher's actions and a pupil's hello
    (ROOMS_ROUTE, 4096),  # starting a room (no body), and a room's routes by its code; its sends: ROOM_SEND_LIMIT
    (UPLOAD_ROUTE, MAX_UPLOAD_BYTES + 64 * 1024),  # Gradio's uploads, with the multipart form around the file
)
DEFAULT_BODY_LIMIT = 4 * MAX_JSON_CHARS  # Gradio's own routes: /draw's drawing inside its JSON event


ROOM_SEND_LIMIT = 2 * MAX_JSON_CHARS  # POST /convscope/rooms/{code}/send


def body_limit(path: str) -> int:
    if path.startswith(f"{ROOMS_ROUTE}/") and path.endswith("/send"):
        return ROOM_SEND_LIMIT
    if path.startswith(f"{ROOMS_ROUTE}/") and path.endswith("/live"):
        return 4 * MAX_JSON_CHARS  # as the live route's own
    for prefix, limit in BODY_LIMITS:
        if path.startswith(prefix):
            return limit
    return DEFAULT_BODY_LIMIT


class BodyLimit:
    """ASGI middleware answering 413 once a request's body passes its route's cap (:func:`body_limit`), before
    the rest of it is read."""

    def __init__(self, app: ASGIApp, limit_for: Callable[[str], int] = body_limit) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        if await _refused_by_length(dict(scope["headers"]).get(b"content-length", b""), limit, send):
            return
        received = 0
        refused = False
        started = False

        async def counting_receive() -> Message:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    refused = True
                    if not started:
                        await _too_large(send, limit)
                    return {"type": "http.disconnect"}  # the app stops reading; uvicorn drops the rest
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the 413 has been sent in the app's place
            started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not refused:  # the app's own failure: not this middleware's to answer
                raise


async def _refused_by_length(declared: bytes, limit: int, send: Send) -> bool:
    """Answers a request whose Content-Length is not a number (400) or above ``limit`` (413); True if it did."""
    if declared and not declared.isdigit():
        await _refuse(send, 400, plain("server.routes.length_not_a_number"))
        return True
    if declared and int(declared) > limit:
        await _too_large(send, limit)
        return True
    return False


def _size(limit: int) -> str:
    return f"{limit / 1048576:.1f}".removesuffix(".0") + " MB" if limit >= 1048576 else f"{limit // 1024} KB"


async def _too_large(send: Send, limit: int) -> None:
    await _refuse(send, 413, plain("server.routes.too_large", size=_size(limit)))


async def _refuse(send: Send, status: int, message: str) -> None:
    body = json.dumps({"error": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


def convscope_routes(pool: WorkPool, room: Room | None = None, rooms: Rooms | None = None,
                     main_code: str | None = None) -> list[BaseRoute]:
    """The app's own routes, over its workers, the register of class rooms (``rooms``: starting rooms from the
    page; None with --no-rooms) and the single class room of --classroom (``room``, its code ``main_code`` in
    ``rooms``)."""
    handlers = RoomRoutes(pool, room, rooms, main_code)
    live = LiveRoutes(pool, lambda code: room_learning.network_in_use(handlers.room_named(code)),
                      lambda code: room_learning.network_in_use(handlers.room_by_path(code)))
    routes: list[BaseRoute] = [Route(LIVE_ROUTE, live.live, methods=["POST"]),
                               Route(PREDICT_ROUTE, live.predict, methods=["POST"]),
                               Route(HEALTH_ROUTE, live.health, methods=["GET"])]
    symbol_routes = SymbolRoutes(handlers)
    learning = LearningRoutes(handlers, pool.weights)
    per_room = [("hello", handlers.hello, "POST"), ("send", handlers.send, "POST"), ("state", handlers.state, "GET"),
                ("events", handlers.events, "GET"), ("join", handlers.join, "GET"),
                ("teacher", handlers.teacher, "POST"), ("classes", symbol_routes.names, "GET"),
                ("classes", symbol_routes.set_names, "POST"), ("learn", learning.start, "POST"),
                ("learn", learning.status, "GET"), ("learn", learning.undo, "DELETE"), ("live", live.room_live, "POST")]
    if room is not None:
        routes += [Route(f"{ROOM_ROUTE}/{name}", guarded(handler), methods=[method])
                   for name, handler, method in per_room]
    if rooms is not None:
        starting = RoomsRoutes(rooms)
        routes += [Route(ROOMS_ROUTE, guarded(starting.create), methods=["POST"]),
                   Route(f"{ROOMS_ROUTE}/{{code}}", guarded(handlers.close), methods=["DELETE"])]
        routes += [Route(f"{ROOMS_ROUTE}/{{code}}/{name}", guarded(handler), methods=[method])
                   for name, handler, method in per_room]
    return routes


def app_kwargs(pool: WorkPool | None, room: Room | None = None, rooms: Rooms | None = None,
               main_code: str | None = None) -> dict[str, Any]:
    """What ``gr.Blocks.launch(app_kwargs=...)`` needs to serve ConvScope's routes and cap every body."""
    kwargs: dict[str, Any] = {"middleware": [Middleware(BodyLimit), Middleware(RequestLanguage)]}
    if pool is not None:
        kwargs["routes"] = convscope_routes(pool, room, rooms, main_code)
    return kwargs


def check_mounted(app: Any, kwargs: dict[str, Any]) -> None:
    """Raises RuntimeError unless the web app Gradio made serves the routes and the middleware of ``kwargs``
    first (a Gradio upgrade that stopped passing ``app_kwargs`` on would otherwise drop them silently)."""
    ours = kwargs.get("routes", [])
    if ours and list(app.router.routes[:len(ours)]) != list(ours):
        raise RuntimeError("Gradio's app does not serve ConvScope's routes first: launch(app_kwargs=...) changed")
    if not any(m.cls is BodyLimit for m in getattr(app, "user_middleware", [])):
        raise RuntimeError("Gradio's app does not run ConvScope's body limit: launch(app_kwargs=...) changed")
