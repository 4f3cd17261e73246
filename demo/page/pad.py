"""The live drawing pad: a ``<canvas>`` inside a Gradio ``gr.HTML`` component.

The browser keeps the strokes (lists of points) and sends them as compact JSON — throttled while the pen moves and
once more on pen-up — by setting ``props.value``; Gradio fires the component's ``change`` event for each new value,
and the server rasterises the strokes (demo/core/strokes.py). Mouse, pen and touch all arrive as pointer events.

``${value}`` is deliberately absent from the template, so a new value never re-renders (and wipes) the canvas. The
template, its CSS and its script are ``demo/page/static/pad.html``, ``pad.css`` and ``pad.js``.
"""

from __future__ import annotations

import json

from demo.core.examples import EXAMPLES, example_strokes
from demo.server.routes import LIVE_ROUTE
from demo.views import theme

from .assets import asset

PAD_HTML = asset("pad.html")
PAD_CSS = asset("pad.css")
PAD_JS = asset("pad.js")


def pad_examples() -> tuple[list[dict], str]:
    """The example drawings as pad strokes, and the buttons that load them."""
    examples, buttons = [], []
    for digit, styles in EXAMPLES.items():
        for style in range(len(styles)):
            strokes = example_strokes(digit, style, theme.PAD_SIZE, theme.PAD_SIZE, pad=0.18)
            examples.append({"digit": digit, "strokes": [[[round(x, 1), round(y, 1)] for x, y in s] for s in strokes]})
            title = f"example: a {digit}" + (f" (style {style + 1})" if len(styles) > 1 else "")
            buttons.append(f'<button type="button" class="example-button" data-index="{len(examples) - 1}" '
                           f'title="{title}">{digit}</button>')
    return examples, "".join(buttons)


def pad_props() -> dict:
    """Template values for :data:`PAD_HTML` and the JS (``props.*``)."""
    examples, buttons = pad_examples()
    return {"size": theme.PAD_SIZE, "pen": theme.PEN_DEFAULT, "pen_min": theme.PEN_MIN, "pen_max": theme.PEN_MAX,
            "send_interval": theme.SEND_INTERVAL_MS, "overview_interval": theme.OVERVIEW_INTERVAL_MS,
            "paper": theme.PAD_PAPER, "ink": theme.PAD_INK,
            "live_url": LIVE_ROUTE.lstrip("/"),  # relative to the page, so a path prefix in front of the app works
            "examples": examples, "example_buttons": buttons}


def empty_drawing() -> str:
    return json.dumps({"w": theme.PAD_SIZE, "h": theme.PAD_SIZE, "pen": theme.PEN_DEFAULT, "seq": 0, "strokes": []})
