"""Bad and odd input, one catalogue run through three layers: the Python API, the HTTP API and the page.

Every case gets a clear answer (a digit, "no digit" with the reason, or a refusal naming the problem), in bounded
time and memory, and the server keeps serving the next request. The catalogue is ``CASES``; each layer is one
parametrized test, so every case is its own test id (``-k cmyk`` runs one case through every layer).

* Python API: ``clf.predict(open_image(path))``, ``clf.predict(array)``, ``parse_drawing`` + ``clf.predict``.
* HTTP API: plain REST on one ``python -m demo`` server (upload + ``/predict``, or ``/draw``); after every case a good
  drawing is still read, and at the end the server's RSS has grown little and no upload is left on its disk.
* The page's own server paths, without a browser: every file through what the upload box runs on the server
  (``views_for_file``), every stroke JSON through the live route the pad posts to (``POST /convscope/live``).
* Page: real Chromium on the same server, for what only a browser shows (the notice on the page, the views kept, no
  error toast), on a sample of the cases (``PAGE_CASES``: each kind of answer, each way in, every mouse gesture).
  Files go through the upload box; stroke JSON is drawn with the mouse where a person could make it, otherwise the
  page's own request to the server is rewritten to carry it.
"""

from __future__ import annotations

import io
import json
import mimetypes
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from PIL import Image

from demo.core.examples import example_image
from demo.core.image_file import open_image
from demo.core.preprocess import InvalidImageError
from demo.core.strokes import MAX_JSON_CHARS, MAX_POINTS, MAX_STROKES, InvalidDrawingError, parse_drawing
from demo.page.pad import pad_examples
from demo.server.jobs import page_file
from demo.views.theme import PEN_DEFAULT, PEN_MAX
from tests.harness import draw_strokes, open_page, wait_settled
from tests.test_image_file import _bomb_png

FILE, ARRAY, DRAWING = "file", "array", "drawing"
SECONDS_PER_REQUEST = 10.0  # bounded time: generous for a loaded 2-core machine, far below a hang
RSS_GROWTH_LIMIT_MB = 150  # one decoded 10,000×10,000 RGB image alone would be 300 MB


# ------------------------------------------------------------------------------------------------ the catalogue

@dataclass(frozen=True)
class Expect:
    label: int | None = None  # the digit the input shows
    no_digit: str = ""  # ...or words of the "no digit" message
    error: str = ""  # ...or words of the refusal


def digit(d: int) -> Expect:
    return Expect(label=d)


def no_digit(words: str) -> Expect:
    return Expect(no_digit=words)


def refused(words: str) -> Expect:
    return Expect(error=words)


@dataclass(frozen=True)
class Case:
    name: str
    kind: str  # FILE: make(folder) writes the file and returns its path; ARRAY: make() -> the object for predict;
    make: Callable[..., Any]  # DRAWING: make() -> the pad's stroke JSON text
    expect: Expect
    gesture: Callable[[Any], None] | None = None  # DRAWING only: the same input made with the mouse on the page


def _ink_u8(d: int) -> np.ndarray:
    """A real drawing of digit ``d``: 280×280 uint8, dark ink on white paper."""
    return (255 - example_image(d, 0, 280, 20) * 255).round().astype(np.uint8)


def _saved(filename: str, image: Callable[[], Image.Image], **options: Any) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        path = folder / filename
        image().save(path, **options)
        return path
    return make


def _written(filename: str, data: Callable[[], bytes]) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        path = folder / filename
        path.write_bytes(data())
        return path
    return make


def _huge_png(folder: Path) -> Path:
    """A genuine 10,000×10,000 PNG (1-bit white: 12.5 MB in memory while saving, ~32 kB on disk)."""
    path = folder / "huge-10000x10000.png"
    Image.new("1", (10_000, 10_000), 1).save(path)
    assert Image.open(path).size == (10_000, 10_000)
    return path


def _truncated_png() -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(_ink_u8(8)).save(buffer, format="PNG")
    data = buffer.getvalue()
    return data[:len(data) // 2]  # the header is intact, the pixel data stops half way


def _sixteen_bit() -> Image.Image:
    image = Image.fromarray(_ink_u8(4).astype(np.uint16) * 257)
    assert image.mode == "I;16"
    return image


def _animated_gif(folder: Path) -> Path:
    """Frame 1 is a 7; later frames (a 1, then blank paper) must not change the answer."""
    path = folder / "animated.gif"
    frames = [Image.fromarray(_ink_u8(7)).convert("P"), Image.fromarray(_ink_u8(1)).convert("P"),
              Image.new("P", (280, 280), 255)]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)
    assert Image.open(path).n_frames == 3
    return path


def _drawing(strokes: list, pen: float = 20, **extra: Any) -> Callable[[], str]:
    return lambda: json.dumps({"w": 280, "h": 280, "pen": pen, "seq": 1, "strokes": strokes, **extra})


def _snake(step: float = 0.1) -> list[tuple[float, float]]:
    """One stroke sweeping the whole pad row by row (0-1 pad coordinates)."""
    points = []
    for i, y in enumerate(np.arange(0, 1 + 1e-9, step)):
        points += [(0.0, y), (1.0, y)] if i % 2 == 0 else [(1.0, y), (0.0, y)]
    return points


def _nan(shape=(28, 28)) -> np.ndarray:
    a = np.zeros(shape)
    a[5, 5] = np.nan
    return a


# Page gestures for the drawing cases that a person can make with the mouse.
def _gesture_clear(page) -> None:
    page.click("#clear")


def _set_pen(page, width: float) -> None:
    page.locator("#pen-width").evaluate("(el, v) => { el.value = v; el.dispatchEvent(new Event('input')); "
                                        "el.dispatchEvent(new Event('change')); }", width)


def _gesture_fill(page) -> None:
    """The widest pen, swept over the whole pad: every pixel is ink."""
    page.click("#clear")
    _set_pen(page, PEN_MAX)
    try:
        draw_strokes(page, [_snake(0.1)], step_ms=0, points_per_segment=1)
    finally:
        _set_pen(page, PEN_DEFAULT)


def _gesture_leave_pad(page) -> None:
    """A vertical stroke that runs off the bottom of the pad (pointer capture keeps the points coming)."""
    page.click("#clear")
    draw_strokes(page, [[(0.5, 0.1), (0.5, 0.5), (0.5, 1.0), (0.5, 1.6)]], step_ms=0, points_per_segment=1)


CASES: list[Case] = [
    # --- image files (Python API, HTTP API, page upload)
    Case("blank-white-canvas", FILE, _saved("blank.png", lambda: Image.new("RGB", (280, 280), "white")),
         no_digit("all one colour")),
    Case("canvas-fully-inked", FILE, _saved("inked.png", lambda: Image.new("L", (280, 280), 0)),
         no_digit("all one colour")),
    Case("1x1-pixel", FILE, _saved("dot.png", lambda: Image.new("L", (1, 1), 0)), no_digit("all one colour")),
    Case("10000x10000-png", FILE, _huge_png, refused("too large")),
    Case("decompression-bomb-png", FILE, _written("bomb.png", lambda: _bomb_png(50_000, 50_000)),
         refused("too large")),
    Case("text-file-named-png", FILE, _written("notes.png", lambda: b"these are my notes, not a picture\n" * 20),
         refused("not an image file")),
    Case("empty-file", FILE, _written("empty.png", lambda: b""), refused("not an image file")),
    Case("truncated-png", FILE, _written("truncated.png", _truncated_png), refused("truncated or corrupt")),
    Case("palette-png", FILE, _saved("palette.png", lambda: Image.fromarray(_ink_u8(3)).convert("P")), digit(3)),
    Case("16-bit-png", FILE, _saved("sixteen.png", _sixteen_bit), digit(4)),
    Case("cmyk-jpeg", FILE, _saved("cmyk.jpg", lambda: Image.fromarray(_ink_u8(5)).convert("CMYK")), digit(5)),
    Case("cmyk-tiff", FILE, _saved("cmyk.tif", lambda: Image.fromarray(_ink_u8(2)).convert("CMYK")), digit(2)),
    Case("animated-gif", FILE, _animated_gif, digit(7)),
    # --- arrays (Python API only: the HTTP API and the page take image files)
    Case("array-shape-(3,)", ARRAY, lambda: np.zeros(3), refused("must be (H, W) or (H, W, C)")),
    Case("array-shape-(2,2,2,2)", ARRAY, lambda: np.zeros((2, 2, 2, 2)), refused("must be (H, W) or (H, W, C)")),
    Case("array-7-channels", ARRAY, lambda: np.zeros((28, 28, 7)), refused("C = 1-4 channels")),
    Case("array-no-pixels", ARRAY, lambda: np.zeros((0, 28)), refused("no pixels")),
    Case("array-complex", ARRAY, lambda: np.zeros((28, 28), complex), refused("real numbers, not complex")),
    Case("array-of-strings", ARRAY, lambda: np.full((28, 28), "a"), refused("must hold numbers")),
    Case("array-of-objects", ARRAY, lambda: np.empty((28, 28), object), refused("must hold numbers, not object")),
    Case("array-nan", ARRAY, _nan, refused("NaN or infinite")),
    Case("array-inf", ARRAY, lambda: np.full((28, 28), np.inf), refused("NaN or infinite")),
    Case("array-minus-inf", ARRAY, lambda: np.full((28, 28), -np.inf), refused("NaN or infinite")),
    Case("array-negative", ARRAY, lambda: -np.ones((28, 28)), refused("must not be negative")),
    Case("array-values-1e9", ARRAY, lambda: np.full((28, 28), 1e9), refused("pixel values must be in")),
    Case("array-10000x10000-blank", ARRAY, lambda: np.full((10_000, 10_000), 255, np.uint8),
         no_digit("all one colour")),
    Case("not-an-image-at-all", ARRAY, lambda: "a string", refused("expected a PIL image or a numpy array")),
    # --- the pad's stroke JSON (Python: parse_drawing + predict; HTTP: /draw; page: the gesture a person would make,
    # or, where no mouse can make it, the JSON sent by the page's own client)
    Case("drawing-empty", DRAWING, _drawing([]), no_digit("all one colour"), _gesture_clear),
    Case("drawing-fully-inked", DRAWING,
         _drawing([[[x * 280, y * 280] for x, y in _snake(0.1)]], pen=200), no_digit("all one colour"), _gesture_fill),
    Case("drawing-coordinates-1e12", DRAWING, _drawing([[[140, -1e12], [140, 1e12]]]), digit(1), _gesture_leave_pad),
    Case("drawing-coordinates-nan", DRAWING, lambda: '{"w": 280, "h": 280, "strokes": [[[NaN, 20], [140, 200]]]}',
         refused("must be a finite number")),
    Case("drawing-coordinates-infinite", DRAWING,
         lambda: '{"w": 280, "h": 280, "strokes": [[[140, -1e999], [140, 1e999]]]}',
         refused("must be a finite number")),
    Case("drawing-malformed-json", DRAWING, lambda: '{"w": 280, "strokes": [[[1, 2', refused("malformed JSON")),
    Case("drawing-not-an-object", DRAWING, lambda: "[1, 2, 3]", refused("must be a JSON object")),
    Case("drawing-huge-json", DRAWING,
         _drawing([[[140.123456789, 30.123456789]] * (MAX_JSON_CHARS // 20)]), refused("too large")),
    Case("drawing-too-many-points", DRAWING, _drawing([[[1, 2]] * (MAX_POINTS + 1)]), refused("too many points")),
    Case("drawing-too-many-strokes", DRAWING, _drawing([[[1, 2]]] * (MAX_STROKES + 1)), refused("too many strokes")),
    Case("drawing-canvas-1e9-wide", DRAWING, _drawing([[[1, 2]]], w=1e9), refused("pixels a side")),
]
BY_NAME = {case.name: case for case in CASES}
assert len(BY_NAME) == len(CASES), "case names must be unique"
# The page's sample: a file read, refused (the notice says why) and with no digit through the upload box; every
# mouse gesture; stroke JSON no mouse can make, refused for its size and for its syntax. Every case goes through the
# server paths the page uses without a browser (test_upload_box_path, test_live_route).
PAGE_CASES = ["cmyk-jpeg", "text-file-named-png", "blank-white-canvas", "drawing-empty", "drawing-fully-inked",
              "drawing-coordinates-1e12", "drawing-huge-json", "drawing-malformed-json"]
assert all(BY_NAME[name].gesture for name in PAGE_CASES if BY_NAME[name].kind == DRAWING and
           not BY_NAME[name].expect.error) and {c.name for c in CASES if c.gesture} <= set(PAGE_CASES)


def names(*kinds: str) -> list[str]:
    return [case.name for case in CASES if case.kind in kinds]


@pytest.fixture(scope="module")
def case_files(tmp_path_factory) -> dict[str, Path]:
    """Every file case, written once per module."""
    folder = tmp_path_factory.mktemp("bad-input")
    return {case.name: case.make(folder) for case in CASES if case.kind == FILE}


def test_catalogue_builds_what_it_says(case_files):
    assert json.loads(BY_NAME["drawing-huge-json"].make()) and len(BY_NAME["drawing-huge-json"].make()) > MAX_JSON_CHARS
    assert len(BY_NAME["drawing-too-many-points"].make()) < MAX_JSON_CHARS  # refused for its points, not its size
    assert Image.open(case_files["16-bit-png"]).mode == "I;16"
    assert Image.open(case_files["palette-png"]).mode == "P"
    assert Image.open(case_files["cmyk-jpeg"]).mode == "CMYK" and Image.open(case_files["cmyk-tiff"]).mode == "CMYK"
    assert Image.open(case_files["10000x10000-png"]).size == (10_000, 10_000)


# ------------------------------------------------------------------------------------------------ the Python API

@pytest.mark.parametrize("name", names(FILE, ARRAY, DRAWING))
def test_python_api(name, clf, case_files):
    case = BY_NAME[name]
    expect = case.expect
    expected_error = InvalidDrawingError if case.kind == DRAWING else InvalidImageError

    def run():
        if case.kind == FILE:
            return clf.predict(open_image(case_files[name], name=case_files[name].name))
        if case.kind == ARRAY:
            return clf.predict(case.make())
        return clf.predict(parse_drawing(case.make()).rasterize())

    start = time.perf_counter()
    if expect.error:
        with pytest.raises(expected_error) as error:
            run()
        assert expect.error in str(error.value)
        if case.kind == FILE:
            assert str(error.value).startswith(case_files[name].name)  # the message names the file
    else:
        pred = run()
        if expect.no_digit:
            assert pred.label is None and expect.no_digit in pred.message, pred.message
            assert pred.probs == [0.1] * 10
        else:
            assert pred.label == expect.label, (pred.label, pred.probs)
    assert time.perf_counter() - start < SECONDS_PER_REQUEST


# ------------------------------------------------------------------------------------------------ the HTTP API

def rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"^VmRSS:\s+(\d+) kB", status, re.M).group(1)) / 1024


def upload_files(folder: Path) -> set[Path]:
    """Regular files in the upload folder (Gradio's own vibe_edit_history folder left out)."""
    if not folder.exists():
        return set()
    return {p for p in folder.rglob("*") if p.is_file() and "vibe_edit_history" not in p.relative_to(folder).parts}


def call(http: httpx.Client, endpoint: str, data: list) -> tuple[str, Any]:
    """POST /gradio_api/call/<endpoint> and read its event stream: ("complete", outputs) or ("error", payload)."""
    response = http.post(f"/gradio_api/call/{endpoint}", json={"data": data})
    response.raise_for_status()
    return result_of(http.get(f"/gradio_api/call/{endpoint}/{response.json()['event_id']}").text)


def result_of(stream: str) -> tuple[str, Any]:
    """A call's event stream -> ("complete", outputs) or ("error", payload); heartbeats are left out."""
    events = [(kind, payload) for kind, payload in re.findall(r"^event: (\w+)\r?\ndata: (.*)$", stream, re.M)
              if kind in ("complete", "error")]
    assert len(events) == 1, stream[:2000]
    kind, payload = events[0]
    return kind, json.loads(payload)


def upload(http: httpx.Client, path: Path) -> str:
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    with open(path, "rb") as f:
        response = http.post("/gradio_api/upload", files={"files": (path.name, f, mime)})
    response.raise_for_status()
    return response.json()[0]


GOOD_DRAWING = json.dumps({"w": 280, "h": 280, "pen": 20, "seq": 99,
                           "strokes": next(e for e in pad_examples()[0] if e["digit"] == 5)["strokes"]})


def assert_still_serving(http: httpx.Client) -> None:
    kind, outputs = call(http, "draw", [GOOD_DRAWING])
    assert kind == "complete" and 'data-label="5"' in outputs[0], outputs


@pytest.fixture(scope="module")
def server(app_server):
    return app_server


@pytest.fixture(scope="module")
def http(server):
    with httpx.Client(base_url=server, timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def baseline(server, http, tmp_path_factory):
    """After one good request of each kind (warm caches): the server's RSS and the files in its upload folder."""
    good = tmp_path_factory.mktemp("good") / "six.png"
    Image.fromarray(_ink_u8(6)).save(good)
    kind, result = call(http, "predict", [{"path": upload(http, good), "meta": {"_type": "gradio.FileData"}}])
    assert kind == "complete" and result[0]["label"] == 6, result
    assert_still_serving(http)
    return {"rss_mb": rss_mb(server.pid), "files": upload_files(server.uploads)}


def is_skip(output: Any) -> bool:
    """What gr.skip() looks like to a REST client: an update that changes nothing."""
    return isinstance(output, dict) and output.get("__type__") == "update" and set(output.get("props", {})) <= {
        "__type__"}


@pytest.mark.parametrize("name", names(FILE, DRAWING))
@pytest.mark.server
def test_http_api(name, server, http, baseline, case_files):
    case = BY_NAME[name]
    expect = case.expect
    start = time.perf_counter()
    if case.kind == FILE:
        uploaded = upload(http, case_files[name])
        kind, payload = call(http, "predict", [{"path": uploaded, "meta": {"_type": "gradio.FileData"}}])
        elapsed = time.perf_counter() - start
        if expect.error:
            assert kind == "error", payload
            message = payload["error"]
            assert expect.error in message, message
            assert "Traceback" not in message
        else:
            assert kind == "complete", payload
            result = payload[0]
            assert len(result["probs"]) == 10 and abs(sum(result["probs"]) - 1) < 1e-4
            if expect.no_digit:
                assert result["label"] is None and expect.no_digit in result["message"], result
            else:
                assert result["label"] == expect.label, result
    else:
        kind, outputs = call(http, "draw", [case.make()])
        elapsed = time.perf_counter() - start
        assert kind == "complete", outputs
        # Outputs: prediction, probabilities, model input, feature maps, pooled maps, notice (then the lessons' state)
        prediction, notice = outputs[0], outputs[5]
        assert 'id="notice"' in notice, outputs
        if expect.error:
            assert all(is_skip(output) for output in outputs[:5]), outputs[:5]  # the views stay as they were
            assert "could not be used" in notice and expect.error in notice and "warning" in notice, notice
            assert "Traceback" not in notice
        elif expect.no_digit:
            assert 'data-state="empty"' in prediction and "Draw a digit" in prediction, prediction
        else:
            assert f'data-label="{expect.label}"' in prediction, prediction
    assert elapsed < SECONDS_PER_REQUEST
    assert_still_serving(http)


# ------------------------------------------------------------------------------ the page's server paths, no browser

@pytest.mark.parametrize("name", names(FILE))
def test_upload_box_path(name, clf, case_files):
    """What a file dropped on the page's upload box gets from the server: new views, or the old ones kept with a
    notice naming the problem. The page hands the app the file's bytes (demo/server/jobs.py: page_file)."""
    case = BY_NAME[name]
    expect = case.expect
    update = page_file(clf, case_files[name].read_bytes())
    notice = update.html["notice"]
    assert "Traceback" not in notice and "went wrong" not in notice, notice
    if expect.error:
        assert update.kept and set(update.html) == {"notice"}, update.html.keys()  # every view stays as it was
        assert "could not be used" in notice and expect.error in notice, notice
    elif expect.no_digit:
        assert not update.kept and update.model_input is None
        assert 'data-state="empty"' in update.html["prediction"] and expect.no_digit in notice, notice
    else:
        assert not update.kept and f'data-label="{expect.label}"' in update.html["prediction"]


@pytest.mark.parametrize("name", names(DRAWING))
@pytest.mark.server
def test_live_route(name, server, http):
    """Stroke JSON posted to the live route, as the pad posts it: an answer in bounded time, refusals as a notice
    with every view kept."""
    case = BY_NAME[name]
    expect = case.expect
    start = time.perf_counter()
    response = http.post("/convscope/live", content=case.make().encode(), headers={"Content-Type": "application/json"})
    elapsed = time.perf_counter() - start
    assert response.status_code == 200, response.text[:500]
    answer = response.json()
    notice = answer["html"]["notice"]
    assert "Traceback" not in notice and "went wrong" not in notice, notice
    if expect.error:
        assert answer["kept"] and set(answer["html"]) == {"notice"}, answer["html"].keys()
        assert "could not be used" in notice and expect.error in notice, notice
    elif expect.no_digit:
        assert not answer["kept"] and 'data-state="empty"' in answer["html"]["prediction"]
    else:
        assert not answer["kept"] and f'data-label="{expect.label}"' in answer["html"]["prediction"]
    assert elapsed < SECONDS_PER_REQUEST


# ------------------------------------------------------------------------------------------------ the page

@pytest.fixture(scope="module")
def page(browser, server, baseline):
    page = open_page(browser, server)
    yield page
    page.close()


def shown_digit(page) -> str | None:
    match = re.search(r"\d", page.locator("#prediction").inner_text())
    return match.group() if match else None


def draw_a_six(page) -> None:
    """A 6 on the pad, read by the server: the pad's own example button (one update; drawing the same strokes with
    the mouse takes 10 s on a loaded 2-core machine, and test_browser.py covers mouse drawing)."""
    page.click('.example-button[data-digit="6"][data-style="1"]')
    wait_settled(page)
    assert shown_digit(page) == "6"
    assert page.locator("#notice").inner_text().strip() == ""


LIVE_ROUTE = "**/convscope/live"


def send_through_page(page, text: str) -> None:
    """Stroke JSON no mouse can make, sent by the page's own client: the pad's next update (an example button) is
    replaced on its way to the server's live route, and the page shows whatever comes back."""
    rewritten = []

    def rewrite(route) -> None:
        if not rewritten:
            rewritten.append(True)
            route.continue_(post_data=text)
        else:
            route.continue_()

    page.route(LIVE_ROUTE, rewrite)
    try:
        page.click('.example-button[data-digit="1"][data-style="1"]')
        page.wait_for_function(
            """() => { const c = document.querySelector('#pad canvas'), p = document.querySelector('#prediction');
                       return p.dataset.seq === c.dataset.seq
                              || document.querySelector('#notice').innerText.trim().length > 0; }""",
            timeout=SECONDS_PER_REQUEST * 1000)
    finally:
        page.unroute(LIVE_ROUTE, rewrite)
    assert rewritten, "the pad's update never went through the live route"


@pytest.mark.parametrize("name", PAGE_CASES)
@pytest.mark.browser
@pytest.mark.server
def test_page(name, page, case_files):
    case = BY_NAME[name]
    expect = case.expect
    draw_a_six(page)
    start = time.perf_counter()
    if case.kind == DRAWING and case.gesture is not None:
        case.gesture(page)
        wait_settled(page, timeout_ms=SECONDS_PER_REQUEST * 1000)
    elif case.kind == DRAWING:
        send_through_page(page, case.make())
    else:
        page.set_input_files("#upload input[type=file]", str(case_files[name]))
        # An upload's answer is either new views (data-seq 0: not a pad drawing) or a notice, views kept.
        page.wait_for_function(
            """() => document.querySelector('#prediction').dataset.seq === '0'
                     || document.querySelector('#notice').innerText.trim().length > 0""",
            timeout=SECONDS_PER_REQUEST * 1000)
        if expect.no_digit:
            page.wait_for_function("() => document.querySelector('#notice').innerText.trim().length > 0")
    notice = page.locator("#notice")
    text = notice.inner_text()
    assert "Traceback" not in page.locator("body").inner_text()
    assert page.locator(".toast-body").count() == 0, page.locator(".toast-body").all_inner_texts()
    if expect.error:
        assert notice.is_visible() and "could not be used" in text and expect.error in text, text
        assert shown_digit(page) == "6"  # nothing the user had is lost
        assert page.locator("#feature-maps img.pixelated").count() > 0
    elif expect.no_digit:
        assert shown_digit(page) is None and "Draw a digit" in page.locator("#prediction").inner_text()
        if case.kind == FILE:
            assert notice.is_visible() and "no digit" in text and expect.no_digit in text, text
    else:
        assert shown_digit(page) == str(expect.label), page.locator("#prediction").inner_text()
        assert text.strip() == ""
    assert time.perf_counter() - start < 2 * SECONDS_PER_REQUEST


# ------------------------------------------------------------------------------------------------ afterwards

@pytest.mark.server
def test_bounded_memory(server, http, baseline):
    """Runs last: after every case above, the server still answers and grew little. (What uploads leave is removed
    by Gradio's clean-up: tests/test_faults.py.)"""
    assert_still_serving(http)
    growth = rss_mb(server.pid) - baseline["rss_mb"]
    print(f"server RSS {baseline['rss_mb']:.0f} MB -> {baseline['rss_mb'] + growth:.0f} MB after every case")
    assert growth < RSS_GROWTH_LIMIT_MB, f"the server's RSS grew by {growth:.0f} MB"
