"""The ConvScope page: ``build_app(classifier)`` returns the ``gr.Blocks``, :func:`launch` serves it with the live
route and the class room; ``python -m demo`` (demo/__main__.py) and ``demo/app.py`` call them.

The layout is demo/page/layout.py and the events demo/page/wiring.py. The model is loaded once by the caller; the
event handlers are functions of their inputs (no per-user data kept on the server). What this process's Gradio
needs (environment defaults for its queue, cheap sessions) is set by :func:`configure_gradio`, called by the entry
points before they build the page, never on import.
"""

from __future__ import annotations

import os
from typing import Any

import gradio as gr
import numpy as np

from demo.core.classifier import Classifier
from demo.server.room import Room
from demo.server.rooms import Rooms
from demo.server.rooms_routes import start_sweeping
from demo.server.routes import MAX_UPLOAD_BYTES, app_kwargs, check_mounted
from demo.server.work import WorkPool
from demo.texts import plain

from .classroom import RoomsOnPage
from .insight_tabs import Insights
from .language import collect_texts, page_i18n, send_texts_on_load
from .layout import lay_out_page
from .wiring import PageHandlers, wire_events

TITLE = plain("page.ui.title")
# Gradio 6's queue rebuilds a pandas summary of its last GRADIO_ANALYTICS_MAX_EVENTS (default 10,000) events after
# *every* event (GRADIO_ANALYTICS_CACHE_FREQUENCY default 1), so each event costs more the more were served: with the
# defaults, bench/load.py --rounds 4 saw the median latency climb from 208 to 565 ms over 4,000 requests. Only
# Gradio's monitoring view reads that summary; a short history, summarised every 100 events, keeps it flat. Telemetry
# is off. Gradio reads these when they are used (the queue's when demo.queue() creates it in build_app); an
# operator's own settings win.
GRADIO_SETTINGS = {"GRADIO_ANALYTICS_ENABLED": "False", "GRADIO_ANALYTICS_MAX_EVENTS": "500",
                   "GRADIO_ANALYTICS_CACHE_FREQUENCY": "100"}
# launch() options for every way of starting the app. run_history=False: Gradio 6 otherwise keeps every call in the
# browser's localStorage, slowing each update as it grows. state_session_capacity: every call without a session (a
# REST client) gets a new Gradio session holding a copy of the page config (~175 kB here, measured with tracemalloc).
# The app keeps nothing in server sessions (even the lessons' state lives in the page: demo/page/lesson_tabs.py), so
# evicting one costs nothing, and a small cap bounds that memory.
# max_file_size: a digit drawing is kilobytes; refusing big uploads early bounds disk and decode time (the same cap as
# every upload's body, demo/server/routes.py).
LAUNCH_OPTIONS = {"run_history": False, "state_session_capacity": 50, "max_file_size": MAX_UPLOAD_BYTES}


def launch_options() -> dict[str, Any]:
    """:data:`LAUNCH_OPTIONS` with the words of the pages built so far in every language (demo/page/language.py):
    build the page first."""
    return {**LAUNCH_OPTIONS, "i18n": page_i18n()}


# Gradio's queue (uploads, samples, lessons, the API; the pad's live updates bypass it, demo/server/live_route.py): 4
# events run at once. An upload's event mostly waits for a live worker, so a few more than the 2 cores keeps the
# workers fed without piling up threads. Beyond QUEUE_SIZE waiting events a new one is refused at once with "busy,
# try again" (HTTP 503 for REST clients, a toast in the page) rather than hanging. 50 users drawing at once keep
# well under it (bench/load.py).
CONCURRENCY = 4
QUEUE_SIZE = 200
# Gradio deletes the files this page's uploads left in its upload folder after 2 minutes, checked every 30 s (an
# upload is read within a second; its files are never deleted by a request). Gradio's own cached files (the samples,
# the examples) are kept: Gradio's delete_cache spares every component's initial value.
DELETE_CACHE = (30, 120)


def build_app(clf: Classifier, mnist_samples: list[tuple[np.ndarray, int]] | None = None, *,
              mlp: Classifier | None = None, robustness: dict[str, Any] | None = None,
              classroom: bool = False, workers: WorkPool | None = None, room: Room | None = None,
              insights: Insights | None = None, rooms_on: bool = False) -> gr.Blocks:
    """The page for a loaded classifier.

    ``mnist_samples`` (uint8 image, label) adds clickable MNIST examples; ``mlp`` (a plain fully connected network)
    and ``robustness`` (weights/robustness.json) feed the CNN-vs-MLP lesson; ``classroom`` switches to large type,
    high contrast and the layer-by-layer stepper; ``workers`` (the live route's pool,
    demo/server/live_route.py) computes the uploads' work in its processes, so this process stays free for the class's
    requests; ``room`` (classroom mode's class room, demo/server/room.py) adds the pupils' send bar and the teacher's
    gallery (served by :func:`launch`); ``rooms_on``: teachers can start class rooms from the page ("Start a class";
    a room's pupils get the send bar, its teacher the projector's page); ``insights`` (demo/page/insight_tabs.py) feed
    Watch it learn, Nearest digits and What filters look for. Call :func:`configure_gradio` first, once per process.
    """
    room = room if classroom else None
    with gr.Blocks(title=TITLE, delete_cache=DELETE_CACHE, analytics_enabled=False) as demo:
        fixed_texts = collect_texts()
        page = lay_out_page(clf, mnist_samples, mlp=mlp, robustness=robustness, classroom=classroom,
                            rooms=RoomsOnPage(started=rooms_on, main=room is not None), insights=insights)
        wire_events(page, PageHandlers(clf, page, workers, mnist_samples))
        send_texts_on_load(demo, fixed_texts)
    demo.queue(default_concurrency_limit=CONCURRENCY, max_size=QUEUE_SIZE)
    return demo


def configure_gradio() -> None:
    """What this process's Gradio needs before a page is built: the queue's settings (an operator's own
    environment wins). Safe to call again."""
    for name, value in GRADIO_SETTINGS.items():
        os.environ.setdefault(name, value)


def launch(demo: gr.Blocks, service: WorkPool | None = None, room: Room | None = None,
           on_ready: Any = None, rooms: Rooms | None = None, main_code: str | None = None, **options: Any) -> None:
    """Serves the page until stopped, with ConvScope's own routes (demo/server/routes.py: the live pad, health,
    REST predict, the class rooms of ``rooms`` (idle ones closed in the background), and --classroom's ``room``
    (its code ``main_code``)) and every request's body capped; ``on_ready(demo)`` runs once the server listens (the
    caller prints the addresses). The workers start in the background while the page is already served. The caller
    owns ``room`` and ``rooms`` (and closes them)."""
    kwargs = app_kwargs(service, room, rooms, main_code)
    sweeping = start_sweeping(rooms) if rooms is not None else None
    try:
        demo.launch(prevent_thread_lock=True, app_kwargs=kwargs, **{**launch_options(), **options})
        check_mounted(demo.server_app, kwargs)
        if on_ready is not None:
            on_ready(demo)
        if service is not None:
            service.warm_up_in_background()
        demo.block_thread()
    finally:
        if sweeping is not None:
            sweeping.set()
        if service is not None:
            service.close()
