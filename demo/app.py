"""The ConvScope app as a module-level ``demo`` object.

    gradio demo/app.py            # what `gradio` and a Hugging Face Space look for: the Blocks named `demo`
    python demo/app.py            # launches it on 127.0.0.1:7860

``CONVSCOPE_WEIGHTS`` picks another weights file, ``CONVSCOPE_DATA_DIR`` adds real MNIST samples and
``CONVSCOPE_CLASSROOM=1`` turns on classroom mode.
``python -m demo`` (demo/__main__.py) is the full command line, with flags. Run by ``gradio``, the page has no live
route (the pad then sends its updates through Gradio's events); ``python demo/app.py`` has it.
"""

from __future__ import annotations

import os

from demo.core.classifier import DEFAULT_WEIGHTS, load_classifier
from demo.page.extras import load_insights, load_lesson_extras, load_mnist_samples
from demo.page.ui import build_app, launch
from demo.server.live_route import LiveService, default_workers

_weights = os.environ.get("CONVSCOPE_WEIGHTS") or str(DEFAULT_WEIGHTS)

# The live workers are started with multiprocessing's "spawn", which imports the script run as ``python
# demo/app.py`` once more in each worker, as "__mp_main__": a worker needs none of the page, so it skips building it.
if __name__ != "__mp_main__":
    _mlp, _robustness = load_lesson_extras()
    _clf = load_classifier(_weights)
    _workers = LiveService(_weights, default_workers(), _clf)
    _data_dir = os.environ.get("CONVSCOPE_DATA_DIR")
    demo = build_app(_clf, load_mnist_samples(_data_dir), mlp=_mlp, robustness=_robustness,
                     classroom=bool(os.environ.get("CONVSCOPE_CLASSROOM")), workers=_workers,
                     insights=load_insights(_clf, _data_dir))

if __name__ == "__main__":
    launch(demo, _workers)
