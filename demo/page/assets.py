"""The page's JavaScript, CSS and HTML templates, kept as real files in ``demo/page/static/`` and read once.

Gradio's ``gr.HTML`` takes its template, scoped CSS and ``js_on_load`` script as strings; keeping them in files lets
editors, linters and the browser's tools treat them as what they are.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

STATIC = Path(__file__).resolve().with_name("static")


@cache
def asset(name: str) -> str:
    """The text of ``demo/page/static/<name>`` (read on first use, then kept)."""
    return (STATIC / name).read_text(encoding="utf-8")


def with_texts(script: str) -> str:
    """The script ``demo/page/static/<script>`` with the shared words helper (``texts.js``) in front of it."""
    return asset("texts.js") + "\n" + asset(script)


def with_room(script: str) -> str:
    """The script with the words helper and the class room's address helper (``room_address.js``) in front."""
    return asset("texts.js") + "\n" + asset("room_address.js") + "\n" + asset(script)
