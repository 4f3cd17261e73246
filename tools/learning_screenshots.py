"""The screenshots of a class teaching the network new symbols (run by ``python -m tools.screenshots``, part
``learning``):

* ``class_learning.png``: the projector page (1280×720) of a class started from the plain page, while its network
  learns a star, a heart and a tree from twelve simulated pupils' drawings (bench/class_symbols.py, sent from their
  phones as bench/class_learns.py does): the curves part drawn, the drawings it still reads wrong;
* ``class_learned.png``: the same panel once it has learned: the accuracy on the pupils it never learned from and
  on the MNIST test digits before and after;
* ``pupil_symbol.png``: a pupil's 390×844 phone in that class reading a star it drew.
"""

from __future__ import annotations

from pathlib import Path

from bench.class_learns import class_sends
from bench.class_symbols import CANVAS, class_drawings
from tests.harness import open_page, running_app, touch_strokes, wait_for_live_workers

SYMBOLS = ["star", "heart", "tree"]


def learning_pages(browser, out: Path, data_dir: str | None) -> None:
    with running_app(["--data-dir", data_dir] if data_dir else []) as url:
        wait_for_live_workers(url)
        page = open_page(browser, url, width=1280, height=720)
        page.click("#class-start-bar summary")
        page.click("#start-class")
        page.wait_for_selector("#class-room[data-state='teacher']", timeout=30_000)
        code = page.locator("#room-code").inner_text().strip()
        page.fill("#symbols-input", ", ".join(SYMBOLS))
        page.click("#symbols-save")
        sent = class_sends(url, code, SYMBOLS, drawers=12, seed=4)
        if sent != 3 * 12:
            raise RuntimeError(f"only {sent} of the class's 36 drawings were stored")
        page.wait_for_selector("#reveal-all:not([hidden])", timeout=30_000)
        page.click("#reveal-all")
        page.wait_for_function("() => document.querySelectorAll(\"#symbols-list li[data-enough='true']\").length"
                               " === 3", timeout=30_000)
        page.evaluate("() => document.querySelector('#class-symbols').scrollIntoView()")
        page.click("#learn-start")
        page.wait_for_function("() => +document.querySelector('#learn-curves')?.dataset.points >= 5",
                               timeout=120_000, polling=50)
        page.screenshot(path=str(out / "class_learning.png"))
        page.wait_for_selector("#learn-box[data-state='done']", timeout=180_000)
        page.evaluate("() => document.querySelector('#class-symbols').scrollIntoView()")
        page.screenshot(path=str(out / "class_learned.png"))
        phone = open_page(browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2,
                                              is_mobile=True, has_touch=True), f"{url}/?room={code}", 390, 844)
        star = class_drawings(["star"], pupils=1, per_pupil=1, seed=2)[0].drawing["strokes"]
        touch_strokes(phone, [[(x / CANVAS, y / CANVAS) for x, y in s] for s in star], step_ms=0,
                      points_per_segment=1)
        phone.wait_for_selector("#prediction[data-name='star']", timeout=30_000)
        phone.evaluate("() => document.querySelector('#pad').scrollIntoView()")
        phone.screenshot(path=str(out / "pupil_symbol.png"))
        phone.context.close()
        page.context.close()
        print("  class_learning.png, class_learned.png, pupil_symbol.png")
