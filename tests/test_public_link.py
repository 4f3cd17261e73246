"""A public link meets strangers: what one hostile client can do to the app and to everyone else, tried over HTTP.

Each test is one hole a stranger could use: deleting the page's files by naming them, filling the teacher's room by
inventing ids, exhausting memory with an endless body, keeping the web server from answering, reading the teacher's
secret, or relying on Gradio internals that an upgrade changes silently.
"""

from __future__ import annotations

import io
import os
import re
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from PIL import Image

import demo.page.ui
from demo.page.pad import pad_examples
from demo.server import identity
from demo.server.routes import BodyLimit, app_kwargs, check_mounted
from demo.server.work import WorkPool
from tests.harness import CLASSROOM_TOKEN, ROOT, free_port, process_tree, rss_mb, run_async, running_app
from tests.test_bad_input import call

TEACHER = {"X-Teacher-Token": CLASSROOM_TOKEN}
MIB = 1024 * 1024


def png() -> bytes:
    image = Image.new("L", (140, 140), 255)
    image.paste(0, (62, 20, 78, 120))  # a "1"
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def a_drawing(digit: int = 1) -> dict:
    strokes = next(e for e in pad_examples()[0] if e["digit"] == digit)["strokes"]
    return {"w": 280, "h": 280, "pen": 20, "seq": 1, "strokes": strokes}


def file_paths(config: Any) -> set[str]:
    """Every server file path the page's config names (Gradio's cached samples and examples)."""
    found: set[str] = set()
    if isinstance(config, dict):
        path = config.get("path")
        if isinstance(path, str) and isinstance(config.get("url"), str) and not path.startswith(("http:", "https:")):
            found.add(path)
        for value in config.values():
            found |= file_paths(value)
    elif isinstance(config, list):
        for value in config:
            found |= file_paths(value)
    return found


def stream_endless_body(url: str, path: str, total: int = 64 * MIB, chunk: int = 64 * 1024) -> tuple[int, int]:
    """Posts ``total`` bytes with chunked transfer encoding (no Content-Length) until the server answers or hangs
    up; returns (the status it answered, bytes sent)."""
    host, port = url.removeprefix("http://").split(":")
    sent = 0
    with socket.create_connection((host, int(port)), timeout=20) as sock:
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\n"
                     "Content-Type: application/json\r\n\r\n".encode())
        block = b"%x\r\n" % chunk + b"[" * chunk + b"\r\n"
        try:
            while sent < total:
                sock.sendall(block)
                sent += chunk
        except OSError:  # the server answered and closed the connection
            pass
        reply = sock.recv(64)
    return int(reply.split()[1]), sent


# ------------------------------------------------------------------------------------------------ files

@pytest.mark.server
def test_no_request_deletes_a_file_the_page_shows(app_server):
    """Naming a cached file (every path is in /config) in /predict reads it; the file stays for every page."""
    with httpx.Client(base_url=app_server, timeout=60) as http:
        paths = sorted(file_paths(http.get("/config").json()))
        assert paths, "the page shows no cached file to try"
        for path in paths[:10]:
            call(http, "predict", [{"path": path, "meta": {"_type": "gradio.FileData"}}])
        for path in paths[:10]:
            assert http.get(f"/gradio_api/file={path}").status_code == 200, path


def test_gradio_removes_old_uploads_and_keeps_the_page_s_own_files(clf, tmp_path, monkeypatch):
    """Uploads are removed by Gradio's own clean-up once older than its age (here 2 s); the samples the page shows
    are kept, however old."""
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "uploads"))
    monkeypatch.setattr(demo.page.ui, "DELETE_CACHE", (1, 2))
    demo.page.ui.configure_gradio()
    samples = [(np.full((28, 28), 40 * i, dtype=np.uint8), i) for i in range(3)]
    app = demo.page.ui.build_app(clf, samples)
    port = free_port()
    app.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
               **demo.page.ui.launch_options())
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            cached = sorted(file_paths(http.get("/config").json()))
            uploaded = http.post("/gradio_api/upload", files={"files": ("one.png", png(), "image/png")}).json()[0]
            kind, result = call(http, "predict", [{"path": uploaded, "meta": {"_type": "gradio.FileData"}}])
            assert kind == "complete" and result[0]["label"] == 1, result
            deadline = time.monotonic() + 20
            while Path(uploaded).exists() and time.monotonic() < deadline:
                time.sleep(0.5)
            assert not Path(uploaded).exists()
            assert cached and all(http.get(f"/gradio_api/file={p}").status_code == 200 for p in cached)
    finally:
        app.close()


# ------------------------------------------------------------------------------------------------ the room

def stored_sends(url: str, sends: int, seconds: float, pupil_ids: bool, hello: bool) -> int:
    """How many of ``sends`` sends spread over ``seconds`` the room stored, from one client."""
    stored = 0
    with httpx.Client(base_url=url, timeout=30) as http:
        if hello:
            assert http.post("/convscope/room/hello").status_code == 200
        start = time.monotonic()
        for i in range(sends):
            time.sleep(max(0.0, start + i * seconds / sends - time.monotonic()))
            body = {"drawing": a_drawing(), "meant": 1, **({"pupil": f"invented-{i}"} if pupil_ids else {})}
            stored += http.post("/convscope/room/send", json=body).status_code == 200
    return stored


@pytest.mark.server
def test_a_client_inventing_ids_cannot_fill_the_room(classroom_server):
    assert stored_sends(classroom_server, 30, 10.0, pupil_ids=True, hello=True) <= 5
    assert stored_sends(classroom_server, 10, 1.0, pupil_ids=True, hello=False) == 0
    with httpx.Client(base_url=classroom_server, timeout=30) as http:
        http.cookies.set(identity.COOKIE, "made-up.1700000000.AAAAAAAAAAAAAAAAAAAAAAAA", path="/convscope/room")
        answer = http.post("/convscope/room/send", json={"drawing": a_drawing()})
    assert answer.status_code == 401 and answer.json()["identity"] == "missing"


@pytest.mark.server
def test_the_teacher_blocks_a_sender(classroom_server):
    with httpx.Client(base_url=classroom_server, timeout=30) as rude, \
            httpx.Client(base_url=classroom_server, timeout=30) as kind:
        for client in (rude, kind):
            assert client.post("/convscope/room/hello").status_code == 200
        time.sleep(identity.FIRST_SEND_AFTER_S)
        sent = rude.post("/convscope/room/send", json={"drawing": a_drawing(), "nickname": "rude"})
        assert sent.status_code == 200, sent.text
        blocked = httpx.post(f"{classroom_server}/convscope/room/teacher", headers=TEACHER,
                             json={"action": "block", "id": sent.json()["id"]})
        assert blocked.status_code == 200 and blocked.json()["changed"] is True
        shown = httpx.get(f"{classroom_server}/convscope/room/state", headers=TEACHER).json()["drawings"]
        assert sent.json()["id"] not in [d["id"] for d in shown]
        time.sleep(3.1)  # past the per-pupil interval, so only the block can refuse
        again = rude.post("/convscope/room/send", json={"drawing": a_drawing()})
        assert again.status_code == 403 and again.json()["limit"] == "blocked"
        assert kind.post("/convscope/room/send", json={"drawing": a_drawing()}).status_code == 200


@pytest.mark.server
def test_forwarded_addresses_are_trusted_only_from_this_machine(classroom_server):
    """Issuing identities is limited per client address. Behind the balancer (on 127.0.0.1) each pupil's forwarded
    address counts on its own; a client elsewhere (here 127.0.0.2) cannot pretend to be many by naming them."""
    port = int(classroom_server.rsplit(":", 1)[1])

    def hello(source: str, forwarded: str) -> int:
        with socket.create_connection(("127.0.0.1", port), timeout=10, source_address=(source, 0)) as sock:
            sock.sendall(f"POST /convscope/room/hello HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
                         f"X-Forwarded-For: {forwarded}\r\nConnection: close\r\n\r\n".encode())
            return int(sock.recv(64).split()[1])

    burst = identity.IssueLimiter().burst
    assert [hello("127.0.0.1", f"10.20.{i // 250}.{i % 250}") for i in range(burst + 5)] == [200] * (burst + 5)
    from_elsewhere = [hello("127.0.0.2", f"10.30.{i // 250}.{i % 250}") for i in range(burst + 5)]
    assert from_elsewhere[:burst] == [200] * burst and set(from_elsewhere[burst:]) == {429}


# ------------------------------------------------------------------------------------------------ bodies

@pytest.mark.server
@pytest.mark.parametrize("path", ["/convscope/room/send", "/convscope/live", "/convscope/predict",
                                  "/gradio_api/queue/join"])
def test_endless_bodies_are_refused_while_they_stream(classroom_server, path):
    tree = process_tree(classroom_server.pid)
    before = rss_mb(tree)
    status, sent = stream_endless_body(classroom_server, path)
    grown = rss_mb(tree) - before
    assert status == 413 and sent < 64 * MIB
    assert grown < 50, f"the server grew by {grown:.0f} MB"
    assert httpx.get(f"{classroom_server}/convscope/health").status_code == 200


def test_a_body_past_its_declared_or_streamed_cap_is_answered_413_before_the_app_reads_it():
    """BodyLimit on its own: the app behind it never sees more than the cap."""
    seen: list[int] = []

    async def app(scope, receive, send):
        total = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            total += len(message.get("body", b""))
            if not message.get("more_body"):
                break
        seen.append(total)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    async def run(headers: list, chunks: int) -> list[dict]:
        sent: list[dict] = []
        pending = [{"type": "http.request", "body": b"x" * 1000, "more_body": True} for _ in range(chunks)]

        async def receive():
            return pending.pop(0) if pending else {"type": "http.request", "body": b"", "more_body": False}

        async def send(message):
            sent.append(message)

        await BodyLimit(app, lambda path: 5000)({"type": "http", "path": "/x", "headers": headers}, receive, send)
        return sent

    declared = run_async(run([(b"content-length", b"999999")], 0))
    streamed = run_async(run([], 100))
    small = run_async(run([], 3))
    assert declared[0]["status"] == 413 and seen[0] <= 5000 + 1000
    assert streamed[0]["status"] == 413 and all(total <= 6000 for total in seen)
    assert small[0]["status"] == 200 and seen[-1] == 3000


# ------------------------------------------------------------------------------------------------ everyone else

@pytest.mark.server
def test_workers_yield_the_cpu_to_the_web_server(app_server):
    """Computing never starves the process that answers pages and health checks."""
    from tests.test_live_server import workers_of

    server = app_server.pid
    workers = workers_of(server)
    assert workers
    assert all(os.getpriority(os.PRIO_PROCESS, p) > os.getpriority(os.PRIO_PROCESS, server) for p in workers)


def test_routes_come_through_gradio_s_documented_launch_option(clf, tmp_path, monkeypatch):
    """ConvScope's routes are the first the app serves and its body cap runs on every request; check_mounted says
    loudly when a Gradio version stops passing launch(app_kwargs=...) on."""
    from fastapi import FastAPI

    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "uploads"))
    demo.page.ui.configure_gradio()
    pool = WorkPool("unused", workers=0, clf=clf)
    kwargs = app_kwargs(pool)
    app = demo.page.ui.build_app(clf)
    port = free_port()
    app.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, app_kwargs=kwargs)
    try:
        check_mounted(app.server_app, kwargs)
        assert httpx.get(f"http://127.0.0.1:{port}/convscope/health").json()["status"] == "ok"
    finally:
        app.close()
        pool.close()
    with pytest.raises(RuntimeError, match="app_kwargs"):
        check_mounted(FastAPI(), kwargs)


def test_no_gradio_internals_are_replaced_or_overridden():
    """No process-wide replacement of Gradio's classes, no override of its private methods, no editing of its
    router or upload sets."""
    source = "\n".join(p.read_text() for p in (ROOT / "demo").rglob("*.py"))
    for borrowed in ("state_holder", "SessionState", "_process_single_file", "upload_file_set", "temp_file_sets",
                     "routes.insert", "router.routes.append"):
        assert borrowed not in source, borrowed


# ------------------------------------------------------------------------------------------------ secrets

@pytest.mark.server
def test_the_teacher_token_is_never_in_a_command_line_or_a_log(classroom_server):
    for pid in process_tree(classroom_server.pid):
        try:
            assert CLASSROOM_TOKEN.encode() not in Path(f"/proc/{pid}/cmdline").read_bytes()
        except FileNotFoundError:
            continue
    log = classroom_server.log.read_text()
    assert CLASSROOM_TOKEN not in log
    line = re.search(r"Teacher: the address is in (\S+)", log)
    assert line, log[-2000:]
    link_file = Path(line.group(1))
    assert stat.S_IMODE(link_file.stat().st_mode) == 0o600
    assert link_file.read_text().strip().endswith(f"/#teacher={CLASSROOM_TOKEN}")


def test_a_token_on_the_command_line_is_refused():
    done = subprocess.run([sys.executable, "-m", "demo", "--classroom", "--teacher-token", "abcdefghij"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "CONVSCOPE_TEACHER_TOKEN" in done.stderr


@pytest.mark.server
@pytest.mark.slow
def test_a_token_file_is_made_private_and_read(tmp_path):
    token_file = tmp_path / "token"
    with running_app(["--classroom", "--teacher-token-file", str(token_file), "--workers", "0"]) as url:
        token = token_file.read_text().strip()
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600 and len(token) >= 16
        assert token != CLASSROOM_TOKEN  # the file wins over the environment
        assert httpx.get(f"{url}/convscope/room/state", headers={"X-Teacher-Token": token}).status_code == 200
