"""Classroom mode (``python -m demo --classroom``): large type and high contrast for a 1280×720 projector, the
network revealed one stage at a time, the drawing frozen while the teacher talks, a dark/light toggle, and
keyboard shortcuts for each (shown on the buttons).

Everything here runs in the browser (no server round trip, so stepping is instant): the toolbar is a ``gr.HTML``
beside the network overview on the first screen, whose ``js_on_load`` wires it (``demo/static/classroom.html`` and
``classroom.js``); the stepper reveals the stages of the overview (demo/overview.py) and of the Layer by layer tab
(``lesson_views.network_html``) together. The projector's styles are ``demo/static/classroom.css``.
"""

from __future__ import annotations

from .assets import asset

CONTROLS_HTML = asset("classroom.html")
CONTROLS_JS = asset("classroom.js")
CLASSROOM_CSS = asset("classroom.css")
