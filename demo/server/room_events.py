"""New drawings pushed to the teacher's page as they arrive: server-sent events (``text/event-stream``), which pass
through HAProxy unchanged.

``GET .../events`` (a room's route, with ``X-Teacher-Token``; demo/server/room_routes.py) answers a stream of
``event: version`` messages, the room's version (demo/server/room.py) each time it changes, and a comment line
every :data:`HEARTBEAT_S` so that proxies keep the connection. The page then asks ``.../state`` for what changed,
as it does when it polls; without the stream (a proxy that buffers it, an old browser) it polls once a second.

A room changes in whichever copy of the app on the machine stored the send, so each copy watches the versions of
the rooms its teachers are listening to: one reader per room and process (:class:`RoomWatch`), every
:data:`WATCH_EVERY_S`, however many pages listen, and only while one does. A stream ends after
:data:`STREAM_FOR_S` (the page opens the next one at once), so no connection is held forever, and each process
serves at most :data:`MAX_STREAMS` at once (beyond that: 503, and the page polls).
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import AsyncIterator, Callable

from starlette.concurrency import run_in_threadpool

from .room import Room

WATCH_EVERY_S = 0.05  # a room's version read every 50 ms while a page listens: a primary-key read in SQLite
HEARTBEAT_S = 15.0
STREAM_FOR_S = 600.0
MAX_STREAMS = 200


class RoomWatch:
    """The versions of the rooms pages are listening to, read in one task per room; each listener gets every new
    version (only the latest, when it falls behind)."""

    def __init__(self, every_s: float = WATCH_EVERY_S) -> None:
        self.every_s = every_s
        self._listeners: dict[str, set[asyncio.Queue[int]]] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self.streams = 0

    async def _watch(self, key: str, room: Room) -> None:
        last = None
        while self._listeners.get(key):
            try:
                version = await run_in_threadpool(room.version)
            except sqlite3.Error:  # a busy or vanished database: the next read tries again (a closed room ends)
                version = last
            if version != last and version is not None:
                last = version
                for queue in list(self._listeners.get(key, ())):
                    if queue.full():
                        queue.get_nowait()
                    queue.put_nowait(version)
            await asyncio.sleep(self.every_s)
        self._tasks.pop(key, None)

    async def versions(self, key: str, room: Room, is_open: Callable[[], bool],
                       heartbeat_s: float = HEARTBEAT_S, stream_for_s: float = STREAM_FOR_S) -> AsyncIterator[str]:
        """The event stream's text for one page listening to ``room`` (``key``: its code); ends when the room is
        no longer open (``is_open``, asked at each heartbeat) or after ``stream_for_s``."""
        queue: asyncio.Queue[int] = asyncio.Queue(maxsize=1)
        self._listeners.setdefault(key, set()).add(queue)
        if key not in self._tasks:
            self._tasks[key] = asyncio.create_task(self._watch(key, room))
        self.streams += 1
        ends = time.monotonic() + stream_for_s
        try:
            yield "retry: 1000\n\n"
            sent = await run_in_threadpool(room.version)  # where the page starts from
            yield f"event: version\ndata: {json.dumps({'version': sent})}\n\n"
            while (left := ends - time.monotonic()) > 0:
                try:
                    version = await asyncio.wait_for(queue.get(), timeout=min(heartbeat_s, left))
                except TimeoutError:
                    if not await run_in_threadpool(is_open):
                        return
                    yield ": still here\n\n"
                    continue
                if version != sent:  # (a new watcher's first reading is where this page started)
                    sent = version
                    yield f"event: version\ndata: {json.dumps({'version': version})}\n\n"
        finally:
            self.streams -= 1
            listeners = self._listeners.get(key)
            if listeners is not None:
                listeners.discard(queue)
                if not listeners:
                    self._listeners.pop(key, None)
