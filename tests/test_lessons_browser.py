"""The teaching tabs and classroom mode, end to end in real Chromium, on a drawn digit.

Each test starts from a freshly loaded page with a 3 on the pad, so the tests pass in any order. (The pictures in
docs/ come from tools/screenshots.py.)
"""

from __future__ import annotations

import json

import httpx
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from demo.core.model import count_parameters
from demo.page.ui import LAUNCH_OPTIONS
from tests.harness import (
    draw_strokes,
    example_strokes_unit,
    open_page,
    open_tab,
    reload_with_example,
    set_number,
    teacher_url,
    wait_settled,
)
from tests.harness import lesson_ready as ready

pytestmark = [pytest.mark.browser, pytest.mark.server]  # real Chromium against a real app




@pytest.fixture(scope="module")
def app_url(app_server):
    return app_server


@pytest.fixture
def page(module_page):
    """The module's page freshly loaded, with a 3 on the pad (the pad's example button: one update; drawing with the
    mouse is covered by test_lessons_follow_the_drawing and test_browser.py): no tab open, no
    lesson computed, every control at its default, whatever the tests before did."""
    assert reload_with_example(module_page, 3) == "3"
    return module_page


def test_hidden_lessons_are_not_computed(page):
    """A drawing updates the live views, but a lesson whose tab is closed stays uncomputed."""
    hidden = page.evaluate("() => [...document.querySelectorAll('.lesson')].map(e => [e.id, e.dataset.state])")
    assert all(state != "ready" for _, state in hidden), hidden


def test_convolution_playground(page):
    page.get_by_role("tab", name="Convolution").click()
    data = ready(page, "conv-playground")
    assert (data["k"], data["mode"], data["out"]) == ("3", "valid", "26x26")
    page.locator("#conv-mode").get_by_text("full").click()
    set_number(page, "conv-stride", 2)
    data = ready(page, "conv-playground", "d.mode === 'full' && d.stride === '2'")
    expected = F.conv2d(F.pad(torch.zeros(1, 1, 28, 28), (2, 2, 2, 2)), torch.zeros(1, 1, 3, 3), stride=2).shape
    assert data["out"] == f"{expected[2]}x{expected[3]}"  # 15x15
    assert "⌊" in page.locator("#conv-playground .formula").inner_text()
    set_number(page, "conv-stride", 1)
    page.locator("#conv-mode").get_by_text("valid").click()
    ready(page, "conv-playground", "d.mode === 'valid' && d.stride === '1'")


def test_pooling_explorer(page):
    page.get_by_role("tab", name="Pooling").click()
    data = ready(page, "pooling")
    assert data["out"] == "14x14" and data["kind"] == "max"
    kept_max = float(data["kept"])
    page.locator("#pool-kind").get_by_text("mean").click()
    data = ready(page, "pooling", "d.kind === 'mean'")
    assert float(data["kept"]) <= kept_max + 1e-6  # a mean never exceeds the max of the same window
    page.locator("#pool-kind").get_by_text("max").click()
    ready(page, "pooling", "d.kind === 'max'")


def test_one_value_matches_the_model(page):
    page.get_by_role("tab", name="One value").click()
    data = ready(page, "one-value")
    assert abs(float(data["value"]) - float(data["modelValue"])) < 1e-4
    assert "ReLU" in page.locator("#one-value .formula").inner_text()


def test_cnn_vs_ann(page):
    page.get_by_role("tab", name="CNN vs MLP").click()
    data = ready(page, "cnn-vs-ann")
    assert data["cnnLabel"] == "3" and data["mlpLabel"] == "3"
    assert page.locator("#cnn-vs-ann svg.chart").count() >= 3
    set_number(page, "versus-dx", 5)
    ready(page, "cnn-vs-ann", "true")
    page.wait_for_function("() => document.querySelector('#cnn-vs-ann figcaption').innerText.includes('+5 px right')")
    set_number(page, "versus-dx", 0)
    page.wait_for_function("() => document.querySelector('#cnn-vs-ann figcaption').innerText.includes('+0 px right')")


def test_saliency(page):
    page.get_by_role("tab", name="Saliency").click()
    data = ready(page, "saliency")
    assert data["target"] == "3" and data["method"] == "gradient × input"
    page.locator("#saliency-method").get_by_text("Grad-CAM").click()
    ready(page, "saliency", "d.method === 'Grad-CAM'")


def test_lessons_follow_the_drawing(page):
    """With a lesson open, a new drawing recomputes it."""
    page.get_by_role("tab", name="CNN vs MLP").click()
    ready(page, "cnn-vs-ann", "d.cnnLabel === '3'")
    page.click("#clear")
    wait_settled(page)
    draw_strokes(page, example_strokes_unit(7))
    wait_settled(page)
    ready(page, "cnn-vs-ann", "d.cnnLabel === '7'")


def test_lessons_survive_server_session_eviction(page):
    """Sessionless REST calls each make a Gradio session and push older ones out; the lessons' state lives in the
    page, so a pupil's lesson keeps working after their server session was evicted."""
    page.get_by_role("tab", name="CNN vs MLP").click()
    ready(page, "cnn-vs-ann", "d.cnnLabel === '3'")
    calls = LAUNCH_OPTIONS["state_session_capacity"] + 10
    with httpx.Client(base_url=page.url.rstrip("/"), timeout=30) as http:
        for i in range(calls):
            drawing = json.dumps({"w": 280, "h": 280, "pen": 20, "seq": i, "strokes": []})
            event = http.post("/gradio_api/call/draw", json={"data": [drawing]}).json()
            assert "event: complete" in http.get(f"/gradio_api/call/draw/{event['event_id']}").text
    set_number(page, "versus-dx", 3)
    page.wait_for_function("() => document.querySelector('#cnn-vs-ann figcaption').innerText.includes('+3 px right')")
    assert ready(page, "cnn-vs-ann")["cnnLabel"] == "3"
    set_number(page, "versus-dx", 0)
    page.wait_for_function("() => document.querySelector('#cnn-vs-ann figcaption').innerText.includes('+0 px right')")


def test_architecture_model_card_and_glossary(page, clf):
    open_tab(page, "Architecture")
    page.wait_for_selector("#architecture", state="visible")
    assert int(page.locator("#architecture").get_attribute("data-total")) == count_parameters(clf.model)
    assert "conv1" in page.locator("#architecture table").inner_text()
    open_tab(page, "Model card")
    page.wait_for_selector("#model-card", state="visible")
    assert float(page.locator("#model-card").get_attribute("data-accuracy")) == clf.report["test_accuracy"]
    assert page.locator("#model-card table.confusion tr").count() == 11
    open_tab(page, "Glossary")
    page.wait_for_selector("#term-filter", state="visible")
    filters = page.locator("#term-filter + dd").inner_text()
    conv1 = clf.model.conv1
    assert f"each of its {conv1.out_channels} filters is a single" in filters


def test_classroom_mode_at_projector_size(browser, classroom_server):
    page = open_page(browser, teacher_url(classroom_server), width=1280, height=720)
    assert page.evaluate("() => document.body.classList.contains('dark')")
    assert page.evaluate("() => parseFloat(getComputedStyle(document.body).fontSize)") >= 20
    draw_strokes(page, example_strokes_unit(4))
    wait_settled(page)
    page.wait_for_function("() => +(document.querySelector('#network')?.dataset.steps || 0) > 3")
    steps = int(page.locator("#overview").get_attribute("data-steps"))

    def visible() -> int:
        """Stages shown on the first screen's overview; the Layer by layer tab shows the same ones."""
        shown = page.locator("#overview .ov-stage:visible").evaluate_all("(s) => s.map((e) => e.dataset.stage)")
        tab = page.locator("#network .net-step:visible").evaluate_all("(s) => s.map((e) => e.dataset.stage)")
        assert set(tab) <= set(shown) | {"answer"} and tab, (tab, shown)
        return len(shown)

    assert visible() == 1  # the input only: the class sees the network one layer at a time
    page.click("#step-forward")
    page.click("#step-forward")
    assert visible() == 3
    page.click("#step-forward")
    page.click("#step-back")
    page.click("#step-back")
    assert visible() == 2 and "step 2 of" in page.locator("#step-label").inner_text()
    page.click("#step-all")
    assert visible() == steps
    assert page.locator("#network .net-step:visible").count() == int(
        page.locator("#network").get_attribute("data-steps"))
    # Freeze: the pad ignores new strokes until unfrozen.
    seq = page.locator("#pad canvas").get_attribute("data-seq")
    page.click("#freeze")
    draw_strokes(page, example_strokes_unit(1))
    page.click("#clear")
    assert page.locator("#pad canvas").get_attribute("data-seq") == seq
    assert page.locator("#prediction").get_attribute("data-label") == "4"
    page.click("#freeze")
    page.click("#theme-toggle")
    assert not page.evaluate("() => document.body.classList.contains('dark')")
    page.close()


def slider_max(page, elem_id: str) -> int:
    return int(page.locator(f"#{elem_id} input[type=range]").get_attribute("max"))


def choose(page, elem_id: str, option: str) -> None:
    """Picks ``option`` in a Gradio dropdown, as a user does: open it, click the option."""
    page.locator(f"#{elem_id} input").click()
    page.get_by_role("option", name=option, exact=True).click()


def test_sliders_follow_the_chosen_layer(page, clf):
    """A slider never reaches past the layer it points into (channel 0–63 on a 32-channel layer, say)."""
    shapes = {name: out.shape for name, out in clf.forward_staged(np.zeros((28, 28), np.float32))[1].items()}
    page.get_by_role("tab", name="One value").click()
    ready(page, "one-value")
    assert (slider_max(page, "one-channel"), slider_max(page, "one-row")) == (shapes["conv1"][0] - 1,
                                                                               shapes["conv1"][1] - 1)
    set_number(page, "one-row", 25)
    choose(page, "one-layer", "conv2")
    page.wait_for_function(f"() => +document.querySelector('#one-row input[type=range]').max === "
                           f"{shapes['conv2'][1] - 1}")
    assert slider_max(page, "one-channel") == shapes["conv2"][0] - 1
    assert int(page.locator("#one-row input[type=number]").input_value()) == shapes["conv2"][1] - 1  # moved inside
    ready(page, "one-value", "d.layer === 'conv2'")
    page.get_by_role("tab", name="Pooling").click()
    ready(page, "pooling")
    set_number(page, "pool-window", 3)
    set_number(page, "pool-stride", 1)
    side = (shapes["relu1"][1] - 3) // 1 + 1
    page.wait_for_function(f"() => +document.querySelector('#pool-row input[type=range]').max === {side - 1}")
    choose(page, "pool-stage", "relu3")
    page.wait_for_function(f"() => +document.querySelector('#pool-channel input[type=range]').max === "
                           f"{shapes['relu3'][0] - 1}")
