"""Two copies of the app behind HAProxy (deploy/cluster.py), in classroom mode: pupils in real Chromium keep their
session on one copy (Gradio events work, no "session not found"), every answer is their own drawing's, both copies
take pupils, and both share one class room."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image

from demo.core.examples import example_image
from demo.server.identity import FIRST_SEND_AFTER_S
from tests.harness import ROOT, free_port, open_page, stop_process, wait_settled

pytestmark = [pytest.mark.server, pytest.mark.browser, pytest.mark.slow]

if shutil.which("haproxy") is None:
    if os.environ.get("CI"):
        raise RuntimeError("haproxy is missing in CI: .ci/setup should have installed it")
    pytest.skip("haproxy is not installed (apt-get install -y haproxy)", allow_module_level=True)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    port = free_port()
    while any(not _free(port + i) for i in (1, 2)):
        port = free_port()
    env = {**os.environ, "GRADIO_TEMP_DIR": str(tmp_path_factory.mktemp("uploads")), "PYTHONUNBUFFERED": "1"}
    log = open(tmp_path_factory.mktemp("log") / "cluster.log", "w+")
    proc = subprocess.Popen([sys.executable, "deploy/cluster.py", "--copies", "2", "--port", str(port),
                             "--workers", "1", "--", "--classroom"], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 300
        while True:
            log.seek(0)
            printed = log.read()
            if "Teacher: " in printed:
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                raise RuntimeError(f"the cluster did not start:\n{log.read()[-3000:]}")
            time.sleep(0.5)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while not _answers(url):
            assert time.monotonic() < deadline, "HAProxy did not answer"
            time.sleep(0.3)
        global TEACHER
        # Printed to a log (not a terminal), the teacher's address is in a file only this user can read.
        TEACHER = Path(re.search(r"^Teacher: the address is in (\S+) ", printed, re.M).group(1)).read_text().strip()
        assert re.search(r"^Students: (\S+)$", printed, re.M).group(1) == url + "/"  # the balancer's address
        yield url, [f"http://127.0.0.1:{port + i}" for i in (1, 2)]
    finally:
        stop_process(proc, timeout=30)
        log.close()


TEACHER = ""  # the teacher's address the cluster printed


def _free(port: int) -> bool:
    import socket

    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def _answers(url: str) -> bool:
    try:
        return httpx.get(url + "/", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def served(copies: list[str]) -> list[int]:
    return [httpx.get(c + "/convscope/health", timeout=10).json()["served"] for c in copies]


def test_live_updates_without_a_cookie_are_spread_over_both_copies(cluster):
    url, copies = cluster
    before = served(copies)
    body = json.dumps({"w": 280, "h": 280, "pen": 20, "seq": 1, "strokes": [[[140, 40], [140, 240]]]})
    answers = [httpx.post(url + "/convscope/live", content=body, timeout=60) for _ in range(12)]  # no cookie jar
    assert all(a.status_code == 200 and 'data-label="1"' in a.json()["html"]["prediction"] for a in answers)
    gained = [a - b for a, b in zip(served(copies), before, strict=True)]
    assert sum(gained) == 12 and min(gained) > 0, gained
    # With the balancer's cookie (a browser keeps it) every update goes to the same copy.
    before = served(copies)
    with httpx.Client(base_url=url, timeout=60) as http:
        for _ in range(8):
            assert http.post("/convscope/live", content=body).status_code == 200
    gained = sorted(a - b for a, b in zip(served(copies), before, strict=True))
    assert gained == [0, 8], gained


def test_pupils_keep_their_copy_and_get_their_own_answers(cluster, browser, tmp_path):
    url, copies = cluster
    digits = [2, 5, 7, 9]
    pupils = []
    for digit in digits:
        context = browser.new_context(viewport={"width": 1280, "height": 720})
        pupils.append((digit, context, open_page(context, url)))
    for digit, _, page in pupils:  # all pupils draw, then all read: their updates interleave at the balancer
        page.locator(f'.example-button[data-digit="{digit}"]').first.click()
    for digit, context, page in pupils:
        wait_settled(page)
        assert page.locator("#prediction").get_attribute("data-label") == str(digit)
        cookie = {c["name"]: c["value"] for c in context.cookies()}.get("CONVSCOPE")
        assert cookie in ("copy1", "copy2"), context.cookies()
    # Gradio's own events (an upload; a lesson tab) need the session on the copy that served the page.
    for digit, _, page in pupils:
        image = tmp_path / f"{digit}.png"
        Image.fromarray((255 - example_image(3, 0, 280, 20) * 255).astype(np.uint8)).save(image)
        page.set_input_files("#upload input[type=file]", str(image))
        page.wait_for_function("() => document.querySelector('#prediction').dataset.label === '3'",
                               timeout=30_000)
        page.get_by_role("tab", name="One value").click()
        page.wait_for_function("() => document.querySelector('#one-value')?.dataset.state === 'ready'",
                               timeout=30_000)
        text = page.locator("body").inner_text()
        assert page.locator(".toast-body").count() == 0, page.locator(".toast-body").all_inner_texts()
        assert not re.search(r"session not found", text, re.I)
    for _, context, _ in pupils:
        context.close()


def test_both_copies_share_one_class_room(cluster):
    """Sends spread over both copies land in one room, which the teacher's page reads through either copy."""
    url, copies = cluster
    token = TEACHER.split("#teacher=")[1]
    assert TEACHER == f"{url}/#teacher={token}"
    headers = {"X-Teacher-Token": token}
    httpx.post(url + "/convscope/room/teacher", json={"action": "clear"}, headers=headers, timeout=30)
    before = served(copies)
    drawing = {"w": 280, "h": 280, "pen": 20, "strokes": [[[140, 40], [140, 240]]]}
    pupils = [httpx.Client(base_url=url, timeout=60) for _ in range(6)]
    for pupil in pupils:  # six pupils join, no cookie yet: the balancer spreads them
        assert pupil.post("/convscope/room/hello").status_code == 200
    time.sleep(FIRST_SEND_AFTER_S)
    for pupil in pupils:  # each sends through its own copy, with an identity either copy accepts
        answer = pupil.post("/convscope/room/send", json={"drawing": drawing, "meant": 1})
        assert answer.status_code == 200 and answer.json()["label"] == 1, answer.text
        pupil.close()
    gained = [a - b for a, b in zip(served(copies), before, strict=True)]
    assert sum(gained) == 6 and min(gained) > 0, gained  # each copy read some of the drawings
    rooms = [httpx.get(base + "/convscope/room/state", headers=headers, timeout=30).json() for base in copies]
    assert rooms[0] == rooms[1] and len(rooms[0]["drawings"]) == 6
    assert httpx.get(copies[1] + "/convscope/room/state", headers={"X-Teacher-Token": "x" * 16}).status_code == 403


def test_a_class_started_through_the_balancer_is_served_by_both_copies(cluster):
    """Copies on one machine share the register of rooms: a class started through one copy answers on either."""
    url, copies = cluster
    made = httpx.post(url + "/convscope/rooms", timeout=60).json()
    assert made["students"] == f"{url}/?room={made['code']}"
    headers = {"X-Teacher-Token": made["token"]}
    for base in (url, *copies):
        assert httpx.get(f"{base}/convscope/rooms/{made['code']}/state", headers=headers, timeout=30).json() == {
            "version": 0, "review_first": True, "drawings": [], "strokes": {}, "more": False, "symbols": []}
