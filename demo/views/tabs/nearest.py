"""Nearest digits: the MNIST training digits whose last hidden layer points the same way as the drawing's.

The index (demo/teaching/nearest.py) is prepared in the background when the app starts with MNIST; until then, or
without MNIST, the view says what is happening and how to turn it on. Every text that names a figure (60,000 examples,
128 numbers, the layer's name) takes it from the index, so it cannot drift from the network it describes.
"""

from __future__ import annotations

import html
from collections import Counter

import numpy as np

from demo.teaching.nearest import Look, NearestHandle
from demo.views import render

from .common import img, lesson, placeholder

TITLE = "Nearest digits"
K = 8  # neighbours shown: two rows of four, enough to see a majority or a split
THUMB_PX = 84  # a 28×28 training digit at 3× (pixelated)
INPUT_PX = 112  # the drawing at 4×

OFF_HELP = ("Start the app with <code>python -m demo --data-dir PATH/TO/MNIST</code>, where the folder holds the "
            "four official <code>*-ubyte.gz</code> files (or MNIST as torchvision downloads it, with "
            "<code>MNIST/raw</code> inside). The training digits' embeddings are then computed once and cached.")


def explanation(count: int = 60_000, hidden: int = 128, layer: str = "relu4") -> str:
    """The text under the view, in the tutorial's words, with the index's own figures."""
    return (f"The network learned from {count:,} labelled examples. These are the training digits whose last hidden "
            f"layer ({html.escape(layer)}: the {hidden} numbers the final layer reads to choose a digit) points the "
            "same way as yours. “cos” is the cosine similarity of those two patterns: 1 when the same units fire in "
            "the same proportions, 0 when they share nothing. The network does not look these examples up when it "
            "answers; they show what it has learned to treat as alike. When the answer is odd, look here: the "
            "neighbours may show what the network took your drawing for.")


def _notice(state: str, text: str, message: str = "") -> str:
    detail = f'<div class="view-note">{html.escape(message)}</div>' if message else ""
    return lesson("nearest", TITLE, f'<div class="placeholder">{text}</div>{detail}', explanation(),
                  f' data-state="{state}"')


def _embedding_strip(embedding: np.ndarray) -> str:
    """The hidden layer's values as a small grid of cells (16 to a row), on the activation colour scale."""
    values = np.asarray(embedding, np.float32).ravel()
    columns = 16 if values.size % 16 == 0 else values.size
    indices, vmax = render.to_indices(values.reshape(-1, columns), "activation")
    uri = render.png_data_uri(indices, "activation")
    return (f'{img(uri, f"the {values.size} values of the last hidden layer", columns * 8)}'
            f'<div class="view-note">{values.size} values, 0 to {vmax:.2f}; '
            f'{int((values > 0).sum())} of them above 0</div>')


def _neighbour(n_index: int, label: int, similarity: float, image: np.ndarray, rank: int) -> str:
    uri = render.gray_picture(np.asarray(image, np.float32) / 255).data_uri()
    width = 100 * min(max(similarity, 0.0), 1.0)
    return (f'<figure class="neighbour" data-index="{n_index}" data-label="{label}" '
            f'data-similarity="{similarity:.3f}">{img(uri, f"training digit {n_index}, a {label}", THUMB_PX)}'
            f'<figcaption><b>{label}</b> · cos {similarity:.2f}<span class="prob-track" title="nearest #{rank}">'
            f'<span class="prob-bar" style="width:{width:.1f}%"></span></span></figcaption></figure>')


def _summary(look: Look) -> str:
    """One sentence: how many of the neighbours share a label, and whether that is the network's answer."""
    labels = [n.label for n in look.neighbours]
    majority, count = Counter(labels).most_common(1)[0]
    share = f"All {len(labels)}" if count == len(labels) else f"{count} of the {len(labels)}"
    agree = ("the network's answer too" if majority == look.label
             else f"but the network answered {look.label}: compare their strokes with yours")
    return f"{share} nearest training digits are {majority}s, {agree}."


def nearest_html(handle: NearestHandle | None, input28: np.ndarray | None) -> str:
    """The drawing's hidden-layer pattern and the ``K`` training digits nearest to it (cosine), or a notice saying
    why not yet: no MNIST ("off", with how to turn it on), "preparing", "error", or nothing drawn ("empty")."""
    state = handle.state if handle is not None else "off"
    index = handle.index if handle is not None else None
    message = handle.message if handle is not None else ""
    if state == "preparing":
        return _notice("preparing", "Computing the embeddings of the 60,000 training digits, once (about a "
                       "minute); this view fills in on your next drawing after that.", message)
    if state == "error":
        return _notice("error", "The nearest digits could not be prepared; the rest of the app works as usual.",
                       message)
    if state != "ready" or index is None:
        return _notice("off", f"Nearest digits needs the MNIST training set. {OFF_HELP}", message)
    text = explanation(len(index.labels), int(index.embeddings.shape[1]), index.layer)
    if input28 is None:
        return placeholder("nearest", TITLE, text)
    look = index.look(input28, K)
    drawing = (f'<figure class="nearest-drawing"><figcaption>your drawing, as the network sees it</figcaption>'
               f'{img(render.gray_picture(input28).data_uri(), "model input", INPUT_PX)}'
               f'<figcaption>its last hidden layer ({html.escape(index.layer)})</figcaption>'
               f'{_embedding_strip(look.embedding)}</figure>')
    if not look.neighbours:  # every hidden unit silent: no direction, so no cosine to rank by
        body = (f'<div class="charts">{drawing}<div class="view-note">All {look.embedding.size} values are 0 for '
                'this drawing, so there is no pattern to compare: no training digit is nearer than another.</div>'
                '</div>')
        return lesson("nearest", TITLE, body, text, f' data-state="ready" data-answer="{look.label}" data-count="0"')
    cells = "".join(_neighbour(n.index, n.label, n.similarity, n.image, rank)
                    for rank, n in enumerate(look.neighbours, start=1))
    # Four to a row, each column as wide as its picture (THUMB_PX; a min-content column would let the picture's
    # max-width shrink it to nothing).
    grid = (f'<div class="nearest-grid" style="grid-template-columns:repeat(4,{THUMB_PX}px)">'
            f'<div class="view-note">the {len(look.neighbours)} nearest of '
            f'{len(index.labels):,} training digits, nearest first</div>{cells}</div>')
    majority = Counter(n.label for n in look.neighbours).most_common(1)[0][0]
    body = (f'<div class="charts nearest-charts">{drawing}{grid}</div>'
            f'<p class="nearest-summary">{_summary(look)}</p>')
    data = (f' data-state="ready" data-answer="{look.label}" data-majority="{majority}" '
            f'data-count="{len(look.neighbours)}"')
    return lesson("nearest", TITLE, body, text, data)
