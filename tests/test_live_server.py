"""The one work path (demo/server/work.py) and the live pad's job (demo/server/jobs.py): answers, admission control,
time limits, retries, workers dying, the byte budget."""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
import pytest

import demo.server.work
from demo.core.paths import WEIGHTS_DIR
from demo.page.pad import pad_examples
from demo.server.jobs import live_update
from demo.server.work import BUSY_MESSAGE, RECOVERING_MESSAGE, TIMED_OUT_MESSAGE, Busy, JobFailed, WorkPool
from tests.harness import process_tree, run_async, running_app, wait_for_live_workers

EXAMPLES = pad_examples()[0]
WEIGHTS = WEIGHTS_DIR / "cnn.safetensors"


def drawing(digit: int, fraction: float = 1.0, seq: int = 1) -> str:
    """An example digit as the pad holds it once ``fraction`` of its points are drawn."""
    strokes = next(e for e in EXAMPLES if e["digit"] == digit)["strokes"]
    points = max(1, round(fraction * sum(len(s) for s in strokes)))
    partial, count = [], 0
    for stroke in strokes:
        if count >= points:
            break
        partial.append(stroke[:points - count])
        count += len(partial[-1])
    return json.dumps({"w": 280, "h": 280, "pen": 20, "seq": seq, "strokes": partial})


def answer(clf, text: str, views: list[str] | None, want_input: bool, compress: bool) -> bytes:
    """The live route's body for the pad's drawing ``text`` asking for ``views`` (None: all)."""
    message = json.loads(text)
    if views is not None:
        message["views"] = views
    if want_input:
        message["input"] = True
    return live_update(clf, json.dumps(message).encode(), compress)


def cmdline(pid: int) -> str:
    try:
        return open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def parent_of(pid: int) -> int:
    try:
        return int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return -1


def decoded(body: bytes) -> dict:
    return json.loads(gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body)


def sleep_job(clf, seconds: float) -> str:
    """A job that takes ``seconds`` (sent to a worker by reference, so it lives at module level)."""
    time.sleep(seconds)
    return "slept"


def dying_job(clf) -> None:
    """A job that kills its worker (as a crash in native code would)."""
    os._exit(9)


def pid_job(clf) -> int:
    return os.getpid()


def test_an_answer_carries_the_views_asked_for_and_the_input_when_asked(clf):
    live = decoded(answer(clf, drawing(5), ["probabilities"], False, True))
    settled = decoded(answer(clf, drawing(5), None, True, True))
    assert set(live["html"]) == {"prediction", "probabilities", "notice"} and "input" not in live
    assert set(settled["html"]) >= {"model_input", "feature_maps", "pooled_maps"} and settled["input"]
    assert 'data-label="5"' in live["html"]["prediction"]
    assert answer(clf, drawing(5), None, False, False)[:1] == b"{"  # plain JSON when gzip is not accepted


def test_the_average_update_of_a_drawing_stays_within_the_byte_budget(clf):
    """What a drawing costs on the wire, as the page sends it: six updates while the pen moves (the views a 1280×720
    screen shows: the answer, the probabilities and the network overview, here in every one although the page asks
    for it at most every theme.OVERVIEW_INTERVAL_MS), then one settled update with every view. The classroom budget
    is 16 KiB per update on average."""
    sizes = []
    for example in EXAMPLES:
        digit = example["digit"]
        for step in range(1, 7):
            sizes.append(len(answer(clf, drawing(digit, step / 6), ["probabilities", "overview"], False, True)))
        sizes.append(len(answer(clf, drawing(digit), None, True, True)))
    assert np.mean(sizes) <= 16 * 1024, np.mean(sizes) / 1024
    assert all('id="overview"' in decoded(answer(clf, drawing(d), ["overview"], False, True))["html"]["overview"]
               for d in (0, 7))


def update(pool: WorkPool, text: str):
    """The live route's work for one drawing, through the pool (a coroutine)."""
    return pool.run(live_update, text.encode(), False)


def test_over_capacity_is_refused_at_once_not_queued(clf):
    gate = threading.Event()

    class Slow:
        model = clf.model

        def predict(self, *args, **kwargs):
            gate.wait(10)
            return clf.predict(*args, **kwargs)

    pool = WorkPool(WEIGHTS, workers=0, clf=Slow())
    pool.capacity = 2

    async def burst() -> list:
        tasks = [asyncio.create_task(update(pool, drawing(3))) for _ in range(2)]
        await asyncio.sleep(0.2)  # both are now running (and blocked)
        start = time.perf_counter()
        try:
            await update(pool, drawing(3))
            refused = None
        except Busy as error:
            refused = error
        waited = time.perf_counter() - start
        gate.set()
        return [refused, waited, *await asyncio.gather(*tasks)]

    try:
        refused, waited, *done = run_async(burst())
    finally:
        pool.close()
    assert isinstance(refused, Busy) and refused.message == BUSY_MESSAGE and waited < 1.0
    assert all(b'data-label=\\"3\\"' in body for body in done)
    assert pool.pending == 0 and pool.served == 2


@pytest.mark.slow
def test_a_dead_worker_is_replaced_alone_and_its_job_runs_once_more(caplog):
    """One worker killed while both are busy: its job runs again in a fresh worker, the other worker's job is not
    touched (it keeps its process), and nothing is lost."""
    pool = WorkPool(WEIGHTS, workers=2)
    try:
        pool.warm_up()
        first, second = pool.worker_pids()

        async def during_a_death() -> list:
            busy = [asyncio.create_task(pool.run(sleep_job, 1.0)) for _ in range(2)]  # one on each worker
            drawings = [asyncio.create_task(update(pool, drawing(d % 10))) for d in range(10)]
            await asyncio.sleep(0.4)
            os.kill(first, signal.SIGKILL)
            return [*await asyncio.gather(*busy), *await asyncio.gather(*drawings)]

        slept_a, slept_b, *bodies = run_async(during_a_death())
        assert slept_a == slept_b == "slept"
        assert [decoded(b)["html"]["prediction"].count('data-label="') for b in bodies] == [1] * 10
        assert pool.replaced == 1 and first not in pool.worker_pids() and second in pool.worker_pids()
        assert any("died" in r.getMessage() for r in caplog.records)
    finally:
        pool.close()


@pytest.mark.slow
def test_a_worker_killed_while_the_pool_is_idle_leaves_it_working():
    """pebble gives up on a whole pool when a worker dies while no job runs; the app's pool then starts a new one,
    and the next jobs are answered."""
    pool = WorkPool(WEIGHTS, workers=2)
    try:
        pool.warm_up()
        os.kill(pool.worker_pids()[0], signal.SIGKILL)
        time.sleep(1.0)  # pebble notices the death
        assert [run_async(update(pool, drawing(d))).count(b'data-label=') for d in (1, 2, 3)] == [1, 1, 1]
        assert pool.replaced >= 1
    finally:
        pool.close()


@pytest.mark.slow
def test_a_job_past_its_time_limit_is_stopped_and_the_others_go_on():
    pool = WorkPool(WEIGHTS, workers=2, timeout_s=1.0)
    try:
        pool.warm_up()

        async def both() -> list:
            stuck = asyncio.create_task(pool.run(sleep_job, 60.0))
            await asyncio.sleep(0.1)
            quick = [await pool.run(sleep_job, 0.01) for _ in range(5)]  # the other worker serves meanwhile
            start = time.perf_counter()
            try:
                await stuck
            except JobFailed as error:
                return [quick, error.message, time.perf_counter() - start]
            return [quick, None, 0]

        quick, message, _ = run_async(both())
        assert quick == ["slept"] * 5 and message == TIMED_OUT_MESSAGE
        assert pool.timed_out == 1 and pool.replaced == 1
        assert run_async(pool.run(sleep_job, 0.01)) == "slept"  # a fresh worker took the stopped one's place
    finally:
        pool.close()


@pytest.mark.slow
def test_a_job_that_kills_its_worker_is_retried_once_then_refused_and_replacements_are_capped(monkeypatch):
    monkeypatch.setattr(demo.server.work, "MAX_REPLACEMENTS_PER_MINUTE", 2)
    pool = WorkPool(WEIGHTS, workers=1)
    try:
        pool.warm_up()
        with pytest.raises(JobFailed):
            run_async(pool.run(dying_job))
        assert pool.replaced == 2  # the job and its one retry
        with pytest.raises(Busy) as refused:  # two replacements within the minute: no more work for now
            run_async(pool.run(pid_job))
        assert refused.value.message == RECOVERING_MESSAGE and 0 < refused.value.retry_after <= 60
    finally:
        pool.close()


@pytest.mark.slow
def test_a_client_that_hangs_up_does_not_kill_the_worker():
    """Cancelling a request's task (its client went away) leaves the job running: cancelling a running job would
    kill its worker, so any client could kill workers by hanging up."""
    pool = WorkPool(WEIGHTS, workers=1)
    try:
        pool.warm_up()
        (worker,) = pool.worker_pids()

        async def hang_up() -> None:
            task = asyncio.create_task(pool.run(sleep_job, 0.5))
            await asyncio.sleep(0.1)
            task.cancel()
            await asyncio.sleep(0.8)

        run_async(hang_up())
        assert pool.worker_pids() == [worker] and pool.replaced == 0
        assert run_async(pool.run(pid_job)) == worker
    finally:
        pool.close()


def workers_of(server_pid: int) -> list[int]:
    """A running app's worker processes: the children of its forkserver."""
    tree = process_tree(server_pid)
    forkservers = [p for p in tree if parent_of(p) == server_pid and "forkserver" in cmdline(p)]
    return [p for p in tree if parent_of(p) in forkservers]


@pytest.mark.server
@pytest.mark.slow
def test_killing_a_worker_under_a_class_costs_no_pupil_an_answer():
    """A running app with two workers: one is killed while twelve pupils draw; every update is answered."""
    with running_app(["--workers", "2"]) as url:
        wait_for_live_workers(url)
        workers = workers_of(url.pid)
        assert len(workers) == 2
        killed = threading.Event()
        with httpx.Client(base_url=url, timeout=120) as http:
            def pupil(n: int) -> list[int]:
                """Draws until a worker has been killed, then eight updates more."""
                codes: list[int] = []
                after = 0
                while after < 8:
                    after += killed.is_set()
                    i = len(codes)
                    r = http.post("/convscope/live", content=drawing(n % 10, (i % 8 + 1) / 8, seq=i).encode())
                    codes.append(r.status_code if 'data-label' in r.text or r.status_code != 200 else 0)
                return codes

            with ThreadPoolExecutor(12) as pool:
                futures = [pool.submit(pupil, n) for n in range(12)]
                deadline = time.monotonic() + 60
                while http.get("/convscope/health").json()["served"] < 48:  # the class is drawing
                    assert time.monotonic() < deadline and not any(f.done() for f in futures), "pupils stalled"
                    time.sleep(0.05)
                os.kill(max(workers), signal.SIGKILL)
                killed.set()
                codes = [c for f in futures for c in f.result()]
            health = http.get("/convscope/health").json()
        log = url.log.read_text()
    assert codes and set(codes) == {200}, codes
    assert health["replaced"] >= 1 and "died" in log


@pytest.mark.slow
def test_a_worker_ends_when_its_server_is_gone_even_one_gone_before_the_worker_started():
    """A worker watches the server's id it was given, not whoever is its parent (the forkserver): a server that
    exits at once (its port taken) must not leave workers behind that were still loading torch."""
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    watch = ("import sys, time; from demo.server.work import _watch_server; _watch_server({}); "
             "time.sleep(60)")
    orphan = subprocess.Popen([sys.executable, "-c", watch.format(gone.pid)])
    kept = subprocess.Popen([sys.executable, "-c", watch.format(os.getpid())])
    try:
        assert orphan.wait(timeout=30) == 0  # its server is gone: it ends by itself
        time.sleep(2)
        assert kept.poll() is None  # its server (this process) is alive: it keeps running
    finally:
        orphan.kill()
        kept.kill()
