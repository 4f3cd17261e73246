"""What a hostile stranger's traffic does to everyone else: the health route's latency under a flood of the largest
drawings, and the server's memory after one huge chunked body.

    python -m bench.hostile [--rounds 3] [--clients 8] [--seconds 8] [--body-mib 64] [--seed 0] [--url URL] [--json]

Starts ``python -m demo --classroom`` (the room's routes exist only then; its defaults otherwise), waits until its
live workers are ready, and measures, each figure the median of ``--rounds`` rounds on the same server:

a. ``GET /convscope/health`` latency p50/p95 (and max): sequential requests on one keep-alive connection, one every
   20 ms for ``--seconds`` s, first on the quiet server (the baseline), then while ``--clients`` clients (in a
   process of their own, so the prober shares no interpreter with them) each POST the largest drawing
   ``/convscope/live`` accepts back-to-back on a keep-alive connection: demo.core.strokes's MAX_POINTS points (fewer
   only if MAX_JSON_CHARS would not hold them) of random-walk strokes on the 280×280 pad, pen 20, every view and the
   model input asked for. Each client walks its own way and moves its first point on every request, so no cache can
   answer twice. Printed: both latencies, their ratio loaded/quiet, and the flood's answers by status.
b. One ``--body-mib`` MiB body sent with chunked transfer encoding (no Content-Length), 64 KiB a chunk, to
   ``POST /convscope/room/send`` (with the identity cookie any stranger gets from ``POST /convscope/room/hello``,
   asked for at the start, where the server has that route) and to ``POST /convscope/live``, stopping as soon as
   the server answers or closes (at most 30 s). Printed: the status answered, the body bytes sent before the answer
   (on loopback the kernel's socket buffers take a few MB the server need not have read), and the growth of the
   server's memory from before the send to 1 s after the answer, and to the peak sampled every 10 ms during it:
   the summed PSS of its process tree (the server and every descendant: live workers, resource tracker) and the RSS
   of the server's own process.

``--url`` measures an app already running (memory: every local ``python -m demo`` process, summed, and their
descendants). Traffic goes only to that address; every phase is bounded in time and requests; the started app is
always stopped. Nothing here fails on a number: the exit status is 0 once the figures are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import math
import multiprocessing
import random
import select
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections import Counter

from demo.core.strokes import MAX_JSON_CHARS, MAX_POINTS, MAX_STROKES
from tests.harness import (
    CLASSROOM_ARGS,
    HttpError,
    KeepAliveConnection,
    MemorySampler,
    percentile,
    process_tree,
    pss_mb,
    rss_mb,
    running_app,
    wait_for_live_workers,
)

PAD, PEN, STROKES = 280, 20, min(24, MAX_STROKES)
PROBE_EVERY_S, CHUNK, SEND_LIMIT_S = 0.02, 64 * 1024, 30.0
HEADERS = {"Content-Type": "application/json", "Accept-Encoding": "gzip"}
ROUTES = {"room_send": "/convscope/room/send", "live": "/convscope/live"}  # JSON key: path


def request_body(head: str, tail: str, seq: int, first: str) -> bytes:
    return f'{head}{seq},"strokes":[[{first}{tail}'.encode()


def largest_drawing(rng: random.Random) -> tuple[str, str, int]:
    """The largest drawing the live route accepts as (head, tail) for :func:`request_body` (which adds the seq and
    the first point), and its point count: random walk in steps of 3 px, turning gently, turned back at the edge."""
    points = MAX_POINTS
    while True:
        strokes, x, y, heading = [], rng.uniform(40, 240), rng.uniform(40, 240), rng.uniform(0, 2 * math.pi)
        for s in range(STROKES):
            stroke = []
            for _ in range(points // STROKES + (s < points % STROKES)):
                heading += rng.gauss(0, 0.35)
                x, y = x + 3 * math.cos(heading), y + 3 * math.sin(heading)
                if not (2 <= x <= PAD - 2 and 2 <= y <= PAD - 2):
                    heading += math.pi
                    x, y = min(max(x, 2.0), PAD - 2.0), min(max(y, 2.0), PAD - 2.0)
                stroke.append(f"[{x:.1f},{y:.1f}]")
            strokes.append(stroke)
        head = f'{{"w":{PAD},"h":{PAD},"pen":{PEN},"input":true,"seq":'
        tail = "".join(f",{q}" for q in strokes[0][1:]) + "]" + "".join(f",[{','.join(q)}]" for q in strokes[1:]) + "]}"
        if len(request_body(head, tail, 2**53 - 1, f"[{PAD}.0,{PAD}.0]")) <= MAX_JSON_CHARS:
            return head, tail, points
        points -= 500


async def flood_client(n: int, url: str, shared: tuple, counts: Counter) -> None:
    """One hostile client: its own largest drawing, POSTed back-to-back on one keep-alive connection."""
    clients, seed, stop, ready, deadline = shared
    rng = random.Random(seed * 1000 + n)
    head, tail, _ = largest_drawing(rng)
    http, seq = KeepAliveConnection(url), 0
    try:
        while not stop.is_set() and time.monotonic() < deadline:
            seq += 1
            body = request_body(head, tail, seq, f"[{rng.uniform(0, PAD):.1f},{rng.uniform(0, PAD):.1f}]")
            try:
                status, _, _ = await http.request("POST", "/convscope/live", body, HEADERS, timeout=30)
                counts[f"HTTP {status}"] += 1
            except (OSError, TimeoutError, HttpError, asyncio.IncompleteReadError) as error:
                counts[type(error).__name__] += 1
                await asyncio.sleep(0.05)
            if sum(counts.values()) >= clients:  # about one answer each: the flood is on
                ready.set()
    finally:
        await http.close()


def flood(url: str, clients: int, seed: int, stop, ready, out, limit_s: float) -> None:
    """The hostile clients, in a process of their own; puts their answers by status on ``out`` when stopped."""
    counts: Counter = Counter()
    shared = (clients, seed, stop, ready, time.monotonic() + limit_s)

    async def main() -> None:
        await asyncio.gather(*(flood_client(n, url, shared, counts) for n in range(clients)))

    asyncio.run(main())
    out.put(dict(counts))


def probe_health(url: str, seconds: float) -> dict:
    """Sequential GET /convscope/health on one keep-alive connection, one every PROBE_EVERY_S, for ``seconds``."""
    host, port = url.split("://", 1)[1].split("/")[0].split(":")
    conn, times, errors = http.client.HTTPConnection(host, int(port), timeout=10), [], 0
    end = time.perf_counter() + seconds
    while (start := time.perf_counter()) < end:
        try:
            conn.request("GET", "/convscope/health")
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                raise http.client.HTTPException(response.status)
            times.append(1000 * (time.perf_counter() - start))
        except (OSError, http.client.HTTPException):
            errors += 1
            conn.close()
        time.sleep(max(0.0, PROBE_EVERY_S - (time.perf_counter() - start)))
    conn.close()
    times.sort()
    figures = {f"{name}_ms": round(percentile(times, q), 2) if times else None
               for name, q in (("p50", 0.5), ("p95", 0.95), ("max", 1.0))}
    return {**figures, "requests": len(times) + errors, "errors": errors}


def latency_round(url: str, args: argparse.Namespace, r: int) -> dict:
    quiet = probe_health(url, args.seconds)
    ctx = multiprocessing.get_context("spawn")
    stop, ready, out = ctx.Event(), ctx.Event(), ctx.Queue()
    proc = ctx.Process(target=flood, args=(url, args.clients, args.seed + r, stop, ready, out, args.seconds + 90),
                       daemon=True)
    proc.start()
    try:
        ready.wait(60)  # the flood's process has started, built its drawings and had about one answer per client
        loaded = probe_health(url, args.seconds)
        stop.set()
        return {"quiet": quiet, "loaded": loaded, "flood": out.get(timeout=60)}
    finally:
        stop.set()
        proc.join(timeout=10)
        if proc.is_alive():
            proc.kill()


def pupil_cookie(url: str) -> str | None:
    """The identity cookie (``name=value``) anyone gets from ``POST /convscope/room/hello``; None without one."""
    request = urllib.request.Request(url + "/convscope/room/hello", data=b"{}", method="POST", headers=HEADERS)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return (response.headers.get("Set-Cookie") or "").split(";", 1)[0] or None
    except OSError:
        return None


def chunked_send(url: str, path: str, total: int, cookie: str | None = None) -> dict:
    """Streams ``total`` body bytes to ``path`` in chunks of CHUNK, no Content-Length, until the server answers or
    closes, or SEND_LIMIT_S pass; returns the status answered (None: none), the body bytes sent and the seconds."""
    host, port = url.split("://", 1)[1].split("/")[0].split(":")
    chunk, sent, answer, start = b"a" * CHUNK, 0, b"", time.monotonic()
    head = [f"POST {path} HTTP/1.1", f"Host: {host}:{port}", "Content-Type: application/json",
            "Transfer-Encoding: chunked", *([f"Cookie: {cookie}"] if cookie else [])]
    with socket.create_connection((host, int(port)), timeout=SEND_LIMIT_S) as sock:
        try:
            sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
            while sent < total and time.monotonic() - start < SEND_LIMIT_S and not select.select([sock], [], [], 0)[0]:
                sock.settimeout(max(0.1, SEND_LIMIT_S - (time.monotonic() - start)))
                sock.sendall(b"%x\r\n" % CHUNK + (b'{"drawing":"' + chunk[12:] if not sent else chunk) + b"\r\n")
                sent += CHUNK
            if sent >= total:
                sock.sendall(b"0\r\n\r\n")
        except OSError:  # the server closed, or stopped reading until the time ran out
            pass
        try:
            while b"\r\n" not in answer and time.monotonic() - start < SEND_LIMIT_S:
                sock.settimeout(max(0.1, SEND_LIMIT_S - (time.monotonic() - start)))
                if not (data := sock.recv(65536)):
                    break
                answer += data
        except OSError:
            pass
    parts = answer.split(b" ", 2)
    status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
    return {"status": status, "sent_bytes": sent, "seconds": round(time.monotonic() - start, 2)}


def memory_round(url: str, tree, own, path: str, total: int, cookie: str | None) -> dict:
    """One chunked send, with the memory before it, 1 s after its answer, and the peaks sampled during it."""
    pss0, rss0 = pss_mb(tree()), rss_mb(own())
    with MemorySampler(tree, interval=0.01) as whole, MemorySampler(own, interval=0.01) as server:
        result = chunked_send(url, path, total, cookie)
    time.sleep(1.0)
    pids = tree()
    return {**result, "pss_mb_before": round(pss0, 1), "pss_growth_mb": round(pss_mb(pids) - pss0, 1),
            "pss_peak_growth_mb": round(whole.peak_pss_mb - pss0, 1), "server_rss_mb_before": round(rss0, 1),
            "server_rss_growth_mb": round(rss_mb(own()) - rss0, 1),
            "server_rss_peak_growth_mb": round(server.peak_rss_mb - rss0, 1), "processes": len(pids)}


def median(values: list) -> float | None:
    values = [v for v in values if v is not None]
    return round(statistics.median(values), 2) if values else None


def run(url: str, tree, own, args: argparse.Namespace) -> dict:
    cookie = pupil_cookie(url)  # asked for first: a new identity may not send at once
    rounds = [latency_round(url, args, r) for r in range(args.rounds)]
    head, tail, points = largest_drawing(random.Random(args.seed))
    result: dict = {"rounds": args.rounds, "clients": args.clients, "seconds": args.seconds, "drawing": {
        "points": points, "strokes": STROKES, "json_chars": len(request_body(head, tail, 1, "[0,0]")),
        "max_points": MAX_POINTS, "max_json_chars": MAX_JSON_CHARS}}
    for phase in ("quiet", "loaded"):
        result[phase] = {k: median([r[phase][k] for r in rounds]) for k in ("p50_ms", "p95_ms", "max_ms")}
        result[phase].update({k: sum(r[phase][k] for r in rounds) for k in ("requests", "errors")})
    for k in ("p50", "p95"):
        quiet, loaded = result["quiet"][f"{k}_ms"], result["loaded"][f"{k}_ms"]
        result[f"ratio_{k}"] = round(loaded / quiet, 2) if quiet and loaded else None
    result["flood_answers"] = dict(sum((Counter(r["flood"]) for r in rounds), Counter()))
    result["body_bytes"], result["pupil_identity"] = args.body_mib * 2**20, cookie is not None
    for key, path in ROUTES.items():
        sends = [memory_round(url, tree, own, path, result["body_bytes"], cookie) for _ in range(args.rounds)]
        result[key] = {k: median([s[k] for s in sends]) for k in sends[0] if k != "status"}
        result[key]["statuses"] = [s["status"] for s in sends]
    return result


def report(r: dict) -> str:
    d = r["drawing"]
    lines = [f"hostile traffic, medians of {r['rounds']} rounds",
             *(f"  health {name:8s} p50 {x['p50_ms']} ms   p95 {x['p95_ms']} ms   max {x['max_ms']} ms   "
               f"({x['requests']} requests, {x['errors']} errors)" for name in ("quiet", "loaded") for x in [r[name]]),
             f"  ratio loaded/quiet   p50 {r['ratio_p50']}   p95 {r['ratio_p95']}",
             f"    the flood: {r['clients']} clients × the largest drawing ({d['points']:,} points of MAX_POINTS "
             f"{d['max_points']:,}, {d['json_chars']:,} of {d['max_json_chars']:,} JSON chars, every view); "
             f"answers {r['flood_answers']}",
             f"  one {r['body_bytes'] // 2**20} MiB chunked body (no Content-Length"
             f"{', a pupil identity from /convscope/room/hello' if r['pupil_identity'] else ''}); memory growth 1 s "
             "after the answer (peak during):"]
    for key, path in ROUTES.items():
        s = r[key]
        lines.append(
            f"    {path:22s} answered {s['statuses']} after {s['sent_bytes']:,.0f} bytes sent ({s['seconds']} s); "
            f"tree PSS {s['pss_growth_mb']:+} MB (peak {s['pss_peak_growth_mb']:+}) of {s['pss_mb_before']:,.0f} MB "
            f"({s['processes']:.0f} processes), server process RSS {s['server_rss_growth_mb']:+} MB (peak "
            f"{s['server_rss_peak_growth_mb']:+}) of {s['server_rss_mb_before']:,.0f} MB")
    return "\n".join(lines)


def local_servers() -> list[int]:
    """Every local ``python -m demo`` process (for ``--url``)."""
    found = subprocess.run(["pgrep", "-f", "--", r"-m demo( |$)"], capture_output=True, text=True).stdout.split()
    return sorted(int(p) for p in found)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.hostile", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=3, help="rounds; figures are their medians (default: 3)")
    p.add_argument("--clients", type=int, default=8, help="hostile clients flooding the live route (default: 8)")
    p.add_argument("--seconds", type=float, default=8.0, help="seconds of health probing per phase (default: 8)")
    p.add_argument("--body-mib", type=int, default=64, help="size of the chunked body in MiB (default: 64)")
    p.add_argument("--seed", type=int, default=0, help="random seed of the drawings (default: 0)")
    p.add_argument("--url", help="measure an app already running there instead of starting one (default: none)")
    p.add_argument("--json", action="store_true", help="also print the figures as JSON (default: off)")
    args = p.parse_args(argv)
    if args.url:
        url = args.url.rstrip("/")
        result = run(url, lambda: sorted({c for s in local_servers() for c in process_tree(s)}), local_servers, args)
    else:
        with running_app(CLASSROOM_ARGS) as url:
            wait_for_live_workers(url)
            result = run(url, lambda: process_tree(url.pid), lambda: [url.pid], args)
    print(report(result))
    if args.json:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
