"""The ConvScope app as a module-level ``demo`` object.

    gradio demo/app.py            # what `gradio` and a Hugging Face Space look for: the Blocks named `demo`
    python demo/app.py            # launches it on 127.0.0.1:7860

``CONVSCOPE_WEIGHTS`` picks another weights file, ``CONVSCOPE_DATA_DIR`` adds real MNIST samples and
``CONVSCOPE_CLASSROOM=1`` turns on classroom mode.
``python -m demo`` (demo/__main__.py) is the full command line, with flags. Run by ``gradio``, the page has no live
route (the pad then sends its updates through Gradio's events); ``python demo/app.py`` has it.

Importing this module builds nothing: the page, its model and its workers are made when ``demo`` is first read
(a module ``__getattr__``), once, so nothing that imports this module (a tool, a worker process) builds a page of
its own.
"""

from __future__ import annotations

import os
from functools import cache

import gradio as gr

from demo.core.classifier import DEFAULT_WEIGHTS, load_classifier
from demo.page.extras import load_insights, load_lesson_extras, load_mnist_samples
from demo.page.ui import build_app, configure_gradio, launch
from demo.server.work import WorkPool, default_workers


@cache
def app() -> tuple[gr.Blocks, WorkPool]:
    """The page and its live workers, built on first use from the ``CONVSCOPE_*`` settings."""
    configure_gradio()
    weights = os.environ.get("CONVSCOPE_WEIGHTS") or str(DEFAULT_WEIGHTS)
    data_dir = os.environ.get("CONVSCOPE_DATA_DIR")
    mlp, robustness = load_lesson_extras()
    clf = load_classifier(weights)
    workers = WorkPool(weights, default_workers(), clf)
    blocks = build_app(clf, load_mnist_samples(data_dir), mlp=mlp, robustness=robustness,
                       classroom=bool(os.environ.get("CONVSCOPE_CLASSROOM")), workers=workers,
                       insights=load_insights(clf, data_dir))
    return blocks, workers


def __getattr__(name: str) -> gr.Blocks:
    """``demo`` (the Blocks ``gradio`` looks for) is built when first read, then kept as a plain attribute."""
    if name == "demo":
        blocks = app()[0]
        globals()["demo"] = blocks
        return blocks
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if __name__ == "__main__":
    demo, service = app()
    launch(demo, service)
