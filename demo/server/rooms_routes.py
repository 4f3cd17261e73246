"""Starting and closing a class (demo/server/rooms.py holds the register; each room's own routes are
demo/server/room_routes.py).

- ``POST /convscope/rooms`` (anyone; limited per client address): a new room -> ``{"code", "students", "teacher",
  "token"}``: the address pupils open (with the code in it), the teacher's (the token in its fragment, which the
  browser never sends), and the token for scripts (``X-Teacher-Token``). 429 with ``Retry-After`` when this
  address started too many; 503 when the room could not be placed on this machine (several machines behind one
  balancer: demo/server/room_placing.py).
- ``DELETE /convscope/rooms/{code}`` with ``X-Teacher-Token``: closes the room and deletes its drawings ->
  ``{"closed": true}``; 404 when no such room is open, 403 for another token. Its routes answer 404 from then on.
"""

from __future__ import annotations

import logging
import math
import threading

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from demo.texts import plain

from . import identity
from .room_placing import NotPlaced, place
from .room_routes import client_address, public_base, students_url
from .rooms import Rooms

SWEEP_EVERY_S = 300.0  # idle rooms are closed (their drawings deleted) within 5 minutes of their limit


def room_links(base: str, code: str, token: str) -> dict[str, str]:
    students = students_url(base, code)
    return {"code": code, "students": students, "teacher": f"{students}#teacher={token}", "token": token}


class RoomsRoutes:
    """Starting rooms of ``rooms`` (:meth:`create`; closing one is a room's own route,
    demo/server/room_routes.py: ``RoomRoutes.close``); ``starts`` limits how many rooms one client address starts
    (a few at once, then one every two minutes)."""

    def __init__(self, rooms: Rooms, starts: identity.IssueLimiter | None = None) -> None:
        self.rooms = rooms
        self.starts = starts or identity.IssueLimiter(burst=5, refill_s=120.0)

    async def create(self, request: Request) -> Response:
        wait = self.starts.take(client_address(request))
        if wait:
            return JSONResponse({"error": plain("server.room_routes.starting_too_fast", seconds=math.ceil(wait))},
                                status_code=429, headers={"Retry-After": str(math.ceil(wait))})
        try:
            # Several machines: a code the balancer routes here (it asks the balancer, off the event loop).
            code, token = await run_in_threadpool(place if self.rooms.balancer_url else Rooms.create, self.rooms)
        except NotPlaced:
            return JSONResponse({"error": plain("server.room_routes.not_placed")}, status_code=503,
                                headers={"Retry-After": "10"})
        return JSONResponse(room_links(public_base(self.rooms, request), code, token), status_code=201,
                            headers={"Cache-Control": "no-store"})


def start_sweeping(rooms: Rooms, every_s: float = SWEEP_EVERY_S) -> threading.Event:
    """Closes idle rooms every ``every_s`` seconds in a background thread, until the returned event is set."""
    stop = threading.Event()

    def sweep() -> None:
        while not stop.wait(every_s):
            try:
                rooms.sweep()
            except Exception:  # a locked or vanished database: the next round tries again
                logging.getLogger("convscope").exception("closing idle class rooms failed")

    threading.Thread(target=sweep, name="convscope-room-sweeper", daemon=True).start()
    return stop
