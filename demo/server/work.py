"""The one way the app computes for a request: a bounded pool of worker processes, each with its own model.

Every piece of work a client can cause (a live update of the pad, an uploaded file, ``/predict``, a drawing sent to
the class room) runs here, never on the web server's event loop:

- **Admission.** At most ``WAITING_PER_WORKER`` jobs per worker wait or run; past that a job is refused at once
  (:class:`Busy`, HTTP 503 "The server is busy: try again in a moment."), never queued without end.
- **A time limit on every job.** A job running longer than its limit has its worker killed and replaced; the
  caller gets :class:`JobFailed`. Only that worker's own job is affected: pebble's pool replaces one worker at a
  time, so the other pupils' work in flight carries on.
- **One retry at most.** A job whose worker died (killed, out of memory, a crash in native code) runs once more in
  a fresh worker; if that worker dies too, the job fails.
- **A cap on replacements.** More than ``MAX_REPLACEMENTS_PER_MINUTE`` workers replaced within a minute means
  something keeps killing them (a hostile input, a failing machine): new jobs are refused with a clear message
  until the minute has passed, rather than spending the machine on starting workers.
- **Shared memory.** On Linux, workers are forked from a forkserver that has imported torch and the app's code
  once, so the pages of those imports are shared copy-on-write among the workers (bench/live_classroom.py reports
  the summed PSS). On Windows and macOS each worker is a fresh Python that imports them itself (see
  :func:`start_method`). Workers run at a lower priority than the web server where the system has ``os.nice``
  (Linux, macOS), so serving pages and health checks never waits behind the computing.

``workers=0`` computes in threads of this process instead (tests, and machines where extra processes are unwelcome);
there a job past its limit is abandoned (its thread runs on) rather than killed.

Process pools come from pebble (see requirements.txt): a pool whose tasks have timeouts and whose dead workers are
replaced one at a time is subtle to get right by hand, and the standard library's ``ProcessPoolExecutor`` breaks the
whole pool (every job in flight) when one worker dies.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from pebble import ProcessExpired, ProcessPool

from demo.texts import Later, current_language, plain, use_language

log = logging.getLogger("convscope")

# Jobs waiting or running per worker before new ones are refused: each pupil's page has at most one update in flight,
# so a class of 120 on 2 cores fits (at 400 updates/s, the last waits about 0.3 s).
WAITING_PER_WORKER = 64
JOB_TIMEOUT_S = 10.0  # the longest a job may run; the largest drawing or upload takes well under a second
MAX_REPLACEMENTS_PER_MINUTE = 10
WORKER_NICENESS = 5  # workers yield the CPU to the web server's process (pages, health checks, the event loop)
# Imported once by the forkserver, so every worker forked from it shares these pages instead of importing its own.
# (With spawn, see start_method, there is no forkserver and each worker imports what it needs.)
PRELOAD = ["torch", "numpy", "demo.core.classifier", "demo.views.live", "demo.server.jobs", "demo.server.work"]

_classifier: Any = None  # in a worker process: its own copy of the model


class Busy(Exception):
    """A job refused before it ran: ``message`` is for the user, ``retry_after`` in seconds."""

    def __init__(self, message: str, retry_after: float = 1.0) -> None:
        super().__init__(str(message))
        self.message = str(message)  # made now, in the language of the request it answers
        self.retry_after = retry_after


class JobFailed(Exception):
    """A job that ran past its time limit, or whose workers died: ``message`` is for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(str(message))
        self.message = str(message)  # made now, in the language of the request it answers


# Made when used, in the language of the request they answer (str() them for JSON).
BUSY_MESSAGE = Later(lambda: plain("server.work.busy"))
RECOVERING_MESSAGE = Later(lambda: plain("server.work.recovering"))
TIMED_OUT_MESSAGE = Later(lambda: plain("server.work.timed_out"))
WORKER_LOST_MESSAGE = Later(lambda: plain("server.work.worker_lost"))


# POSIX probes a process with signal 0 (os.kill(pid, 0) sends nothing). Windows has no such probe: there os.kill
# ends the process it names (TerminateProcess), so a worker must never call it on the server.
SIGNAL_ZERO_PROBES = os.name == "posix"


def start_method() -> str:
    """How worker processes start. ``forkserver`` on Linux: the server's process has threads (uvicorn, Gradio) that
    a plain fork would copy half-way, and a forkserver shares the preloaded imports among the workers. ``spawn``
    where there is no forkserver (Windows: ``get_all_start_methods()`` lists only ``spawn``) and on macOS, where
    forking a process that has loaded Apple's system libraries (the forkserver, once it has imported torch) can
    crash the child, which is why spawn is Python's default there. A spawned worker is a fresh Python that imports
    torch and the app itself: it starts slower and shares no memory with the others."""
    if "forkserver" in multiprocessing.get_all_start_methods() and sys.platform != "darwin":
        return "forkserver"
    return "spawn"


def _watch_server(server: int) -> None:
    """A worker ends when the server process ``server`` is gone, however it went (no orphaned workers). On POSIX it
    probes that id once a second: with a forkserver the workers are the forkserver's children, so their parent's
    id says nothing about the server. On Windows (spawn only) the server is the worker's parent, and the worker
    waits on the parent's process handle instead."""
    if SIGNAL_ZERO_PROBES:
        def watch() -> None:
            while True:
                try:
                    os.kill(server, 0)
                except ProcessLookupError:
                    os._exit(0)
                except PermissionError:  # the id now belongs to another user's process: the server is gone
                    os._exit(0)
                time.sleep(1.0)
    else:
        parent = multiprocessing.parent_process()
        if parent is None or parent.pid != server:
            return  # not started by the server's pool (no parent to wait on): nothing to watch

        def watch() -> None:
            parent.join()  # returns once the parent process has ended
            os._exit(0)

    threading.Thread(target=watch, name="convscope-server-watch", daemon=True).start()


def _start_worker(weights: str, server: int) -> None:
    """Runs once in each worker process: its own model, one torch thread (the workers are the parallelism)."""
    import torch

    from demo.core.classifier import load_classifier

    global _classifier
    _watch_server(server)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the server, which stops the workers
    if hasattr(os, "nice"):  # not on Windows: there the workers run at the server's priority
        os.nice(WORKER_NICENESS)
    torch.set_num_threads(1)
    _classifier = load_classifier(weights)
    # Channels-last convolutions run this small network's forward pass about a third faster on a CPU; the results
    # differ from the default layout's by float rounding only (about 1e-6).
    _classifier.model.to(memory_format=torch.channels_last)


def _in_language(language: str, work: Callable[..., Any], *args: Any) -> Any:
    """``work(*args)`` in ``language``, the language of the request it answers: a context variable crosses neither
    into a worker process nor into a thread of the in-process pool by itself."""
    with use_language(language):
        return work(*args)


def _in_worker(work: Callable[..., Any], language: str, *args: Any) -> Any:
    """Runs ``work(classifier, *args)`` in a worker process, with that worker's own model, in ``language``."""
    return _in_language(language, work, _classifier, *args)


def _no_work(clf: Any) -> None:
    """A job that only proves a worker is up (warming up)."""


def _awaitable(future: Future) -> asyncio.Future:
    """``future`` as an asyncio future of the running loop. Unlike ``asyncio.wrap_future``, cancelling the awaiting
    task (a client that went away) does not cancel the job: cancelling a running pebble job kills its worker, which
    would let any client kill workers by hanging up."""
    loop = asyncio.get_running_loop()
    result = loop.create_future()

    def copy(done: Future) -> None:
        if result.cancelled():
            return
        error = done.exception() if not done.cancelled() else asyncio.CancelledError()
        if error is not None:
            result.set_exception(error)
        else:
            result.set_result(done.result())

    future.add_done_callback(lambda done: loop.call_soon_threadsafe(copy, done))
    return result


class WorkPool:
    """The app's workers (see the module's docstring), with counts for the health check."""

    def __init__(self, weights: str | Path, workers: int, clf: Any = None, *,
                 timeout_s: float = JOB_TIMEOUT_S) -> None:
        """``workers`` processes, each loading ``weights``; ``workers=0`` computes in threads of this process with
        ``clf``. ``timeout_s``: every job's time limit."""
        self.weights = str(weights)
        self.workers = workers
        self.clf = clf
        self.timeout_s = timeout_s
        self.capacity = WAITING_PER_WORKER * max(workers, 1)
        self.pending = 0
        self.served = 0
        self.replaced = 0  # workers replaced because they died or ran past the time limit
        self.timed_out = 0
        self.ready = threading.Event()  # set once every worker has loaded the model
        self._replacements: deque[float] = deque()  # when workers were replaced, within the last minute
        self._lock = threading.Lock()
        self._pool = self._new_pool()

    def _new_pool(self) -> Any:
        if self.workers == 0:
            return ThreadPoolExecutor(max_workers=4, thread_name_prefix="convscope-work")
        # A forkserver where it is safe, else spawn; never a plain fork (see start_method).
        method = start_method()
        context = multiprocessing.get_context(method)
        if method == "forkserver":
            context.set_forkserver_preload(PRELOAD)
        return ProcessPool(self.workers, initializer=_start_worker, initargs=(self.weights, os.getpid()),
                           context=context)

    def _schedule(self, work: Callable[..., Any], args: tuple) -> Future:
        pool = self._pool
        language = current_language()
        if self.workers == 0:
            return pool.submit(_in_language, language, work, self.clf, *args)
        try:
            return pool.schedule(_in_worker, (work, language, *args), timeout=self.timeout_s)
        except RuntimeError:  # the pool broke meanwhile (see _replace_pool): this job goes to a new one
            self._replace_pool(pool)
            return self._pool.schedule(_in_worker, (work, language, *args), timeout=self.timeout_s)

    def _replace_pool(self, broken: Any) -> None:
        """A new pool in place of ``broken``. pebble replaces a dead worker by itself, but gives up on the whole pool
        ("All workers expired") when a worker dies while no job at all is running (killed while the class is
        quiet); the jobs of a broken pool fail with BrokenProcessPool and are run once more in the new one."""
        with self._lock:
            if self._pool is not broken:
                return  # another job replaced it already
            self._pool = self._new_pool()
        log.error("a worker process left its pool broken; it is replaced (replacement %d)", self._replacement())
        threading.Thread(target=lambda: (broken.stop(), broken.join(timeout=10)), name="convscope-old-pool",
                         daemon=True).start()

    # ------------------------------------------------------------------------------------------- bookkeeping
    def _admit(self) -> None:
        with self._lock:
            now = time.monotonic()
            while self._replacements and now - self._replacements[0] > 60:
                self._replacements.popleft()
            if len(self._replacements) >= MAX_REPLACEMENTS_PER_MINUTE:
                raise Busy(RECOVERING_MESSAGE, 60 - (now - self._replacements[0]))
            if self.pending >= self.capacity:
                raise Busy(BUSY_MESSAGE)
            self.pending += 1

    def _replacement(self) -> int:
        """Counts a worker replaced (the caller logs why); returns how many have been."""
        with self._lock:
            self.replaced += 1
            self._replacements.append(time.monotonic())
            return self.replaced

    def _failure(self, error: BaseException, attempt: int, pool: Any) -> bool:
        """Counts a failed attempt on ``pool``; True when the job is worth one more try."""
        if isinstance(error, TimeoutError):
            self.timed_out += 1
            if self.workers:  # a thread (workers=0) cannot be stopped: its job is abandoned, nothing replaced
                log.error("a worker process ran a job past its %g s limit; it is replaced (replacement %d)",
                          self.timeout_s, self._replacement())
            raise JobFailed(TIMED_OUT_MESSAGE) from None
        if isinstance(error, ProcessExpired | BrokenProcessPool):
            if isinstance(error, ProcessExpired):
                log.error("a worker process died (%s); it is replaced (replacement %d)", error, self._replacement())
            else:
                self._replace_pool(pool)
            if attempt == 0:
                return True
            raise JobFailed(WORKER_LOST_MESSAGE) from None
        raise error

    # ------------------------------------------------------------------------------------------- running jobs
    async def run(self, work: Callable[..., Any], *args: Any) -> Any:
        """``work(classifier, *args)`` in a worker (``work`` a module-level function, so it can be sent there).
        Raises :class:`Busy` at once when the workers are full, :class:`JobFailed` past the time limit or when
        workers die; an exception ``work`` raises is raised here."""
        self._admit()
        try:
            for attempt in (0, 1):
                pool = self._pool
                try:
                    future = _awaitable(self._schedule(work, args))
                    if self.workers == 0:
                        result = await asyncio.wait_for(future, self.timeout_s)
                    else:
                        result = await future
                    self.served += 1
                    return result
                except (TimeoutError, ProcessExpired, BrokenProcessPool) as error:
                    if not self._failure(error, attempt, pool):
                        break
            raise AssertionError("unreachable")
        finally:
            with self._lock:
                self.pending -= 1

    def run_sync(self, work: Callable[..., Any], *args: Any) -> Any:
        """:meth:`run` for callers on a thread of their own (Gradio's event handlers)."""
        self._admit()
        try:
            for attempt in (0, 1):
                pool = self._pool
                try:
                    result = self._schedule(work, args).result(
                        timeout=self.timeout_s if self.workers == 0 else None)
                    self.served += 1
                    return result
                except (TimeoutError, ProcessExpired, BrokenProcessPool) as error:
                    if not self._failure(error, attempt, pool):
                        break
            raise AssertionError("unreachable")
        finally:
            with self._lock:
                self.pending -= 1

    # ------------------------------------------------------------------------------------------- life cycle
    def warm_up(self) -> None:
        """Starts every worker now (loading torch and the model takes seconds) rather than on the first drawing."""
        futures = [self._schedule(_no_work, ()) for _ in range(max(self.workers, 1))]
        for future in futures:
            future.result(timeout=300)
        self.ready.set()

    def warm_up_in_background(self) -> None:
        def run() -> None:
            try:
                self.warm_up()
            except Exception:  # the first drawings will start the workers instead (and log what fails)
                log.exception("the workers could not be started ahead of time")

        threading.Thread(target=run, name="convscope-warm-up", daemon=True).start()

    def worker_pids(self) -> list[int]:
        """The worker processes' ids (none with ``workers=0``)."""
        if self.workers == 0:
            return []
        return sorted(p.pid for p in multiprocessing.active_children()
                      if p.name == "pebble_pool_worker" and p.pid is not None)

    def health(self) -> dict[str, Any]:
        return {"ready": self.ready.is_set(), "workers": self.workers, "pending": self.pending,
                "served": self.served, "replaced": self.replaced, "timed_out": self.timed_out}

    def close(self) -> None:
        if self.workers == 0:
            self._pool.shutdown(wait=False, cancel_futures=True)
        else:
            self._pool.stop()
            self._pool.join(timeout=5)


def default_workers() -> int:
    """One worker per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)
