"""The running app, driven as a program would: gradio_client and Gradio's plain REST routes."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image

from demo.core.examples import example_image
from demo.page.pad import pad_examples

pytestmark = pytest.mark.server  # one real app for the module


@pytest.fixture(scope="module")
def app_url(app_server):
    return app_server


@pytest.fixture(scope="module")
def client(app_url):
    from gradio_client import Client

    return Client(app_url, verbose=False)


def _canvas_png(path, digit: int) -> str:
    """What a browser canvas exports: black ink on a transparent background."""
    rgba = np.zeros((280, 280, 4), np.uint8)
    rgba[..., 3] = (example_image(digit, 0, 280, 20) * 255).astype(np.uint8)
    Image.fromarray(rgba, "RGBA").save(path)
    return str(path)


@pytest.mark.parametrize("digit", [1, 4, 8])
def test_predict_endpoint_reads_transparent_pngs(client, tmp_path, digit):
    from gradio_client import handle_file

    result = client.predict(handle_file(_canvas_png(tmp_path / f"{digit}.png", digit)), api_name="/predict")
    assert result["label"] == digit
    assert len(result["probs"]) == 10 and abs(sum(result["probs"]) - 1) < 1e-4
    assert int(np.argmax(result["probs"])) == digit


def test_predict_endpoint_blank_image_is_no_digit(client, tmp_path):
    from gradio_client import handle_file

    path = tmp_path / "blank.png"
    Image.new("RGB", (300, 300), "white").save(path)
    result = client.predict(handle_file(str(path)), api_name="/predict")
    assert result["label"] is None and "all one colour" in result["message"]


def test_predict_endpoint_rejects_non_images_clearly(client, tmp_path):
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    path = tmp_path / "notes.png"
    path.write_text("this is not a picture")
    with pytest.raises(AppError, match="not an image file"):
        client.predict(handle_file(str(path)), api_name="/predict")
    # ...and the server keeps answering
    ok = client.predict(handle_file(_canvas_png(tmp_path / "7.png", 7)), api_name="/predict")
    assert ok["label"] == 7


def test_predict_over_plain_rest(app_url, tmp_path):
    """Upload, then POST /gradio_api/call/predict and read the event stream: no client library needed."""
    path = _canvas_png(tmp_path / "3.png", 3)
    with httpx.Client(base_url=app_url, timeout=30) as http:
        with open(path, "rb") as f:
            uploaded = http.post("/gradio_api/upload", files={"files": ("3.png", f, "image/png")}).json()[0]
        event = http.post("/gradio_api/call/predict",
                          json={"data": [{"path": uploaded, "meta": {"_type": "gradio.FileData"}}]}).json()
        stream = http.get(f"/gradio_api/call/predict/{event['event_id']}").text
    data_lines = [line[len("data: "):] for line in stream.splitlines() if line.startswith("data: ")]
    assert "event: complete" in stream, stream
    result = json.loads(data_lines[-1])[0]
    assert result["label"] == 3 and len(result["probs"]) == 10


def test_draw_endpoint_returns_every_view(client):
    example = next(e for e in pad_examples()[0] if e["digit"] == 5)
    drawing = json.dumps({"w": 280, "h": 280, "pen": 20, "seq": 41, "strokes": example["strokes"]})
    prediction, probabilities, model_input, feature_maps, pooled_maps, notice, overview = client.predict(
        drawing, api_name="/draw")
    assert 'data-seq="41"' in prediction and '<div class="digit">5</div>' in prediction
    assert probabilities.count("prob-row") == 10
    assert 'id="model-input"' in model_input and "data:image/png" in model_input
    assert "relu1" in feature_maps and "pool2" in pooled_maps
    assert 'id="overview"' in overview and 'data-stage="fc2"' in overview
    assert 'class="notice' in notice and "warning" not in notice


def test_draw_endpoint_empty_and_malformed(client):
    prediction = client.predict(json.dumps({"seq": 2, "strokes": []}), api_name="/draw")[0]
    assert 'data-state="empty"' in prediction
    outputs = client.predict('{"strokes": [[[1, 2', api_name="/draw")
    assert "could not be used" in outputs[5] and "malformed" in outputs[5]


def _rest_predict(http: httpx.Client, path: str) -> tuple[str, object]:
    event = http.post("/gradio_api/call/predict", json={"data": [{"path": path, "meta": {"_type": "gradio.FileData"}}]})
    event.raise_for_status()
    stream = http.get(f"/gradio_api/call/predict/{event.json()['event_id']}").text
    kind = "complete" if "event: complete" in stream else "error"
    return kind, json.loads(stream.rsplit("data:", 1)[1]) if "data:" in stream else stream


def test_identical_uploads_are_each_answered_and_no_request_deletes_a_file(app_url, tmp_path):
    """The same file uploaded by many pupils at once gets one server path (Gradio names uploads by content): every
    request is answered, and the file stays for Gradio's own clean-up (demo/page/ui.py: DELETE_CACHE), since no
    request may delete a file another one (or Gradio) put there."""
    from concurrent.futures import ThreadPoolExecutor

    _canvas_png(tmp_path / "worksheet.png", 7)
    data = (tmp_path / "worksheet.png").read_bytes()
    with httpx.Client(base_url=app_url, timeout=60) as http:
        def upload_and_predict(_: int) -> tuple[str, str, object]:
            path = http.post("/gradio_api/upload", files={"files": ("worksheet.png", data, "image/png")}).json()[0]
            return (path, *_rest_predict(http, path))

        with ThreadPoolExecutor(12) as pool:
            results = list(pool.map(upload_and_predict, range(24)))
        assert len({path for path, _, _ in results}) == 1
        assert [kind for _, kind, _ in results] == ["complete"] * 24, [r for r in results if r[1] != "complete"][:2]
        assert all(payload[0]["label"] == 7 for _, _, payload in results)
        assert Path(results[0][0]).exists()
        assert _rest_predict(http, results[0][0])[0] == "complete"  # and can be read again


def test_rest_predict_takes_the_image_itself_and_answers_as_predict_does(app_url, tmp_path):
    """POST /convscope/predict: the image's bytes in, /predict's JSON out, no file made on the server."""
    _canvas_png(tmp_path / "three.png", 3)
    data = (tmp_path / "three.png").read_bytes()
    uploads = Path(app_url.uploads)
    before = sorted(uploads.rglob("*")) if uploads.exists() else []
    with httpx.Client(base_url=app_url, timeout=60) as http:
        answer = http.post("/convscope/predict", content=data, headers={"Content-Type": "image/png"})
        path = http.post("/gradio_api/upload", files={"files": ("three.png", data, "image/png")}).json()[0]
        gradio_answer = _rest_predict(http, path)
        bad = http.post("/convscope/predict", content=b"not an image")
        empty = http.post("/convscope/predict", content=b"")
    assert answer.status_code == 200 and answer.json() == gradio_answer[1][0]
    assert answer.json()["label"] == 3
    assert bad.status_code == 400 and "not an image" in bad.json()["error"]
    assert empty.status_code == 400 and "image" in empty.json()["error"]
    after = [p for p in (sorted(uploads.rglob("*")) if uploads.exists() else []) if "three.png" not in str(p)]
    assert [p for p in after if p not in before and p.is_file()] == []


def test_live_route_answers_only_the_views_asked_for(app_url):
    strokes = next(e for e in pad_examples()[0] if e["digit"] == 3)["strokes"]
    drawing = {"w": 280, "h": 280, "pen": 20, "seq": 9, "strokes": strokes}
    with httpx.Client(base_url=app_url, timeout=60) as http:
        live = http.post("/convscope/live", json={**drawing, "views": ["probabilities"]})
        settled = http.post("/convscope/live", json={**drawing, "input": True}, headers={"Accept-Encoding": "gzip"})
        broken = http.post("/convscope/live", content=b'{"strokes": [[["x", 1]]]}')
    assert live.status_code == settled.status_code == broken.status_code == 200
    assert set(live.json()["html"]) == {"prediction", "probabilities", "notice"}
    assert 'data-label="3"' in live.json()["html"]["prediction"] and 'data-seq="9"' in live.json()["html"]["prediction"]
    assert set(settled.json()["html"]) == {"prediction", "probabilities", "model_input", "feature_maps",
                                           "pooled_maps", "notice", "overview"}
    assert settled.headers["content-encoding"] == "gzip" and len(settled.content) < len(json.dumps(settled.json()))
    from demo.views.live import decode_input

    assert decode_input(settled.json()["input"]).shape == (28, 28)
    assert broken.json()["kept"] is True and "could not be used" in broken.json()["html"]["notice"]
    assert set(broken.json()["html"]) == {"notice"}  # the page keeps every other view
