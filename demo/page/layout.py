"""The page's layout: which components there are and where, with no events (demo/page/wiring.py adds those).

The first screen holds the pad, the answer and the network at a glance side by side (on a phone: one under the
other, in that order); below it the inspector, the model input, the MNIST samples and the lesson tabs; last, the
hidden components behind the named API endpoints.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gradio as gr
import numpy as np
from markupsafe import Markup

from demo.core.classifier import Classifier
from demo.texts import current_language, language_names, plain, say
from demo.views import panels, theme
from demo.views.live import LIVE_VIEWS
from demo.views.overview import overview_html

from .assets import asset
from .class_symbols import symbols_panel
from .classroom import (
    CLASS_START_JS,
    CLASSROOM_CSS,
    ROOM_CSS,
    RoomsOnPage,
    class_start_props,
    room_panel,
    send_bar,
    toolbar,
    unsure_line,
)
from .insight_tabs import Insights
from .language import again_html, again_label, word
from .lesson_tabs import add_lesson_tabs
from .lesson_wiring import LessonTabs
from .pad import PAD_CSS, PAD_HTML, PAD_JS, empty_drawing, pad_props

PAGE_CSS = "\n".join(asset(name) for name in ("app.css", "overview.css", "inspector.css", "insights.css"))
INSPECTOR_JS = asset("inspector.js")
PAGE_LANGUAGE_JS = asset("page_language.js")
ANNOUNCE_JS = asset("announce.js")
ANNOUNCER_HTML = ('<div id="answer-announcement" class="visually-hidden" role="status" aria-live="polite" '
                  'aria-atomic="true"></div>')
INSPECTOR_CLOSED = '<div id="inspector" class="inspector" data-state="closed" hidden></div>'


def class_controls_html(rooms: RoomsOnPage) -> Markup:
    """Start a class, or join one by its code: a disclosure in the header (one word wide until opened), wired by
    class_start.js. Empty when the app serves no rooms."""
    if not rooms.started:  # --classroom's room alone: the page is that room's
        return Markup("")
    start = Markup('<button type="button" id="start-class" class="pad-button" title="{title}">{text}</button>'
                   '<p class="kept-note">{note}</p>').format(
        title=plain("page.classroom.start.start_title"), text=plain("page.classroom.start.start"),
        note=plain("page.classroom.start.kept_note"))
    return Markup(
        '<details class="class-start" id="class-start-bar"><summary>{summary}</summary><div class="class-out">{start}'
        '<form id="join-class" class="join-class"><label for="class-code">{join_label}</label>'
        '<input id="class-code" class="class-code" type="text" maxlength="12" autocomplete="off" '
        'autocapitalize="characters" spellcheck="false" placeholder="{placeholder}">'
        '<button type="submit" class="pad-button">{join}</button></form></div>'
        '<p id="class-start-status" class="class-start-status" role="status"></p></details>'
        '<span class="class-in" hidden><span id="class-name" class="class-name"></span> '
        '<a id="leave-class" href="./">{leave}</a></span>').format(
        summary=plain("page.classroom.start.summary"), start=start,
        join_label=plain("page.classroom.start.join_label"), placeholder=plain("page.classroom.start.code_placeholder"),
        join=plain("page.classroom.start.join"), leave=plain("js.class_start.leave"))


def header_html(rooms: RoomsOnPage | None = None) -> str:
    """The title, the lead, the class controls (:func:`class_controls_html`) and the language switch: one link per
    language (?lang= also remembers the choice, demo/server/language.py), the page's own marked as the current
    one."""
    current = current_language()
    links = Markup("").join(
        Markup('<a href="?lang={code}" hreflang="{code}" lang="{code}"{mark}>{name}</a>').format(
            code=code, name=name, mark=Markup(' aria-current="true"') if code == current else "")
        for code, name in language_names().items())
    return Markup('<div class="header" data-lang="{lang}" data-title="{page_title}"><h1>{title}</h1><p>{lead}</p>'
                  '<div class="header-end">{classes}<nav class="languages" aria-label="{label}">{links}</nav></div>'
                  '</div>').format(
        lang=current, page_title=plain("page.ui.title"), title=say("page.layout.header_title"),
        lead=say("page.layout.header_lead"), classes=class_controls_html(rooms or RoomsOnPage()),
        label=plain("page.layout.languages_label"), links=links)


@dataclass
class PageLayout:
    """The components the events read and write."""

    pad: gr.HTML
    upload: gr.File
    live: dict[str, gr.HTML]  # the live views by name (demo.views.live.LIVE_VIEWS)
    inspect_request: gr.HTML  # the page's click on a value (inspector.js), as JSON
    inspector: gr.HTML
    samples: gr.Gallery | None  # real MNIST test digits to click, with --data-dir
    tabs: LessonTabs
    api_file: gr.File  # the hidden components behind the named endpoints /predict and /draw
    api_result: gr.JSON
    api_button: gr.Button
    api_drawing: gr.Textbox
    api_draw_button: gr.Button

    @property
    def live_views(self) -> list[gr.HTML]:
        return [self.live[name] for name in LIVE_VIEWS]

    @property
    def page_outputs(self) -> list[Any]:
        """What a drawing update may change: the live views, then the lessons."""
        return [*self.live_views, *self.tabs.outputs]


def page_head(classroom: bool, rooms: RoomsOnPage) -> str:
    """The page's styles: the colours, the page's own CSS, and classroom mode's and the class rooms'."""
    head = f"<style>{theme.css_variables()}\n{PAGE_CSS}</style>"
    if classroom or rooms.any:  # a teacher's page of a room is the projector's
        head += f"<style>{CLASSROOM_CSS}</style>"
    if rooms.any:
        head += f"<style>{ROOM_CSS}</style>"
    return head


def layers_tab(clf: Classifier, live: dict[str, gr.HTML]) -> Callable[[], None]:
    """Fills the first tab (the feature maps): how the network reads a drawing, the live maps, the kernels."""
    def fill() -> None:
        # static: never re-sent with the live updates (only once, in the visitor's language, when the page loads)
        again_html(gr.HTML(panels.how_it_works_html(clf.model)), lambda: panels.how_it_works_html(clf.model))
        live["feature_maps"] = again_html(gr.HTML(panels.feature_maps_html(None, clf.model),
                                          elem_id="live-feature-maps"),
                                          lambda: panels.feature_maps_html(None, clf.model))
        live["pooled_maps"] = again_html(gr.HTML(panels.pooled_maps_html(None, clf.model), elem_id="live-pooled-maps"),
                                         lambda: panels.pooled_maps_html(None, clf.model))
        with again_label(gr.Accordion(word("page.layout.kernels_accordion"), open=False),
                         "page.layout.kernels_accordion"):
            again_html(gr.HTML(panels.kernels_html(clf.model)), lambda: panels.kernels_html(clf.model))
    return fill


def first_screen(clf: Classifier, classroom: bool, rooms: RoomsOnPage,
                 live: dict[str, gr.HTML]) -> tuple[gr.HTML, gr.File]:
    """The pad and the upload, the answer, and the network at a glance; returns the pad and the upload."""
    with gr.Row(equal_height=False, elem_id="first-screen"):
        with gr.Column(scale=3, min_width=280, elem_id="pad-column"):
            pad = gr.HTML(value=empty_drawing(), html_template=PAD_HTML, css_template=PAD_CSS, js_on_load=PAD_JS,
                          elem_id="pad-component", apply_default_css=False, **pad_props(rooms.props()))
            # The handler gets the file's bytes: no path a client names is ever opened or deleted by the app.
            upload = again_label(gr.File(label=word("page.layout.upload_label"), file_types=["image"], type="binary",
                                         elem_id="upload", height=56), "page.layout.upload_label")
        with gr.Column(scale=2, min_width=200, elem_id="answer-column"):
            live["prediction"] = again_html(gr.HTML(panels.prediction_html(None), elem_id="live-prediction"),
                                            lambda: panels.prediction_html(None))
            # A polite live region, never re-rendered, that says the settled answer once (announce.js)
            gr.HTML("", html_template=ANNOUNCER_HTML, js_on_load=ANNOUNCE_JS, elem_id="answer-announcer",
                    apply_default_css=False)
            if rooms.any:  # a pupil in a class room sends the drawing the answer is about
                send_bar(rooms)
            live["probabilities"] = again_html(gr.HTML(panels.probabilities_html(None), elem_id="live-probabilities"),
                                               lambda: panels.probabilities_html(None))
            live["notice"] = gr.HTML(panels.notice_html(), elem_id="live-notice")
        with gr.Column(scale=8, min_width=300, elem_id="overview-column"):
            if classroom or rooms.any:  # the stepper works on the overview (and the Layer by layer tab)
                toolbar(rooms)
            live["overview"] = again_html(gr.HTML(overview_html(None, clf.model), elem_id="live-overview"),
                                          lambda: overview_html(None, clf.model))
    return pad, upload


def samples_gallery(mnist_samples: list[tuple[np.ndarray, int]] | None) -> gr.Gallery | None:
    if not mnist_samples:
        return None
    return again_label(gr.Gallery([img for img, _ in mnist_samples], label=word("page.layout.samples_label"),
                                  columns=len(mnist_samples), height=110, allow_preview=False, elem_id="mnist-samples",
                                  object_fit="contain", buttons=[], interactive=False), "page.layout.samples_label")


def lay_out_page(clf: Classifier, mnist_samples: list[tuple[np.ndarray, int]] | None, *, mlp: Classifier | None,
                 robustness: dict[str, Any] | None, classroom: bool, rooms: RoomsOnPage,
                 insights: Insights | None) -> PageLayout:
    """Creates the page's components inside the current ``gr.Blocks`` (the arguments are build_app's)."""
    header_script = PAGE_LANGUAGE_JS + ("\n" + CLASS_START_JS if rooms.any else "")
    again_html(gr.HTML(header_html(rooms), head=page_head(classroom, rooms), js_on_load=header_script,
                       elem_classes=["classroom"] if classroom else None, **class_start_props(rooms)),
               lambda: header_html(rooms))
    live: dict[str, gr.HTML] = {}
    pad, upload = first_screen(clf, classroom, rooms, live)
    if rooms.any:
        room_panel(rooms, unsure_line(str(clf.path)))
        symbols_panel(rooms)
    inspect_request = gr.HTML("", html_template="<span hidden></span>", js_on_load=INSPECTOR_JS,
                              elem_id="inspect-request", apply_default_css=False)
    inspector = gr.HTML(INSPECTOR_CLOSED, elem_id="live-inspector")
    live["model_input"] = again_html(gr.HTML(panels.model_input_html(None), elem_id="live-model-input"),
                                     lambda: panels.model_input_html(None))
    samples = samples_gallery(mnist_samples)
    tabs = add_lesson_tabs(clf, mlp, robustness, layers_tab(clf, live), classroom, insights)
    return PageLayout(pad=pad, upload=upload, live=live, inspect_request=inspect_request, inspector=inspector,
                      samples=samples, tabs=tabs, api_file=gr.File(visible=False, type="binary"),
                      api_result=gr.JSON(visible=False), api_button=gr.Button(visible=False),
                      api_drawing=gr.Textbox(visible=False), api_draw_button=gr.Button(visible=False))
