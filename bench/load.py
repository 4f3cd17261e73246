"""Classroom load: N users drawing digits at once against a real ``python -m demo`` server.

    python -m bench.load [--users 20] [--drawings 20] [--path both|api|pad] [--sessions request|user] [--seed 0]
                         [--uploads identical|unique] [--timeout 30] [--deadline SECONDS] [--port N] [--json]

Starts the app on 127.0.0.1 (uploads in a throwaway temp folder), warms it up with a few requests, then simulates a
classroom: ``--users`` users, each sending ``--drawings`` real drawings of the project's example digits, one at a
time, with a think time of 0.5-1.5 s before each (so about one drawing a second per user, and the class's first
drawings are spread over the first 1.5 s rather than fired in one burst). Two paths:

* ``api``: Gradio's REST routes: ``POST /gradio_api/upload`` of a transparent PNG (as a browser canvas exports it),
  then ``POST /gradio_api/call/predict`` and the event stream ``GET /gradio_api/call/predict/<event_id>``;
* ``pad``: what the page sends when a drawing is finished: ``POST /convscope/live`` with the pad's stroke JSON,
  asking for every view and the model input (the live pad while the pen moves is bench/live_classroom.py).

With ``--path both`` each user alternates between the two (even-numbered users start with ``api``, odd ones with
``pad``), so the split is even and the same for every seed. A request's latency runs from starting the upload (or
the call POST) until its ``complete``/``error`` event is read. By default calls carry no session hash, exactly as a
plain REST caller sends them (Gradio then makes a new session per call); ``--sessions user`` gives each user one
session hash for all its calls, as a browser page or gradio_client does. HTTP errors, ``event: error``, timeouts,
results without a label, and requests still unfinished at the overall deadline all count as errors, by kind.

Reported: requests, errors, p50/p95/p99 latency (of the successful requests, overall and per path), requests per
second, the server's resident memory (VmRSS, after the warm-up and after the run) and CPU time, and the server's
temp folder (files and bytes, before and after: what uploads leave until Gradio's clean-up removes it). The load
generator is one process, one
asyncio loop and one ``httpx.AsyncClient``: on 2 cores, a thread or a gradio_client per user would take the CPU
the server needs. Uploads are the project's example drawings as they are (``--uploads identical``): the same file
sent by many users at about the same moment (a worksheet the whole class has) gets one path on the server, and
every request must still be answered; ``--uploads unique`` adds a PNG text chunk naming the user and request, so
every upload has its own bytes (and its own path). Memory and CPU are the server's and its live workers' together.

The run is bounded: users x drawings requests, an overall deadline, and the server is always stopped (terminate,
then kill), on Ctrl-C and errors too.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import random
import re
import shlex
import signal
import struct
import sys
import time
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
from PIL import Image

from demo.core.examples import EXAMPLES, example_image
from demo.page.pad import pad_examples
from demo.views.theme import PAD_SIZE, PEN_DEFAULT
from tests.harness import (
    AppUrl,
    cpu_seconds,
    log_problems,
    percentile,
    process_tree,
    rss_mb,
    running_app,
    wait_for_live_workers,
)

THINK_S = (0.5, 1.5)  # a pupil looks at the answer, then draws the next digit
WARMUP_PER_PATH = 2  # first requests pay for lazy imports and caches; keep them out of the numbers
LABEL_RE = re.compile(r'data-label="(\d)"')


# ---------------------------------------------------------------------------------------------- payloads


@dataclass(frozen=True)
class Drawings:
    """Everything the users send, prepared once so the generator does no image work during the run."""

    pngs: list[tuple[int, bytes]]  # (digit, transparent RGBA PNG as a canvas exports it)
    strokes: list[tuple[int, list]]  # (digit, strokes in pad pixels)


def canvas_png(ink: np.ndarray) -> bytes:
    """Black ink on a transparent background, alpha = ink: what the browser canvas gives an upload."""
    rgba = np.zeros((*ink.shape, 4), np.uint8)
    rgba[..., 3] = (np.clip(ink, 0, 1) * 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buffer, format="PNG")
    return buffer.getvalue()


def prepare_drawings() -> Drawings:
    pngs = [(digit, canvas_png(example_image(digit, style, PAD_SIZE, PEN_DEFAULT)))
            for digit, styles in EXAMPLES.items() for style in range(len(styles))]
    strokes = [(e["digit"], e["strokes"]) for e in pad_examples()[0]]
    return Drawings(pngs, strokes)


def unique_png(png: bytes, tag: str) -> bytes:
    """The same picture with a tEXt chunk before IEND, so every upload has its own bytes (and its own hash)."""
    data = b"Comment\x00" + tag.encode()
    chunk = struct.pack(">I", len(data)) + b"tEXt" + data + struct.pack(">I", zlib.crc32(b"tEXt" + data))
    return png[:-12] + chunk + png[-12:]  # the last 12 bytes are the IEND chunk


def drawing_json(strokes: list, seq: int) -> str:
    return json.dumps({"w": PAD_SIZE, "h": PAD_SIZE, "pen": PEN_DEFAULT, "seq": seq, "strokes": strokes})


# ---------------------------------------------------------------------------------------------- measurements


def proc_status(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM (peak) of ``pid`` in MB, from /proc."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0]) / 1024  # kB -> MB
    return out


def folder_usage(path: Path) -> tuple[int, int, int]:
    """(files, bytes, empty files) under ``path``; empty ones are left-over upload buffers, worth telling apart."""
    files = size = empty = 0
    for root, _, names in os.walk(path):
        for name in names:
            try:
                n = os.path.getsize(os.path.join(root, name))
            except OSError:  # removed while we walked
                continue
            files, size, empty = files + 1, size + n, empty + (n == 0)
    return files, size, empty


@dataclass
class Snapshot:
    rss_mb: float
    hwm_mb: float
    cpu_s: float
    temp_files: int
    temp_bytes: int
    temp_empty: int


def snapshot(server: AppUrl) -> Snapshot:
    """The server's memory and CPU with its live workers' (peak: the web server's process), and its uploads."""
    pids = process_tree(server.pid)
    mem = proc_status(server.pid)
    return Snapshot(rss_mb(pids), mem["VmHWM"], cpu_seconds(pids), *folder_usage(server.uploads))


# ---------------------------------------------------------------------------------------------- one request


class Failure(Exception):
    """A request that went wrong; ``kind`` is what the error breakdown counts."""

    def __init__(self, kind: str, detail: str = ""):
        super().__init__(kind)
        self.kind, self.detail = kind, detail


@dataclass
class Result:
    user: int
    path: str
    digit: int
    ok: bool
    latency_ms: float | None = None
    label: int | None = None
    error: str | None = None
    detail: str = field(default="", repr=False)


def expect_ok(response: httpx.Response, step: str) -> None:
    if response.status_code != 200:
        raise Failure(f"{step} HTTP {response.status_code}", response.text[:200])


async def read_events(http: httpx.AsyncClient, api: str, event_id: str) -> list:
    """Reads the SSE stream up to the final event; returns the ``complete`` data, raises on ``error``."""
    event = None
    async with http.stream("GET", f"/gradio_api/call/{api}/{event_id}") as response:
        expect_ok(response, "stream")
        async for line in response.aiter_lines():
            if line.startswith("event:"):
                event = line[len("event:"):].strip()
            elif line.startswith("data:") and event in ("complete", "error"):
                data = line[len("data:"):].strip()
                if event == "error":
                    raise Failure("event: error", data[:200])
                return json.loads(data)
    raise Failure("stream ended early", f"last event {event!r}")


async def call(http: httpx.AsyncClient, api: str, data: list, session: str | None) -> list:
    body = {"data": data} if session is None else {"data": data, "session_hash": session}
    response = await http.post(f"/gradio_api/call/{api}", json=body)
    expect_ok(response, "call")
    return await read_events(http, api, response.json()["event_id"])


async def via_api(http: httpx.AsyncClient, png: bytes, session: str | None) -> int | None:
    """Upload + /predict: the result is {"label", "probs"}."""
    response = await http.post("/gradio_api/upload", files={"files": ("digit.png", png, "image/png")})
    expect_ok(response, "upload")
    path = response.json()[0]
    outputs = await call(http, "predict", [{"path": path, "meta": {"_type": "gradio.FileData"}}], session)
    if not outputs or not isinstance(outputs[0], dict) or "label" not in outputs[0]:
        raise Failure("no label", str(outputs)[:200])
    return outputs[0]["label"]


async def via_pad(http: httpx.AsyncClient, drawing: str, session: str | None) -> int | None:
    """The page's live route, as a finished drawing sends it: every view, and the model input."""
    body = json.loads(drawing)
    response = await http.post("/convscope/live", json={**body, "views": None, "input": True})
    expect_ok(response, "live")
    answer = response.json()
    match = LABEL_RE.search(answer.get("html", {}).get("prediction", ""))
    if match is None:
        raise Failure("no label", str(answer)[:200])
    return int(match.group(1))


async def one_request(http: httpx.AsyncClient, drawings: Drawings, rng: random.Random, user: int, index: int,
                      path: str, timeout: float, session: str | None, unique: bool = False) -> Result:
    # Payloads are picked and made before the clock starts: only the server's part (and the wire) is timed.
    if path == "api":
        digit, png = rng.choice(drawings.pngs)
        work = via_api(http, unique_png(png, f"user {user} drawing {index}") if unique else png, session)
    else:
        digit, strokes = rng.choice(drawings.strokes)
        work = via_pad(http, drawing_json(strokes, seq=index + 1), session)
    t0 = time.perf_counter()
    try:
        async with asyncio.timeout(timeout):
            label = await work
    except Failure as failure:
        return Result(user, path, digit, False, error=failure.kind, detail=failure.detail)
    except TimeoutError:
        return Result(user, path, digit, False, error="timeout")
    except httpx.HTTPError as error:  # refused, reset, protocol errors: the server could not keep up
        return Result(user, path, digit, False, error=f"http {type(error).__name__}", detail=str(error)[:200])
    except (ValueError, KeyError, IndexError, TypeError) as error:  # a reply that is not what Gradio documents
        return Result(user, path, digit, False, error="bad reply", detail=f"{type(error).__name__}: {error}"[:200])
    return Result(user, path, digit, True, (time.perf_counter() - t0) * 1000, label)


def path_for(mode: str, user: int, index: int) -> str:
    if mode != "both":
        return mode
    return "api" if (user + index) % 2 == 0 else "pad"


# ---------------------------------------------------------------------------------------------- the class


async def warm_up(http: httpx.AsyncClient, drawings: Drawings, mode: str, timeout: float) -> list[Result]:
    rng = random.Random(-1)
    paths = ["api", "pad"] if mode == "both" else [mode]
    return [await one_request(http, drawings, rng, -1, i, p, timeout, None)
            for p in paths for i in range(WARMUP_PER_PATH)]


async def pupil(http: httpx.AsyncClient, drawings: Drawings, args: argparse.Namespace, user: int,
                results: list[Result], stop_at: float) -> None:
    rng = random.Random(f"{args.seed}:{user}")  # per user, so one user's draws do not shift another's
    # A browser page (and gradio_client) keeps one session hash for its life; a bare REST caller sends none, and
    # then Gradio makes a new session, with its own copy of the page's state, for every call.
    session = f"load-{args.seed}-{user}-{rng.getrandbits(48):012x}" if args.sessions == "user" else None
    for index in range(args.drawings):
        await asyncio.sleep(rng.uniform(*THINK_S))
        if time.monotonic() >= stop_at:
            return
        results.append(await one_request(http, drawings, rng, user, index, path_for(args.path, user, index),
                                         args.timeout, session, args.uploads == "unique"))


async def classroom(server: AppUrl, drawings: Drawings, args: argparse.Namespace) -> dict:
    # One connection per user is all that is ever in use (each user waits for its answer); twice that is headroom.
    limits = httpx.Limits(max_connections=2 * args.users + 8, max_keepalive_connections=2 * args.users + 8)
    async with httpx.AsyncClient(base_url=server, limits=limits, timeout=args.timeout) as http:
        warm = await warm_up(http, drawings, args.path, args.timeout)
        before = snapshot(server)
        results: list[Result] = []
        own_cpu0 = time.process_time()
        t0 = time.monotonic()
        deadline = args.deadline or args.drawings * THINK_S[1] + args.timeout + 60
        tasks = [asyncio.create_task(pupil(http, drawings, args, u, results, t0 + deadline))
                 for u in range(args.users)]
        _, pending = await asyncio.wait(tasks, timeout=deadline)
        for task in pending:  # past the deadline: whatever is still in flight counts as unfinished
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        wall = time.monotonic() - t0
        own_cpu = time.process_time() - own_cpu0
        after = snapshot(server)
    return {"warm": warm, "results": results, "wall_s": wall, "deadline_s": deadline, "before": before,
            "after": after, "own_cpu_s": own_cpu}


# ---------------------------------------------------------------------------------------------- report


def latency_stats(results: list[Result]) -> dict[str, float | int]:
    ordered = sorted(r.latency_ms for r in results if r.ok)
    if not ordered:
        return {"n": 0}
    return {"n": len(ordered), **{f"{name}_ms": round(percentile(ordered, q), 1)
                                  for name, q in (("p50", 0.50), ("p95", 0.95), ("p99", 0.99), ("max", 1.0))}}


def summarise(run: dict, args: argparse.Namespace, server: AppUrl, command: str) -> dict:
    results: list[Result] = run["results"]
    total = args.users * args.drawings
    errors = Counter(r.error for r in results if not r.ok)
    if total > len(results):
        errors["unfinished at deadline"] += total - len(results)
    before, after = run["before"], run["after"]
    paths = ["api", "pad"] if args.path == "both" else [args.path]
    ok = [r for r in results if r.ok]
    return {
        "command": command, "users": args.users, "drawings": args.drawings, "path": args.path,
        "sessions": args.sessions, "uploads": args.uploads, "seed": args.seed,
        "timeout_s": args.timeout, "deadline_s": run["deadline_s"], "url": server, "server_pid": server.pid,
        "startup_s": round(server.started_s, 2), "warmup_errors": sum(not r.ok for r in run["warm"]),
        "requests": total, "sent": len(results), "ok": len(ok), "errors": sum(errors.values()),
        "error_kinds": dict(errors.most_common()),
        "error_samples": sorted({f"{r.error}: {r.detail}" for r in results if not r.ok and r.detail})[:3],
        "latency": latency_stats(results), "latency_by_path": {p: latency_stats([r for r in results if r.path == p])
                                                               for p in paths},
        "correct": sum(r.label == r.digit for r in ok), "wall_s": round(run["wall_s"], 2),
        "rps": round(len(results) / run["wall_s"], 2) if run["wall_s"] else 0.0,
        "rss_before_mb": round(before.rss_mb, 1), "rss_after_mb": round(after.rss_mb, 1),
        "rss_growth_mb": round(after.rss_mb - before.rss_mb, 1), "rss_peak_mb": round(after.hwm_mb, 1),
        "server_cpu_s": round(after.cpu_s - before.cpu_s, 2), "generator_cpu_s": round(run["own_cpu_s"], 2),
        "temp_files_before": before.temp_files, "temp_files_after": after.temp_files,
        "temp_bytes_before": before.temp_bytes, "temp_bytes_after": after.temp_bytes,
        "temp_empty_before": before.temp_empty, "temp_empty_after": after.temp_empty,
        "server_log_problems": log_problems(server.log),
    }


def fmt_latency(stats: dict) -> str:
    if not stats["n"]:
        return "n=0"
    return (f"p50 {stats['p50_ms']:7.1f} ms  p95 {stats['p95_ms']:7.1f} ms  p99 {stats['p99_ms']:7.1f} ms  "
            f"max {stats['max_ms']:7.1f} ms  (n={stats['n']})")


def report_lines(s: dict) -> Iterator[str]:
    yield f"$ {s['command']}"
    yield (f"classroom: {s['users']} users x {s['drawings']} drawings, path {s['path']}"
           f"{' (alternating per user)' if s['path'] == 'both' else ''}, sessions per {s['sessions']}, "
           f"think {THINK_S[0]}-{THINK_S[1]} s, "
           f"timeout {s['timeout_s']:g} s, deadline {s['deadline_s']:g} s, seed {s['seed']}")
    yield (f"server:     {s['url']} (pid {s['server_pid']}), up in {s['startup_s']:.1f} s, "
           f"warm-up {WARMUP_PER_PATH}/path ({s['warmup_errors']} errors)")
    yield f"requests:   {s['requests']} planned, {s['sent']} done, {s['ok']} ok, {s['errors']} errors"
    yield f"latency:    {fmt_latency(s['latency'])}"
    for path, stats in s["latency_by_path"].items():
        yield f"  {path:9s} {fmt_latency(stats)}"
    yield f"throughput: {s['rps']:.2f} req/s over {s['wall_s']:.1f} s"
    yield f"answers:    {s['correct']}/{s['ok']} read as the digit drawn"
    yield (f"server RSS: {s['rss_before_mb']:.1f} MB after warm-up -> {s['rss_after_mb']:.1f} MB after run "
           f"({s['rss_growth_mb']:+.1f} MB), peak {s['rss_peak_mb']:.1f} MB")
    yield (f"CPU:        server {s['server_cpu_s']:.1f} s ({100 * s['server_cpu_s'] / s['wall_s']:.0f}% of one core), "
           f"load generator {s['generator_cpu_s']:.1f} s")
    yield (f"temp dir:   {s['temp_files_before']} files / {s['temp_bytes_before'] / 1024:.1f} kB after warm-up -> "
           f"{s['temp_files_after']} files / {s['temp_bytes_after'] / 1024:.1f} kB after run "
           f"({s['temp_files_after'] - s['temp_files_before']:+d} files, "
           f"{s['temp_empty_after'] - s['temp_empty_before']:+d} of them empty)")
    kinds = ", ".join(f"{kind} {n}" for kind, n in s["error_kinds"].items())
    yield f"errors:     {kinds or 'none'}"
    for sample in s["error_samples"]:
        yield f"  e.g.      {sample}"
    for line in s["server_log_problems"]:
        yield f"  log:      {line[:160]}"


# ---------------------------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--users", type=int, default=20, help="simultaneous users (default: 20)")
    p.add_argument("--drawings", type=int, default=20, help="drawings sent by each user (default: 20)")
    p.add_argument("--path", choices=["api", "pad", "both"], default="both",
                   help="api: upload + /predict; pad: the page's /draw event; both: each user alternates "
                        "(default: both)")
    p.add_argument("--sessions", choices=["request", "user"], default="request",
                   help="request: calls carry no session hash, as plain REST callers (curl) do, so Gradio makes a "
                        "session per call; user: each user sends one session hash, as a browser page or "
                        "gradio_client does (default: request)")
    p.add_argument("--seed", type=int, default=0, help="seeds think times and the drawings picked (default: 0)")
    p.add_argument("--uploads", choices=["identical", "unique"], default="identical",
                   help="identical: the example pictures as they are, so users send the same files; unique: each "
                        "upload made different (default: identical)")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds allowed per request (default: 30)")
    p.add_argument("--deadline", type=float, default=0.0,
                   help="seconds for the whole run, after which unfinished requests count as errors "
                        "(default: 0 = drawings x 1.5 + timeout + 60)")
    p.add_argument("--rounds", type=int, default=1,
                   help="classrooms run one after another against the same server, to tell a leak (memory grows "
                        "every round) from warm-up (it levels off) (default: 1)")
    p.add_argument("--port", type=int, default=0, help="port for the app (default: a free one)")
    p.add_argument("--json", action="store_true", help="also print the summary as one JSON line")
    args = p.parse_args(argv)
    if args.users < 1 or args.drawings < 1 or args.rounds < 1 or args.timeout <= 0 or args.deadline < 0:
        p.error("--users, --drawings and --rounds must be >= 1, --timeout > 0, --deadline >= 0")
    return args


def _sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # so the finally below stops the server when we are killed politely too


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    command = shlex.join([sys.executable, "-m", "bench.load", *(sys.argv[1:] if argv is None else argv)])
    signal.signal(signal.SIGTERM, _sigterm)
    drawings = prepare_drawings()
    summaries = []
    try:
        with running_app(port=args.port) as server:
            wait_for_live_workers(server)
            for _ in range(args.rounds):
                summaries.append(summarise(asyncio.run(classroom(server, drawings, args)), args, server, command))
    except KeyboardInterrupt:
        print("interrupted: the server was stopped", file=sys.stderr)
        return 130
    except RuntimeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for round_no, summary in enumerate(summaries, start=1):
        if args.rounds > 1:
            print(f"\n--- round {round_no} of {args.rounds} (same server)")
        print("\n".join(report_lines(summary)))
        if args.json:
            print(json.dumps(summary))
    if args.rounds > 1:
        growth = ", ".join(f"{s['rss_growth_mb']:+.1f}" for s in summaries)
        print(f"\nserver RSS growth per round: {growth} MB "
              f"({summaries[0]['rss_before_mb']:.1f} -> {summaries[-1]['rss_after_mb']:.1f} MB in all)")
    return 1 if any(s["errors"] for s in summaries) else 0


if __name__ == "__main__":
    sys.exit(main())
