"""The ConvScope page (layout and event wiring): a live drawing pad, the prediction, the inside of the network.

``build_app(classifier)`` returns the ``gr.Blocks``; ``demo/app.py`` and ``python -m demo`` launch it. The model is
loaded once by the caller; the event handlers are pure functions of their inputs (no per-user data in module
globals). Named API endpoints: ``/predict`` (an image file -> ``{"label", "probs"}``) for programs, and ``/draw``
(the pad's stroke JSON), which the page itself uses.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # analytics off, before gradio is imported

import gradio as gr  # noqa: E402
import numpy as np  # noqa: E402

from . import views  # noqa: E402
from .classifier import Classifier, Prediction  # noqa: E402
from .image_file import open_image  # noqa: E402
from .pad import PAD_CSS, PAD_HTML, PAD_JS, empty_drawing, pad_props  # noqa: E402
from .preprocess import InvalidImageError  # noqa: E402
from .strokes import InvalidDrawingError, parse_drawing  # noqa: E402

log = logging.getLogger("convscope")
PAGE_CSS = (Path(__file__).with_name("app.css")).read_text()
TITLE = "ConvScope: watch a CNN read your handwriting"
# launch() options for every way of starting the app. run_history=False: Gradio 6 otherwise keeps every call in the
# browser's localStorage, slowing each update as it grows. state_session_capacity: every call without a session (a
# REST client) gets a new Gradio session holding a copy of the page config; the app keeps no per-user state, so a
# small cap bounds that memory (bench/load.py: +59 MB -> +44 MB over 400 REST calls).
LAUNCH_OPTIONS = {"run_history": False, "state_session_capacity": 200}


def view_outputs(clf: Classifier, pred: Prediction | None, seq: int = 0, notice: str = "") -> tuple[str, ...]:
    """Every live view for one prediction, in the order of the app's outputs."""
    return (views.prediction_html(pred, seq), views.probabilities_html(pred), views.model_input_html(pred),
            views.feature_maps_html(pred, clf.model), views.pooled_maps_html(pred, clf.model),
            views.notice_html(notice, "warning" if notice else "info"))


def _keep_views(message: str) -> tuple[Any, ...]:
    """Leaves every view as it is (nothing the user had is lost) and shows ``message``."""
    return (gr.skip(),) * 5 + (views.notice_html(message, "warning"),)


def views_for_drawing(clf: Classifier, drawing_json: str | None) -> tuple[Any, ...]:
    """The pad's stroke JSON -> every view (the /draw endpoint): rasterise, preprocess, forward, pictures."""
    try:
        drawing = parse_drawing(drawing_json)
    except InvalidDrawingError as error:
        return _keep_views(f"The drawing could not be used: {error}")
    if not drawing.strokes:
        return view_outputs(clf, None, drawing.seq)
    return view_outputs(clf, clf.predict(drawing.rasterize()), drawing.seq)


def views_for_file(clf: Classifier, path: str | None) -> tuple[Any, ...]:
    """An uploaded image file -> every view; a file that cannot be used leaves the views and says why."""
    if not path:
        return _keep_views("")
    try:
        pred = clf.predict(open_image(path, name=Path(path).name))
    except InvalidImageError as error:
        return _keep_views(f"That file could not be used: {error}")
    note = "" if pred.label is not None else f"The uploaded image shows no digit ({pred.message})."
    return view_outputs(clf, pred, 0, note)


def predict_file(clf: Classifier, image_file: str | None) -> dict[str, Any]:
    """An image file -> {"label": 0-9 or null (no digit), "probs": [10 floats]}; a bad file raises gr.Error."""
    if not image_file:
        raise gr.Error("send an image file")
    try:
        pred = clf.predict(open_image(image_file, name=Path(image_file).name))
    except InvalidImageError as error:
        raise gr.Error(str(error)) from None
    result: dict[str, Any] = {"label": pred.label, "probs": [round(p, 6) for p in pred.probs]}
    if pred.label is None:
        result["message"] = pred.message
    return result


def build_app(clf: Classifier, mnist_samples: list[tuple[np.ndarray, int]] | None = None) -> gr.Blocks:
    """The page for a loaded classifier; ``mnist_samples`` (uint8 image, label) adds clickable MNIST examples."""

    def on_drawing(drawing_json: str | None) -> tuple[Any, ...]:
        return views_for_drawing(clf, drawing_json)

    def on_upload(path: str | None) -> tuple[Any, ...]:
        # The file box is emptied again, so the next file can be dropped straight away.
        return (*views_for_file(clf, path), None)

    def on_sample(evt: gr.SelectData) -> tuple[Any, ...]:
        image, _ = mnist_samples[evt.index]
        return view_outputs(clf, clf.predict(image), 0)

    def predict(image_file: str) -> dict[str, Any]:
        """Classify an image file: {"label": 0-9 or null (no digit), "probs": [10 floats]}."""
        return predict_file(clf, image_file)

    with gr.Blocks(title=TITLE) as demo:
        gr.HTML(f'<div class="header"><h1>ConvScope</h1><p>Draw a digit. A convolutional network trained on '
                f'MNIST reads it live, and every layer shows what it made of your drawing.</p></div>',
                head=f"<style>{PAGE_CSS}</style>")
        with gr.Row(equal_height=False):
            with gr.Column(scale=4, min_width=300):
                pad = gr.HTML(value=empty_drawing(), html_template=PAD_HTML, css_template=PAD_CSS, js_on_load=PAD_JS,
                              elem_id="pad-component", apply_default_css=False, **pad_props())
                upload = gr.File(label="…or upload an image of a digit", file_types=["image"], type="filepath",
                                 elem_id="upload", height=120)
            with gr.Column(scale=3, min_width=220):
                prediction = gr.HTML(views.prediction_html(None))
                probabilities = gr.HTML(views.probabilities_html(None))
            with gr.Column(scale=5, min_width=300):
                model_input = gr.HTML(views.model_input_html(None))
                notice = gr.HTML(views.notice_html())
        if mnist_samples:
            samples = gr.Gallery([img for img, _ in mnist_samples], label="Real MNIST test digits: click one",
                                 columns=len(mnist_samples), height=110, allow_preview=False, elem_id="mnist-samples",
                                 object_fit="contain", buttons=[], interactive=False)
        feature_maps = gr.HTML(views.feature_maps_html(None, clf.model))
        pooled_maps = gr.HTML(views.pooled_maps_html(None, clf.model))
        with gr.Accordion("Kernels: the filters the network learned", open=False):
            gr.HTML(views.kernels_html(clf.model))
        api_file = gr.File(visible=False)
        api_result = gr.JSON(visible=False)
        api_button = gr.Button(visible=False)

        outputs = [prediction, probabilities, model_input, feature_maps, pooled_maps, notice]
        pad.change(on_drawing, inputs=pad, outputs=outputs, api_name="draw", trigger_mode="always_last",
                   show_progress="hidden", concurrency_limit=None)
        upload.upload(on_upload, inputs=upload, outputs=[*outputs, upload], api_name="upload", show_progress="hidden")
        if mnist_samples:
            samples.select(on_sample, inputs=None, outputs=outputs, api_visibility="private", show_progress="hidden")
        api_button.click(predict, inputs=api_file, outputs=api_result, api_name="predict")
    return demo


def load_mnist_samples(data_dir: str | None) -> list[tuple[np.ndarray, int]] | None:
    """The first test image of each digit, for the clickable examples; None (with a log line) if unavailable."""
    if not data_dir:
        return None
    from demo.data import MnistNotFoundError, load_mnist_test

    try:
        images, labels = load_mnist_test(data_dir, download=False)
    except MnistNotFoundError as error:
        log.warning("MNIST samples left out: %s", error)
        return None
    return [(images[int((labels == d).nonzero()[0, 0])].numpy(), d) for d in range(10)]
