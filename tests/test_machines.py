"""Class rooms on two machines behind one balancer (``deploy/cluster.py --servers A,B``): two copies of the app with
separate room databases stand for two machines. Ten classes of six pupils send through the balancer; every class
gets all of its own pupils' drawings and nobody else's, each held by exactly one machine. Then one machine is killed:
only its classes say so (over HTTP, and on a pupil's and a teacher's page in Chromium), the other machine's carry
on, and a new class still starts, on the machine that is up. Started again with its register, the machine has its
classes back."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from demo.server.identity import FIRST_SEND_AFTER_S
from demo.server.room_routes import TOKEN_HEADER
from tests.harness import ROOT, free_port, open_page, process_tree, running_app, stop_process
from tests.test_class_room import PHONE
from tests.test_room import pad_examples

pytestmark = [pytest.mark.server, pytest.mark.browser, pytest.mark.slow]

if shutil.which("haproxy") is None:
    if os.environ.get("CI"):
        raise RuntimeError("haproxy is missing in CI: .ci/setup should have installed it")
    pytest.skip("haproxy is not installed (apt-get install -y haproxy)", allow_module_level=True)

CLASSES, PUPILS = 10, 6


@pytest.fixture(scope="module")
def machines(tmp_path_factory):
    """The balancer's address, the two machines (their addresses and process ids) and each one's flags."""
    port = free_port()
    balancer = f"http://127.0.0.1:{port}"
    flags = [["--workers", "1", "--balancer-url", balancer, "--public-url", balancer,
              "--room-db", str(tmp_path_factory.mktemp(name) / "rooms.db")] for name in ("a", "b")]
    with contextlib.ExitStack() as stack:
        # The two machines start side by side (each takes seconds); each that started is stopped at the end.
        apps = [running_app(machine) for machine in flags]
        with ThreadPoolExecutor(2) as pool:
            starting = [pool.submit(app.__enter__) for app in apps]
        for app, started in zip(apps, starting, strict=True):
            if started.exception() is None:
                stack.push(app.__exit__)
        found = [started.result() for started in starting]
        log = stack.enter_context(open(tmp_path_factory.mktemp("log") / "balancer.log", "w+"))
        proc = subprocess.Popen([sys.executable, "deploy/cluster.py", "--servers",
                                 ",".join(m.removeprefix("http://") for m in found), "--port", str(port)],
                                cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        stack.callback(stop_process, proc, 30)
        deadline = time.monotonic() + 120
        while not _answers(balancer + "/convscope/health"):
            if proc.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                raise RuntimeError(f"the balancer did not start:\n{log.read()[-3000:]}")
            time.sleep(0.3)
        yield balancer, found, flags


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def holder(machines: list[str], code: str, token: str) -> int:
    """Which machine holds the room: the one whose own address answers its state (the other has no such room)."""
    answers = [httpx.get(f"{m}/convscope/rooms/{code}/state", headers={TOKEN_HEADER: token}, timeout=30).status_code
               for m in machines]
    assert sorted(answers) == [200, 404], (code, answers)
    return answers.index(200)


def start_class(balancer: str, teacher: int) -> dict:
    # Each teacher from a laptop of their own (the balancer passes the address on; starting is limited per address).
    answer = httpx.post(f"{balancer}/convscope/rooms", headers={"X-Forwarded-For": f"10.0.0.{teacher}"}, timeout=60)
    assert answer.status_code == 201, answer.text
    return answer.json()


def drawing(index: int) -> tuple[dict, int]:
    """One of the pad's example drawings, and the digit it is."""
    example = pad_examples()[0][index % len(pad_examples()[0])]
    return {"w": 280, "h": 280, "pen": 20, "strokes": example["strokes"]}, example["digit"]


def pupils_send(balancer: str, sends: list[tuple[str, str, int]]) -> list[httpx.Response]:
    """Pupils, each on a phone of their own (their own identity cookie), join the class ``code`` and send the example
    ``index`` with the digit it is as meant and ``nickname``; twelve at a time, through the balancer. A pupil whose
    joining is refused gets that answer."""
    phones = [httpx.Client(base_url=balancer, timeout=60) for _ in sends]
    try:
        with ThreadPoolExecutor(12) as pool:
            hellos = list(pool.map(lambda p, s: p.post(f"/convscope/rooms/{s[0]}/hello"), phones, sends))
            time.sleep(FIRST_SEND_AFTER_S)  # a new identity sends a moment after it was issued

            def send(phone: httpx.Client, job: tuple[str, str, int], hello: httpx.Response) -> httpx.Response:
                if hello.status_code != 200:
                    return hello
                shown, digit = drawing(job[2])
                return phone.post(f"/convscope/rooms/{job[0]}/send",
                                  json={"drawing": shown, "meant": digit, "nickname": job[1]})

            return list(pool.map(send, phones, sends, hellos))
    finally:
        for phone in phones:
            phone.close()


CLASSES_MADE: list[dict] = []  # the classes of the first test, with the machine holding each


def test_ten_classes_of_six_through_the_balancer_each_get_their_own_pupils(machines):
    balancer, found, _ = machines
    # Ten classes, spread over both machines (started until each holds at least three: which machine a code lands
    # on is the balancer's hash).
    classes: list[dict] = []
    for teacher in range(40):
        made = start_class(balancer, teacher)
        made["machine"] = holder(found, made["code"], made["token"])
        classes.append(made)
        counts = [sum(c["machine"] == m for c in classes[-CLASSES:]) for m in (0, 1)]
        if len(classes) >= CLASSES and min(counts) >= 3:
            break
    classes = classes[-CLASSES:]
    assert min(sum(c["machine"] == m for c in classes) for m in (0, 1)) >= 3
    assert all(c["students"] == f"{balancer}/?room={c['code']}" for c in classes)
    # Sixty pupils send through the balancer, each class a different set of the pad's examples.
    jobs = [(c["code"], f"{c['code']}-{i}", n * PUPILS + i) for n, c in enumerate(classes) for i in range(PUPILS)]
    answers = pupils_send(balancer, jobs)
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers if a.status_code != 200][:3]
    read = {job[1]: answer.json()["label"] for job, answer in zip(jobs, answers, strict=True)}
    assert sum(read[job[1]] == drawing(job[2])[1] for job in jobs) >= 0.9 * len(jobs)  # the network's readings
    for made in classes:  # each class: all of its six pupils, nobody else's, as the network read them
        shown = httpx.get(f"{balancer}/convscope/rooms/{made['code']}/state",
                          headers={TOKEN_HEADER: made["token"]}, timeout=30).json()["drawings"]
        assert sorted(d["nickname"] for d in shown) == [f"{made['code']}-{i}" for i in range(PUPILS)]
        assert all(d["label"] == read[d["nickname"]] for d in shown)
    # A class's token opens that class only, on either machine.
    first, other = classes[0], next(c for c in classes if c["machine"] != classes[0]["machine"])
    for made, token in ((first, other["token"]), (other, first["token"])):
        refused = httpx.get(f"{balancer}/convscope/rooms/{made['code']}/state", headers={TOKEN_HEADER: token})
        assert refused.status_code == 403 and "drawings" not in refused.json()
    CLASSES_MADE[:] = classes


def test_a_machine_gone_only_its_classes_say_so_and_they_come_back_with_it(machines, browser):
    balancer, found, flags = machines
    if not CLASSES_MADE:
        pytest.skip("needs the classes of the test before")
    gone = 1
    for pid in process_tree(found[gone].pid):  # the machine, its workers with it
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    # A seventh pupil joins each class and sends.
    sent_all = pupils_send(balancer, [(made["code"], f"{made['code']}-late", 7) for made in CLASSES_MADE])
    for made, sent in zip(CLASSES_MADE, sent_all, strict=True):
        answer = httpx.get(f"{balancer}/convscope/rooms/{made['code']}/state", headers={TOKEN_HEADER: made["token"]},
                           timeout=30)
        if made["machine"] == gone:
            assert answer.status_code == 503 and answer.json()["room_server"] == "down", answer.text
            assert sent.status_code == 503 and sent.json()["room_server"] == "down"
        else:  # the other machine's classes carry on: a seventh pupil's drawing lands
            assert sent.status_code == 200, sent.text
            assert answer.status_code == 200 and len(answer.json()["drawings"]) == PUPILS + 1
    # The live pad and starting a class go to the machine that is up.
    body = {"w": 280, "h": 280, "pen": 20, "seq": 1, "strokes": [[[140, 40], [140, 240]]]}
    assert httpx.post(f"{balancer}/convscope/live", json=body, timeout=60).status_code == 200
    new = start_class(balancer, 99)
    assert httpx.get(f"{found[0]}/convscope/rooms/{new['code']}/state", headers={TOKEN_HEADER: new["token"]},
                     timeout=30).status_code == 200
    # On the pages: a pupil of a class on the machine gone is told so at Send; its teacher's page says so too, the
    # other machine's teacher's page shows its class.
    down = next(c for c in CLASSES_MADE if c["machine"] == gone)
    up = next(c for c in CLASSES_MADE if c["machine"] != gone)
    contexts = [browser.new_context(**PHONE), browser.new_context(viewport={"width": 1280, "height": 720}),
                browser.new_context(viewport={"width": 1280, "height": 720})]
    try:
        pupil = open_page(contexts[0], down["students"])
        pupil.locator('.example-button[data-digit="4"]').first.click()
        pupil.click("#send-to-class")
        pupil.wait_for_function("() => document.querySelector('#send-status')?.dataset.kind === 'error'",
                                timeout=30_000)
        assert pupil.locator("#send-status").inner_text() == (
            "The server that holds this class is not answering. Your drawing is still here: try again in a moment.")
        teacher = open_page(contexts[1], down["teacher"])
        teacher.wait_for_function("() => document.querySelector('#room-message')?.textContent.includes("
                                  "'The server that holds this class is not answering')", timeout=30_000)
        # Closing the class cannot be done: the page says so, and keeps saying it while it asks again by itself; the
        # Review first switch the server did not take goes back.
        before = teacher.locator("#review-first").is_checked()
        teacher.click("#review-first")
        teacher.wait_for_function(f"() => document.querySelector('#review-first').checked === {str(before).lower()}",
                                  timeout=10_000)
        teacher.on("dialog", lambda dialog: dialog.accept())
        teacher.click("#close-class")
        refused = ("The server that holds this class is not answering, so your change may not have been made. Try "
                   "again in a moment.")
        teacher.wait_for_function(f"() => document.querySelector('#room-message').textContent === {refused!r}",
                                  timeout=10_000)
        teacher.wait_for_timeout(2500)  # two of the page's own tries, each answered "not answering"
        assert teacher.locator("#room-message").inner_text() == refused
        assert teacher.locator("#class-room").get_attribute("data-state") == "teacher"
        other = open_page(contexts[2], up["teacher"])
        other.wait_for_function(f"() => document.querySelectorAll('#class-gallery figure').length === {PUPILS + 1}",
                                timeout=30_000)
        assert other.locator("#room-message").inner_text() == ""
    finally:
        for context in contexts:
            context.close()
    # The machine back, on its address with its register: its classes are there again, with their drawings.
    port = int(found[gone].rsplit(":", 1)[1])
    with running_app(flags[gone], port=port):
        for made in CLASSES_MADE:
            answer = httpx.get(f"{balancer}/convscope/rooms/{made['code']}/state",
                               headers={TOKEN_HEADER: made["token"]}, timeout=30)
            assert answer.status_code == 200 and len(answer.json()["drawings"]) in (PUPILS, PUPILS + 1)
