"""The class room's HTTP routes (demo/server/room.py holds the room), added beside the live route.

- ``POST /convscope/room/send`` (a pupil): ``{"drawing": <the pad's JSON>, "meant": 0-9 or null, "nickname": str,
  "pupil": <a random id the page made>}`` -> ``{"id", "label", "confidence", "digit_like", "review_first"}``. The
  network's reading is computed in the live workers. Refusals say why: 400 for a drawing that cannot be used (the
  same checks as the live pad), 429 with ``Retry-After`` over a limit (demo/server/room.py: RoomLimits), 503 when the
  workers are full.
- ``GET /convscope/room/state?version=N&have=ID`` (the teacher): the room as :meth:`Room.state` gives it.
- ``GET /convscope/room/join`` (the teacher): the address pupils open, and its QR code as SVG.
- ``POST /convscope/room/teacher`` (the teacher): ``{"action": "hide" | "reveal" | "reveal_all" | "clear" |
  "review_first", "id": n, "on": bool}``.

Every teacher route checks the ``X-Teacher-Token`` header on the server; a wrong token gets 403 and nothing else.
"""

from __future__ import annotations

import functools
import gzip
import json
import logging
import sqlite3
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from demo.core.strokes import MAX_JSON_CHARS, InvalidDrawingError, parse_drawing
from demo.views import theme
from demo.views.live import read_drawing

from .live_route import BUSY, GZIP_ABOVE, OVER_CAPACITY, LiveService
from .room import PupilLimiter, Room, SendRefused, clean_meant, clean_nickname

log = logging.getLogger("convscope")

ROOM_ROUTE = "/convscope/room"
TOKEN_HEADER = "X-Teacher-Token"
NOT_TEACHER = {"error": "This is not the teacher's link for this class room: nothing to show."}
MAX_BODY = 2 * MAX_JSON_CHARS
QR_QUIET_ZONE = 2  # modules of white around the code (4 is the standard; 2 scans well from a screen)


def qr_svg(url: str) -> str:
    """The join link as a QR code, an inline SVG that scales to any size (drawn by segno)."""
    import segno

    code = segno.make(url, error="m")
    return code.svg_inline(scale=1, border=QR_QUIET_ZONE, dark=theme.QR_DARK, light=theme.QR_LIGHT, omitsize=True)


def _guarded(route: Callable[..., Awaitable[Response]]) -> Callable[..., Awaitable[Response]]:
    """A route whose unexpected failure is logged and answered in JSON, never a hang or a bare 500 page: a database
    kept locked by another process (past SQLite's 10 s wait) is "busy", anything else a logged bug."""
    @functools.wraps(route)
    async def run(*args: Any) -> Response:
        try:
            return await route(*args)
        except sqlite3.OperationalError:
            log.exception("the class room's database could not be used")
            return JSONResponse({"error": "The class room is busy: try again in a moment."}, status_code=503,
                                headers={"Retry-After": "1"})
        except Exception:
            log.exception("unexpected error in the class room's %s", route.__name__)
            return JSONResponse({"error": "internal error (logged); please try again"}, status_code=500)
    return run


def _refused(error: SendRefused) -> JSONResponse:
    headers = {"Retry-After": str(max(1, round(error.retry_after)))} if error.retry_after else None
    return JSONResponse({"error": error.message, "limit": error.limit, "retry_after": round(error.retry_after, 1)},
                        status_code=429, headers=headers)


def _bad_request(message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=400)


async def _read_json(request: Request) -> dict[str, Any] | None:
    """The body as a JSON object; None when it is larger than :data:`MAX_BODY`, not JSON, or not an object."""
    if int(request.headers.get("content-length") or 0) > MAX_BODY:
        return None
    raw = await request.body()
    if len(raw) > MAX_BODY:
        return None
    try:
        message = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    return message if isinstance(message, dict) else None


def _drawing_text(message: dict[str, Any]) -> str:
    """The send's drawing as the pad's JSON text (a client may send the object itself)."""
    drawing = message.get("drawing")
    return drawing if isinstance(drawing, str) else json.dumps(drawing) if isinstance(drawing, dict) else ""


def _compressed(body: dict[str, Any], request: Request) -> Response:
    data = json.dumps(body, separators=(",", ":")).encode()
    headers = {"Cache-Control": "no-store"}
    if "gzip" in request.headers.get("accept-encoding", "") and len(data) > GZIP_ABOVE:
        data = gzip.compress(data, compresslevel=6)
        headers["Content-Encoding"] = "gzip"
    return Response(data, media_type="application/json", headers=headers)


class RoomRoutes:
    """The class room's routes over one :class:`Room`, its drawings read by the live workers (``service``)."""

    def __init__(self, room: Room, service: LiveService) -> None:
        self.room = room
        self.service = service
        self.limiter = PupilLimiter(room.limits.pupil_interval_s)
        self.actions: dict[str, Callable[[dict[str, Any]], bool]] = {
            "hide": lambda m: room.hide(m["id"]), "reveal": lambda m: room.reveal(m["id"]),
            "reveal_all": lambda m: room.reveal(None), "clear": lambda m: room.clear(),
            "review_first": lambda m: room.set_review_first(m["on"] is True)}

    def routes(self) -> list[Route]:
        return [Route(f"{ROOM_ROUTE}/send", _guarded(self.send), methods=["POST"]),
                Route(f"{ROOM_ROUTE}/state", _guarded(self.state), methods=["GET"]),
                Route(f"{ROOM_ROUTE}/join", _guarded(self.join), methods=["GET"]),
                Route(f"{ROOM_ROUTE}/teacher", _guarded(self.teacher), methods=["POST"])]

    def is_teacher(self, request: Request) -> bool:
        return self.room.is_teacher(request.headers.get(TOKEN_HEADER))

    async def send(self, request: Request) -> Response:
        message = await _read_json(request)
        if message is None:
            return _bad_request(f"The send could not be read (JSON with a drawing, at most {MAX_BODY:,} bytes).")
        text = _drawing_text(message)
        try:
            if not parse_drawing(text).strokes:
                return _bad_request("The pad is empty: draw a digit first.")
        except InvalidDrawingError as error:
            return _bad_request(f"The drawing could not be used: {error}")
        client = request.client.host if request.client else "?"
        pupil = (message.get("pupil") if isinstance(message.get("pupil"), str) else client)[:64]
        try:
            taken = self.limiter.take(pupil)
        except SendRefused as error:
            return _refused(error)
        answer = await _guarded(self.store)(text, message)
        if answer.status_code != 200:
            self.limiter.give_back(pupil, taken)  # only a stored drawing counts against the pupil's limit
        return answer

    async def store(self, text: str, message: dict[str, Any]) -> Response:
        """The network's reading of a checked drawing, stored in the room; or why not."""
        room = self.room
        try:
            await run_in_threadpool(room.check_room)  # before the network's work, which a full room would waste
            reading = await self.service.compute(read_drawing, text)
            if reading is OVER_CAPACITY:
                return JSONResponse(BUSY, status_code=503, headers={"Retry-After": "1"})
            if reading["label"] is None:
                return _bad_request(f"Nothing to send: {reading['message']}.")
            drawing_id = await run_in_threadpool(
                room.add, reading["drawing"], reading["label"], reading["confidence"], reading["digit_like"],
                clean_meant(message.get("meant")), clean_nickname(message.get("nickname"), room.limits.nickname_chars))
        except SendRefused as error:
            return _refused(error)
        except InvalidDrawingError as error:
            return _bad_request(f"The drawing could not be used: {error}")
        return JSONResponse({"id": drawing_id, "label": reading["label"],
                             "confidence": round(reading["confidence"], 4), "digit_like": reading["digit_like"]})

    async def state(self, request: Request) -> Response:
        if not self.is_teacher(request):
            return JSONResponse(NOT_TEACHER, status_code=403)
        try:
            version = int(request.query_params["version"]) if "version" in request.query_params else None
            have = int(request.query_params.get("have", 0))
        except ValueError:
            return _bad_request("version and have must be whole numbers")
        return _compressed(await run_in_threadpool(self.room.state, version, have), request)

    async def join(self, request: Request) -> Response:
        if not self.is_teacher(request):
            return JSONResponse(NOT_TEACHER, status_code=403)
        join_url = self.room.join_url
        return JSONResponse({"join_url": join_url, "qr_svg": qr_svg(join_url) if join_url else ""})

    async def teacher(self, request: Request) -> Response:
        if not self.is_teacher(request):
            return JSONResponse(NOT_TEACHER, status_code=403)
        message = await _read_json(request) or {}
        name = message.get("action")
        action = self.actions.get(name) if isinstance(name, str) else None
        if action is None:
            return _bad_request(f"unknown action; one of {', '.join(self.actions)}")
        number = message.get("id", 0)
        if isinstance(number, bool) or not isinstance(number, int) or not 0 <= number < 2**63:
            return _bad_request("id must be a drawing's number")
        try:
            changed = await run_in_threadpool(action, message)
        except KeyError as missing:
            return _bad_request(f"this action needs {missing}")
        return JSONResponse({"changed": changed, "version": await run_in_threadpool(self.room.version)})


def add_room_routes(app: Any, room: Room, service: LiveService) -> None:
    """Adds the class room's routes to the web app that serves the page (Gradio's FastAPI app)."""
    for route in RoomRoutes(room, service).routes():  # first in the list: Gradio's own routes include catch-alls
        app.router.routes.insert(0, route)
