"""The teacher's "teach it new symbols" panel on the projector page of a class room (empty on a pupil's page): the
class's new symbols, "Learn them" with the curves step by step and what it got wrong, the accuracies afterwards,
undo, and the lesson's drawings to keep. The template is ``demo/page/static/room_symbols.html``, its script
``room_symbols.js`` (the server's side: demo/server/room_symbol_routes.py, room_learning_routes.py); its words are
the catalogue's ``page.class_symbols`` (the template's) and ``js.room_symbols`` (the script's).
"""

from __future__ import annotations

import gradio as gr

from demo.server.room_symbols import NAME_CHARS
from demo.teaching.class_learning import MAX_SYMBOLS, MIN_DRAWINGS
from demo.views import theme

from .assets import asset, with_room
from .classroom import RoomsOnPage
from .pad import script_words, template_labels

SYMBOLS_HTML = asset("room_symbols.html")
SYMBOLS_JS = with_room("room_symbols.js")
# The template's words, filled in as {{labels.<last part of the key>}} (Handlebars escapes them).
SYMBOLS_LABELS = ("page.class_symbols.title", "page.class_symbols.lead", "page.class_symbols.names_label",
                  "page.class_symbols.names_placeholder", "page.class_symbols.save", "page.class_symbols.learn_bar",
                  "page.class_symbols.learn", "page.class_symbols.undo", "page.class_symbols.download",
                  "page.class_symbols.download_note", "page.class_symbols.legend_loss",
                  "page.class_symbols.legend_accuracy", "page.class_symbols.legend_digits",
                  "page.class_symbols.about_title",
                  "page.class_symbols.about_what", "page.class_symbols.about_forgets",
                  "page.class_symbols.about_judged")
LEARN_POLL_MS = 400  # how often the panel asks how the learning goes while it runs: the curves move step by step


def symbols_panel(rooms: RoomsOnPage) -> gr.HTML:
    """The panel (its script shows it on the teacher's page only)."""
    return gr.HTML("", html_template=SYMBOLS_HTML, js_on_load=SYMBOLS_JS, apply_default_css=False,
                   elem_id="class-symbols-box", labels=template_labels(SYMBOLS_LABELS),
                   words=script_words("room_symbols.js", SYMBOLS_LABELS),
                   names_chars=MAX_SYMBOLS * (NAME_CHARS + 2), min_drawings=MIN_DRAWINGS,
                   poll_ms=LEARN_POLL_MS, paper=theme.PAD_PAPER, ink=theme.PAD_INK, **rooms.props())
