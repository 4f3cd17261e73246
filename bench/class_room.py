"""Every pupil of a class drawing on the live pad sends one drawing to the class room; the teacher's page watches.

    python -m bench.class_room [--pupils 60] [--window 10] [--drawings 6] [--rounds 3] [--baseline-rounds 1]
                               [--seed 0] [--workers N] [--url URL --token TOKEN] [--timeout 30] [--poll] [--json]

Starts ``python -m demo --classroom`` (its teacher token in its environment; or measures ``--url`` with its
``--token``), waits
for its live workers and warms them up (one pupil, two digits; not reported). On that server, first the baseline:
bench/live_classroom.py's class (``--pupils`` pupils drawing ``--drawings`` digits each, sending what the pad sends)
alone. Then ``--rounds`` rounds, the room cleared before each (the teacher's "clear"): the same class, and meanwhile
each pupil presses "Send to class" once at a uniformly random moment in the first ``--window`` s and does what
demo/page/static/send.js does (an example digit of the project with that digit as "meant", a nickname, the identity
cookie its page got from ``/convscope/room/hello`` when it opened, before the round; after a 503, or a 429 with
limit "room", it waits max(1, retry_after) × 0.5-1.5 s and tries again, 6 attempts in
all; any other refusal ends it). A teacher's page asks ``/convscope/room/state`` as demo/page/static/room.js does
(version and have; one request in flight at a time; the page stays open across
rounds) and notes when each drawing first shows in its gallery. By default the teacher's page is told of each change
by the room's event stream (``/convscope/room/events``) and asks then, as room.js does; ``--poll`` measures the page
without the stream.

Reported (medians of the rounds; counts summed, maxima the largest): sends accepted of sent, retries and refusals by
reason, send latency (the answered request -> 200; press -> 200, retries included), the gallery's delay (the send's
200 -> the first poll answer showing it) and press -> shown (p50/p95/max), whether the room holds exactly the
accepted drawings, labelled as the send answered (meant, nickname, strokes as sent once the room has simplified
them), the teacher's bytes per poll
(bodies on the wire), the live figures with sends and their ratio to the baseline's, the server's CPU.

``--drawings 6`` (live_classroom.py draws 4) keeps the class drawing through the window and the retries, so no send
meets an idle server (the report says how long the class drew). Every request has a timeout, the wait for the gallery
is bounded (SHOWN_WAIT_S), and a started server is always stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

from bench.live_classroom import Stats, classroom, local_app_pids
from demo.page.pad import pad_examples
from demo.server.identity import FIRST_SEND_AFTER_S
from demo.server.room_strokes import simplify_drawing
from demo.views.theme import PAD_SIZE, PEN_DEFAULT, ROOM_POLL_MS
from tests.harness import (
    CLASSROOM_TOKEN,
    HttpError,
    KeepAliveConnection,
    cpu_seconds,
    measured_on_app,
    percentile,
)

ROOM = "/convscope/room"
SEND_ATTEMPTS = 6  # send.js: a busy room or busy workers are tried again, at most 6 attempts in all
SHOWN_WAIT_S = 10.0  # after the last send: how long the teacher's page may take to show every accepted drawing
NETWORK_ERRORS = (TimeoutError, OSError, HttpError, asyncio.IncompleteReadError)
JSON_HEADERS = {"Content-Type": "application/json", "Accept-Encoding": "gzip"}


def decode(headers: dict[str, str], data: bytes) -> dict:
    """An answer's JSON object ({} for anything else: a proxy's error page is an answer too)."""
    try:
        answer = json.loads(gzip.decompress(data) if headers.get("content-encoding") == "gzip" else data)
    except (ValueError, OSError, EOFError):  # not JSON, or not gzip after all
        return {}
    return answer if isinstance(answer, dict) else {}


def spread(name: str, seconds: list[float], top: bool = True) -> dict[str, float | None]:
    """p50, p95 (and the max) in ms, nearest rank: every figure was measured."""
    qs = {"p50": 0.5, "p95": 0.95, **({"max": 1.0} if top else {})}
    return {f"{name}_{q}_ms": round(1000 * percentile(sorted(seconds), f), 1) if seconds else None
            for q, f in qs.items()}


@dataclass
class Send:
    """One pupil's press of "Send to class" and what came of it (times are perf_counter seconds)."""

    pupil: str  # the identity cookie ("name=value") the pupil's page holds
    nickname: str
    meant: int
    drawing: dict
    at: float  # seconds after the round's start
    pressed: float = 0.0
    requested: float = 0.0  # the start of the attempt that was answered 200
    answered: float | None = None
    answer: dict | None = None
    failure: str | None = None
    retries: list[str] = field(default_factory=list)


async def send(url: str, s: Send, start: float, timeout: float, rng: random.Random) -> None:
    """What send.js does when the pupil presses the button, on a connection of its own (a browser opens another)."""
    await asyncio.sleep(max(0.0, start + s.at - time.perf_counter()))
    body = json.dumps({"drawing": s.drawing, "meant": s.meant, "nickname": s.nickname}).encode()
    http = KeepAliveConnection(url)
    send_headers = {**JSON_HEADERS, "Cookie": s.pupil}
    s.pressed = time.perf_counter()
    try:
        for attempt in range(SEND_ATTEMPTS):
            s.requested = time.perf_counter()
            try:
                status, headers, data = await http.request("POST", f"{ROOM}/send", body, send_headers, timeout)
            except NETWORK_ERRORS as error:  # send.js: "could not be reached", no retry
                s.failure = "timeout" if isinstance(error, TimeoutError) else type(error).__name__
                return
            answer = decode(headers, data)
            if status == 200:
                s.answered, s.answer = time.perf_counter(), answer
                return
            reason = f"{status} {answer['limit']}" if answer.get("limit") else f"{status}"
            if not (status == 503 or answer.get("limit") == "room") or attempt == SEND_ATTEMPTS - 1:
                s.failure = " after ".join([reason, *s.retries[::-1]])  # the refusal, then what came before it
                return
            s.retries.append(reason)
            await asyncio.sleep(max(1.0, float(answer.get("retry_after") or 1)) * rng.uniform(0.5, 1.5))
    finally:
        await http.close()


async def events(url: str, headers: dict[str, str], timeout: float) -> AsyncIterator[None]:
    """One per ``event: version`` on the room's event stream (demo/server/room_events.py), as room.js reads it;
    ends with the stream. A plain HTTP/1.1 reader of its chunked body, bounded by ``timeout`` per read."""
    parts = urlsplit(url)
    reader, writer = await asyncio.wait_for(asyncio.open_connection(parts.hostname, parts.port), timeout)
    try:
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items() if k != "Accept-Encoding")
        writer.write(f"GET {ROOM}/events HTTP/1.1\r\nHost: {parts.netloc}\r\n{head}\r\n".encode())
        await writer.drain()
        status = await asyncio.wait_for(reader.readline(), timeout)
        if b" 200 " not in status:
            raise HttpError(f"the event stream was answered {status!r}")
        while (await asyncio.wait_for(reader.readline(), timeout)).strip():
            pass  # the headers
        text = ""
        while size := int((await asyncio.wait_for(reader.readline(), timeout)).strip() or b"0", 16):
            text += (await asyncio.wait_for(reader.readexactly(size + 2), timeout))[:-2].decode()
            while "\n\n" in text:
                message, text = text.split("\n\n", 1)
                if "event: version" in message.splitlines():
                    yield None
    finally:
        writer.close()


class Teacher:
    """The teacher's projector page (room.js); it stays open across rounds, as in a lesson. ``push``: told of each
    change by the event stream, asking only then (room.js); else polling every ROOM_POLL_MS (room.js without the
    stream)."""

    def __init__(self, token: str, push: bool = True) -> None:
        self.push = push
        self.again = False
        self.headers = {"X-Teacher-Token": token, "Accept-Encoding": "gzip"}
        self.version: int | None = None
        self.have = 0
        self.strokes: dict[int, dict] = {}  # drawing id -> its drawing, as the page keeps them
        self.drawings: list[dict] = []  # what the gallery shows
        self.polling = False
        self.new_round()

    def new_round(self) -> None:
        """What is counted starts again (the page keeps its version, have and strokes)."""
        self.shown_at: dict[int, float] = {}  # drawing id -> when the gallery first showed it
        self.wire: list[int] = []  # each answer's body on the wire (gzipped as sent)
        self.changed_wire: list[int] = []
        self.polls = self.skipped = self.errors = 0

    async def refresh(self, http: KeepAliveConnection, timeout: float) -> None:
        query = urlencode({"have": self.have} if self.version is None else {"version": self.version, "have": self.have})
        self.polls += 1
        try:
            status, headers, data = await http.request("GET", f"{ROOM}/state?{query}", b"", self.headers, timeout)
        except NETWORK_ERRORS:
            self.errors += 1
            return
        finally:
            self.polling = False
        self.wire.append(len(data))
        state = decode(headers, data)
        if status != 200 or "version" not in state:
            self.errors += 1
            return
        if state.get("unchanged"):
            return
        self.changed_wire.append(len(data))
        for key, drawing in state["strokes"].items():
            self.strokes[int(key)] = drawing
            self.have = max(self.have, int(key))
        self.drawings = [d for d in state["drawings"] if d["id"] in self.strokes]  # the page shows only these
        self.version = state["version"]
        now = time.perf_counter()
        for d in self.drawings:
            self.shown_at.setdefault(d["id"], now)
        if state.get("more"):  # room.js asks for the next page of strokes at once
            await self.refresh(http, timeout)

    async def listen(self, url: str, http: KeepAliveConnection, stop: asyncio.Event, timeout: float) -> None:
        """room.js's listen(): each announced change refresh()es at once, or once more after the one in flight."""
        tasks: list[asyncio.Task[None]] = []

        async def refreshing() -> None:
            while True:
                self.again = False
                await self.refresh(http, timeout)
                if not self.again:
                    return
                self.polling = True

        async def follow() -> None:
            async for _ in events(url, self.headers, timeout):
                if self.polling:
                    self.again = True
                else:
                    self.polling = True
                    tasks.append(asyncio.create_task(refreshing()))

        stream = asyncio.create_task(follow())
        await stop.wait()
        stream.cancel()
        await asyncio.gather(stream, *tasks, return_exceptions=True)

    async def watch(self, http: KeepAliveConnection, stop: asyncio.Event, timeout: float, url: str = "") -> None:
        """refresh() now and then every ROOM_POLL_MS (setInterval), skipped while the previous one is in flight; with
        ``push``, :meth:`listen` instead."""
        if self.push:
            await self.listen(url, http, stop, timeout)
            return
        task, tick = None, time.perf_counter()
        while not stop.is_set():
            if self.polling:
                self.skipped += 1
            else:  # one poll in flight at most (room.js's `polling`), so one connection serves them all
                self.polling = True
                task = asyncio.create_task(self.refresh(http, timeout))
            tick += ROOM_POLL_MS / 1000
            try:
                await asyncio.wait_for(stop.wait(), max(0.0, tick - time.perf_counter()))
            except TimeoutError:
                pass
        if task is not None:
            await task


def live_figures(stats: Stats, seconds: float) -> dict:
    served = len(stats.live_bytes) + len(stats.settled_bytes) + len(stats.clear_bytes)
    return {**spread("settle", [t / 1000 for t in stats.settle_ms], top=False),
            "live_updates_per_drawing_median": statistics.median(stats.live_per_drawing or [0]),
            "updates_per_s": round(served / seconds, 1), "class_seconds": round(seconds, 1),
            "live_errors": sum(stats.errors.values()), "live_errors_by_kind": stats.errors,
            "read_right": stats.read_right, "settled": len(stats.settle_ms)}


_identities: dict[tuple[str, int], str] = {}  # (app, pupil number) -> the cookie that pupil's page holds


def stored(drawing: dict) -> list:
    """A sent drawing's strokes as the room keeps them: at the pad's 0.1 px, simplified (demo/server/room_strokes)."""
    rounded = [[[round(x, 1), round(y, 1)] for x, y in stroke] for stroke in drawing["strokes"]]
    return simplify_drawing({**drawing, "strokes": rounded})["strokes"]


async def join(http: KeepAliveConnection, url: str, pupil: int, timeout: float) -> str:
    """What a pupil's page does when it opens (once a lesson, so once for all rounds): asks for its identity; the
    cookie ("name=value") it got."""
    if (url, pupil) not in _identities:
        status, headers, data = await http.request("POST", f"{ROOM}/hello", b"", {}, timeout)
        if status != 200 or "set-cookie" not in headers:
            raise RuntimeError(f"hello was answered {status}: {data[:200]!r}")
        _identities[url, pupil] = headers["set-cookie"].split(";", 1)[0]
    return _identities[url, pupil]


async def one_round(url: str, args: argparse.Namespace, r: int, teacher: Teacher | None) -> dict:
    """The live class (seed ``args.seed + r``) and, with a teacher, the sends and the teacher's page."""
    live_args = argparse.Namespace(**{**vars(args), "seed": args.seed + r, "views": "screen"})
    if teacher is None:
        return live_figures(*await classroom(url, live_args))
    rng = random.Random(args.seed * 7919 + r)
    pad = {"w": PAD_SIZE, "h": PAD_SIZE, "pen": PEN_DEFAULT}  # what window.convscopePad.drawing() gives
    http = KeepAliveConnection(url)
    sends = [Send(await join(http, url, n, args.timeout), f"Pupil {n + 1}", e["digit"],
                  {**pad, "strokes": e["strokes"]}, rng.uniform(0, args.window))
             for n, e in enumerate(rng.choice(pad_examples()[0]) for _ in range(args.pupils))]
    await asyncio.sleep(FIRST_SEND_AFTER_S)  # the pages opened before the round
    status, _, data = await http.request("POST", f"{ROOM}/teacher", b'{"action":"clear"}',
                                         {**teacher.headers, "Content-Type": "application/json"}, args.timeout)
    if status != 200:
        raise RuntimeError(f"the teacher's clear was answered {status}: {data[:200]!r}")
    await teacher.refresh(http, args.timeout)  # as room.js's act() does after an action
    teacher.new_round()
    stop = asyncio.Event()
    start = time.perf_counter()
    watching = asyncio.create_task(teacher.watch(http, stop, args.timeout, url))
    live = asyncio.create_task(classroom(url, live_args))
    await asyncio.gather(*(send(url, s, start, args.timeout, random.Random(rng.random())) for s in sends))
    sends_done = time.perf_counter() - start
    accepted = [s for s in sends if s.answer is not None]
    deadline = time.perf_counter() + SHOWN_WAIT_S
    while any(s.answer["id"] not in teacher.shown_at for s in accepted) and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)
    stats, seconds = await live
    stop.set()
    await watching
    await http.close()
    # What the teacher's page holds now: the room's drawings (each with its strokes), as the last poll gave them.
    room = {d["id"]: d for d in teacher.drawings}
    shown = [s for s in accepted if s.answer["id"] in teacher.shown_at]
    delay = [teacher.shown_at[s.answer["id"]] - s.answered for s in shown]
    press_to_shown = [teacher.shown_at[s.answer["id"]] - s.pressed for s in shown]
    return {
        **live_figures(stats, seconds), "sent": len(sends), "accepted": len(accepted),
        "refused_by_reason": dict(Counter(s.failure for s in sends if s.failure)),
        "retries_by_reason": dict(Counter(reason for s in sends for reason in s.retries)),
        **spread("send", [s.answered - s.requested for s in accepted], top=False),
        **spread("press_to_answer", [s.answered - s.pressed for s in accepted], top=False),
        **spread("gallery_delay", delay), **spread("press_to_shown", press_to_shown),
        "not_shown": len(accepted) - len(shown),
        "label_as_answered": sum(room.get(s.answer["id"], {}).get("label") == s.answer["label"] for s in accepted),
        "stored_as_sent": sum(room.get(s.answer["id"], {}).get("meant") == s.meant
                              and room[s.answer["id"]]["nickname"] == s.nickname
                              and teacher.strokes.get(s.answer["id"], {}).get("strokes") == stored(s.drawing)
                              for s in accepted),
        "room_holds_exactly_accepted": sorted(room) == sorted(s.answer["id"] for s in accepted),
        "polls": teacher.polls, "poll_ticks_skipped": teacher.skipped, "poll_errors": teacher.errors,
        "poll_bytes_mean": round(statistics.mean(teacher.wire), 1) if teacher.wire else None,
        "changed_poll_bytes_mean": round(statistics.mean(teacher.changed_wire), 1) if teacher.changed_wire else None,
        "poll_bytes_max": max(teacher.wire, default=None),
        "last_press_s": round(max(s.at for s in sends), 2), "sends_done_s": round(sends_done, 2),
    }


def measured(url: str, pids_of, args: argparse.Namespace, r: int, teacher: Teacher | None) -> dict:
    """One round with the server's CPU over it (cores busy: the web server and its workers together)."""
    pids, wall = pids_of(), time.perf_counter()
    cpu = cpu_seconds(pids)
    result = asyncio.run(one_round(url, args, r, teacher))
    result["server_cpu_cores"] = round((cpu_seconds(pids_of()) - cpu) / (time.perf_counter() - wall), 2)
    return result


COUNTS = {"sent", "accepted", "not_shown", "label_as_answered", "stored_as_sent", "room_holds_exactly_accepted",
          "polls", "poll_ticks_skipped", "poll_errors", "live_errors", "read_right", "settled"}


def combine(rounds: list[dict]) -> dict:
    """Medians of the figures; counts summed and maxima the largest, so no failure or outlier is hidden."""
    out: dict = {}
    for key, value in rounds[0].items():
        values = [r[key] for r in rounds]
        present = [v for v in values if v is not None]
        if isinstance(value, dict):
            out[key] = dict(sum((Counter(v) for v in values), Counter()))
        elif key in COUNTS:
            out[key] = sum(values)
        elif key.endswith("max_ms") or key.endswith("max"):
            out[key] = max(present, default=None)
        else:
            out[key] = round(statistics.median(present), 2) if present else None
    return out


def ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a and b else None


def show(r: dict, name: str) -> str:
    return "  ".join(f"{q} {r[f'{name}_{q}_ms']} ms" for q in ("p50", "p95", "max") if f"{name}_{q}_ms" in r)


def report(r: dict, b: dict, args: argparse.Namespace) -> str:
    rounds = "; ".join(f"{x['accepted']}/{x['sent']} accepted, gallery p95 {x['gallery_delay_p95_ms']} ms, "
                       f"settled p95 {x['settle_p95_ms']} ms" for x in r["per_round"])
    live = [f"pen-up -> settled {show(x, 'settle')}; {x['live_updates_per_drawing_median']} live updates per "
            f"drawing; {x['updates_per_s']} updates/s; errors {x['live_errors']} "
            f"{x['live_errors_by_kind'] or ''}".rstrip() for x in (r, b)]
    return "\n".join([
        f"{args.pupils} pupils drawing {args.drawings} digits each on the live pad, each sending one drawing in the "
        f"first {args.window:g} s: medians of {r['rounds']} round(s), counts summed ({rounds})",
        f"  sends accepted           {r['accepted']}/{r['sent']}; retries {r['retries_by_reason'] or 'none'}; "
        f"refused for good {r['refused_by_reason'] or 'none'}",
        f"  send latency             request -> 200 {show(r, 'send')}; press -> 200 (retries included) "
        f"{show(r, 'press_to_answer')}",
        f"  teacher's gallery        send's 200 -> shown {show(r, 'gallery_delay')} "
        f"({f'polled every {ROOM_POLL_MS} ms' if args.poll else 'pushed: server-sent events'})",
        f"                           press -> shown {show(r, 'press_to_shown')}; not shown within {SHOWN_WAIT_S:g} s "
        f"after the last send: {r['not_shown']}",
        f"  the room                 label as the send answered {r['label_as_answered']}/{r['accepted']}; meant, "
        f"nickname and strokes as sent {r['stored_as_sent']}/{r['accepted']}; held exactly the accepted drawings "
        f"in {r['room_holds_exactly_accepted']}/{r['rounds']} rounds",
        f"  teacher's polls          {r['polls']} polls, {r['poll_errors']} errors, {r['poll_ticks_skipped']} ticks "
        f"skipped (a poll still in flight); {r['poll_bytes_mean']} bytes per poll on average (answers with news "
        f"{r['changed_poll_bytes_mean']}, largest {r['poll_bytes_max']})",
        f"  live pad, with sends     {live[0]}",
        f"  live pad, no sends       {live[1]} (baseline, {b['rounds']} round(s))",
        f"  with / without sends     p50 × {ratio(r['settle_p50_ms'], b['settle_p50_ms'])}, p95 × "
        f"{ratio(r['settle_p95_ms'], b['settle_p95_ms'])}, live updates per drawing × "
        f"{ratio(r['live_updates_per_drawing_median'], b['live_updates_per_drawing_median'])}",
        f"  timing                   last press at {r['last_press_s']} s, last send done at {r['sends_done_s']} s, "
        f"the class drew for {r['class_seconds']} s (baseline {b['class_seconds']} s); server "
        f"{r['server_cpu_cores']} cores busy (baseline {b['server_cpu_cores']})",
        f"  read right               {r['read_right']}/{r['settled']} settled live drawings (with sends, all rounds)",
    ])


def run(url: str, pids_of, args: argparse.Namespace) -> dict:
    # A warm-up, so that the baseline does not pay for the workers' first drawings (caches, lazy imports) alone.
    asyncio.run(classroom(url, argparse.Namespace(**{**vars(args), "pupils": 1, "drawings": 2, "views": "screen"})))
    baseline = combine([measured(url, pids_of, args, r, None) for r in range(args.baseline_rounds)])
    baseline["rounds"] = args.baseline_rounds
    teacher = Teacher(args.token, push=not args.poll)
    rounds = [measured(url, pids_of, args, r, teacher) for r in range(args.rounds)]
    result = {**combine(rounds), "rounds": args.rounds, "per_round": rounds, "baseline": baseline}
    result["ok"] = (result["accepted"] == result["sent"] and not result["not_shown"] and not result["live_errors"]
                    and result["label_as_answered"] == result["stored_as_sent"] == result["accepted"]
                    and result["room_holds_exactly_accepted"] == args.rounds and not result["poll_errors"])
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.class_room", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    add = p.add_argument
    add("--pupils", type=int, default=60, help="pupils drawing live, each sending once (default: 60)")
    add("--window", type=float, default=10.0, help="seconds in which every pupil presses Send (default: 10)")
    add("--drawings", type=int, default=6, help="digits each pupil draws on the live pad per round (default: 6)")
    add("--rounds", type=int, default=3, help="rounds with sends; figures are their medians (default: 3)")
    add("--baseline-rounds", type=int, default=1, help="rounds of the live class alone (default: 1)")
    add("--workers", type=int, help="--workers for the started app (default: the app's own default)")
    add("--url", help="measure an app already running there instead of starting one (default: none)")
    add("--token", help="with --url: that app's teacher token (default: none)")
    add("--timeout", type=float, default=30.0, help="seconds before a request counts as failed (default: 30)")
    add("--seed", type=int, default=0, help="random seed of the first round (default: 0)")
    add("--json", action="store_true", help="also print the figures as JSON (default: off)")
    add("--poll", action="store_true", help="the teacher's page polls once a second, as room.js does without the "
                                            "event stream (default: off, the stream as room.js uses it)")
    args = p.parse_args(argv)
    if args.url and not args.token:
        p.error("--url needs --token, the teacher token of that app")
    if args.url:
        result = run(args.url.rstrip("/"), local_app_pids, args)
    else:
        args.token = CLASSROOM_TOKEN  # running_app gives the app this token in its environment
        extra = ["--classroom"]
        extra += ["--workers", str(args.workers)] if args.workers is not None else []
        result = measured_on_app(extra, lambda url, pids_of: run(url, pids_of, args))
    print(report(result, result["baseline"], args))
    if args.json:
        print(json.dumps(result))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
