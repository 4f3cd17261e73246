"""The live pad's route (demo/server/live_route.py): answers, admission control, a worker dying, the byte budget."""

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

from demo.core.paths import WEIGHTS_DIR
from demo.page.pad import pad_examples
from demo.server.live_route import LiveService, answer
from tests.harness import process_tree, run_async, running_app, wait_for_live_workers

EXAMPLES = pad_examples()[0]


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


def cmdline(pid: int) -> str:
    try:
        return open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def decoded(body: bytes) -> dict:
    return json.loads(gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body)


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


def test_over_capacity_is_refused_at_once_not_queued(clf, monkeypatch):
    gate = threading.Event()

    class Slow:
        model = clf.model

        def predict(self, *args, **kwargs):
            gate.wait(10)
            return clf.predict(*args, **kwargs)

    service = LiveService(WEIGHTS_DIR / "cnn.safetensors", workers=0, clf=Slow())
    service.capacity = 2

    async def burst() -> list:
        tasks = [asyncio.create_task(service.update(drawing(3), None, False, False)) for _ in range(2)]
        await asyncio.sleep(0.2)  # both are now running (and blocked)
        start = time.perf_counter()
        refused = await service.update(drawing(3), None, False, False)
        waited = time.perf_counter() - start
        gate.set()
        return [refused, waited, *await asyncio.gather(*tasks)]

    try:
        refused, waited, *done = run_async(burst())
    finally:
        service.close()
    assert refused is None and waited < 1.0
    assert all(b'data-label=\\"3\\"' in body for body in done)
    assert service.pending == 0 and service.served == 2


@pytest.mark.slow
def test_a_dead_worker_is_replaced_and_its_requests_run_again(caplog):
    service = LiveService(WEIGHTS_DIR / "cnn.safetensors", workers=1)
    try:
        service.warm_up()
        (pid,) = service.worker_pids()

        async def during_a_death() -> list:
            tasks = [asyncio.create_task(service.update(drawing(d), None, False, False)) for d in range(10)]
            await asyncio.sleep(0)  # every task has handed its drawing to the pool: the worker has ten to compute
            os.kill(pid, signal.SIGKILL)  # long before it can finish them (each takes milliseconds)
            return await asyncio.gather(*tasks)

        bodies = run_async(during_a_death())
        assert [decoded(b)["html"]["prediction"].count('data-label="') for b in bodies] == [1] * 10
        assert service.replaced == 1 and service.worker_pids() and pid not in service.worker_pids()
        assert any("live worker process died" in r.getMessage() for r in caplog.records)
    finally:
        service.close()


@pytest.mark.server
@pytest.mark.slow
def test_killing_a_worker_under_a_class_costs_no_pupil_an_answer():
    """A running app with two workers: one is killed while twelve pupils draw; every update is answered."""
    with running_app(["--workers", "2"]) as url:
        wait_for_live_workers(url)
        workers = [p for p in process_tree(url.pid)
                   if "spawn_main" in cmdline(p) and "resource_tracker" not in cmdline(p)]
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
    assert health["replaced"] >= 1 and "live worker process died" in log


@pytest.mark.slow
def test_a_worker_ends_when_its_server_is_gone_even_one_gone_before_the_worker_started():
    """A worker watches the server's id it was given, not whoever is its parent when it gets going: a server that
    exits at once (its port taken) must not leave workers behind that were still loading torch."""
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    watch = ("import sys, time; from demo.server.live_route import _exit_with_parent; _exit_with_parent({}); "
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
