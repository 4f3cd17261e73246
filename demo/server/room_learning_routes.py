"""A class room's own network over HTTP (demo/server/room_learning.py does the work), the teacher's token in
``X-Teacher-Token`` on each:

- ``POST .../learn`` starts learning the room's symbols and answers at once: 202 with the state (as ``GET``); 400
  ``{"error"}`` when there are no symbols or one has too few drawings (the error names it), 409 when it is
  learning already.
- ``GET .../learn`` -> ``{"state": "idle|running|done|failed", "step", "steps", "seconds", "names", "curve",
  "held_back_accuracy", "held_back", "learned_from", "mnist_accuracy_before", "mnist_accuracy_after", "wrong"}``
  (the accuracies once done; the MNIST ones null without MNIST on the server). Each point of ``curve`` is
  ``[step, loss, accuracy on the class's drawings of the symbols it learns from, the ids of those it still reads
  wrong, accuracy on the digits it replays]``; ``wrong``: the held-back drawings it reads wrong, ``{"id", "meant",
  "read"}``.
- ``DELETE .../learn``: back to the shipped network -> the state (``idle``).
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from . import room_learning
from .room_routes import RoomRoutes


class LearningRoutes:
    """The handlers, over the rooms ``rooms`` finds (its :meth:`RoomRoutes.teacher_of`), learning from the
    network at ``weights``, with MNIST when the register of rooms has it (``Rooms.data_dir``)."""

    def __init__(self, rooms: RoomRoutes, weights: str) -> None:
        self.rooms, self.weights = rooms, weights

    def _data_dir(self) -> str | None:
        return (self.rooms.rooms.data_dir if self.rooms.rooms is not None else "") or None

    async def start(self, request: Request) -> Response:
        where = await run_in_threadpool(self.rooms.teacher_of, request)
        if isinstance(where, Response):
            return where
        try:
            await run_in_threadpool(room_learning.start, where.room, self.weights, self._data_dir())
        except room_learning.CannotLearn as refused:
            return JSONResponse({"error": refused.message}, status_code=refused.status)
        return JSONResponse(await run_in_threadpool(room_learning.status, where.room), status_code=202)

    async def status(self, request: Request) -> Response:
        where = await run_in_threadpool(self.rooms.teacher_of, request)
        if isinstance(where, Response):
            return where
        return JSONResponse(await run_in_threadpool(room_learning.status, where.room),
                            headers={"Cache-Control": "no-store"})

    async def undo(self, request: Request) -> Response:
        where = await run_in_threadpool(self.rooms.teacher_of, request)
        if isinstance(where, Response):
            return where
        await run_in_threadpool(room_learning.undo, where.room)
        return JSONResponse(await run_in_threadpool(room_learning.status, where.room))
