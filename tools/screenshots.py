"""The pictures in docs/ (and the README): the real page in headless Chromium, after drawing a digit.

    python -m tools.screenshots [--out docs] [--data-dir ../shared/data/mnist]

Starts the app twice (normal and ``--classroom``) on free ports, draws a 3 with the mouse and saves:

* ``screenshot.png``: the first screen at 1280×720 (a laptop, a projector): the pad, the answer and the network at a
  glance;
* ``inspector.png``: the same after clicking a value of conv2: how it was made;
* ``phone.png``: the first screen on a 390×844 phone;
* ``not_a_digit.png``: the first screen after drawing a star: the answer box says it does not look like a digit;
* ``lesson_<name>.png``: each teaching tab (convolution, pooling, one value, CNN vs MLP, saliency, architecture,
  model card, digit or not) after the drawing, with MNIST samples when ``--data-dir`` has MNIST;
* ``insight_<name>.png``: the tabs beyond the tutorial on the same 3: Watch it learn at 200 steps, Nearest digits,
  What filters look for (conv2's channel 5 clicked), Break it (half of conv1's filters switched off), and
  ``handout.png``, the printable handout of that 3 (A4 at 200 dpi);
* ``screenshot_es.png`` and ``screenshot_de.png``: the first screen at 1280×720 for a browser set to Spanish, then
  German, after drawing the same 3;
* ``classroom.png`` and ``classroom_layers.png``: classroom mode at 1280×720 (the teacher's page), first the first
  screen with the network revealed up to pool1, then the Layer by layer tab with the same stages;
* ``class_room.png``: the teacher's class room at 1280×720 after twelve pupils sent a drawing (the project's
  example digits in their several styles, one with a mistaken "meant", one star), as a teacher sees it: served on
  every interface, so the join link shows this machine's network address, and *Review first* on (its default), nine
  drawings revealed and three still waiting; and ``pupil_phone.png``: a pupil's 390×844 phone after sending one;
* ``start_a_class.png``: the plain page's header with *Start or join a class* open; ``class_room_started.png``: the
  projector page of a class started from there, after six pupils joined by its code and sent (all revealed);
* ``class_learning.png``, ``class_learned.png``, ``pupil_symbol.png``: a class teaching the network new symbols
  (tools/learning_screenshots.py).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import httpx

from demo.server.identity import FIRST_SEND_AFTER_S
from tests.harness import (
    CLASSROOM_ARGS,
    ROOT,
    chromium,
    draw_strokes,
    example_strokes_unit,
    open_page,
    open_tab,
    running_app,
    teacher_url,
    wait_for_live_workers,
    wait_settled,
)
from tools.learning_screenshots import learning_pages

LESSONS = {  # tab name -> (file name, the lesson's element that must be computed first)
    "Convolution": ("lesson_convolution", "conv-playground"),
    "Pooling": ("lesson_pooling", "pooling"),
    "One value": ("lesson_one_value", "one-value"),
    "CNN vs MLP": ("lesson_cnn_vs_mlp", "cnn-vs-ann"),
    "Saliency": ("lesson_saliency", "saliency"),
    "Architecture": ("lesson_architecture", "architecture"),
    "Model card": ("lesson_model_card", "model-card"),
    "Digit or not?": ("lesson_digit_or_not", "digit-or-not"),
}
# A drawing that is not a digit (a five-pointed star, in 0-1 pad coordinates): the answer box says so.
STAR = [[(0.5, 0.12), (0.27, 0.85), (0.86, 0.38), (0.14, 0.38), (0.73, 0.85), (0.5, 0.12)]]


def draw_a_three(page) -> None:
    draw_strokes(page, example_strokes_unit(3))
    wait_settled(page)
    label = page.locator("#prediction").get_attribute("data-label")
    if label != "3":
        raise RuntimeError(f"the drawn 3 was read as {label!r}: the screenshots would not show what they claim")


def normal_page(browser, out: Path, data_dir: str | None) -> None:
    with running_app(["--data-dir", data_dir] if data_dir else []) as url:
        page = open_page(browser, url, width=1280, height=720)
        draw_a_three(page)
        page.evaluate("() => window.scrollTo(0, 0)")
        page.screenshot(path=str(out / "screenshot.png"))
        box = page.locator('#overview .ov-stage[data-stage="conv2"] [data-inspect]').bounding_box()
        page.mouse.click(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.3)
        page.wait_for_function("() => document.querySelector('#inspector')?.dataset.state === 'ready'")
        page.screenshot(path=str(out / "inspector.png"))
        page.keyboard.press("Escape")
        print("  screenshot.png, inspector.png")
        page.set_viewport_size({"width": 1400, "height": 1000})
        for tab, (name, element) in LESSONS.items():
            open_tab(page, tab)
            page.wait_for_function(f"() => {{ const e = document.querySelector('#{element}');"
                                   " return e && e.offsetParent !== null && e.dataset.state !== 'empty'; }",
                                   timeout=30_000)
            page.locator("#lessons").screenshot(path=str(out / f"{name}.png"))
            print(f"  {name}.png")
        page.set_viewport_size({"width": 1280, "height": 720})
        page.click("#clear")
        draw_strokes(page, STAR)
        wait_settled(page)
        if page.locator("#prediction").get_attribute("data-digit-like") != "false":
            raise RuntimeError("the star was not flagged: not_a_digit.png would not show what it claims")
        page.get_by_role("tab", name="Digit or not?").click()
        page.evaluate("() => window.scrollTo(0, 0)")
        page.screenshot(path=str(out / "not_a_digit.png"))
        print("  not_a_digit.png")
        phone = open_page(browser, url, width=390, height=844)
        draw_a_three(phone)
        phone.evaluate("() => window.scrollTo(0, 0)")
        phone.screenshot(path=str(out / "phone.png"))
        print("  phone.png")


def insights_page(browser, out: Path, data_dir: str | None) -> None:
    with running_app(["--data-dir", data_dir] if data_dir else []) as url:
        page = open_page(browser, url, width=1400, height=1000)
        draw_a_three(page)

        def shot(tab: str, element: str, name: str, act=None, condition: str = "true") -> None:
            open_tab(page, tab)
            if act is not None:
                act()
            page.wait_for_function(f"() => {{ const e = document.querySelector('#{element}'); if (!e) return false;"
                                   f" const d = e.dataset; return d.state === 'ready' && ({condition}); }}",
                                   timeout=240_000)  # the nearest digits' first start builds their index
            page.locator("#lessons").screenshot(path=str(out / f"insight_{name}.png"))
            print(f"  insight_{name}.png")

        def reopen_until_ready() -> None:  # the nearest digits' index may still be building: ask again
            for _ in range(80):
                if page.locator("#nearest").get_attribute("data-state") != "preparing":
                    return
                page.wait_for_timeout(3000)
                open_tab(page, "Watch it learn")
                open_tab(page, "Nearest digits")

        shot("Watch it learn", "learning", "watch_it_learn", lambda: page.click("#learning [data-snapshot='3']"),
             "d.index === '3'")
        shot("Nearest digits", "nearest", "nearest", reopen_until_ready)
        shot("What filters look for", "filter-atlas", "filters",
             lambda: (page.click("#filter-atlas .atlas-layer[data-layer='conv2']"),
                      page.wait_for_function("() => document.querySelector('#filter-atlas').dataset.layer === "
                                             "'conv2'"),
                      page.click("#filter-atlas .atlas-channel[data-channel='5']")), "d.channel === '5'")
        shot("Break it", "break-it", "break_it",
             lambda: page.locator("#break-channels textarea, #break-channels input").first.fill("0-15"),
             "d.channelsOff.split(',').length === 16")
    from demo import load_classifier
    from demo.core.examples import example_image
    from demo.views.handout import handout_png

    clf = load_classifier()
    (out / "handout.png").write_bytes(handout_png(clf, clf.predict(example_image(3)).input28))
    print("  handout.png")


def classroom_page(browser, out: Path) -> None:
    with running_app(CLASSROOM_ARGS) as url:
        page = open_page(browser, teacher_url(url), width=1280, height=720)
        draw_a_three(page)
        page.wait_for_function("() => +(document.querySelector('#network')?.dataset.steps || 0) > 3")
        for _ in range(4):
            page.locator("body").press("ArrowRight")
        page.evaluate("() => window.scrollTo(0, 0)")
        page.screenshot(path=str(out / "classroom.png"))
        page.evaluate("() => window.scrollBy(0, document.querySelector('#lessons').getBoundingClientRect().top - 10)")
        page.screenshot(path=str(out / "classroom_layers.png"))
        print("  classroom.png, classroom_layers.png")


# What twelve pupils sent: (digit drawn, example style, digit meant, nickname); None draws the star.
SENDS = [(0, 0, 0, "Ana"), (1, 1, 1, ""), (2, 0, 2, "Ben"), (3, 1, 3, "Chloé"), (4, 0, 4, ""), (5, 1, 5, "Dev"),
         (6, 0, 6, "Eli"), (7, 1, 1, "Fay"), (8, 0, 8, ""), (9, 1, 9, "Gus"), (None, 0, None, "Hal"),
         (2, 1, 2, "Ivy")]


REVEALED = 9  # drawings the teacher has revealed in the picture; the rest still wait for review


def class_room_page(browser, out: Path) -> None:
    # --host 0.0.0.0, as a teacher starts it: the join link and its QR code carry the network address pupils use
    with running_app([*CLASSROOM_ARGS, "--host", "0.0.0.0"]) as url:
        wait_for_live_workers(url)
        pupils = [httpx.Client(base_url=url, timeout=60) for _ in SENDS]
        for pupil in pupils:  # each pupil's page asks for its identity when it opens
            pupil.post("/convscope/room/hello").raise_for_status()
        time.sleep(FIRST_SEND_AFTER_S)
        for pupil, (digit, style, meant, nickname) in zip(pupils, SENDS, strict=True):
            unit = STAR if digit is None else example_strokes_unit(digit, style)
            drawing = {"w": 280, "h": 280, "pen": 20, "strokes": [[[x * 280, y * 280] for x, y in s] for s in unit]}
            pupil.post("/convscope/room/send", json={"drawing": drawing, "meant": meant,
                                                     "nickname": nickname}).raise_for_status()
            pupil.close()
        page = open_page(browser, teacher_url(url), width=1280, height=720)
        page.wait_for_function("() => document.querySelectorAll('#class-gallery [data-drawing]').length === 12",
                               timeout=30_000)
        for _ in range(REVEALED):  # Review first is on: the teacher shows drawings one by one
            page.locator('#class-gallery .class-drawing[data-revealed="false"] .reveal-drawing').first.click()
            page.wait_for_timeout(400)
        page.evaluate("() => window.scrollBy(0, document.querySelector('#class-room').getBoundingClientRect().top"
                      " - 8)")
        page.screenshot(path=str(out / "class_room.png"))
        phone = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True,
                                    device_scale_factor=1).new_page()
        phone.goto(url)
        phone.wait_for_selector("#send-to-class", timeout=30_000)
        phone.locator('.example-button[data-digit="7"]').first.click()
        phone.click(".meant-button[data-digit='7']")
        phone.fill("#nickname", "Jo")
        phone.click("#send-to-class")
        phone.wait_for_function("() => document.querySelector('#send-status').dataset.kind === 'sent'",
                                timeout=30_000)
        phone.evaluate("() => window.scrollBy(0, document.querySelector('#pad').getBoundingClientRect().top - 8)")
        phone.screenshot(path=str(out / "pupil_phone.png"))
        phone.context.close()
        print("  class_room.png, pupil_phone.png")


def rooms_pages(browser, out: Path) -> None:
    """A class started from the plain page: the header's controls open, then the new class's projector page after
    six pupils joined by its code and sent (all revealed)."""
    with running_app(["--host", "0.0.0.0"]) as url:
        wait_for_live_workers(url)
        page = open_page(browser, url, width=1280, height=720)
        page.click("#class-start-bar summary")
        page.wait_for_timeout(300)
        page.screenshot(path=str(out / "start_a_class.png"), clip={"x": 0, "y": 0, "width": 1280, "height": 360})
        page.click("#start-class")
        page.wait_for_selector("#class-room[data-state='teacher']", timeout=30_000)
        code = page.locator("#room-code").inner_text().strip()
        pupils = [httpx.Client(base_url=url, timeout=60) for _ in SENDS[:6]]
        for pupil in pupils:
            pupil.post(f"/convscope/rooms/{code}/hello").raise_for_status()
        time.sleep(FIRST_SEND_AFTER_S)
        for pupil, (digit, style, meant, nickname) in zip(pupils, SENDS[:6], strict=True):
            unit = STAR if digit is None else example_strokes_unit(digit, style)
            drawing = {"w": 280, "h": 280, "pen": 20, "strokes": [[[x * 280, y * 280] for x, y in s] for s in unit]}
            pupil.post(f"/convscope/rooms/{code}/send", json={"drawing": drawing, "meant": meant,
                                                              "nickname": nickname}).raise_for_status()
            pupil.close()
        page.wait_for_function("() => document.querySelectorAll('#class-gallery [data-drawing]').length === 6",
                               timeout=30_000)
        page.click("#reveal-all")
        page.wait_for_function("() => !document.querySelector('#class-gallery [data-revealed=\"false\"]')",
                               timeout=30_000)
        page.evaluate("() => window.scrollBy(0, document.querySelector('#class-room').getBoundingClientRect().top"
                      " - 8)")
        page.screenshot(path=str(out / "class_room_started.png"))
        page.context.close()
        print("  start_a_class.png, class_room_started.png")


def language_pages(browser, out: Path, data_dir: str | None) -> None:
    """The first screen for a browser in each other language (its texts arrive with the page's load event)."""
    from demo.texts import entries

    with running_app(["--data-dir", data_dir] if data_dir else []) as url:
        for code, locale in (("es", "es-ES"), ("de", "de-DE")):
            context = browser.new_context(locale=locale)
            page = open_page(context, url, width=1280, height=720)
            page.wait_for_function("t => document.querySelector('.header h1')?.textContent === t",
                                   arg=entries(code)["page.layout.header_title"], timeout=15_000)
            page.wait_for_function("w => document.querySelector('#clear')?.textContent === w",
                                   arg=entries(code)["page.pad.clear"], timeout=15_000)
            draw_a_three(page)
            page.evaluate("() => window.scrollTo(0, 0)")
            page.screenshot(path=str(out / f"screenshot_{code}.png"))
            context.close()
            print(f"  screenshot_{code}.png")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.screenshots", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "docs", help="folder for the pictures (default: docs)")
    parser.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "data" / "mnist"),
                        help="MNIST folder, for the clickable samples (default: ../shared/data/mnist)")
    parser.add_argument("--parts", default="normal,languages,insights,classroom,class_room,rooms,learning",
                        help="which pages to photograph (default: normal,languages,insights,classroom,class_room,"
                             "rooms,learning)")
    args = parser.parse_args(argv)
    parts = set(args.parts.split(","))
    args.out.mkdir(parents=True, exist_ok=True)
    data_dir = args.data_dir if Path(args.data_dir).is_dir() else None
    with chromium() as browser:
        if "normal" in parts:
            normal_page(browser, args.out, data_dir)
        if "languages" in parts:
            language_pages(browser, args.out, data_dir)
        if "insights" in parts:
            insights_page(browser, args.out, data_dir)
        if "classroom" in parts:
            classroom_page(browser, args.out)
        if "class_room" in parts:
            class_room_page(browser, args.out)
        if "rooms" in parts:
            rooms_pages(browser, args.out)
        if "learning" in parts:
            learning_pages(browser, args.out, data_dir)
    print(f"screenshots written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
