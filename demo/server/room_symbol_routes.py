"""A class room's new symbols over HTTP (demo/server/room_symbols.py keeps them):

- ``GET .../classes`` (anyone with the room's code: the pupils' phones ask "Draw a heart") -> ``{"names": [...]}``.
- ``POST .../classes`` with ``X-Teacher-Token`` and ``{"names": ["star", "heart"]}`` (or ``[]`` for none) ->
  ``{"names": [...]}`` as stored (trimmed); 400 ``{"error"}`` saying what is wrong with the list.

Both exist for ``/convscope/rooms/{code}/classes`` and ``--classroom``'s ``/convscope/room/classes``; a room that
is not open answers 404, another token 403 (demo/server/room_routes.py: ``RoomRoutes.teacher_of``).
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .jobs import json_object
from .room_routes import RoomRoutes, no_room
from .room_symbols import BadSymbols, set_symbols, symbols


class SymbolRoutes:
    """The symbols' handlers, over the rooms that ``rooms`` finds (its :meth:`RoomRoutes.where`)."""

    def __init__(self, rooms: RoomRoutes) -> None:
        self.rooms = rooms

    async def names(self, request: Request) -> Response:
        where = await run_in_threadpool(self.rooms.where, request)
        if where.room is None:
            return JSONResponse(no_room(), status_code=404)
        return JSONResponse({"names": await run_in_threadpool(symbols, where.room)},
                            headers={"Cache-Control": "no-store"})

    async def set_names(self, request: Request) -> Response:
        where = await run_in_threadpool(self.rooms.teacher_of, request)
        if isinstance(where, Response):
            return where
        message = await run_in_threadpool(json_object, await request.body())
        try:
            names = await run_in_threadpool(set_symbols, where.room, message.get("names"))
        except BadSymbols as error:
            return JSONResponse({"error": str(error)}, status_code=400)
        return JSONResponse({"names": names})
