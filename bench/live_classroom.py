"""A whole class drawing on the live pad at once, each pupil sending exactly what the page sends.

    python -m bench.live_classroom [--pupils 60] [--drawings 4] [--seed 0] [--views screen|all]
                                   [--workers N] [--url URL] [--json]

Starts ``python -m demo`` (its defaults: one live worker per core; ``--workers`` passes another count), waits until
its workers are ready, and runs ``--pupils`` simulated pupils at once. Each behaves like demo/page/static/pad.js:

* draws one of the project's example digits (chosen at random) at a person's pace, the pen moving along the strokes
  at PEN_SPEED pad pixels per second, lifting for STROKE_GAP_S between strokes;
* while the pen moves, sends the whole drawing so far to ``POST /convscope/live`` at most every 60 ms, never with
  more than one update in flight (the next waits for the answer), asking for the views a 1280×720 screen shows
  (``--views screen``: the prediction, the probabilities and, as the page asks for it (at most every
  OVERVIEW_INTERVAL_MS and never in two updates in a row), the network overview; ``all``: every view);
* at pen-up sends the settled drawing (every view, and the model input for the lessons), and measures the time
  from pen-up until its answer is in;
* pauses 0.5-1.5 s to look at the answer, clears the pad (one more update), and draws the next digit.

Each figure is the median of ``--rounds`` rounds on the same server, after a baseline round of one pupil alone
(its pen-up -> settled p50 is the ratio's denominator). Reported: pen-up -> settled (p50/p95), live updates per
drawing (median), updates served per second over the run, bytes per update on the wire (the answers as sent,
gzipped as the browser accepts them; live and settled apart), the server's CPU (its process and its workers, in
cores), the load generator's own CPU (it shares the machine), errors by kind (an HTTP error, a "busy" 503, a
timeout), and how many settled drawings were read as the digit drawn.

Memory is that of the server's whole process tree (the web server, its live workers, multiprocessing's resource
tracker: every descendant), summed as PSS (/proc/PID/smaps_rollup: a page shared by n processes counts 1/n in each,
so the sum is what the tree really holds) and, for comparison, as RSS (which counts the shared libraries and the
model once per process): before the round, after it, and the peak of samples taken every 0.5 s by a background
thread during the round.

``--url`` measures an app already running (several copies behind a load balancer: deploy/), without starting one;
its CPU and memory are then those of every local ``python -m demo`` process. The run is bounded: pupils ×
drawings, each request has a timeout, and the started server is always stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import random
import re
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field

import numpy as np

from demo.page.pad import pad_examples
from demo.views.theme import OVERVIEW_INTERVAL_MS, PAD_SIZE, PEN_DEFAULT, SEND_INTERVAL_MS
from tests.harness import (
    HttpError,
    KeepAliveConnection,
    MemorySampler,
    cpu_seconds,
    measured_on_app,
    percentile,
    process_tree,
    pss_mb,
    rss_mb,
)

PEN_SPEED = 460.0  # pad pixels per second: the median example digit (368 px of pen path) takes 0.8 s
STROKE_GAP_S = 0.12  # pen lifted between two strokes
THINK_S = (0.5, 1.5)  # looking at the answer before clearing and drawing the next digit
SCREEN_VIEWS = ["prediction", "probabilities", "overview"]  # what a 1280×720 first screen shows
LABEL_RE = re.compile(r'data-label="(\d)"')
HEADERS = {"Content-Type": "application/json", "Accept-Encoding": "gzip"}


@dataclass
class Stats:
    settle_ms: list[float] = field(default_factory=list)
    live_per_drawing: list[int] = field(default_factory=list)
    live_bytes: list[int] = field(default_factory=list)
    settled_bytes: list[int] = field(default_factory=list)
    clear_bytes: list[int] = field(default_factory=list)
    request_bytes: list[int] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    read_right: int = 0
    drawings: int = 0

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1


def timeline(strokes: list) -> list[tuple[float, int, int]]:
    """(time, stroke, points drawn in it) for every point, at PEN_SPEED with STROKE_GAP_S between strokes."""
    t, out = 0.0, []
    for i, stroke in enumerate(strokes):
        if i:
            t += STROKE_GAP_S
        for j, point in enumerate(stroke):
            if j:
                t += float(np.hypot(point[0] - stroke[j - 1][0], point[1] - stroke[j - 1][1])) / PEN_SPEED
            out.append((t, i, j + 1))
    return out


def drawn_by(strokes: list, points: list[tuple[float, int, int]], t: float) -> list:
    """The drawing as the pad holds it ``t`` seconds after the pen first touched it."""
    shown = [p for p in points if p[0] <= t]
    if not shown:
        return [strokes[0][:1]]
    _, last_stroke, last_count = shown[-1]
    return [list(s) for s in strokes[:last_stroke]] + [list(strokes[last_stroke][:last_count])]


async def post(http: KeepAliveConnection, body: dict, stats: Stats, timeout: float) -> tuple[dict | None, int]:
    """One update: the answer (None on failure, counted) and its size on the wire."""
    content = json.dumps(body, separators=(",", ":")).encode()
    stats.request_bytes.append(len(content))
    try:
        status, headers, data = await http.request("POST", "/convscope/live", content, HEADERS, timeout)
    except TimeoutError:
        stats.error("timeout")
        return None, 0
    except (OSError, HttpError, asyncio.IncompleteReadError) as error:
        stats.error(type(error).__name__)
        return None, 0
    if status != 200:
        stats.error("busy (503)" if status == 503 else f"HTTP {status}")
        return None, len(data)
    text = gzip.decompress(data) if headers.get("content-encoding") == "gzip" else data
    return json.loads(text), len(data)


async def pupil(http: KeepAliveConnection, number: int, args: argparse.Namespace, stats: Stats) -> None:
    rng = random.Random(args.seed * 1000 + number)
    examples = pad_examples()[0]
    await asyncio.sleep(rng.uniform(0, 1.5))  # a class does not start in the same millisecond
    seq = 0
    for _ in range(args.drawings):
        example = rng.choice(examples)
        strokes, points = example["strokes"], timeline(example["strokes"])
        pen_up = points[-1][0]
        start = time.perf_counter()
        # As the page does: the overview at most every OVERVIEW_INTERVAL_MS while drawing, never twice in a row.
        overview_sent, overview_last = -1.0, False
        live = 0
        while True:  # while the pen moves: the latest drawing, at most every 60 ms, one update in flight
            elapsed = time.perf_counter() - start
            if elapsed >= pen_up:
                break
            seq += 1
            sent = time.perf_counter()
            views = None
            if args.views == "screen":
                due = sent - overview_sent >= OVERVIEW_INTERVAL_MS / 1000 and not overview_last
                views = SCREEN_VIEWS if due else [v for v in SCREEN_VIEWS if v != "overview"]
                overview_last = due
                overview_sent = sent if due else overview_sent
            answer, wire = await post(http, {"w": PAD_SIZE, "h": PAD_SIZE, "pen": PEN_DEFAULT, "seq": seq,
                                             "strokes": drawn_by(strokes, points, elapsed), "views": views},
                                      stats, args.timeout)
            if answer is not None:
                live += 1
                stats.live_bytes.append(wire)
            await asyncio.sleep(max(0.0, SEND_INTERVAL_MS / 1000 - (time.perf_counter() - sent)))
        await asyncio.sleep(max(0.0, pen_up - (time.perf_counter() - start)))
        up = time.perf_counter()
        seq += 1
        answer, wire = await post(http, {"w": PAD_SIZE, "h": PAD_SIZE, "pen": PEN_DEFAULT, "seq": seq,
                                         "strokes": strokes, "views": None, "input": True}, stats, args.timeout)
        stats.drawings += 1
        stats.live_per_drawing.append(live)
        if answer is not None:
            stats.settle_ms.append(1000 * (time.perf_counter() - up))
            stats.settled_bytes.append(wire)
            label = LABEL_RE.search(answer["html"].get("prediction", ""))
            stats.read_right += bool(label and int(label.group(1)) == example["digit"])
        await asyncio.sleep(rng.uniform(*THINK_S))
        seq += 1
        answer, wire = await post(http, {"w": PAD_SIZE, "h": PAD_SIZE, "pen": PEN_DEFAULT, "seq": seq,
                                         "strokes": [], "views": None}, stats, args.timeout)
        if answer is not None:
            stats.clear_bytes.append(wire)


async def classroom(url: str, args: argparse.Namespace) -> tuple[Stats, float]:
    stats = Stats()
    connections = [KeepAliveConnection(url) for _ in range(args.pupils)]  # one per pupil, as one per browser
    start = time.perf_counter()
    try:
        await asyncio.gather(*(pupil(c, n, args, stats) for n, c in enumerate(connections)))
    finally:
        for connection in connections:
            await connection.close()
    return stats, time.perf_counter() - start


def local_app_pids() -> list[int]:
    """Every local ``python -m demo`` process with its workers, and a local HAProxy (for ``--url``)."""
    found = subprocess.run(["pgrep", "-f", "--", r"-m demo( |$)|^haproxy |/haproxy "], capture_output=True,
                           text=True).stdout.split()
    return sorted({p for pid in found for p in process_tree(int(pid))})


def measure(url: str, pids_of, args: argparse.Namespace) -> dict:
    before_pids = pids_of()
    cpu0, rss0, pss0, wall0 = cpu_seconds(before_pids), rss_mb(before_pids), pss_mb(before_pids), time.perf_counter()
    main0, own0 = cpu_seconds(before_pids[:1]), time.process_time()
    with MemorySampler(pids_of, interval=0.5) as memory:
        stats, seconds = asyncio.run(classroom(url, args))
    after_pids = pids_of()
    cpu1, rss1, pss1 = cpu_seconds(after_pids), rss_mb(after_pids), pss_mb(after_pids)
    main1, own1 = cpu_seconds(after_pids[:1]), time.process_time()
    wall = time.perf_counter() - wall0
    served = len(stats.live_bytes) + len(stats.settled_bytes) + len(stats.clear_bytes)
    wire = sum(stats.live_bytes) + sum(stats.settled_bytes) + sum(stats.clear_bytes)
    settle = sorted(stats.settle_ms)
    return {
        "pupils": args.pupils, "drawings": stats.drawings, "views": args.views, "seconds": round(seconds, 1),
        "settle_p50_ms": round(percentile(settle, 0.5), 1) if settle else None,
        "settle_p95_ms": round(percentile(settle, 0.95), 1) if settle else None,
        "live_updates_per_drawing_median": statistics.median(stats.live_per_drawing) if stats.live_per_drawing else 0,
        "updates_served": served, "updates_per_s": round(served / seconds, 1),
        "live_kib_mean": round(statistics.mean(stats.live_bytes) / 1024, 2) if stats.live_bytes else None,
        "settled_kib_mean": round(statistics.mean(stats.settled_bytes) / 1024, 2) if stats.settled_bytes else None,
        "kib_per_update_mean": round(wire / max(served, 1) / 1024, 2),
        "request_kib_mean": round(statistics.mean(stats.request_bytes) / 1024, 2) if stats.request_bytes else None,
        "server_cpu_cores": round((cpu1 - cpu0) / wall, 2),
        "server_main_process_cores": round((main1 - main0) / wall, 2),
        "load_generator_cores": round((own1 - own0) / wall, 2),
        "server_rss_mb_before": round(rss0, 1), "server_rss_mb_after": round(rss1, 1),
        "server_processes": len(after_pids),
        "server_pss_mb_before": round(pss0, 1), "server_pss_mb_after": round(pss1, 1),
        "server_pss_mb_peak": round(memory.peak_pss_mb, 1), "server_rss_mb_peak": round(memory.peak_rss_mb, 1),
        "server_processes_peak": memory.processes,
        "errors": sum(stats.errors.values()), "errors_by_kind": stats.errors,
        "read_right": stats.read_right, "settled": len(stats.settle_ms),
    }


def report(r: dict) -> str:
    rounds = "; ".join(f"p95 {x['settle_p95_ms']} ms, {x['live_updates_per_drawing_median']} live/drawing, "
                       f"{x['updates_per_s']}/s" for x in r["per_round"])
    return "\n".join([
        f"{r['pupils']} pupils × {r['drawings'] // max(r['pupils'], 1)} drawings, views: {r['views']}; medians of "
        f"{r['rounds']} rounds ({rounds})",
        f"  pen-up -> settled        p50 {r['settle_p50_ms']} ms   p95 {r['settle_p95_ms']} ms   (one pupil alone: "
        f"p50 {r['baseline_one_pupil_settle_p50_ms']} ms; ratio {r['settle_p50_over_baseline']})",
        f"  live updates per drawing median {r['live_updates_per_drawing_median']}",
        f"  updates served           {r['updates_served']} ({r['updates_per_s']}/s)",
        f"  bytes per update         {r['kib_per_update_mean']} KiB on average (live {r['live_kib_mean']} KiB, "
        f"settled {r['settled_kib_mean']} KiB, clears included in the average; requests "
        f"{r['request_kib_mean']} KiB)",
        f"  server                   {r['server_cpu_cores']} cores busy ({r['server_main_process_cores']} in the web "
        f"server's process), {r['server_processes']} processes",
        f"  memory                   PSS {r['server_pss_mb_before']:,.0f} -> {r['server_pss_mb_after']:,.0f} MB (peak "
        f"{r['server_pss_mb_peak']:,.0f} MB, {r['server_processes_peak']} processes); RSS "
        f"{r['server_rss_mb_before']:,.0f} -> {r['server_rss_mb_after']:,.0f} MB (peak {r['server_rss_mb_peak']:,.0f} "
        f"MB, shared pages counted once per process)",
        f"  this load generator      {r['load_generator_cores']} cores busy (on the same machine)",
        f"  errors                   {r['errors']} {r['errors_by_kind'] or ''}",
        f"  read right               {r['read_right']}/{r['settled']} settled drawings (all rounds)",
    ])


def median_of(rounds: list[dict]) -> dict:
    """Each figure's median over the rounds (errors: their sum, so none is hidden)."""
    out = dict(rounds[len(rounds) // 2])
    for key, value in rounds[0].items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            values = [r[key] for r in rounds if r[key] is not None]
            out[key] = statistics.median(values) if values else None
    out["errors"] = sum(r["errors"] for r in rounds)
    out["errors_by_kind"] = {k: sum(r["errors_by_kind"].get(k, 0) for r in rounds)
                             for r0 in rounds for k in r0["errors_by_kind"]}
    out["read_right"] = sum(r["read_right"] for r in rounds)
    out["settled"] = sum(r["settled"] for r in rounds)
    out["rounds"] = len(rounds)
    return out


def run(url: str, pids_of, args: argparse.Namespace) -> dict:
    """A baseline (one pupil alone), then ``--rounds`` rounds of the class, on the same server."""
    alone = measure(url, pids_of, argparse.Namespace(**{**vars(args), "pupils": 1}))
    rounds = [measure(url, pids_of, argparse.Namespace(**{**vars(args), "seed": args.seed + r}))
              for r in range(args.rounds)]
    result = median_of(rounds)
    result["baseline_one_pupil_settle_p50_ms"] = alone["settle_p50_ms"]
    result["settle_p50_over_baseline"] = (round(result["settle_p50_ms"] / alone["settle_p50_ms"], 2)
                                          if result["settle_p50_ms"] and alone["settle_p50_ms"] else None)
    result["per_round"] = [{k: r[k] for k in ("settle_p50_ms", "settle_p95_ms", "live_updates_per_drawing_median",
                                               "updates_per_s", "errors")} for r in rounds]
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.live_classroom", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pupils", type=int, default=60, help="pupils drawing at once (default: 60)")
    p.add_argument("--drawings", type=int, default=4, help="digits each pupil draws (default: 4)")
    p.add_argument("--rounds", type=int, default=3, help="rounds of the class; figures are their medians "
                                                          "(default: 3)")
    p.add_argument("--views", choices=["screen", "all"], default="screen",
                   help="views asked for while the pen moves: a 1280×720 screen's, or all (default: screen)")
    p.add_argument("--workers", type=int, help="--workers for the started app (default: the app's own default)")
    p.add_argument("--url", help="measure an app already running there instead of starting one (default: none)")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds before a request counts as failed "
                                                               "(default: 30)")
    p.add_argument("--seed", type=int, default=0, help="random seed of the first round (default: 0)")
    p.add_argument("--json", action="store_true", help="also print the figures as JSON (default: off)")
    args = p.parse_args(argv)
    if args.url:
        result = run(args.url.rstrip("/"), local_app_pids, args)
    else:
        extra = ["--workers", str(args.workers)] if args.workers is not None else []
        result = measured_on_app(extra, lambda url, pids_of: run(url, pids_of, args))
    print(report(result))
    if args.json:
        print(json.dumps(result))
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
