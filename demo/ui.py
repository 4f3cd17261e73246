"""The ConvScope page (layout and event wiring): a live drawing pad, the prediction, the inside of the network.

``build_app(classifier)`` returns the ``gr.Blocks``; ``demo/app.py`` and ``python -m demo`` launch it. The model is
loaded once by the caller; the event handlers are pure functions of their inputs (no per-user data in module
globals). Named API endpoints, for programs: ``/predict`` (an image file -> ``{"label", "probs"}``) and ``/draw``
(the pad's stroke JSON -> the six live views as HTML). The page's own events are private: they also carry the
visible lesson (demo/lesson_tabs.py), computed in the same event so a drawing costs one round trip.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # analytics off, before gradio is imported
# Gradio 6's queue rebuilds a pandas summary of its last GRADIO_ANALYTICS_MAX_EVENTS (default 10,000) events after
# *every* event (GRADIO_ANALYTICS_CACHE_FREQUENCY default 1), so each event costs more the more were served: with the
# defaults, bench/load.py --rounds 4 saw the median latency climb from 208 to 565 ms over 4,000 requests. Only
# Gradio's monitoring view reads that summary; a short history, summarised every 100 events, keeps it flat.
os.environ.setdefault("GRADIO_ANALYTICS_MAX_EVENTS", "500")
os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", "100")

import gradio as gr  # noqa: E402
import numpy as np  # noqa: E402

from . import views  # noqa: E402
from .classifier import Classifier, Prediction  # noqa: E402
from .classroom import CLASSROOM_CSS  # noqa: E402
from .lesson_tabs import add_lesson_tabs, encode_input  # noqa: E402
from .image_file import open_image  # noqa: E402
from .pad import PAD_CSS, PAD_HTML, PAD_JS, empty_drawing, pad_props  # noqa: E402
from .preprocess import InvalidImageError  # noqa: E402
from .strokes import InvalidDrawingError, parse_drawing  # noqa: E402
from .uploads import UploadedFile, discard_upload  # noqa: E402

log = logging.getLogger("convscope")
PAGE_CSS = (Path(__file__).with_name("app.css")).read_text()
TITLE = "ConvScope: watch a CNN read your handwriting"
# launch() options for every way of starting the app. run_history=False: Gradio 6 otherwise keeps every call in the
# browser's localStorage, slowing each update as it grows. state_session_capacity: every call without a session (a
# REST client) gets a new Gradio session holding a copy of the page config (~175 kB here, measured with tracemalloc).
# The app keeps nothing in server sessions (even the lessons' state lives in the page: demo/lesson_tabs.py), so
# evicting one costs nothing, and a small cap bounds that memory.
# max_file_size: a digit drawing is kilobytes; refusing big uploads early bounds disk and decode time.
LAUNCH_OPTIONS = {"run_history": False, "state_session_capacity": 50, "max_file_size": "20mb"}
# The queue: 4 events run at once (one small forward pass each; more would only fight over 2 cores). Beyond
# QUEUE_SIZE waiting events a new one is refused at once with "busy, try again" (HTTP 503 for REST clients, a toast
# in the page) rather than hanging. 50 users drawing at once keep well under it (bench/load.py).
CONCURRENCY = 4
QUEUE_SIZE = 200
# Uploads nobody read (posted to /gradio_api/upload only) are deleted after 5 minutes, checked every minute; the
# ones the app reads are deleted straight away (demo/uploads.py).
DELETE_CACHE = (60, 300)
BUG_MESSAGE = ("Something went wrong inside ConvScope while reading this (the error is logged). Everything you had is "
               "still here: try again, or draw something else.")
GONE_MESSAGE = "the uploaded file is no longer on the server: please send it again"


def view_outputs(clf: Classifier, pred: Prediction | None, seq: int = 0, notice: str = "") -> tuple[Any, ...]:
    """Every live view for one prediction, in the order of the app's outputs, then the model input (for the
    lessons' state; None when there is no digit)."""
    shown = pred.input28 if pred is not None and pred.label is not None else None
    return (views.prediction_html(pred, seq), views.probabilities_html(pred), views.model_input_html(pred),
            views.feature_maps_html(pred, clf.model), views.pooled_maps_html(pred, clf.model),
            views.notice_html(notice, "warning" if notice else "info"), shown)


def _keep_views(message: str) -> tuple[Any, ...]:
    """Leaves every view (and the lessons' input) as it is, so nothing the user had is lost, and shows ``message``."""
    return (gr.skip(),) * 5 + (views.notice_html(message, "warning"), gr.skip())


def views_for_drawing(clf: Classifier, drawing_json: str | None) -> tuple[Any, ...]:
    """The pad's stroke JSON -> every view (the /draw endpoint): rasterise, preprocess, forward, pictures."""
    try:
        drawing = parse_drawing(drawing_json)
    except InvalidDrawingError as error:
        return _keep_views(f"The drawing could not be used: {error}")
    if not drawing.strokes:
        return view_outputs(clf, None, drawing.seq)
    pred = clf.predict(drawing.rasterize())
    # Ink that is not a digit (a speck, the whole pad painted over) says why instead of silently showing nothing.
    note = f"No digit to read yet: {pred.message}." if pred.label is None else ""
    return view_outputs(clf, pred, drawing.seq, note)


def guarded_views(work: Any, *args: Any) -> tuple[Any, ...]:
    """Runs a view update; an unexpected error (a bug) is logged and leaves every view as it was, with a notice."""
    try:
        return work(*args)
    except Exception:  # noqa: BLE001 - one broken request must not cost the user their page
        log.exception("unexpected error in %s", getattr(work, "__name__", work))
        return _keep_views(BUG_MESSAGE)


def views_for_file(clf: Classifier, path: str | None) -> tuple[Any, ...]:
    """An uploaded image file -> every view; a file that cannot be used leaves the views and says why."""
    if not path:
        return _keep_views("")
    if not Path(path).exists():
        return _keep_views(f"That file could not be used: {GONE_MESSAGE}")
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
    if not Path(image_file).exists():
        raise gr.Error(GONE_MESSAGE)
    try:
        pred = clf.predict(open_image(image_file, name=Path(image_file).name))
    except InvalidImageError as error:
        raise gr.Error(str(error)) from None
    result: dict[str, Any] = {"label": pred.label, "probs": [round(p, 6) for p in pred.probs]}
    if pred.label is None:
        result["message"] = pred.message
    return result


def build_app(clf: Classifier, mnist_samples: list[tuple[np.ndarray, int]] | None = None, *,
              mlp: Classifier | None = None, robustness: dict[str, Any] | None = None,
              classroom: bool = False) -> gr.Blocks:
    """The page for a loaded classifier.

    ``mnist_samples`` (uint8 image, label) adds clickable MNIST examples; ``mlp`` (the plain fully connected net)
    and ``robustness`` (weights/robustness.json) feed the CNN-vs-ANN lesson; ``classroom`` switches to large type,
    high contrast and the layer-by-layer stepper.
    """

    def on_drawing(drawing_json: str | None) -> tuple[Any, ...]:
        return guarded_views(views_for_drawing, clf, drawing_json)

    def on_upload(path: str | None) -> tuple[Any, ...]:
        # The file box is emptied again, so the next file can be dropped straight away.
        try:
            return (*guarded_views(views_for_file, clf, path), None)
        finally:
            discard_upload(path)

    def on_sample(evt: gr.SelectData) -> tuple[Any, ...]:
        image, _ = mnist_samples[evt.index]
        return guarded_views(lambda: view_outputs(clf, clf.predict(image), 0))

    def predict(image_file: str) -> dict[str, Any]:
        """Classify an image file: {"label": 0-9 or null (no digit), "probs": [10 floats]}."""
        try:
            return predict_file(clf, image_file)
        except gr.Error:
            raise
        except Exception:  # noqa: BLE001 - a bug: logged, and the caller gets a clear message, not a hang
            log.exception("unexpected error in /predict")
            raise gr.Error("internal error while classifying this file (logged); please try again") from None
        finally:
            discard_upload(image_file)

    head = f"<style>{PAGE_CSS}</style>" + (f"<style>{CLASSROOM_CSS}</style>" if classroom else "")
    live: dict[str, gr.HTML] = {}

    def layers_tab() -> None:
        live["feature_maps"] = gr.HTML(views.feature_maps_html(None, clf.model))
        live["pooled_maps"] = gr.HTML(views.pooled_maps_html(None, clf.model))
        with gr.Accordion("Kernels: the filters the network learned", open=False):
            gr.HTML(views.kernels_html(clf.model))

    with gr.Blocks(title=TITLE, delete_cache=DELETE_CACHE) as demo:
        gr.HTML(f'<div class="header"><h1>ConvScope</h1><p>Draw a digit. A convolutional network trained on '
                f'MNIST reads it live, and every layer shows what it made of your drawing.</p></div>', head=head,
                elem_classes=["classroom"] if classroom else None)
        with gr.Row(equal_height=False):
            with gr.Column(scale=4, min_width=300):
                pad = gr.HTML(value=empty_drawing(), html_template=PAD_HTML, css_template=PAD_CSS, js_on_load=PAD_JS,
                              elem_id="pad-component", apply_default_css=False, **pad_props())
                upload = UploadedFile(label="…or upload an image of a digit", file_types=["image"], type="filepath",
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
        tabs = add_lesson_tabs(clf, mlp, robustness, layers_tab, classroom)
        api_file = UploadedFile(visible=False)
        api_result = gr.JSON(visible=False)
        api_button = gr.Button(visible=False)

        api_drawing = gr.Textbox(visible=False)
        api_draw_button = gr.Button(visible=False)

        views_out = [prediction, probabilities, model_input, live["feature_maps"], live["pooled_maps"], notice]
        outputs = [*views_out, tabs.current, *tabs.outputs]
        lesson_inputs = [tabs.inputs[0], *tabs.inputs[2:]]  # the visible lesson's name, every lesson control

        def with_lesson(views_and_input: tuple[Any, ...], active: str, controls: tuple[Any, ...]) -> tuple[Any, ...]:
            """Adds the visible lesson (if any) for the new input, in the same event: no second round trip."""
            current = views_and_input[-1]
            if current is not None and not isinstance(current, np.ndarray):  # views kept (bad input): lessons too
                return (*views_and_input, *(gr.skip() for _ in tabs.outputs))
            encoded = encode_input(current)
            return (*views_and_input[:-1], encoded, *tabs.refresh(active, encoded, *controls))

        def on_pad(drawing_json: str | None, active: str, *controls: Any) -> tuple[Any, ...]:
            return with_lesson(on_drawing(drawing_json), active, controls)

        def on_file(path: str | None, active: str, *controls: Any) -> tuple[Any, ...]:
            views_and_input = on_upload(path)
            return (*with_lesson(views_and_input[:-1], active, controls), views_and_input[-1])

        def on_sample_pick(evt: gr.SelectData, active: str, *controls: Any) -> tuple[Any, ...]:
            return with_lesson(on_sample(evt), active, controls)

        def draw(drawing_json: str) -> tuple[Any, ...]:
            """The pad's stroke JSON -> the six live views (prediction, probabilities, model input, feature maps,
            pooled maps, notice), as HTML."""
            return on_drawing(drawing_json)[:6]

        pad.change(on_pad, inputs=[pad, *lesson_inputs], outputs=outputs, api_visibility="private",
                   trigger_mode="always_last", show_progress="hidden", concurrency_limit=None)
        upload.upload(on_file, inputs=[upload, *lesson_inputs], outputs=[*outputs, upload], api_visibility="private",
                      show_progress="hidden")
        if mnist_samples:
            samples.select(on_sample_pick, inputs=lesson_inputs, outputs=outputs, api_visibility="private",
                           show_progress="hidden")
        # For programs (and bench/load.py): the same work as the pad's event, without the page's lesson state.
        api_draw_button.click(draw, inputs=api_drawing, outputs=views_out, api_name="draw", concurrency_limit=None)
        api_button.click(predict, inputs=api_file, outputs=api_result, api_name="predict")
    demo.queue(default_concurrency_limit=CONCURRENCY, max_size=QUEUE_SIZE)
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


def load_lesson_extras(mlp_path: str | Path | None = None,
                       robustness_path: str | Path | None = None) -> tuple[Classifier | None, dict[str, Any] | None]:
    """The MLP (for CNN vs ANN) and the shipped robustness measurements; each None (with a log line) if unusable,
    so a missing extra costs one lesson its comparison, never the app."""
    import json

    from .checkpoint import WEIGHTS_DIR, WeightsError
    from .classifier import load_classifier

    mlp_path = Path(mlp_path) if mlp_path else WEIGHTS_DIR / "mlp.safetensors"
    robustness_path = Path(robustness_path) if robustness_path else WEIGHTS_DIR / "robustness.json"
    try:
        mlp: Classifier | None = load_classifier(mlp_path)
    except WeightsError as error:
        log.warning("CNN vs ANN lesson without the MLP: %s", error)
        mlp = None
    try:
        robustness = json.loads(robustness_path.read_text())
    except (OSError, ValueError) as error:
        log.warning("CNN vs ANN lesson without the robustness chart: %s: %s", robustness_path, error)
        robustness = None
    return mlp, robustness
