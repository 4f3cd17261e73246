"""The class rooms' HTTP handlers (demo/server/room.py holds a room, demo/server/rooms.py the register of rooms;
demo/server/routes.py the paths). Each route exists twice: ``/convscope/rooms/{code}/...`` for the room with that
code, and ``/convscope/room/...`` for ``--classroom``'s room.

- ``POST .../hello`` (a pupil's page, once): sets the pupil's identity cookie for that room
  (demo/server/identity.py) -> ``{"ok": true}``; 429 with ``Retry-After`` when this address asked for too many.
- ``POST .../send`` (a pupil): ``{"drawing": <the pad's JSON>, "meant": 0-9, one of the class's symbols by name
  (demo/server/room_symbols.py) or null, "nickname": str}`` with the identity cookie -> ``{"id", "label",
  "confidence", "digit_like"}``. The network's reading is computed by the
  workers. Refusals say why: 401 ``{"identity": "missing"}`` without a valid identity (the page asks for one and
  sends again), 400 for a drawing that cannot be used, 403 for a sender the teacher blocked, 429 with
  ``Retry-After`` over a limit (demo/server/room_rules.py: RoomLimits), 503 when the workers are full.
- ``GET .../state?version=N&have=ID`` (the teacher): the room as :meth:`Room.state` gives it.
- ``GET .../events`` (the teacher): the room's version pushed as it changes, as server-sent events
  (demo/server/room_events.py).
- ``GET .../join`` (the teacher): the address pupils open, its QR code as SVG, and the room's code.
- ``POST .../teacher`` (the teacher): ``{"action": "hide" | "block" | "reveal" | "reveal_all" | "clear"
  | "review_first", "id": n, "on": bool}``.

Every teacher route checks the ``X-Teacher-Token`` header on the server: a room that is not open (never made,
closed, idle too long) gets 404, a wrong token (another room's included) 403, and nothing else.
"""

from __future__ import annotations

import functools
import logging
import math
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from demo.texts import plain
from demo.views import theme

from . import identity, room_learning
from .jobs import class_room_send, encoded, json_object
from .live_route import accepts_gzip, busy_response
from .room import Room
from .room_events import MAX_STREAMS, RoomWatch
from .room_rules import SendRefused, clean_nickname
from .room_symbols import meant_of, symbols
from .rooms import Rooms, normal_code
from .work import WORKER_LOST_MESSAGE, Busy, JobFailed, WorkPool

log = logging.getLogger("convscope")

TOKEN_HEADER = "X-Teacher-Token"
ROOMS_ROUTE = "/convscope/rooms"


def not_teacher() -> dict[str, str]:
    return {"error": plain("server.room_routes.not_teacher")}


def no_room() -> dict[str, str]:
    return {"error": plain("server.room_routes.no_room")}


def public_base(rooms: Rooms, request: Request) -> str:
    """The address pupils reach: the one the app was started with (a balancer's, a share link), else the one this
    request came to."""
    return rooms.base_url or str(request.base_url)


def students_url(base: str, code: str) -> str:
    """The address pupils open to join the room ``code``: the page, with the code in it."""
    return f"{base.rstrip('/')}/?room={code}"


def no_identity() -> dict[str, str]:
    return {"error": plain("server.room_routes.no_identity"), "identity": "missing"}


QR_QUIET_ZONE = 2  # modules of white around the code (4 is the standard; 2 scans well from a screen)


def qr_svg(url: str) -> str:
    """The join link as a QR code, an inline SVG that scales to any size (drawn by segno)."""
    import segno

    code = segno.make(url, error="m")
    return code.svg_inline(scale=1, border=QR_QUIET_ZONE, dark=theme.QR_DARK, light=theme.QR_LIGHT, omitsize=True)


def guarded(route: Callable[..., Awaitable[Response]]) -> Callable[..., Awaitable[Response]]:
    """A route whose unexpected failure is logged and answered in JSON, never a hang or a bare 500 page: a database
    kept locked by another process (past SQLite's 10 s wait) is "busy", anything else a logged bug."""
    @functools.wraps(route)
    async def run(*args: Any) -> Response:
        try:
            return await route(*args)
        except sqlite3.OperationalError:
            log.exception("the class room's database could not be used")
            return JSONResponse({"error": plain("server.room_routes.busy")}, status_code=503,
                                headers={"Retry-After": "1"})
        except Exception:
            log.exception("unexpected error in the class room's %s", route.__name__)
            return JSONResponse({"error": str(WORKER_LOST_MESSAGE)}, status_code=500)
    return run


def _refused(error: SendRefused) -> JSONResponse:
    headers = {"Retry-After": str(max(1, math.ceil(error.retry_after)))} if error.retry_after else None
    return JSONResponse({"error": error.message, "limit": error.limit, "retry_after": round(error.retry_after, 1)},
                        status_code=403 if error.limit == "blocked" else 429, headers=headers)


def _bad_request(message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=400)


def client_address(request: Request) -> str:
    """The client's address. Behind a balancer or Gradio's share tunnel this is the address the proxy forwarded:
    uvicorn takes ``X-Forwarded-For`` only from the addresses in ``FORWARDED_ALLOW_IPS`` (default 127.0.0.1, the
    balancer or tunnel on this machine), so a client elsewhere cannot claim another address."""
    return request.client.host if request.client else "?"


def checked_network(room: Room, sender: str) -> str:
    """Whether the room takes a drawing from ``sender`` now (raises SendRefused), and the network that reads it: the
    room's own once it has learned the class's symbols ("" for the shipped one)."""
    room.check_room(sender=sender)
    return room_learning.network_in_use(room)


@dataclass
class Where:
    """The room a request is about: the room (None when it is not open), its code (None for the single room of
    an app built without a register), and the check of the teacher's token for it."""

    room: Room | None
    code: str | None
    is_teacher: Callable[[str | None], bool]


class RoomRoutes:
    """The class rooms' handlers, read by the workers (``pool``): ``/convscope/rooms/{code}/...`` over the
    register ``rooms``, and ``/convscope/room/...`` over the single ``room`` (``--classroom``'s, in the register or
    not)."""

    def __init__(self, pool: WorkPool, room: Room | None = None, rooms: Rooms | None = None,
                 main_code: str | None = None, issuer: identity.IssueLimiter | None = None) -> None:
        self.pool = pool
        self.room = room
        self.rooms = rooms
        self.main_code = main_code
        self.issuer = issuer or identity.IssueLimiter()
        self.watch = RoomWatch()
        self.actions: dict[str, Callable[[Room, dict[str, Any]], bool]] = {
            "hide": lambda r, m: r.hide(m["id"]), "block": lambda r, m: r.block(m["id"]),
            "reveal": lambda r, m: r.reveal(m["id"]), "reveal_all": lambda r, m: r.reveal(None),
            "clear": lambda r, m: r.clear(), "review_first": lambda r, m: r.set_review_first(m["on"] is True)}

    def room_named(self, code: object) -> Room | None:
        """The open room a client named by its code (in a body, not a path): only rooms of the register."""
        return self.rooms.get(code) if self.rooms is not None else None

    def room_by_path(self, code: str | None) -> Room | None:
        """The open room of a route's path: by its code, else (``/convscope/room/...``) the single room."""
        return self.where_code(self.main_code if code is None else code).room

    def where(self, request: Request) -> Where:
        """The room of a request: by the code in its path, else the single room."""
        return self.where_code(request.path_params.get("code", self.main_code))

    def where_code(self, code: str | None) -> Where:
        if self.rooms is not None and code is not None:
            rooms = self.rooms
            return Where(rooms.get(code), normal_code(code), lambda token: rooms.is_teacher(code, token))
        room = self.room
        return Where(room, None, lambda token: room is not None and room.is_teacher(token))

    @staticmethod
    def _cookie_path(request: Request, where: Where) -> str:
        """The pupil's identity is sent to the room's own routes only: by its code, or --classroom's."""
        by_code = request.url.path.startswith(f"{ROOMS_ROUTE}/") and where.code
        return f"{ROOMS_ROUTE}/{where.code}" if by_code else identity.COOKIE_PATH

    async def hello(self, request: Request) -> Response:
        where = await run_in_threadpool(self.where, request)
        if where.room is None:
            return JSONResponse(no_room(), status_code=404)
        secret = await run_in_threadpool(where.room.secret)
        current = identity.verify(secret, request.cookies.get(identity.COOKIE))
        if current is not None:  # a page reloaded: it keeps its identity (and its limits)
            return JSONResponse({"ok": True})
        wait = self.issuer.take(client_address(request))
        if wait:
            return JSONResponse({"error": plain("server.room_routes.joining_too_fast", seconds=math.ceil(wait))},
                                status_code=429,
                                headers={"Retry-After": str(math.ceil(wait))})
        _, cookie = identity.issue(secret)
        response = JSONResponse({"ok": True})
        response.set_cookie(identity.COOKIE, cookie, max_age=identity.LIFETIME_S,
                            path=self._cookie_path(request, where), httponly=True, samesite="strict",
                            secure=request.url.scheme == "https")
        return response

    async def send(self, request: Request) -> Response:
        # The body first: its size is capped while it streams (demo/server/routes.py), so an oversized one is
        # answered 413 whoever sends it.
        raw = await request.body()
        where = await run_in_threadpool(self.where, request)
        room = where.room
        if room is None:
            return JSONResponse(no_room(), status_code=404)
        sender = identity.verify(await run_in_threadpool(room.secret), request.cookies.get(identity.COOKIE))
        if sender is None:
            return JSONResponse(no_identity(), status_code=401)
        if sender.age() < identity.FIRST_SEND_AFTER_S:
            wait = identity.FIRST_SEND_AFTER_S - sender.age()
            message = plain("server.room_routes.first_send_wait", seconds=math.ceil(wait))
            return _refused(SendRefused(message, "pupil", wait))
        try:
            # Before the network's work, which a full room or a blocked sender would waste.
            network = await run_in_threadpool(checked_network, room, sender.id)
            reading = await self.pool.run(class_room_send, raw, network)
            if "error" in reading:
                return _bad_request(reading["error"])
            drawing_id = await run_in_threadpool(lambda: room.add(
                reading["drawing"], reading["label"], reading["confidence"], reading["digit_like"],
                meant_of(reading["meant"], symbols(room)),
                clean_nickname(reading["nickname"], room.limits.nickname_chars), sender=sender.id))
        except SendRefused as error:
            return _refused(error)
        except Busy as error:
            return busy_response(error)
        except JobFailed as error:  # not "busy" (see live_route.pooled)
            return JSONResponse({"error": error.message}, status_code=500)
        self._touch(where)
        return JSONResponse({"id": drawing_id, "label": reading["label"], "name": reading["name"],
                             "network": reading["network"], "confidence": round(reading["confidence"], 4),
                             "digit_like": reading["digit_like"]})

    def _touch(self, where: Where) -> None:
        if self.rooms is not None and where.code is not None:
            self.rooms.touch(where.code)

    def teacher_of(self, request: Request) -> Where | Response:
        """The request's room when it carries that room's teacher's token; else the answer: 404 for no such open
        room, 403 for another token (another room's included)."""
        where = self.where(request)
        if where.room is None:
            return JSONResponse(no_room(), status_code=404)
        if not where.is_teacher(request.headers.get(TOKEN_HEADER)):
            return JSONResponse(not_teacher(), status_code=403)
        return where

    async def state(self, request: Request) -> Response:
        where = await run_in_threadpool(self.teacher_of, request)
        if isinstance(where, Response):
            return where
        try:
            version = int(request.query_params["version"]) if "version" in request.query_params else None
            have = int(request.query_params.get("have", 0))
        except ValueError:
            return _bad_request(plain("server.room_routes.bad_version"))
        compress = accepts_gzip(request)
        self._touch(where)  # the teacher's page is open: the room is in use
        # The room's state is bounded (demo/server/room.py: pages of strokes), and made off the event loop.
        body = await run_in_threadpool(lambda: encoded(where.room.state(version, have), compress))
        headers = {"Cache-Control": "no-store"}
        if body[:2] == b"\x1f\x8b":
            headers["Content-Encoding"] = "gzip"
        return Response(body, media_type="application/json", headers=headers)

    async def events(self, request: Request) -> Response:
        where = await run_in_threadpool(self.teacher_of, request)
        if isinstance(where, Response):
            return where
        if self.watch.streams >= MAX_STREAMS:  # the page polls instead
            return JSONResponse({"error": plain("server.room_routes.busy")}, status_code=503,
                                headers={"Retry-After": "5"})
        def still_open() -> bool:  # and in use: a projector page listening keeps its room from closing as idle
            if self.rooms is not None and where.code is not None and self.rooms.get(where.code) is None:
                return False
            self._touch(where)
            return True

        stream = self.watch.versions(where.code or "", where.room, still_open)
        return StreamingResponse(stream, media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    async def close(self, request: Request) -> Response:
        """``DELETE /convscope/rooms/{code}`` (demo/server/rooms_routes.py says what it answers)."""
        where = await run_in_threadpool(self.teacher_of, request)
        if isinstance(where, Response):
            return where
        return JSONResponse({"closed": await run_in_threadpool(self.rooms.close, where.code)})

    async def join(self, request: Request) -> Response:
        where = await run_in_threadpool(self.teacher_of, request)
        if isinstance(where, Response):
            return where
        join_url = where.room.join_url or (students_url(public_base(self.rooms, request), where.code)
                                           if self.rooms is not None and where.code else "")
        return JSONResponse({"join_url": join_url, "qr_svg": qr_svg(join_url) if join_url else "",
                             "code": where.code or ""})

    async def teacher(self, request: Request) -> Response:
        where = await run_in_threadpool(self.teacher_of, request)
        if isinstance(where, Response):
            return where
        message = await run_in_threadpool(json_object, await request.body())
        name = message.get("action")
        action = self.actions.get(name) if isinstance(name, str) else None
        if action is None:
            return _bad_request(plain("server.room_routes.unknown_action", actions=", ".join(self.actions)))
        number = message.get("id", 0)
        if isinstance(number, bool) or not isinstance(number, int) or not 0 <= number < 2**63:
            return _bad_request(plain("server.room_routes.bad_id"))
        try:
            changed = await run_in_threadpool(action, where.room, message)
        except KeyError as missing:
            return _bad_request(plain("server.room_routes.action_needs", missing=missing))
        return JSONResponse({"changed": changed, "version": await run_in_threadpool(where.room.version)})
