"""The network at a glance, in real Chromium: the first screen at projector, large-screen and phone sizes in both
modes (element boxes, not pixel snapshots), the inspector's values against the model's own, and classroom mode's
keyboard shortcuts."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from demo.core.model import staged_forward
from demo.core.strokes import parse_drawing
from demo.page.pad import pad_examples
from demo.views.live import decode_input
from tests.harness import (
    draw_strokes,
    example_strokes_unit,
    open_page,
    teacher_url,
    wait_settled,
)

pytestmark = pytest.mark.browser

SCREENS = {"projector": (1280, 720), "large": (1920, 1080), "phone": (390, 844)}
FIRST_SCREEN = ["#pad canvas", "#prediction", "#probabilities"]

BOXES = """(selectors) => {
  const box = (el) => { const r = el.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
  const out = {};
  for (const s of selectors) { const el = document.querySelector(s); out[s] = el ? box(el) : null; }
  out.stages = [...document.querySelectorAll('#overview .ov-stage')].filter((e) => e.checkVisibility())
    .map((e) => [e.dataset.stage, ...box(e)]);
  out.width = document.documentElement.scrollWidth;
  return out; }"""


@pytest.fixture(scope="module")
def classroom_url(classroom_server):
    """The teacher's (projector's) page of an app in classroom mode; its pupils' pages are plain (test_class_room)."""
    return teacher_url(classroom_server)


def stage_names(clf) -> list[str]:
    return ["input", *(name for name, _ in clf.model.named_children()), "probabilities"]


def inside(box: list[float], width: int, height: float) -> bool:
    left, top, right, bottom = box
    return left >= 0 and top >= 0 and right <= width + 0.5 and bottom <= height + 0.5


def first_screen(browser, url: str, screen: str, classroom: bool) -> tuple[dict, int, int]:
    width, height = SCREENS[screen]
    page = open_page(browser, url, width=width, height=height)
    try:  # a 3 through the pad's example button (one update; drawing with the mouse: tests/test_browser.py)
        page.locator('.example-button[data-digit="3"]').first.click()
        wait_settled(page)
        page.wait_for_function("() => document.querySelector('#overview')?.dataset.state === 'ready'")
        if classroom:
            page.click("#step-all")
        page.evaluate("() => window.scrollTo(0, 0)")
        return page.evaluate(BOXES, [*FIRST_SCREEN, "#classroom-controls"]), width, height
    finally:
        page.close()


@pytest.mark.parametrize("mode", ["normal", "classroom"])
def test_the_first_screen_shows_the_pad_the_answer_and_every_stage(browser, app_server, classroom_url, clf, mode):
    url = classroom_url if mode == "classroom" else app_server
    for screen in ("projector", "large"):
        boxes, width, height = first_screen(browser, url, screen, mode == "classroom")
        for selector in FIRST_SCREEN + (["#classroom-controls"] if mode == "classroom" else []):
            assert inside(boxes[selector], width, height), (screen, selector, boxes[selector])
        assert [s[0] for s in boxes["stages"]] == stage_names(clf), (screen, boxes["stages"])
        outside = [s for s in boxes["stages"] if not inside(s[1:], width, height)]
        assert not outside, (screen, outside)
        assert boxes["width"] <= width  # nothing sticks out sideways


@pytest.mark.parametrize("mode", ["normal", "projector"])
def test_on_a_phone_the_pad_comes_first_then_the_answer_then_the_overview(browser, app_server, classroom_url, clf,
                                                                          mode):
    """390×844: everything is one column as wide as the screen; the pad and the answer share the first screen, the
    probabilities and the overview follow when scrolling (a pupil's phone in a class room: tests/test_class_room)."""
    boxes, width, height = first_screen(browser, classroom_url if mode == "projector" else app_server, "phone",
                                        mode == "projector")
    assert inside(boxes["#pad canvas"], width, height) and inside(boxes["#prediction"], width, height), boxes
    assert boxes["#pad canvas"][3] <= boxes["#prediction"][1] <= boxes["#probabilities"][1]
    assert [s[0] for s in boxes["stages"]] == stage_names(clf)
    assert all(boxes["#probabilities"][3] <= s[2] and s[1] >= 0 and s[3] <= width for s in boxes["stages"])
    assert boxes["width"] <= width


def stage_values(clf, input28: np.ndarray) -> dict[str, np.ndarray]:
    """Every stage's output for a model input, computed here with the model: the oracle."""
    with torch.inference_mode():
        logits, outputs = staged_forward(clf.model, torch.from_numpy(input28)[None, None])
    return {"input": input28[None], **{name: out[0].numpy() for name, out in outputs.items()},
            "probabilities": torch.softmax(logits.double(), 1)[0].numpy()}


def example_values(clf, digit: int) -> dict[str, np.ndarray]:
    """The stages' outputs for the pad's first example of ``digit``."""
    example = next(e for e in pad_examples()[0] if e["digit"] == digit)
    drawing = parse_drawing(json.dumps({"w": 280, "h": 280, "pen": 20, "seq": 1, "strokes": example["strokes"]}))
    return stage_values(clf, clf.predict(drawing.rasterize(), pen_width=drawing.pen).input28)


def test_clicking_any_stage_shows_how_its_value_was_made(browser, app_server, clf):
    values = example_values(clf, 5)
    page = open_page(browser, app_server, width=1280, height=720)
    page.click('.example-button[data-digit="5"][data-style="1"]')
    wait_settled(page)
    page.wait_for_function("() => document.querySelector('#prediction')?.dataset.label === '5'")
    clicks = [("conv1", 0.1, 0.1), ("conv2", 0.55, 0.3), ("relu2", 0.8, 0.8), ("pool1", 0.3, 0.6),
              ("conv3", 0.2, 0.9), ("pool2", 0.9, 0.2), ("normalize", 0.0, 0.99), ("flatten", 0.4, 0.5),
              ("fc1", 0.7, 0.2), ("relu4", 0.3, 0.7), ("fc2", 0.35, 0.5)]
    checked = set()
    for n, (stage, fx, fy) in enumerate(clicks, start=1):
        picture = page.locator(f'#overview .ov-stage[data-stage="{stage}"] [data-inspect]')
        box = picture.bounding_box()
        page.mouse.click(box["x"] + fx * (box["width"] - 1), box["y"] + fy * (box["height"] - 1))
        page.wait_for_function("(s) => { const i = document.querySelector('#inspector');"
                               " return i && !i.hidden && i.dataset.stage === s && i.dataset.state === 'ready'; }",
                               arg=stage)
        shown = page.evaluate("() => { const i = document.querySelector('#inspector');"
                              " return {...i.dataset, value: i.querySelector('[data-value]').dataset.value}; }")
        out = values[stage]
        unit, row, col = int(shown["unit"]), int(shown["row"]), int(shown["col"])
        expected = out[unit, row, col] if out.ndim == 3 else out[unit]
        assert float(shown["value"]) == pytest.approx(float(expected), rel=1e-4, abs=1e-5), (stage, shown)
        checked.add((stage, unit, row, col))
        if n == 2:  # the panel covers the pad, not the overview: every stage stays clickable
            assert page.locator("#inspector").bounding_box()["x"] + 540 <= page.locator("#overview").bounding_box()[
                "x"] + 1
    assert len(checked) == len(clicks)
    # A probability bar, and the feature maps below the first screen (a map other than the overview's few).
    page.locator('#overview [data-inspect-unit="5"]').click()
    page.wait_for_function("() => document.querySelector('#inspector')?.dataset.stage === 'probabilities'")
    value = float(page.locator("#inspector [data-value]").get_attribute("data-value"))
    assert value == pytest.approx(float(values["probabilities"][5]), rel=1e-6)
    page.keyboard.press("Escape")
    assert page.locator("#inspector").is_hidden()
    relu1 = page.locator('#feature-maps img[data-inspect="relu1"]')
    relu1.scroll_into_view_if_needed()
    box = relu1.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.93, box["y"] + box["height"] * 0.9)  # the last row's last map
    page.wait_for_function("() => { const i = document.querySelector('#inspector');"
                           " return !i.hidden && i.dataset.stage === 'relu1' && i.dataset.state === 'ready'; }")
    shown = page.evaluate("() => ({...document.querySelector('#inspector').dataset,"
                          " value: document.querySelector('#inspector [data-value]').dataset.value})")
    assert int(shown["unit"]) >= 24  # the fourth row of eight maps
    assert float(shown["value"]) == pytest.approx(
        float(values["relu1"][int(shown["unit"]), int(shown["row"]), int(shown["col"])]), rel=1e-4, abs=1e-5)
    # The panel follows the drawing: draw on the pad (its top stays in sight): the same place, the new value. The
    # oracle reads the model input the server answered with.
    page.locator(".inspector-close").click()
    page.locator("#overview .ov-stage[data-stage='pool1'] [data-inspect]").click(position={"x": 3, "y": 3})
    page.wait_for_function("() => document.querySelector('#inspector')?.dataset.stage === 'pool1'")
    where = page.evaluate("() => ({...document.querySelector('#inspector').dataset})")
    assert page.locator("#pad canvas").bounding_box()["y"] + 200 <= page.locator("#inspector").bounding_box()["y"]
    with page.expect_response(lambda r: "convscope/live" in r.url and '"input"' in (r.request.post_data or "")
                              and '"input":true' in r.request.post_data) as settled:
        draw_strokes(page, [[(0.15, 0.1), (0.5, 0.5), (0.85, 0.1)]])  # a V over the 5's top
        wait_settled(page)
    values7 = stage_values(clf, decode_input(settled.value.json()["input"]))
    expected7 = float(values7["pool1"][int(where["unit"]), int(where["row"]), int(where["col"])])
    page.wait_for_function("(v) => Math.abs(+document.querySelector('#inspector [data-value]').dataset.value - v)"
                           " <= 1e-4 * Math.max(1, Math.abs(v))", arg=expected7, timeout=10_000)
    page.close()


def visible_stages(page) -> int:
    return page.locator("#overview .ov-stage:visible").count()


def test_classroom_keyboard_shortcuts_step_freeze_and_are_shown(browser, classroom_url):
    page = open_page(browser, classroom_url, width=1280, height=720)
    draw_strokes(page, example_strokes_unit(4))
    wait_settled(page)
    page.wait_for_function("() => document.querySelector('#overview')?.dataset.state === 'ready'")
    keys = page.locator("#classroom-controls kbd").all_inner_texts()
    assert {"←", "→", "A", "F"} <= set(keys)
    assert visible_stages(page) == 1
    page.locator("body").press("ArrowRight")
    page.locator("body").press("ArrowRight")
    assert visible_stages(page) == 3
    page.locator("body").press("ArrowLeft")
    assert visible_stages(page) == 2 and "step 2 of" in page.locator("#step-label").inner_text()
    page.locator("body").press("a")
    total = int(page.locator("#overview").get_attribute("data-steps"))
    assert visible_stages(page) == total
    page.locator("body").press("f")
    assert page.evaluate("() => document.body.classList.contains('convscope-frozen')")
    seq = page.locator("#pad canvas").get_attribute("data-seq")
    draw_strokes(page, example_strokes_unit(1))
    assert page.locator("#pad canvas").get_attribute("data-seq") == seq  # frozen: the drawing stays
    page.locator("body").press("f")
    assert not page.evaluate("() => document.body.classList.contains('convscope-frozen')")
    page.locator("body").press("ArrowLeft")
    assert visible_stages(page) == total - 1
    page.locator("body").press("d")
    assert not page.evaluate("() => document.body.classList.contains('dark')")
    # A key pressed on a slider moves the slider, not the stepper.
    page.locator("#pen-width").focus()
    page.keyboard.press("a")
    assert visible_stages(page) == total - 1
    page.close()
