"""Pen-up -> settled prediction on screen, in real headless Chromium drawing on the live pad.

    python -m bench.pad_latency [--rounds 20] [--weights PATH] [--lesson "CNN vs MLP"] [--classroom]

Starts the app, draws the project's example digits with the mouse at a person's pace, and measures inside the page
(performance.now()) the time from the pointerup event to the moment #prediction shows the answer for that final
drawing; also how many predictions arrived *during* each stroke. ``--lesson`` opens a teaching tab first, so its view
is recomputed after every drawing too (the others are not computed while hidden). The baseline, run in the same
process, is the "Clear" button's round trip: the same Gradio event path with no model work at all.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

from demo.core.examples import EXAMPLES
from tests.harness import (
    CLASSROOM_ARGS,
    chromium,
    draw_strokes,
    example_strokes_unit,
    open_page,
    open_tab,
    reset_observer,
    running_app,
    teacher_url,
    wait_settled,
)

CLEAR_ROUND_TRIP_JS = Path(__file__).resolve().with_name("clear_round_trip.js").read_text(encoding="utf-8")


def summary(values: list[float]) -> str:
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
    return (f"median {statistics.median(values):6.1f} ms  p90 {p90:6.1f} ms  min {ordered[0]:6.1f}  "
            f"max {ordered[-1]:6.1f}  (n={len(values)})")


def main() -> int:
    p = argparse.ArgumentParser(prog="python -m bench.pad_latency", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=20, help="digits drawn (default: 20)")
    p.add_argument("--weights", help="weights file (default: the app's default)")
    p.add_argument("--lesson", help="teaching tab to open first, by its label, e.g. 'CNN vs MLP' (default: none)")
    p.add_argument("--classroom", action="store_true", help="start the app in classroom mode (default: off)")
    args = p.parse_args()
    extra = (["--weights", args.weights] if args.weights else []) + (list(CLASSROOM_ARGS) if args.classroom else [])
    styles = [(d, s) for d in EXAMPLES for s in range(len(EXAMPLES[d]))]
    latencies, during, clears, correct = [], [], [], 0
    with running_app(extra) as url, chromium() as browser:
        page = open_page(browser, teacher_url(url) if args.classroom else url)  # the projector's page
        if args.lesson:
            open_tab(page, args.lesson)
        draw_strokes(page, example_strokes_unit(0))  # warm-up: first request, first pictures
        wait_settled(page)
        for i in range(args.rounds):
            digit, style = styles[i % len(styles)]
            page.evaluate(CLEAR_ROUND_TRIP_JS)
            reset_observer(page)
            draw_strokes(page, example_strokes_unit(digit, style))
            timing = wait_settled(page)
            latencies.append(timing["latency_ms"])
            during.append(timing["updates_before_pen_up"])
            correct += page.locator("#prediction").get_attribute("data-label") == str(digit)
            clears.append(page.evaluate(CLEAR_ROUND_TRIP_JS))
    print(f"{args.rounds} digits drawn with the mouse in headless Chromium ({correct}/{args.rounds} read correctly)"
          + (f", lesson tab open: {args.lesson}" if args.lesson else "")
          + (", classroom mode" if args.classroom else ""))
    print(f"  pen-up -> settled prediction:     {summary(latencies)}")
    print(f"  baseline, Clear round trip:       {summary(clears)}")
    print(f"  ratio of medians (pen-up / baseline): {statistics.median(latencies) / statistics.median(clears):.2f}")
    print(f"  predictions shown during each stroke (before pen-up): median {statistics.median(during):.0f}, "
          f"min {min(during)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
