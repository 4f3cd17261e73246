"""Classroom mode (``python -m demo --classroom``): large type and high contrast for a 1280×720 projector, the
network revealed one layer at a time, the drawing frozen while the teacher talks, and a dark/light toggle.

Everything here runs in the browser (no server round trip, so stepping is instant): the controls live in a
``gr.HTML`` whose ``js_on_load`` wires them (``demo/static/classroom.html`` and ``classroom.js``); the projector's
styles are ``demo/static/classroom.css``. The layer-by-layer view itself is ``lesson_views.network_html``.
"""

from __future__ import annotations

from .assets import asset

CONTROLS_HTML = asset("classroom.html")
CONTROLS_JS = asset("classroom.js")
CLASSROOM_CSS = asset("classroom.css")
