"""Faults and overload, on the app built in-process around a wrapped classifier.

* A crash inside one request (injected: the classifier raises for one recognisable input) gives that request a clear
  message, is logged, and leaves the requests running beside it and the ones after it unharmed.
* Over capacity, a request is refused at once with "The server is busy: try again in a moment." (HTTP 503,
  "Queue is full") rather than hanging, and the server serves again as soon as the burst is over.
"""

from __future__ import annotations

import contextlib
import html
import io
import json
import logging
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from PIL import Image

import demo.page.ui
import demo.views.live
from demo.core.examples import example_image
from demo.page.pad import pad_examples
from tests.harness import free_port
from tests.test_bad_input import call, is_skip, result_of

pytestmark = pytest.mark.server  # the app served in-process, with faults injected

FAULT_SIZE = (123, 45)  # width × height: the one input the faulty classifier chokes on
TIMEOUT = 30.0  # every request's limit: nothing may hang


def _size(image: Any) -> tuple[int, int]:
    """(width, height) of a PIL image or an (H, W[, C]) array (a rasterised drawing)."""
    return image.size if isinstance(image, Image.Image) else (image.shape[1], image.shape[0])


class FaultyClassifier:
    """The real classifier, except that ``predict`` raises for an input of exactly FAULT_SIZE (a stand-in bug)."""

    def __init__(self, real: Any) -> None:
        self._real = real
        self.faults = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def predict(self, image: Any, **options: Any) -> Any:
        if _size(image) == FAULT_SIZE:
            self.faults += 1
            raise RuntimeError("injected fault")
        return self._real.predict(image, **options)


class GatedClassifier:
    """The real classifier, but ``predict`` waits until the test opens the gate: a server kept busy on demand."""

    def __init__(self, real: Any) -> None:
        self._real = real
        self.gate = threading.Event()
        self.started = threading.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def predict(self, image: Any, **options: Any) -> Any:
        self.started.set()
        if not self.gate.wait(TIMEOUT):
            raise TimeoutError("the test never opened the gate")
        return self._real.predict(image, **options)


@contextlib.contextmanager
def serve(clf: Any, uploads, monkeypatch) -> Iterator[str]:
    """build_app(clf) launched in this process on a free port, as python -m demo launches it."""
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(uploads))
    demo.page.ui.configure_gradio()
    app = demo.page.ui.build_app(clf)
    port = free_port()
    app.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, show_error=False,
               **demo.page.ui.launch_options())
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        app.close()


def png_bytes(digit: int, size: tuple[int, int] = (280, 280)) -> bytes:
    """A drawn digit, dark ink on white paper, as a PNG of ``size`` (width, height)."""
    ink = example_image(digit, 0, 280, 20)
    image = Image.fromarray((255 - ink * 255).round().astype(np.uint8)).resize(size)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def drawing(digit: int, w: int = 280, h: int = 280) -> str:
    strokes = next(e for e in pad_examples()[0] if e["digit"] == digit)["strokes"]
    return json.dumps({"w": w, "h": h, "pen": 20, "seq": 1, "strokes": strokes})


def upload(http: httpx.Client, data: bytes, name: str) -> dict:
    response = http.post("/gradio_api/upload", files={"files": (name, data, "image/png")})
    response.raise_for_status()
    return {"path": response.json()[0], "meta": {"_type": "gradio.FileData"}}


def shown_label(prediction_html: str) -> int | None:
    marker = 'data-label="'
    if marker not in prediction_html:
        return None
    return int(prediction_html.split(marker, 1)[1][0])


@pytest.fixture(scope="module")
def real_clf():
    from demo import load_classifier

    return load_classifier()


# ------------------------------------------------------------------------------------------------ a crash inside

def test_a_crash_in_one_request_leaves_the_others_and_the_next_unharmed(real_clf, tmp_path, monkeypatch, caplog):
    clf = FaultyClassifier(real_clf)
    caplog.set_level(logging.ERROR, logger="convscope")
    uploads = tmp_path / "uploads"
    # 12 requests at once: 6 files to /predict and 6 drawings to /draw; one of each hits the fault.
    jobs = ([("predict", d, FAULT_SIZE if d == 3 else (280, 280)) for d in (0, 2, 3, 8, 9, 5)]
            + [("draw", d, FAULT_SIZE if d == 4 else (280, 280)) for d in (1, 4, 5, 6, 7, 0)])
    with serve(clf, uploads, monkeypatch) as url:
        barrier = threading.Barrier(len(jobs))

        def run(job):
            endpoint, digit, size = job
            with httpx.Client(base_url=url, timeout=TIMEOUT) as http:
                if endpoint == "predict":
                    data = [upload(http, png_bytes(digit, size), f"{digit}-{size[0]}x{size[1]}.png")]
                else:
                    data = [drawing(digit, *size)]
                barrier.wait(TIMEOUT)  # every request in flight together
                return call(http, endpoint, data)

        with ThreadPoolExecutor(len(jobs)) as pool:
            results = list(pool.map(run, jobs, timeout=3 * TIMEOUT))

        for (endpoint, digit, size), (kind, payload) in zip(jobs, results, strict=True):
            faulty = size == FAULT_SIZE
            if endpoint == "predict" and faulty:
                assert kind == "error", payload
                assert "Something went wrong while reading this file" in payload["error"], payload
                assert "injected fault" not in payload["error"] and "Traceback" not in payload["error"]
            elif endpoint == "predict":
                assert kind == "complete" and payload[0]["label"] == digit, (digit, payload)
            elif faulty:  # /draw: the views stay as they were, the notice says what happened
                assert kind == "complete", payload
                assert all(is_skip(output) for output in payload[:5]), payload[:5]
                bug = html.escape(str(demo.views.live.BUG_MESSAGE))
                assert bug in payload[5] and "warning" in payload[5], payload[5]
                assert "injected fault" not in payload[5]
            else:
                assert kind == "complete" and shown_label(payload[0]) == digit, (digit, payload[0])
        assert clf.faults == 2

        # The next requests are served as usual.
        with httpx.Client(base_url=url, timeout=TIMEOUT) as http:
            file = upload(http, png_bytes(7), "7.png")
            assert Path(file["path"]).resolve().is_relative_to(uploads.resolve())  # where the last check looks
            kind, payload = call(http, "predict", [file])
            assert kind == "complete" and payload[0]["label"] == 7, payload
            kind, payload = call(http, "draw", [drawing(2)])
            assert kind == "complete" and shown_label(payload[0]) == 2, payload[0]
            assert 'class="notice"' in payload[5]  # and the notice is cleared again

    # Both faults were logged, with their traceback, for whoever runs the server.
    logged = [r for r in caplog.records if r.name == "convscope" and r.exc_info]
    assert len(logged) == 2, [r.getMessage() for r in caplog.records]
    assert all(isinstance(r.exc_info[1], RuntimeError) and str(r.exc_info[1]) == "injected fault" for r in logged)
    assert {r.getMessage() for r in logged} == {"unexpected error in /predict", "unexpected error in views_for_drawing"}


# ------------------------------------------------------------------------------------------------ over capacity

def test_over_capacity_is_refused_at_once_with_busy_not_a_hang(real_clf, tmp_path, monkeypatch):
    monkeypatch.setattr(demo.page.ui, "QUEUE_SIZE", 2)
    monkeypatch.setattr(demo.page.ui, "CONCURRENCY", 1)
    clf = GatedClassifier(real_clf)
    burst = 10
    digits = [d % 10 for d in range(burst)]
    with serve(clf, tmp_path / "uploads", monkeypatch) as url:
        with httpx.Client(base_url=url, timeout=TIMEOUT) as http:
            files = [upload(http, png_bytes(d), f"{d}-{i}.png") for i, d in enumerate(digits)]
        barrier = threading.Barrier(burst)

        def submit(file: dict) -> tuple[int, Any, float]:
            with httpx.Client(base_url=url, timeout=TIMEOUT) as http:
                barrier.wait(TIMEOUT)
                start = time.perf_counter()
                response = http.post("/gradio_api/call/predict", json={"data": [file]})
                return response.status_code, response.json(), time.perf_counter() - start

        try:
            # While the gate is shut nothing finishes: 1 running + QUEUE_SIZE waiting is all the server accepts.
            with ThreadPoolExecutor(burst) as pool:
                answers = list(pool.map(submit, files, timeout=2 * TIMEOUT))
            assert clf.started.wait(TIMEOUT), "no request ever reached the classifier"
        finally:
            clf.gate.set()
        accepted = [(digit, body["event_id"])
                    for digit, (status, body, _) in zip(digits, answers, strict=True) if status == 200]
        refused = [(status, body, seconds) for status, body, seconds in answers if status != 200]
        assert 1 <= len(accepted) <= 1 + 2, answers
        assert len(refused) == burst - len(accepted) >= 1
        for status, body, seconds in refused:
            assert status == 503 and "Queue is full" in body["detail"], (status, body)
            assert seconds < 5, f"a refusal took {seconds:.1f} s: it must come at once, not after a wait"

        with httpx.Client(base_url=url, timeout=TIMEOUT) as http:
            # Those accepted are answered once the server is free...
            for digit, event_id in accepted:
                kind, payload = result_of(http.get(f"/gradio_api/call/predict/{event_id}").text)
                assert kind == "complete" and payload[0]["label"] == digit, (digit, payload)
            # ...and after the burst a new request is served as usual.
            kind, payload = call(http, "predict", [upload(http, png_bytes(8), "8.png")])
            assert kind == "complete" and payload[0]["label"] == 8, payload


def test_queue_history_is_short_so_events_do_not_slow_down_over_time(clf):
    """Gradio's queue summarises its recorded events with pandas after every event by default (10,000 kept): each
    event then costs more the more were served. The app keeps a short history, summarised every 100 events."""
    demo.page.ui.configure_gradio()
    app = demo.page.ui.build_app(clf)
    assert app._queue.ANALYTICS_MAX_EVENTS <= 1000
    assert app._queue.ANAYLTICS_CACHE_FREQUENCY >= 100  # (sic: Gradio's spelling)
    assert app._queue.max_size == demo.page.ui.QUEUE_SIZE
