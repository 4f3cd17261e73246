"""The insight tabs (Watch it learn, Nearest digits, What filters look for, Break it, Handout) end to end in real
Chromium, on a drawn digit, against an app started with real MNIST (the nearest digits need it)."""

from __future__ import annotations

import time

import pytest

from demo.teaching.lessons import break_it
from demo.teaching.snapshots import DEFAULT_PATH as SNAPSHOTS
from tests.harness import (
    draw_strokes,
    example_strokes_unit,
    open_page,
    open_tab,
    reload_with_example,
    set_number,
    wait_settled,
)
from tests.harness import lesson_ready as ready

pytestmark = [pytest.mark.browser, pytest.mark.server]


def live_answer(page) -> tuple[str, list[str]]:
    """The live prediction and its ten probabilities as the page shows them."""
    label = page.locator("#prediction").get_attribute("data-label")
    probs = page.locator("#live-probabilities").inner_text().split()
    return label, probs


@pytest.fixture(scope="module")
def app_url(mnist_dir, app_server):
    """The run's app, with MNIST (the nearest digits need it) and the run's build cache (tests/conftest.py)."""
    return app_server


def fresh(page, digit: int = 3):
    """The page reloaded, with the pad's example ``digit`` drawn (one update)."""
    assert reload_with_example(page, digit) == str(digit)
    return page


@pytest.fixture
def page(module_page):
    return fresh(module_page)


def test_watch_it_learn(page):
    assert SNAPSHOTS.is_file(), "weights/cnn_snapshots.safetensors is shipped with the CNN"
    open_tab(page, "Watch it learn")
    data = ready(page, "learning")
    count = int(data["count"])
    assert 8 <= count <= 14 and data["index"] == "0"
    assert page.locator("#learning [data-snapshot]").count() == count
    assert float(page.locator("#learning [data-snapshot='0']").get_attribute("data-accuracy")) < 0.3  # a guess
    # A click on the last snapshot: the trained network, which reads the drawing as the live page does.
    page.locator(f"#learning [data-snapshot='{count - 1}']").click()
    data = ready(page, "learning", f"d.index === '{count - 1}'")
    assert data["answer"] == page.locator("#prediction").get_attribute("data-label") == "3"
    # Play from the start walks forward through the snapshots by itself; Pause stops it.
    set_number(page, "learning-step", 0)
    ready(page, "learning", "d.index === '0'")
    page.locator("#learning-play").click()
    ready(page, "learning", "+d.index >= 2", timeout=30_000)
    page.locator("#learning-play").click()  # pause
    page.wait_for_timeout(2500)
    stopped = page.locator("#learning").get_attribute("data-index")
    page.wait_for_timeout(2500)
    assert page.locator("#learning").get_attribute("data-index") == stopped


def test_nearest_digits(page):
    deadline = time.monotonic() + 240  # a fresh machine builds the embeddings once (about 20 s on 2 cores)
    open_tab(page, "Nearest digits")
    while True:
        page.wait_for_function("() => ['ready', 'preparing', 'error', 'off'].includes("
                               "document.querySelector('#nearest')?.dataset.state)", timeout=20_000)
        state = page.locator("#nearest").get_attribute("data-state")
        if state == "ready":
            break
        assert state == "preparing" and time.monotonic() < deadline, state
        page.wait_for_timeout(3000)
        open_tab(page, "Watch it learn")  # reopening the tab computes it again
        open_tab(page, "Nearest digits")
    labels = page.locator("#nearest [data-label]").evaluate_all("(es) => es.map((e) => e.dataset.label)")
    similarities = page.locator("#nearest [data-similarity]").evaluate_all(
        "(es) => es.map((e) => +e.dataset.similarity)")
    assert len(labels) == 8 and len(similarities) == 8
    assert similarities == sorted(similarities, reverse=True) and similarities[0] <= 1.0
    assert labels.count("3") >= 5, labels  # a clear 3 sits among training 3s
    # Another drawing: the tab follows it.
    page.locator('.example-button[data-digit="7"]').first.click()
    wait_settled(page)
    page.wait_for_function("() => [...document.querySelectorAll('#nearest [data-label]')]"
                           ".filter((e) => e.dataset.label === '7').length >= 5", timeout=20_000)


def test_filter_atlas_click_a_channel(page, clf):
    open_tab(page, "What filters look for")
    data = ready(page, "filter-atlas")
    assert (data["layer"], data["channel"]) == ("conv1", "0")
    assert page.locator("#filter-atlas .atlas-channel").count() == clf.model.conv1.out_channels
    page.locator("#filter-atlas .atlas-channel[data-channel='5']").click()
    ready(page, "filter-atlas", "d.channel === '5'")
    assert page.locator("#atlas-channel-number input[type=number]").input_value() == "5"
    assert page.locator("#filter-atlas .atlas-patch").count() == 9
    assert page.locator("#filter-atlas .atlas-channel.selected").get_attribute("data-channel") == "5"
    # Another layer through its button: its own channels, the choice kept in range.
    page.locator("#filter-atlas .atlas-layer[data-layer='conv3']").click()
    ready(page, "filter-atlas", "d.layer === 'conv3'")
    assert page.locator("#filter-atlas .atlas-channel").count() == clf.model.conv3.out_channels
    page.locator("#filter-atlas .atlas-channel[data-channel='40']").click()
    data = ready(page, "filter-atlas", "d.channel === '40'")
    assert data["layer"] == "conv3" and "drawingValue" in data


def test_break_it_changes_only_this_learners_view(browser, app_url):
    """Two users at once: one breaks the network, the other's answers and views stay those of the intact one."""
    teacher = fresh(open_page(browser, app_url))
    pupil = fresh(open_page(browser, app_url))
    try:
        before = live_answer(pupil)
        open_tab(teacher, "Break it")
        data = ready(teacher, "break-it")
        assert data["original"] == data["answer"] == "3" and data["channelsOff"] == ""
        open_tab(pupil, "Break it")
        ready(pupil, "break-it")
        teacher.locator("#break-channels textarea, #break-channels input").first.fill("0-31")
        data = ready(teacher, "break-it", "d.channelsOff.split(',').length === 32")
        assert data["original"] == "3"  # every conv1 filter off: the network no longer sees the drawing
        set_number(teacher, "break-noise", break_it.MAX_NOISE)
        ready(teacher, "break-it", f"d.noise === '{break_it.MAX_NOISE:g}'")
        # The pupil draws again meanwhile: the intact network answers, and the pupil's Break it tab is intact.
        draw_strokes(pupil, example_strokes_unit(3, 1))
        wait_settled(pupil)
        pupil_data = ready(pupil, "break-it")
        assert pupil_data["channelsOff"] == "" and pupil_data["noise"] == "0"
        assert pupil_data["answer"] == pupil_data["original"] == pupil.locator("#prediction").get_attribute(
            "data-label")
        fresh(pupil)
        assert live_answer(pupil) == before
        # Reset: the teacher's view is intact again.
        teacher.locator("#break-reset").click()
        data = ready(teacher, "break-it", "d.channelsOff === '' && d.noise === '0'")
        assert data["answer"] == data["original"] == "3"
        # Junk in the channel box: a clear notice, nothing lost.
        teacher.locator("#break-channels textarea, #break-channels input").first.fill("three")
        teacher.wait_for_function("() => document.querySelector('#break-it')?.dataset.state === 'error'")
        assert "three" in teacher.locator("#break-it .notice").inner_text()
        assert teacher.locator("#prediction").get_attribute("data-label") == "3"
    finally:
        teacher.close()
        pupil.close()


def test_handout_download(page):
    open_tab(page, "Handout")
    page.locator("#make-handout").click()
    page.wait_for_selector("#handout-download:visible", timeout=30_000)
    assert "one A4 page" in page.locator("#handout-status").inner_text()
    with page.expect_download() as info:
        page.locator("#handout-download").click()
    download = info.value
    assert download.suggested_filename == "convscope-handout-3.pdf"
    assert open(download.path(), "rb").read(5) == b"%PDF-"
    page.locator("#handout-format").get_by_text("PNG").click()
    page.locator("#make-handout").click()
    page.wait_for_function("() => document.querySelector('#handout-download')?.textContent.includes('.png')",
                           timeout=30_000)
    with page.expect_download() as info:
        page.locator("#handout-download").click()
    assert open(info.value.path(), "rb").read(8) == b"\x89PNG\r\n\x1a\n"


def test_handout_without_a_drawing(module_page):
    module_page.reload()
    module_page.wait_for_selector("#pad canvas", timeout=30_000)
    open_tab(module_page, "Handout")
    module_page.locator("#make-handout").click()
    module_page.wait_for_function("() => document.querySelector('#handout-status')?.textContent.includes("
                                  "'Draw a digit first')", timeout=20_000)
    assert not module_page.locator("#handout-download").is_visible()
