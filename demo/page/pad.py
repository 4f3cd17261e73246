"""The live drawing pad: a ``<canvas>`` inside a Gradio ``gr.HTML`` component.

The browser keeps the strokes (lists of points) and sends them as compact JSON — throttled while the pen moves and
once more on pen-up — by setting ``props.value``; Gradio fires the component's ``change`` event for each new value,
and the server rasterises the strokes (demo/core/strokes.py). Mouse, pen and touch all arrive as pointer events.

``${value}`` is deliberately absent from the template, so a new value never re-renders (and wipes) the canvas. The
template, its CSS and its script are ``demo/page/static/pad.html``, ``pad.css`` and ``pad.js``. Their words come from
the text catalogue (demo/texts): the template's as ``props.labels`` (section ``page.pad``), the script's as
``props.texts`` (section ``js.pad``).
"""

from __future__ import annotations

import json
from pathlib import Path

from markupsafe import escape

from demo.core.examples import EXAMPLES, example_strokes
from demo.server.routes import LIVE_ROUTE
from demo.texts import LANGUAGES, entries, for_script, plain, use_language
from demo.views import theme

from .assets import asset, with_texts

PAD_HTML = asset("pad.html")
PAD_CSS = asset("pad.css")
PAD_JS = with_texts("pad.js")
# The words of pad.html, filled in as {{labels.<last part of the key>}} (Handlebars escapes them).
PAD_LABELS = ("page.pad.canvas_label", "page.pad.keyboard_hint", "page.pad.undo", "page.pad.undo_title",
              "page.pad.clear", "page.pad.clear_title", "page.pad.pen", "page.pad.pen_label", "page.pad.examples")
# Words pad.js fills itself ({digit}, {style}): the example buttons' titles.
PAD_SCRIPT_TEMPLATES = ("page.pad.example_title", "page.pad.example_style_title")


def template_labels(keys: tuple[str, ...]) -> dict[str, str]:
    """The texts of an ``html_template``, keyed by the last part of their catalogue key (``{{labels.undo}}``)."""
    return {key.rsplit(".", 1)[1]: plain(key) for key in keys}


def script_texts(script: str) -> dict[str, str]:
    """The texts of ``demo/page/static/<script>`` (section ``js.<its stem>``), for its ``props.texts``."""
    return for_script("js." + Path(script).stem)


def script_words(script: str, label_keys: tuple[str, ...] = (),
                 templates: tuple[str, ...] = ()) -> dict[str, dict[str, str]]:
    """``props.words`` for ``demo/page/static/texts.js``: in every language, the script's texts, its template's
    words (``label_keys``) and ``templates`` it fills itself, each keyed by the last part of its key."""
    words = {}
    for code in LANGUAGES:
        with use_language(code):
            labels, texts = template_labels(label_keys), script_texts(script)
            labels |= {key.rsplit(".", 1)[1]: entries()[key] for key in templates}
        if set(labels) & set(texts):
            raise ValueError(f"{script}: a template word and a script text share a name: {set(labels) & set(texts)}")
        words[code] = {**labels, **texts}
    return words



def example_title(digit: int, style: int, styles: int) -> str:
    """An example button's title, escaped for the attribute; ``style`` counts from 0 among ``styles``."""
    title = (plain("page.pad.example_style_title", digit=digit, style=style + 1) if styles > 1
             else plain("page.pad.example_title", digit=digit))
    return str(escape(title))


def pad_examples() -> tuple[list[dict], str]:
    """The example drawings as pad strokes, and the buttons that load them."""
    examples, buttons = [], []
    for digit, styles in EXAMPLES.items():
        for style in range(len(styles)):
            strokes = example_strokes(digit, style, theme.PAD_SIZE, theme.PAD_SIZE, pad=0.18)
            examples.append({"digit": digit, "strokes": [[[round(x, 1), round(y, 1)] for x, y in s] for s in strokes]})
            # data-digit and data-style name the example for scripts and tests whatever the page's language
            buttons.append(f'<button type="button" class="example-button" data-index="{len(examples) - 1}" '
                           f'data-digit="{digit}" data-style="{style + 1}" '
                           f'title="{example_title(digit, style, len(styles))}">{digit}</button>')
    return examples, "".join(buttons)


def pad_props(rooms: dict | None = None) -> dict:
    """Template values for :data:`PAD_HTML` and the JS (``props.*``). ``rooms``: the class rooms the page serves
    (demo/page/classroom.py: RoomsOnPage.props), so that a pad in a room asks that room's own route."""
    examples, buttons = pad_examples()
    return {"size": theme.PAD_SIZE, "pen": theme.PEN_DEFAULT, "pen_min": theme.PEN_MIN, "pen_max": theme.PEN_MAX,
            "send_interval": theme.SEND_INTERVAL_MS, "overview_interval": theme.OVERVIEW_INTERVAL_MS,
            "paper": theme.PAD_PAPER, "ink": theme.PAD_INK,
            "live_url": LIVE_ROUTE.lstrip("/"),  # relative to the page, so a path prefix in front of the app works
            "rooms": rooms or {},
            "examples": examples, "example_buttons": buttons,
            "labels": template_labels(PAD_LABELS), "words": script_words("pad.js", PAD_LABELS, PAD_SCRIPT_TEMPLATES)}


def empty_drawing() -> str:
    return json.dumps({"w": theme.PAD_SIZE, "h": theme.PAD_SIZE, "pen": theme.PEN_DEFAULT, "seq": 0, "strokes": []})
