"""The live pad's route, the health check and a plain REST predict: answered outside Gradio's queue, computed by the
workers (demo/server/work.py). Their paths are in demo/server/routes.py.

A classroom sends many small updates (the whole drawing, at most every 60 ms while a pen moves). Gradio's queue
costs each event more CPU than the model does (a join request, an event stream, session bookkeeping), so the pad
posts its drawing to ``POST /convscope/live`` and gets the views back in the one response.

- ``POST /convscope/live``: the pad's stroke JSON plus ``"views"``, ``"input"`` and ``"room"`` (demo/server/jobs.py:
  live_update) -> JSON ``{"html": {view: html}, "kept": bool, "input": str?, "network": str?}``, gzipped when the
  browser accepts it. With ``"room": code`` the drawing is read by that class room's own network once it has learned
  the class's symbols (demo/server/room_learning.py), else by the shipped one.
- ``POST /convscope/rooms/{code}/live`` (and ``/convscope/room/live``): the same for the room in the path; a
  balancer routes it by the code, to the machine that holds the room and its network.
- ``POST /convscope/predict``: an image file's bytes as the body -> the same JSON as Gradio's named ``/predict``
  (``{"label", "probs", "looks_like_digit", "digit_score"}``); no temporary file is made. 400 with ``{"error"}`` for
  a file that cannot be used.
- ``GET /convscope/health``: ``{"status": "ok", "ready", "workers", "pending", "served", "replaced", "timed_out"}``.

Over capacity the answer is at once HTTP 503 ``{"error": "The server is busy: try again in a moment."}`` with
``Retry-After``, never a hang; a job past its time limit, or whose worker died twice, is answered HTTP 500 with a
message saying so (not "busy": clients that try a busy server again by themselves must not send such a job again at
once).

Every update is stateless (the drawing travels with it), so any copy of the app behind a load balancer can answer
it (deploy/).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from demo.texts import plain

from .jobs import RoomAsked, live_update, predict_image
from .work import WORKER_LOST_MESSAGE, Busy, JobFailed, WorkPool

log = logging.getLogger("convscope")


def busy_response(error: Busy) -> JSONResponse:
    return JSONResponse({"error": error.message}, status_code=503,
                        headers={"Retry-After": str(max(1, math.ceil(error.retry_after)))})


async def pooled(pool: WorkPool, work: Callable[..., Any], *args: Any,
                 answer: Callable[[Any], Response]) -> Response:
    """Runs ``work`` in the pool and answers with ``answer(result)``; refusals and failures as JSON errors."""
    try:
        result = await pool.run(work, *args)
    except Busy as error:
        return busy_response(error)
    except JobFailed as error:  # not "busy": trying again at once would only stop another worker
        return JSONResponse({"error": error.message}, status_code=500)
    except Exception:  # a bug in the work: logged, answered, never a hang
        log.exception("unexpected error in %s", getattr(work, "__name__", work))
        return JSONResponse({"error": str(WORKER_LOST_MESSAGE)}, status_code=500)
    return answer(result)


def accepts_gzip(request: Request) -> bool:
    return "gzip" in request.headers.get("accept-encoding", "")


class LiveRoutes:
    """The live pad's, the health check's and REST predict's handlers, over one pool of workers. ``room_network``
    (code -> the file of that open room's network, "" for none) reads the rooms; None: there are none."""

    def __init__(self, pool: WorkPool, room_network: Callable[[object], str] | None = None,
                 room_network_by_path: Callable[[str | None], str] | None = None) -> None:
        self.pool = pool
        self.room_network = room_network
        self.room_network_by_path = room_network_by_path

    async def live(self, request: Request) -> Response:
        return await self._live(request, None)

    async def room_live(self, request: Request) -> Response:
        """``/convscope/rooms/{code}/live``: the room is in the path, so its network is found before the work."""
        find = self.room_network_by_path
        code = request.path_params.get("code")
        return await self._live(request, await run_in_threadpool(find, code) if find is not None else "")

    async def _live(self, request: Request, network: str | None) -> Response:
        raw = await request.body()  # its size is capped while it streams (demo/server/routes.py)
        compress = accepts_gzip(request)

        def respond(body: bytes | RoomAsked) -> Response | RoomAsked:
            if isinstance(body, RoomAsked):
                return body
            headers = {"Cache-Control": "no-store"}
            if compress and body[:2] == b"\x1f\x8b":
                headers["Content-Encoding"] = "gzip"
            return Response(body, media_type="application/json", headers=headers)

        answer = await pooled(self.pool, live_update, raw, compress, network, answer=respond)
        if isinstance(answer, RoomAsked):  # the body named a room: once more, with its network
            find = self.room_network
            network = await run_in_threadpool(find, answer.code) if find is not None else ""
            answer = await pooled(self.pool, live_update, raw, compress, network, answer=respond)
        return answer

    async def predict(self, request: Request) -> Response:
        data = await request.body()
        if not data:
            return JSONResponse({"error": plain("server.live_route.no_image")}, status_code=400)

        def respond(result: dict[str, Any]) -> Response:
            return JSONResponse(result, status_code=400 if "error" in result else 200,
                                headers={"Cache-Control": "no-store"})

        return await pooled(self.pool, predict_image, data, answer=respond)

    async def health(self, request: Request) -> Response:
        return JSONResponse({"status": "ok", **self.pool.health()}, headers={"Cache-Control": "no-store"})
