"""The live pad's own HTTP route: drawing updates answered outside Gradio's queue, computed on every core.

A classroom sends many small updates (the whole drawing, at most every 60 ms while a pen moves). Gradio's queue
costs each event more CPU than the model does (a join request, an event stream, session bookkeeping), so the pad
posts its drawing to ``POST /convscope/live`` instead and gets the views back in the one response. The work runs in
a pool of worker processes (one per core by default), each with its own copy of the model; the web server's
process only moves bytes. Uploads, samples, lessons and the named API endpoints stay Gradio events.

- A request carries the pad's stroke JSON plus ``"views"`` (the views the page can see; omitted: all) and
  ``"input": true`` when the page wants the 28×28 model input back (for the visible lesson).
- The answer is JSON ``{"html": {view: html}, "kept": bool, "input": str?}``, gzipped when the browser accepts it.
- Over capacity (more requests waiting than the workers can soon serve) the answer is at once HTTP 503 with
  ``{"error": "busy, try again"}``, never a hang.
- A worker process that dies is logged and the pool replaced; requests that were running on it are run again, so
  the other pupils only wait a moment.

Every update is stateless (the drawing travels with it), so any copy of the app behind a load balancer can answer
it (deploy/).
"""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from demo.core.strokes import MAX_JSON_CHARS
from demo.views.live import LIVE_VIEWS, encode_input, guarded_views, predict_file, views_for_drawing, views_for_file

log = logging.getLogger("convscope")

LIVE_ROUTE = "/convscope/live"
HEALTH_ROUTE = "/convscope/health"
BUSY = {"error": "busy, try again"}
WAITING_PER_WORKER = 48  # requests waiting per worker before new ones are refused: a class of 60 on 2 cores fits
GZIP_ABOVE = 1024  # bytes; smaller answers are sent as they are
OVER_CAPACITY = object()  # LiveService.compute's answer when the workers are full

_classifier: Any = None  # in a worker process: its own copy of the model


def _exit_with_parent(parent: int) -> None:
    """A worker ends when the server process ``parent`` is gone, however it went (no orphaned workers): it checks
    its parent once a second. The server passes its own id, since it may have ended before this worker got here
    (a server that cannot bind its port exits while its workers still load torch). Linux's PR_SET_PDEATHSIG would
    fire when the *thread* that started the worker ends."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="convscope-parent-watch", daemon=True).start()


def _start_worker(weights: str, parent: int) -> None:
    """Runs once in each worker process: its own model, one torch thread (the workers are the parallelism)."""
    import torch

    from demo.core.classifier import load_classifier

    global _classifier
    _exit_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the server, which stops the workers
    torch.set_num_threads(1)
    _classifier = load_classifier(weights)
    # Channels-last convolutions run this small network's forward pass about a third faster on a CPU; the results
    # differ from the default layout's by float rounding only (about 1e-6).
    _classifier.model.to(memory_format=torch.channels_last)


def answer(clf: Any, drawing_json: str, wanted: list[str] | None, want_input: bool, compress: bool) -> bytes:
    """The response body for one update: the views as JSON, gzipped when ``compress``."""
    update = guarded_views(views_for_drawing, clf, drawing_json, wanted)
    body: dict[str, Any] = {"html": update.html, "kept": update.kept}
    if want_input and not update.kept:
        body["input"] = encode_input(update.model_input)
    data = json.dumps(body, separators=(",", ":")).encode()
    return gzip.compress(data, compresslevel=6) if compress and len(data) > GZIP_ABOVE else data


def _file_work(clf: Any, function: str, path: str) -> Any:
    """The work on an uploaded file: ``predict_file`` (the /predict endpoint) or ``views_for_file`` (the page)."""
    if function == "predict_file":
        return predict_file(clf, path)
    if function == "views_for_file":
        return guarded_views(views_for_file, clf, path)
    raise ValueError(f"unknown work {function!r}")


def _in_worker(work: Callable[..., Any], *args: Any) -> Any:
    """Runs ``work(classifier, *args)`` in a worker process, with that worker's own model."""
    return work(_classifier, *args)


class LiveService:
    """The pool of workers behind the live route, with admission control and replacement of dead workers."""

    def __init__(self, weights: str | Path, workers: int, clf: Any = None) -> None:
        """``workers`` processes, each loading ``weights``; ``workers=0`` computes in threads of this process with
        ``clf`` (tests, and machines where extra processes are unwelcome)."""
        self.weights = str(weights)
        self.workers = workers
        self.clf = clf
        self.capacity = WAITING_PER_WORKER * max(workers, 1)
        self.pending = 0
        self.served = 0
        self.replaced = 0
        self.ready = threading.Event()  # set once every worker has loaded the model
        self._lock = threading.Lock()
        self._pool: Executor = self._new_pool()

    def _new_pool(self) -> Executor:
        if self.workers == 0:
            return ThreadPoolExecutor(max_workers=4, thread_name_prefix="convscope-live")
        # spawn, not fork: the server's process has threads (uvicorn, Gradio) that a fork would copy half-way.
        context = multiprocessing.get_context("spawn")
        return ProcessPoolExecutor(self.workers, mp_context=context, initializer=_start_worker,
                                   initargs=(self.weights, os.getpid()))

    def warm_up(self) -> None:
        """Starts every worker now (loading torch and the model takes seconds) rather than on the first drawing."""
        empty = json.dumps({"w": 280, "h": 280, "pen": 20, "seq": 0, "strokes": []})
        futures = [self._submit(self._pool, answer, empty, [], False, False) for _ in range(max(self.workers, 1))]
        for future in futures:
            future.result(timeout=300)
        self.ready.set()

    def warm_up_in_background(self) -> None:
        def run() -> None:
            try:
                self.warm_up()
            except Exception:  # the first drawings will start the workers instead (and log what fails)
                log.exception("the live workers could not be started ahead of time")

        threading.Thread(target=run, name="convscope-warm-up", daemon=True).start()

    def worker_pids(self) -> list[int]:
        processes = getattr(self._pool, "_processes", None) or {}
        return sorted(processes)

    def _submit(self, pool: Executor, work: Callable[..., Any], *args: Any) -> Future:
        """``work(classifier, *args)`` on ``pool``: in a worker process with its model, or (workers=0) in a thread
        with this process's."""
        if self.workers == 0:
            return pool.submit(work, self.clf, *args)
        return pool.submit(_in_worker, work, *args)

    def _replace(self, broken: Executor) -> None:
        with self._lock:
            if self._pool is not broken:
                return  # another request already replaced it
            self.replaced += 1
            log.error("a live worker process died; starting a new pool of %d (replacement %d)", self.workers,
                      self.replaced)
            self._pool = self._new_pool()
        broken.shutdown(wait=False, cancel_futures=True)

    def file_work(self, function: str, path: str) -> Any:
        """Runs the work on an uploaded file (see :func:`_file_work`) in a worker and waits for it; called from
        Gradio's handler threads, so the web server's process stays free for the class's requests."""
        for attempt in range(3):
            pool = self._pool
            try:
                return self._submit(pool, _file_work, function, path).result()
            except BrokenProcessPool:
                self._replace(pool)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def compute(self, work: Callable[..., Any], *args: Any) -> Any:
        """``work(classifier, *args)`` in a worker (``work`` a module-level function, so it can be sent there);
        :data:`OVER_CAPACITY` at once when more requests wait than the workers can soon serve."""
        if self.pending >= self.capacity:
            return OVER_CAPACITY
        self.pending += 1
        try:
            for attempt in range(3):
                pool = self._pool
                try:
                    result = await asyncio.wrap_future(self._submit(pool, work, *args))
                    self.served += 1
                    return result
                except BrokenProcessPool:
                    self._replace(pool)
                    if attempt == 2:
                        raise
            raise AssertionError("unreachable")
        finally:
            self.pending -= 1

    async def update(self, drawing_json: str, wanted: list[str] | None, want_input: bool,
                     compress: bool) -> bytes | None:
        """The answer's body, or None when over capacity (the caller says busy)."""
        body = await self.compute(answer, drawing_json, wanted, want_input, compress)
        return None if body is OVER_CAPACITY else body

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def default_workers() -> int:
    """One worker per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def add_live_routes(app: Any, service: LiveService) -> None:
    """Adds the live route and a health check to the web app that serves the page (Gradio's FastAPI app)."""
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    async def live(request: Request) -> Response:
        # Somewhat larger than a drawing may be is still read, so the pad gets the usual notice saying why; far
        # larger is refused unread.
        if int(request.headers.get("content-length") or 0) > 4 * MAX_JSON_CHARS:
            return JSONResponse({"error": "the drawing is too large"}, status_code=413)
        raw = await request.body()
        if len(raw) > 4 * MAX_JSON_CHARS:  # a body sent without its length
            return JSONResponse({"error": "the drawing is too large"}, status_code=413)
        try:
            message = json.loads(raw)
            if not isinstance(message, dict):
                raise ValueError("not an object")
        except (ValueError, RecursionError):
            message = {}  # parse_drawing explains what is wrong, as a notice
        views = message.get("views")
        wanted = [v for v in views if v in LIVE_VIEWS] if isinstance(views, list) else None
        compress = "gzip" in request.headers.get("accept-encoding", "")
        try:
            body = await service.update(raw.decode("utf-8", "replace"), wanted, message.get("input") is True,
                                        compress)
        except Exception:  # a pool that cannot be started again: logged, answered, never a hang
            log.exception("the live route could not compute an update")
            return JSONResponse({"error": "internal error (logged); please try again"}, status_code=500)
        if body is None:
            return JSONResponse(BUSY, status_code=503, headers={"Retry-After": "1"})
        headers = {"Cache-Control": "no-store"}
        if compress and body[:2] == b"\x1f\x8b":
            headers["Content-Encoding"] = "gzip"
        return Response(body, media_type="application/json", headers=headers)

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "ready": service.ready.is_set(), "workers": service.workers,
                             "pending": service.pending, "served": service.served,
                             "replaced": service.replaced})

    # First in the list: Gradio's own routes include catch-alls that must not see these paths.
    app.router.routes.insert(0, Route(HEALTH_ROUTE, health, methods=["GET"]))
    app.router.routes.insert(0, Route(LIVE_ROUTE, live, methods=["POST"]))
