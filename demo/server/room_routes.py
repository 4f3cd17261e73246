"""The class room's HTTP handlers (demo/server/room.py holds the room; demo/server/routes.py the paths).

- ``POST /convscope/room/hello`` (a pupil's page, once): sets the pupil's identity cookie (demo/server/identity.py)
  -> ``{"ok": true}``; 429 with ``Retry-After`` when this address asked for too many.
- ``POST /convscope/room/send`` (a pupil): ``{"drawing": <the pad's JSON>, "meant": 0-9 or null, "nickname": str}``
  with the identity cookie -> ``{"id", "label", "confidence", "digit_like"}``. The network's reading is computed by
  the workers. Refusals say why: 401 ``{"identity": "missing"}`` without a valid identity (the page asks for one
  and sends again), 400 for a drawing that cannot be used, 403 for a sender the teacher blocked, 429 with
  ``Retry-After`` over a limit (demo/server/room.py: RoomLimits), 503 when the workers are full.
- ``GET /convscope/room/state?version=N&have=ID`` (the teacher): the room as :meth:`Room.state` gives it.
- ``GET /convscope/room/join`` (the teacher): the address pupils open, and its QR code as SVG.
- ``POST /convscope/room/teacher`` (the teacher): ``{"action": "hide" | "block" | "reveal" | "reveal_all" | "clear"
  | "review_first", "id": n, "on": bool}``.

Every teacher route checks the ``X-Teacher-Token`` header on the server; a wrong token gets 403 and nothing else.
"""

from __future__ import annotations

import functools
import logging
import math
import sqlite3
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from demo.texts import plain
from demo.views import theme

from . import identity
from .jobs import class_room_send, encoded, json_object
from .live_route import accepts_gzip, busy_response
from .room import Room, SendRefused, clean_meant, clean_nickname
from .work import WORKER_LOST_MESSAGE, Busy, JobFailed, WorkPool

log = logging.getLogger("convscope")

TOKEN_HEADER = "X-Teacher-Token"


def not_teacher() -> dict[str, str]:
    return {"error": plain("server.room_routes.not_teacher")}


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


class RoomRoutes:
    """The class room's handlers over one :class:`Room`, its drawings read by the workers (``pool``)."""

    def __init__(self, room: Room, pool: WorkPool, issuer: identity.IssueLimiter | None = None) -> None:
        self.room = room
        self.pool = pool
        self.issuer = issuer or identity.IssueLimiter()
        self.secret = room.secret()
        self.actions: dict[str, Callable[[dict[str, Any]], bool]] = {
            "hide": lambda m: room.hide(m["id"]), "block": lambda m: room.block(m["id"]),
            "reveal": lambda m: room.reveal(m["id"]), "reveal_all": lambda m: room.reveal(None),
            "clear": lambda m: room.clear(), "review_first": lambda m: room.set_review_first(m["on"] is True)}

    def is_teacher(self, request: Request) -> bool:
        return self.room.is_teacher(request.headers.get(TOKEN_HEADER))

    async def hello(self, request: Request) -> Response:
        current = identity.verify(self.secret, request.cookies.get(identity.COOKIE))
        if current is not None:  # a page reloaded: it keeps its identity (and its limits)
            return JSONResponse({"ok": True})
        wait = self.issuer.take(client_address(request))
        if wait:
            return JSONResponse({"error": plain("server.room_routes.joining_too_fast", seconds=math.ceil(wait))},
                                status_code=429,
                                headers={"Retry-After": str(math.ceil(wait))})
        _, cookie = identity.issue(self.secret)
        response = JSONResponse({"ok": True})
        response.set_cookie(identity.COOKIE, cookie, max_age=identity.LIFETIME_S, path=identity.COOKIE_PATH,
                            httponly=True, samesite="strict", secure=request.url.scheme == "https")
        return response

    async def send(self, request: Request) -> Response:
        # The body first: its size is capped while it streams (demo/server/routes.py), so an oversized one is
        # answered 413 whoever sends it.
        raw = await request.body()
        sender = identity.verify(self.secret, request.cookies.get(identity.COOKIE))
        if sender is None:
            return JSONResponse(no_identity(), status_code=401)
        if sender.age() < identity.FIRST_SEND_AFTER_S:
            wait = identity.FIRST_SEND_AFTER_S - sender.age()
            message = plain("server.room_routes.first_send_wait", seconds=math.ceil(wait))
            return _refused(SendRefused(message, "pupil", wait))
        try:
            # Before the network's work, which a full room or a blocked sender would waste.
            await run_in_threadpool(self.room.check_room, sender=sender.id)
            reading = await self.pool.run(class_room_send, raw)
            if "error" in reading:
                return _bad_request(reading["error"])
            drawing_id = await run_in_threadpool(
                self.room.add, reading["drawing"], reading["label"], reading["confidence"], reading["digit_like"],
                clean_meant(reading["meant"]), clean_nickname(reading["nickname"], self.room.limits.nickname_chars),
                sender=sender.id)
        except SendRefused as error:
            return _refused(error)
        except Busy as error:
            return busy_response(error)
        except JobFailed as error:  # not "busy" (see live_route.pooled)
            return JSONResponse({"error": error.message}, status_code=500)
        return JSONResponse({"id": drawing_id, "label": reading["label"],
                             "confidence": round(reading["confidence"], 4), "digit_like": reading["digit_like"]})

    async def state(self, request: Request) -> Response:
        if not self.is_teacher(request):
            return JSONResponse(not_teacher(), status_code=403)
        try:
            version = int(request.query_params["version"]) if "version" in request.query_params else None
            have = int(request.query_params.get("have", 0))
        except ValueError:
            return _bad_request(plain("server.room_routes.bad_version"))
        compress = accepts_gzip(request)
        # The room's state is bounded (demo/server/room.py: pages of strokes), and made off the event loop.
        body = await run_in_threadpool(lambda: encoded(self.room.state(version, have), compress))
        headers = {"Cache-Control": "no-store"}
        if body[:2] == b"\x1f\x8b":
            headers["Content-Encoding"] = "gzip"
        return Response(body, media_type="application/json", headers=headers)

    async def join(self, request: Request) -> Response:
        if not self.is_teacher(request):
            return JSONResponse(not_teacher(), status_code=403)
        join_url = self.room.join_url
        return JSONResponse({"join_url": join_url, "qr_svg": qr_svg(join_url) if join_url else ""})

    async def teacher(self, request: Request) -> Response:
        if not self.is_teacher(request):
            return JSONResponse(not_teacher(), status_code=403)
        message = await run_in_threadpool(json_object, await request.body())
        name = message.get("action")
        action = self.actions.get(name) if isinstance(name, str) else None
        if action is None:
            return _bad_request(plain("server.room_routes.unknown_action", actions=", ".join(self.actions)))
        number = message.get("id", 0)
        if isinstance(number, bool) or not isinstance(number, int) or not 0 <= number < 2**63:
            return _bad_request(plain("server.room_routes.bad_id"))
        try:
            changed = await run_in_threadpool(action, message)
        except KeyError as missing:
            return _bad_request(plain("server.room_routes.action_needs", missing=missing))
        return JSONResponse({"changed": changed, "version": await run_in_threadpool(self.room.version)})

