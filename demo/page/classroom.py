"""Classroom mode (``python -m demo --classroom``): large type and high contrast for a 1280×720 projector, the
network revealed one stage at a time, the drawing frozen while the teacher talks, a dark/light toggle, and
keyboard shortcuts for each (shown on the buttons); with a class room (demo/server/room.py), the pupils' send
bar and the teacher's gallery.

Everything of the projector runs in the browser (no server round trip, so stepping is instant): the toolbar is a
``gr.HTML`` beside the network overview on the first screen, whose ``js_on_load`` wires it
(``demo/page/static/classroom.html`` and ``classroom.js``); the stepper reveals the stages of the overview
(demo/views/overview.py) and of the Layer by layer tab (``demo.views.tabs.network``) together. The projector's
styles are ``demo/page/static/classroom.css``.

With a class room the pupils open the plain address and get the plain page plus a send bar (``send.html``,
``send.js``); the teacher opens it with ``#teacher=TOKEN`` and gets the projector's page plus the room (``room.js``:
the join link and its QR code, the class's drawings, the tally). What the room holds reaches only a page whose token
the server accepts (demo/server/room_routes.py).

Their words come from the text catalogue (demo/texts): each template's as ``props.labels`` (sections
``page.classroom.toolbar`` and ``page.classroom.send_bar``), each script's (``js.classroom``, ``js.send``,
``js.room``) and the template's again, in every language, as ``props.words`` (texts.js picks the page's).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from demo.server.room_rules import RoomLimits
from demo.server.rooms import CODE_ALPHABET, CODE_LENGTH
from demo.teaching.calibration import load_report as load_calibration
from demo.views import theme

from .assets import asset, with_room
from .pad import script_texts, script_words, template_labels

CONTROLS_HTML = asset("classroom.html")
CONTROLS_JS = with_room("classroom.js")
CLASS_START_JS = with_room("class_start.js")  # run by the header, which holds the controls
CLASSROOM_CSS = asset("classroom.css")
ROOM_CSS = asset("room.css")
# The words of classroom.html and send.html, filled in as {{labels.<last part of the key>}} (Handlebars escapes them).
TOOLBAR_LABELS = ("page.classroom.toolbar.controls_label",
                  "page.classroom.toolbar.back", "page.classroom.toolbar.back_title",
                  "page.classroom.toolbar.next", "page.classroom.toolbar.next_title",
                  "page.classroom.toolbar.show_all", "page.classroom.toolbar.show_all_title",
                  "page.classroom.toolbar.freeze_title",
                  "page.classroom.toolbar.theme", "page.classroom.toolbar.theme_title",
                  "page.classroom.toolbar.to_room", "page.classroom.toolbar.to_room_title",
                  "page.classroom.toolbar.step_label")
SEND_LABELS = ("page.classroom.send_bar.meant_label", "page.classroom.send_bar.meant",
               "page.classroom.send_bar.nickname_placeholder", "page.classroom.send_bar.nickname_label",
               "page.classroom.send_bar.send")


@dataclass(frozen=True)
class RoomsOnPage:
    """The class rooms a page serves: rooms teachers start from the page (``started``, off with --no-rooms) and
    --classroom's room (``main``)."""

    started: bool = False
    main: bool = False

    @property
    def any(self) -> bool:
        return self.started or self.main

    def props(self) -> dict[str, Any]:
        """What room_address.js reads: a code's pattern (demo/server/rooms.py) and whether the app has --classroom's
        room; and whether rooms by code are served (the pad asks a room's own route only then)."""
        return {"code_pattern": f"^[{CODE_ALPHABET}]{{{CODE_LENGTH}}}$", "main_room": self.main,
                "started": self.started}


def toolbar(rooms: RoomsOnPage) -> gr.HTML:
    """The projector's toolbar (hidden on pupils' pages when there are rooms)."""
    # The freeze button's word is the script's (it changes it when the drawing is frozen): {{texts.freeze}}.
    return gr.HTML("", html_template=CONTROLS_HTML, js_on_load=CONTROLS_JS, apply_default_css=False,
                   elem_id="classroom-bar", room=rooms.any, labels=template_labels(TOOLBAR_LABELS),
                   texts=script_texts("classroom.js"), words=script_words("classroom.js", TOOLBAR_LABELS),
                   **rooms.props())


def send_bar(rooms: RoomsOnPage) -> gr.HTML:
    """A pupil's send bar: the digit they meant (optional), a nickname (optional) and ``#send-to-class`` (hidden on
    a page in no room)."""
    buttons = "".join(f'<button type="button" class="meant-button" data-digit="{d}" aria-pressed="false">{d}</button>'
                      for d in range(10))
    return gr.HTML("", html_template=asset("send.html"), js_on_load=with_room("send.js"), apply_default_css=False,
                   elem_id="class-send", digit_buttons=buttons, nickname_chars=RoomLimits().nickname_chars,
                   labels=template_labels(SEND_LABELS), words=script_words("send.js", SEND_LABELS), **rooms.props())


def class_start_props(rooms: RoomsOnPage) -> dict[str, Any]:
    """The header's props for class_start.js (the controls themselves are the header's: demo/page/layout.py)."""
    if not rooms.any:
        return {}
    return {"started": rooms.started, "words": script_words("class_start.js"), **rooms.props()}


def unsure_line(weights: str) -> float:
    """Below this top softmax probability the gallery marks a reading unsure: the line measured on the MNIST test
    digits for these weights (demo/teaching/calibration.py), or theme.ROOM_UNSURE_BELOW when it was not measured."""
    report = load_calibration(weights)
    return float(report["unsure_below"]) if report else theme.ROOM_UNSURE_BELOW


def room_panel(rooms: RoomsOnPage, unsure: float = theme.ROOM_UNSURE_BELOW) -> gr.HTML:
    """The teacher's class room (empty on a pupil's page); ``unsure``: :func:`unsure_line`."""
    return gr.HTML("", html_template='<section id="class-room" class="class-room"></section>',
                   js_on_load=with_room("room.js"), apply_default_css=False, elem_id="class-room-box",
                   poll_ms=theme.ROOM_POLL_MS, unsure=unsure, paper=theme.PAD_PAPER, ink=theme.PAD_INK,
                   words=script_words("room.js"), **rooms.props())
