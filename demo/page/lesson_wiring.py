"""How a lesson tab is wired: computed when its tab opens, when one of its controls moves, and after each drawing
update while it is the visible one (the rest of the design is in demo/page/lesson_tabs.py).

Events name their inputs and outputs: handlers receive ``{component: value}`` (Gradio's set-of-inputs form) and
return ``{component: new value}``, so no handler depends on the position of a value in a list.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import gradio as gr
import numpy as np

from demo.texts import Later, say
from demo.views.live import ViewUpdate, decode_input, encode_input

from .language import in_request_language

log = logging.getLogger("convscope")

LAYERS = "layers"  # the always-live feature maps tab: nothing extra to compute
NETWORK = "network"  # classroom mode's layer-by-layer tab
RECOMPUTED = ["recomputed-lesson"]  # the class of tabs recomputed after each drawing (demo/page/static/pad.js looks)
ERROR_HTML = Later(lambda: f'<div class="lesson notice warning" data-state="error">'
                           f'{say("page.lesson_wiring.lesson_failed")}</div>')


@dataclass
class Lesson:
    """One lazily computed lesson: its view, its controls (by parameter name) and the function that draws it."""

    name: str
    html: gr.HTML
    controls: dict[str, Any]  # parameter name of ``compute`` -> the Gradio control that sets it
    compute: Callable[..., str]  # (model input or None, **control values) -> the view's HTML

    def render(self, input28: np.ndarray | None, values: dict[Any, Any]) -> str:
        """The view for ``input28`` and the controls' values in ``values`` ({control: value}); a failure (a bug
        or a setting no page offers) is logged and shown as a notice, never raised into the page's event."""
        try:
            return self.compute(input28, **{name: values[c] for name, c in self.controls.items()})
        except Exception:  # a broken lesson must not cost the page its live views
            log.exception("lesson %s failed", self.name)
            return str(ERROR_HTML)


@dataclass
class LessonTabs:
    """What the page needs to wire the lessons to drawing updates."""

    current: gr.HTML  # the (28, 28) model input now shown (encode_input), or "": held by the page, never drawn
    active: gr.Textbox  # name of the visible lesson
    lessons: dict[str, Lesson] = field(default_factory=dict)  # the lazily computed lessons, by name

    @property
    def controls(self) -> set[Any]:
        """Every lesson's controls."""
        return {c for lesson in self.lessons.values() for c in lesson.controls.values()}

    @property
    def inputs(self) -> set[Any]:
        """What a drawing update reads to refresh the visible lesson: its name and every control."""
        return {self.active, *self.controls}

    @property
    def outputs(self) -> list[Any]:
        """What a drawing update may change: the lessons' input and every lesson's view."""
        return [self.current, *(lesson.html for lesson in self.lessons.values())]

    def after_update(self, update: ViewUpdate, values: dict[Any, Any]) -> dict[Any, Any]:
        """The lessons' part of a drawing update, in the same event (no second round trip): their new input and
        the visible lesson recomputed for it. Nothing changes when the drawing was not used."""
        if update.kept:
            return {}
        out: dict[Any, Any] = {self.current: encode_input(update.model_input)}
        lesson = self.lessons.get(values[self.active])
        if lesson is not None:
            out[lesson.html] = lesson.render(update.model_input, values)
        return out


def clamp(value: float | None, low: int, high: int) -> int:
    return int(min(max(int(value or 0), low), high))


def register(tabs: LessonTabs, lesson: Lesson, tab: gr.Tab) -> None:
    """Computes ``lesson`` when its tab opens and when its controls move."""
    tabs.lessons[lesson.name] = lesson
    inputs = {tabs.current, *lesson.controls.values()}

    def computed(values: dict[Any, Any]) -> str:
        return lesson.render(decode_input(values[tabs.current]), values)

    def opened(values: dict[Any, Any]) -> dict[Any, Any]:
        return {lesson.html: computed(values), tabs.active: lesson.name}

    tab.select(in_request_language(opened), inputs=inputs, outputs=[lesson.html, tabs.active], show_progress="hidden",
               api_visibility="private")
    for control in lesson.controls.values():
        control.change(in_request_language(computed), inputs=inputs, outputs=lesson.html, show_progress="hidden",
                       api_visibility="private", trigger_mode="always_last")


def follow(controls: dict[str, Any], sources: list[str], sliders: list[str],
            sizes: Callable[..., tuple[int, ...]]) -> None:
    """Keeps ``sliders`` within the chosen layer's real size: when a ``sources`` control changes, each slider's
    maximum becomes ``sizes(*source values)[i] - 1`` and its value is moved inside if it was beyond."""
    def follow(values: dict[Any, Any]) -> dict[Any, Any]:
        limits = sizes(*(values[controls[name]] for name in sources))
        return {controls[name]: gr.Slider(maximum=limit - 1, value=min(int(values[controls[name]] or 0), limit - 1))
                for name, limit in zip(sliders, limits, strict=True)}

    inputs = {controls[name] for name in [*sources, *sliders]}
    for name in sources:
        controls[name].change(follow, inputs=inputs, outputs=[controls[n] for n in sliders], show_progress="hidden",
                              api_visibility="private")


def plain_tab(tabs: LessonTabs, name: str, tab: gr.Tab) -> None:
    """A tab with nothing to compute per drawing: opening it only records that it is the visible one."""
    tab.select(lambda: name, None, tabs.active, show_progress="hidden", api_visibility="private")

