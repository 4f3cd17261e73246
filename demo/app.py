"""The ConvScope app as a module-level ``demo`` object.

    gradio demo/app.py            # what `gradio` and a Hugging Face Space look for: the Blocks named `demo`
    python demo/app.py            # launches it on 127.0.0.1:7860

``CONVSCOPE_WEIGHTS`` picks another weights file, ``CONVSCOPE_DATA_DIR`` adds real MNIST samples and
``CONVSCOPE_CLASSROOM=1`` turns on classroom mode.
``python -m demo`` (demo/__main__.py) is the full command line, with flags.
"""

from __future__ import annotations

import os

from demo.classifier import load_classifier
from demo.ui import LAUNCH_OPTIONS, build_app, load_lesson_extras, load_mnist_samples

_mlp, _robustness = load_lesson_extras()
demo = build_app(load_classifier(os.environ.get("CONVSCOPE_WEIGHTS") or None),
                 load_mnist_samples(os.environ.get("CONVSCOPE_DATA_DIR")), mlp=_mlp, robustness=_robustness,
                 classroom=bool(os.environ.get("CONVSCOPE_CLASSROOM")))

if __name__ == "__main__":
    demo.launch(**LAUNCH_OPTIONS)
