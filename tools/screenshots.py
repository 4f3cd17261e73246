"""The pictures in docs/ (and the README): the real page in headless Chromium, after drawing a digit.

    python tools/screenshots.py [--out docs] [--data-dir ../shared/data/mnist]

Starts the app twice (normal and ``--classroom``) on free ports, draws a 3 with the mouse and saves:

* ``screenshot.png``: the whole normal page, with MNIST samples when ``--data-dir`` has MNIST;
* ``lesson_<name>.png``: each teaching tab (convolution, pooling, one value, CNN vs MLP, saliency, architecture,
  model card) after the drawing;
* ``classroom.png`` and ``classroom_layers.png``: classroom mode at 1280×720 (a projector), first the top of the
  page, then the layer-by-layer stepper with three stages revealed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench.harness import ROOT, chromium, draw_strokes, example_strokes_unit, open_page, running_app, wait_settled

LESSONS = {  # tab name -> (file name, the lesson's element that must be computed first)
    "Convolution": ("lesson_convolution", "conv-playground"),
    "Pooling": ("lesson_pooling", "pooling"),
    "One value": ("lesson_one_value", "one-value"),
    "CNN vs MLP": ("lesson_cnn_vs_mlp", "cnn-vs-ann"),
    "Saliency": ("lesson_saliency", "saliency"),
    "Architecture": ("lesson_architecture", "architecture"),
    "Model card": ("lesson_model_card", "model-card"),
}


def draw_a_three(page) -> None:
    draw_strokes(page, example_strokes_unit(3))
    wait_settled(page)
    label = page.locator("#prediction").get_attribute("data-label")
    if label != "3":
        raise RuntimeError(f"the drawn 3 was read as {label!r}: the screenshots would not show what they claim")


def normal_page(browser, out: Path, data_dir: str | None) -> None:
    with running_app(["--data-dir", data_dir] if data_dir else []) as url:
        page = open_page(browser, url)
        draw_a_three(page)
        page.screenshot(path=str(out / "screenshot.png"), full_page=True)
        for tab, (name, element) in LESSONS.items():
            page.get_by_role("tab", name=tab).click()
            page.wait_for_function(f"() => {{ const e = document.querySelector('#{element}');"
                                   " return e && e.offsetParent !== null && e.dataset.state !== 'empty'; }",
                                   timeout=30_000)
            page.locator("#lessons").screenshot(path=str(out / f"{name}.png"))
            print(f"  {name}.png")


def classroom_page(browser, out: Path) -> None:
    with running_app(["--classroom"]) as url:
        page = open_page(browser, url, width=1280, height=720)
        draw_a_three(page)
        page.wait_for_function("() => +(document.querySelector('#network')?.dataset.steps || 0) > 3")
        page.evaluate("() => window.scrollTo(0, 0)")
        page.screenshot(path=str(out / "classroom.png"))
        for _ in range(3):
            page.click("#step-forward")
        page.evaluate("() => window.scrollBy(0, "
                      "document.querySelector('#classroom-controls').getBoundingClientRect().top - 10)")
        page.screenshot(path=str(out / "classroom_layers.png"))
        print("  classroom.png, classroom_layers.png")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "docs", help="folder for the pictures (default: docs)")
    parser.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "data" / "mnist"),
                        help="MNIST folder, for the clickable samples (default: ../shared/data/mnist)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    data_dir = args.data_dir if Path(args.data_dir).is_dir() else None
    with chromium() as browser:
        normal_page(browser, args.out, data_dir)
        classroom_page(browser, args.out)
    print(f"screenshots written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
