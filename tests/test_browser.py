"""End to end in real Chromium: draw with the mouse (and touch) on #pad, read #prediction and the maps."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PIL import Image

from demo.core.examples import EXAMPLES, example_image
from demo.core.model import CONV, POOL, stage_kind
from tests.harness import (
    draw_strokes,
    example_strokes_unit,
    open_page,
    reset_observer,
    wait_settled,
)

pytestmark = [pytest.mark.browser, pytest.mark.server]  # real Chromium against a real app


@pytest.fixture(scope="module")
def app_page(mnist_dir, browser, app_server):
    """One page of the run's app (with MNIST: its samples under the pad), shared by this module's tests."""
    page = open_page(browser, app_server)
    yield page
    page.close()


@pytest.fixture
def page(app_page):
    """The shared page, with an empty pad at the start of each test (a failed test leaves no ink behind)."""
    app_page.click("#clear")
    wait_settled(app_page)
    reset_observer(app_page)
    return app_page


def shown_digit(page) -> str | None:
    """The first digit character of #prediction, or None when it shows no digit."""
    match = re.search(r"\d", page.locator("#prediction").inner_text())
    return match.group() if match else None


def clear(page) -> None:
    page.click("#clear")
    wait_settled(page)
    assert shown_digit(page) is None


def test_empty_pad_invites_and_never_guesses(page):
    assert shown_digit(page) is None
    assert "Draw a digit" in page.locator("#prediction").inner_text()
    assert page.locator("#feature-maps img").count() == 0


# Drawn with the mouse here: a sample of digits, straight and round, of one stroke and of several (all ten, drawn
# the same way, are read through the pad's server path without a browser: tests/test_accuracy.py).
DRAWN_DIGITS = (1, 4, 5, 8)


def test_drawn_digits_are_read_live(page, clf):
    kinds = [stage_kind(m) for _, m in clf.model.named_children()]
    long_strokes_updated = []
    for digit in DRAWN_DIGITS:
        reset_observer(page)
        draw_strokes(page, example_strokes_unit(digit, len(EXAMPLES[digit]) - 1))
        timing = wait_settled(page)
        assert shown_digit(page) == str(digit), page.locator("#prediction").inner_text()
        long_strokes_updated.append(timing["updates_before_pen_up"])
        assert page.locator("#model-input .input28 img").count() == 1
        assert page.locator("#feature-maps img.pixelated").count() == kinds.count(CONV)
        assert page.locator("#pooled-maps img.pixelated").count() == kinds.count(POOL)
        assert page.locator("#probabilities .prob-row").count() == 10
        clear(page)
    # The answer follows the pen: predictions arrive while strokes are still being drawn.
    assert sum(n > 0 for n in long_strokes_updated) >= len(DRAWN_DIGITS) - 1, long_strokes_updated


def test_the_settled_answer_is_announced_once_to_screen_readers(page):
    region = page.locator("#answer-announcement")
    assert region.get_attribute("aria-live") == "polite" and region.get_attribute("role") == "status"
    assert region.inner_text() == ""  # an empty pad says nothing
    draw_strokes(page, example_strokes_unit(4, 0))
    wait_settled(page)
    expected = page.locator("#prediction").get_attribute("data-announce")
    assert expected.startswith("The network reads 4, with ") and expected.endswith(" % softmax probability.")
    page.wait_for_function("e => document.querySelector('#answer-announcement').textContent === e", arg=expected,
                           timeout=5000)
    # said once: it stays the same sentence (a live region speaks when its text changes)
    page.wait_for_timeout(1000)
    assert region.inner_text() == expected
    clear(page)


def test_maps_are_labelled_with_layer_and_shape(page):
    draw_strokes(page, example_strokes_unit(8))
    wait_settled(page)
    maps = page.locator("#feature-maps").inner_text()
    pooled = page.locator("#pooled-maps").inner_text()
    for text in ("conv1 → relu1", "32×28×28", "conv3 → relu3", "64×14×14"):
        assert text in maps
    for text in ("pool1", "32×14×14", "pool2", "64×7×7"):
        assert text in pooled
    clear(page)


def test_undo_removes_the_last_stroke(page):
    four = example_strokes_unit(4)
    draw_strokes(page, four)
    wait_settled(page)
    assert shown_digit(page) == "4"
    before = page.locator("#prediction").get_attribute("data-seq")
    page.click("#undo")
    wait_settled(page)
    assert page.locator("#prediction").get_attribute("data-seq") != before
    page.click("#undo")
    wait_settled(page)
    assert shown_digit(page) is None  # both strokes undone: the pad is empty again


def test_touch_input_draws_too(page):
    """Pointer events from a finger (pointerType "touch") draw like the mouse."""
    box = page.locator("#pad canvas").bounding_box()
    points = [(0.52, 0.18), (0.5, 0.5), (0.49, 0.82)]
    page.evaluate(
        """([box, points]) => {
             const c = document.querySelector('#pad canvas');
             const at = (p) => ({clientX: box.x + p[0] * box.width, clientY: box.y + p[1] * box.height,
                                 pointerId: 7, pointerType: 'touch', isPrimary: true, bubbles: true});
             c.dispatchEvent(new PointerEvent('pointerdown', at(points[0])));
             for (const p of points.slice(1)) c.dispatchEvent(new PointerEvent('pointermove', at(p)));
             c.dispatchEvent(new PointerEvent('pointerup', at(points[points.length - 1])));
           }""", [box, points])
    wait_settled(page)
    assert shown_digit(page) == "1"
    clear(page)


def test_upload_an_image_file(page, tmp_path):
    rgba = np.zeros((280, 280, 4), np.uint8)
    rgba[..., 3] = (example_image(2, 1, 280, 20) * 255).astype(np.uint8)
    path = tmp_path / "two.png"
    Image.fromarray(rgba, "RGBA").save(path)
    page.set_input_files("#upload input[type=file]", str(path))
    page.wait_for_function("() => /2/.test(document.querySelector('#prediction').innerText)", timeout=15_000)
    assert shown_digit(page) == "2"


def test_bad_upload_keeps_the_views_and_says_why(page, tmp_path):
    draw_strokes(page, example_strokes_unit(6))
    wait_settled(page)
    assert shown_digit(page) == "6"
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    page.set_input_files("#upload input[type=file]", str(bad))
    page.wait_for_function("() => document.querySelector('#notice').innerText.length > 0", timeout=15_000)
    notice = page.locator("#notice").inner_text()
    assert "could not be used" in notice and ("cannot be read" in notice or "not an image" in notice), notice
    assert "Traceback" not in notice
    assert shown_digit(page) == "6"  # nothing the user had is lost
    clear(page)


def test_mnist_samples_are_clickable(page):
    page.locator("#mnist-samples img").nth(7).click()
    page.wait_for_function("() => /7/.test(document.querySelector('#prediction').innerText)", timeout=15_000)
    assert shown_digit(page) == "7"

