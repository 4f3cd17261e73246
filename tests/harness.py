"""Shared by the browser tests and the benchmarks: start the app as a real server, drive real Chromium.

Chromium is Debian's (``which chromium``), driven by the ``playwright`` package; ``playwright install`` cannot
download browsers here, so the executable path is always given.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Coroutine, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parent.parent
T = TypeVar("T")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-quic", "--no-first-run", "--disable-sync"]

# Installed into every page: timestamps of pen-up and of every #prediction update, for latency measurements.
OBSERVER_JS = (Path(__file__).resolve().with_name("observer.js")).read_text(encoding="utf-8")


# Classroom mode with a fixed teacher token, so a test or a benchmark can open the teacher's page.
CLASSROOM_TOKEN = "teacher-token-for-tests"
CLASSROOM_ARGS = ("--classroom",)  # the token comes from the environment (running_app sets it), never from argv


def teacher_url(url: str, token: str = CLASSROOM_TOKEN) -> str:
    """The teacher's (projector's) page of an app started with :data:`CLASSROOM_ARGS`; ``url`` is the pupils'."""
    return f"{url.rstrip('/')}/#teacher={token}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


class AppUrl(str):
    """The URL of a running app (a plain ``str``), plus where its uploads and log are, its process id and how long
    it took to answer."""

    uploads: Path
    log: Path
    pid: int
    started_s: float


@contextlib.contextmanager
def running_app(extra_args: Sequence[str] = (), timeout: float = 120.0, port: int | None = None) -> Iterator[AppUrl]:
    """Starts ``python -m demo`` on ``port`` (default: a free one); yields its URL (an :class:`AppUrl`) once the page
    and the app's own routes answer, and always stops it (terminate, then kill) and removes its files, on errors and
    Ctrl-C too.

    Uploads go to a throwaway ``<temp>/uploads`` (GRADIO_TEMP_DIR) and the server's output to ``<temp>/server.log``,
    beside the upload folder, never inside what Gradio serves. The wait is generous: the CPU may be shared.
    """
    port = port or free_port()
    temp = tempfile.mkdtemp(prefix="convscope-gradio-")
    env = {**os.environ, "GRADIO_TEMP_DIR": str(Path(temp) / "uploads"), "GRADIO_ANALYTICS_ENABLED": "False",
           "PYTHONUNBUFFERED": "1", "CONVSCOPE_TEACHER_TOKEN": CLASSROOM_TOKEN}
    log = open(Path(temp) / "server.log", "w+")
    proc = subprocess.Popen([sys.executable, "-m", "demo", "--port", str(port), *extra_args], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    url = AppUrl(f"http://127.0.0.1:{port}")
    url.uploads, url.log, url.pid = Path(temp) / "uploads", Path(temp) / "server.log", proc.pid
    try:
        start = time.monotonic()
        while True:
            if proc.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"the app exited with {proc.returncode}:\n{log.read()[-3000:]}")
            try:  # the app's own routes are added once the page is served; health comes last
                with urllib.request.urlopen(url + "/convscope/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() - start > timeout:
                raise RuntimeError(f"the app did not answer on {url} within {timeout:.0f} s")
            time.sleep(0.3)
        url.started_s = time.monotonic() - start
        yield url
    finally:
        stop_process(proc)
        log.close()
        shutil.rmtree(temp, ignore_errors=True)


def measured_on_app(extra_args: Sequence[str], measure: Callable[[str, Callable[[], list[int]]], T]) -> T:
    """Starts ``python -m demo`` with ``extra_args`` (:func:`running_app`), waits until its live workers have loaded
    the model, and returns ``measure(url, pids_of)``: ``pids_of()`` is the app's process tree, read anew at each call
    (workers may be replaced). The benchmarks' way to measure an app of their own; it is always stopped."""
    with running_app(extra_args) as url:
        wait_for_live_workers(url)
        return measure(url, lambda: process_tree(url.pid))


def stop_process(proc: subprocess.Popen, timeout: float = 10.0) -> None:
    """Asks ``proc`` to stop (SIGTERM: the app closes its workers) and kills it if it has not within ``timeout`` s."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout)


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(coroutine)`` in a thread of its own: the test session's Chromium (playwright's sync API) keeps
    an event loop running in the main thread, where asyncio.run refuses to start a second one."""
    with ThreadPoolExecutor(1, thread_name_prefix="run-async") as pool:
        return pool.submit(asyncio.run, coroutine).result()


def percentile(ordered: list[float], q: float) -> float:
    """Nearest-rank percentile of a sorted list (no interpolation: every value reported was measured)."""
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def process_tree(pid: int) -> list[int]:
    """``pid`` and every process below it (the app's live workers), from /proc (Linux)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue  # ended while we looked
            children.setdefault(parent, []).append(int(entry.name))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(children.get(current, []))
    return tree


def cpu_seconds(pids: Sequence[int]) -> float:
    """User + system CPU seconds of these processes (those still running)."""
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def rss_mb(pids: Sequence[int]) -> float:
    """Resident memory of these processes together, in MB."""
    total = 0.0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
        except OSError:
            continue
    return total


def pss_mb(pids: Sequence[int]) -> float:
    """Proportional set size of these processes together, in MB (``Pss:`` of /proc/PID/smaps_rollup, Linux 4.14+):
    each shared page counted once in all, split between the processes that map it, unlike :func:`rss_mb`, which
    counts a shared library once per process. Processes that have ended (or cannot be read) are skipped."""
    total = 0.0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1]) / 1024
                    break
        except (OSError, ValueError, IndexError):
            continue
    return total


class MemorySampler:
    """Samples the summed PSS and RSS of ``pids_of()`` (called anew each time: workers may be replaced) every
    ``interval`` s in a background thread while the ``with`` block runs; keeps the peaks and the largest number
    of processes seen. A sample is also taken on entry and on exit, so a short block has peaks too."""

    def __init__(self, pids_of: Callable[[], Sequence[int]], interval: float = 0.5) -> None:
        self.pids_of, self.interval = pids_of, interval
        self.peak_pss_mb = self.peak_rss_mb = 0.0
        self.processes = self.samples = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def sample(self) -> None:
        pids = self.pids_of()
        self.peak_pss_mb = max(self.peak_pss_mb, pss_mb(pids))
        self.peak_rss_mb = max(self.peak_rss_mb, rss_mb(pids))
        self.processes = max(self.processes, len(pids))
        self.samples += 1

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self) -> MemorySampler:
        self.sample()
        self._thread = threading.Thread(target=self._run, name="memory-sampler", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.sample()


def wait_for_live_workers(url: str, timeout: float = 300.0) -> None:
    """Waits until the app's live workers have loaded the model (its health route says ready)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/convscope/health", timeout=5) as response:
                if json.loads(response.read()).get("ready"):
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"the live workers of {url} were not ready within {timeout:.0f} s")


class HttpError(Exception):
    """A request that got no usable answer (connection closed, malformed reply, timeout)."""


class KeepAliveConnection:
    """A bare HTTP/1.1 client on one keep-alive connection (asyncio streams), for load generators.

    A simulated class runs on the same two cores as the server it measures, so the generator must cost little: a
    general client (httpx) spends several milliseconds of CPU per request, this one a fraction of one. It speaks
    only what the benchmarks need: POST and GET with Content-Length bodies, answers with Content-Length.
    """

    def __init__(self, url: str) -> None:
        rest = url.split("://", 1)[1]
        self.host, _, port = rest.partition(":")
        self.port = int(port.split("/", 1)[0] or 80)
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None,
                      timeout: float = 30.0) -> tuple[int, dict[str, str], bytes]:
        """(status, headers in lower case, body as sent on the wire); reconnects once if the server closed."""
        for attempt in (1, 2):
            try:
                return await asyncio.wait_for(self._request(method, path, body, headers or {}), timeout)
            except (ConnectionError, asyncio.IncompleteReadError, HttpError):
                await self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def _request(self, method: str, path: str, body: bytes,
                       headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}", f"Content-Length: {len(body)}",
                 *(f"{k}: {v}" for k, v in headers.items())]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        await self.writer.drain()
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        parts = status_line.split(" ", 2)
        if len(parts) < 2 or not parts[1].isdigit():
            raise HttpError(f"malformed status line {status_line!r}")
        answer = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines if h)}
        if "content-length" not in answer:
            raise HttpError("an answer without Content-Length")
        content = await self.reader.readexactly(int(answer["content-length"]))
        if answer.get("connection", "").lower() == "close":
            await self.close()
        return int(parts[1]), answer, content

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except (ConnectionError, OSError):
                pass
        self.reader = self.writer = None


def log_problems(log: Path, limit: int = 5) -> list[str]:
    """The first few lines of a server log that look like trouble (tracebacks, errors, warnings)."""
    try:
        lines = log.read_text(errors="replace").splitlines()
    except OSError:
        return []
    return [line for line in lines if re.search(r"Traceback|Error|Exception|WARNING", line)][:limit]


@contextlib.contextmanager
def chromium() -> Iterator[object]:
    """A headless Debian Chromium under playwright (yields the Browser)."""
    from playwright.sync_api import sync_playwright

    path = chromium_path()
    if path is None:
        raise RuntimeError("chromium is not installed (apt-get install -y chromium)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def open_page(browser, url: str, width: int = 1400, height: int = 1000):
    """A page of the app in ``browser`` (a playwright Browser, or a BrowserContext: one user among several)."""
    if hasattr(browser, "new_context"):
        page = browser.new_page(viewport={"width": width, "height": height})
    else:
        page = browser.new_page()
        page.set_viewport_size({"width": width, "height": height})
    page.add_init_script(OBSERVER_JS)
    page.goto(url)
    page.wait_for_selector("#pad canvas", timeout=30_000)
    page.wait_for_function("() => document.querySelector('#prediction') !== null", timeout=30_000)
    return page


def draw_strokes(page, strokes: Sequence[Sequence[Sequence[float]]], step_ms: float = 8.0,
                 points_per_segment: int = 4) -> None:
    """Draws strokes given in 0-1 pad coordinates with the mouse, at roughly a person's speed."""
    page.locator("#pad canvas").scroll_into_view_if_needed()  # mouse coordinates are the viewport's
    box = page.locator("#pad canvas").bounding_box()
    x0, y0, w, h = box["x"], box["y"], box["width"], box["height"]
    for stroke in strokes:
        page.mouse.move(x0 + stroke[0][0] * w, y0 + stroke[0][1] * h)
        page.mouse.down()
        for (ax, ay), (bx, by) in itertools.pairwise(stroke):
            for k in range(1, points_per_segment + 1):
                t = k / points_per_segment
                page.mouse.move(x0 + (ax + (bx - ax) * t) * w, y0 + (ay + (by - ay) * t) * h)
                if step_ms:
                    page.wait_for_timeout(step_ms)
        page.mouse.up()


def touch_strokes(page, strokes: Sequence[Sequence[Sequence[float]]], step_ms: float = 8.0,
                  points_per_segment: int = 4) -> None:
    """Draws strokes given in 0-1 pad coordinates with a finger: real touch events through Chromium's DevTools
    protocol (the page gets pointer events of type "touch", as on a phone). The page's context needs has_touch."""
    page.locator("#pad canvas").scroll_into_view_if_needed()
    box = page.locator("#pad canvas").bounding_box()
    x0, y0, w, h = box["x"], box["y"], box["width"], box["height"]
    cdp = page.context.new_cdp_session(page)
    try:
        for stroke in strokes:
            def touch(kind: str, x: float, y: float) -> None:
                points = [] if kind == "touchEnd" else [{"x": x0 + x * w, "y": y0 + y * h, "id": 1}]
                cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

            touch("touchStart", *stroke[0])
            for (ax, ay), (bx, by) in itertools.pairwise(stroke):
                for k in range(1, points_per_segment + 1):
                    t = k / points_per_segment
                    touch("touchMove", ax + (bx - ax) * t, ay + (by - ay) * t)
                    if step_ms:
                        page.wait_for_timeout(step_ms)
            touch("touchEnd", 0, 0)
    finally:
        cdp.detach()


def reload_with_example(page, digit: int = 3) -> str | None:
    """Reloads the page (no tab open, every control at its default) and draws the pad's example ``digit`` (one
    update: its button); returns the digit the page then reads."""
    page.reload()
    page.wait_for_selector("#pad canvas", timeout=30_000)
    page.locator(f'.example-button[data-digit="{digit}"]').first.click()
    wait_settled(page)
    return page.locator("#prediction").get_attribute("data-label")


def lesson_ready(page, element_id: str, condition: str = "true", timeout: int = 20_000) -> dict:
    """Waits until the view #element_id is computed (data-state=ready) and ``condition`` (JS over ``d``, its
    dataset) holds; returns that dataset."""
    page.wait_for_function(
        f"() => {{ const e = document.querySelector('#{element_id}'); if (!e) return false; const d = e.dataset;"
        f" return d.state === 'ready' && ({condition}); }}", timeout=timeout)
    return page.evaluate(f"() => ({{...document.querySelector('#{element_id}').dataset}})")


def set_number(page, elem_id: str, value: float) -> None:
    """Sets a Gradio slider through its number box (what a keyboard user does)."""
    box = page.locator(f"#{elem_id} input[type=number]")
    box.fill(str(value))
    box.press("Enter")


def open_tab(page, name: str) -> None:
    """Opens the lesson tab ``name`` as a user does: its tab, or, when the tab bar has no room for it, Gradio's
    "More tabs" menu and the entry there."""
    tab = page.get_by_role("tab", name=name, exact=True)
    if tab.count() and tab.first.is_visible():
        tab.first.click()
        return
    page.locator("#lessons .overflow-menu button[aria-label='More tabs']").click()
    page.locator("#lessons .overflow-dropdown button", has_text=name).first.click()


def wait_settled(page, timeout_ms: float = 10_000) -> dict:
    """Waits until #prediction answers the pad's latest drawing; returns the timing of the last pen-up."""
    page.wait_for_function(
        """() => { const c = document.querySelector('#pad canvas'); const p = document.querySelector('#prediction');
                   return c && p && +(p.dataset.seq || 0) === +(c.dataset.seq || 0); }""", timeout=timeout_ms)
    return page.evaluate(
        """() => { const up = window.__penUps[window.__penUps.length - 1];
                   const seq = +document.querySelector('#pad canvas').dataset.seq;
                   const done = window.__updates.find(u => u.seq === seq);
                   const during = new Set(window.__updates.filter(u => up && u.t < up.t).map(u => u.seq));
                   return {latency_ms: up && done ? done.t - up.t : null, seq: seq,
                           updates_before_pen_up: during.size}; }""")


def reset_observer(page) -> None:
    page.evaluate("() => { window.__updates = []; window.__penUps = []; }")


def example_strokes_unit(digit: int, style: int = 0) -> list[list[tuple[float, float]]]:
    """One of the project's example digits in 0-1 pad coordinates (as a person would place it)."""
    from demo.core.examples import example_strokes

    return [[(x / 100, y / 100) for x, y in s] for s in example_strokes(digit, style, 100, 100, pad=0.18)]
