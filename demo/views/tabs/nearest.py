"""Nearest digits: the MNIST training digits whose last hidden layer points the same way as the drawing's.

The index (demo/teaching/nearest.py) is prepared in the background when the app starts with MNIST; until then, or
without MNIST, the view says what is happening and how to turn it on. Every text that names a figure (60,000 examples,
128 numbers, the layer's name) takes it from the index, so it cannot drift from the network it describes.
"""

from __future__ import annotations

import html
from collections import Counter

import numpy as np
from markupsafe import Markup

from demo.teaching.nearest import Look, NearestHandle
from demo.texts import localised, plain, say
from demo.views import render

from .common import img, lesson, placeholder

K = 8  # neighbours shown: two rows of four, enough to see a majority or a split
THUMB_PX = 84  # a 28×28 training digit at 3× (pixelated)
INPUT_PX = 112  # the drawing at 4×

# How to turn the view on: the command and the files, named in the "off" notice.
OFF_HELP = {"command": Markup("<code>python -m demo --data-dir PATH/TO/MNIST</code>"),
            "files": Markup("<code>*-ubyte.gz</code>"), "folder": Markup("<code>MNIST/raw</code>")}


def explanation(count: int = 60_000, hidden: int = 128, layer: str = "relu4") -> str:
    """The text under the view, in the tutorial's words, with the index's own figures."""
    return say("tabs.nearest.explanation", count=localised(f"{count:,}"), layer=layer, hidden=hidden)


def _notice(state: str, text: str, message: str = "") -> str:
    detail = f'<div class="view-note">{html.escape(message)}</div>' if message else ""
    return lesson("nearest", say("tabs.nearest.title"), f'<div class="placeholder">{text}</div>{detail}',
                  explanation(), f' data-state="{state}"')


def _embedding_strip(embedding: np.ndarray) -> str:
    """The hidden layer's values as a small grid of cells (16 to a row), on the activation colour scale."""
    values = np.asarray(embedding, np.float32).ravel()
    columns = 16 if values.size % 16 == 0 else values.size
    indices, vmax = render.to_indices(values.reshape(-1, columns), "activation")
    uri = render.png_data_uri(indices, "activation")
    note = say("tabs.nearest.strip_note", count=values.size, largest=localised(f"{vmax:.2f}"),
               above=int((values > 0).sum()))
    return (f'{img(uri, plain("tabs.nearest.strip_alt", count=values.size), columns * 8)}'
            f'<div class="view-note">{note}</div>')


def _neighbour(n_index: int, label: int, similarity: float, image: np.ndarray, rank: int) -> str:
    uri = render.gray_picture(np.asarray(image, np.float32) / 255).data_uri()
    width = 100 * min(max(similarity, 0.0), 1.0)
    alt = plain("tabs.nearest.neighbour_alt", index=n_index, label=label)
    caption = say("tabs.nearest.neighbour_caption", label=label, similarity=localised(f"{similarity:.2f}"))
    tip = html.escape(plain("tabs.nearest.neighbour_tip", rank=rank), quote=True)
    return (f'<figure class="neighbour" data-index="{n_index}" data-label="{label}" '
            f'data-similarity="{similarity:.3f}">{img(uri, alt, THUMB_PX)}'
            f'<figcaption>{caption}<span class="prob-track" title="{tip}">'
            f'<span class="prob-bar" style="width:{width:.1f}%"></span></span></figcaption></figure>')


# The summary sentence, by (all neighbours share the label, that label is the network's answer).
SUMMARIES = {(True, True): "tabs.nearest.summary_all_agree", (True, False): "tabs.nearest.summary_all_disagree",
             (False, True): "tabs.nearest.summary_some_agree", (False, False): "tabs.nearest.summary_some_disagree"}


def _summary(look: Look) -> str:
    """One sentence: how many of the neighbours share a label, and whether that is the network's answer."""
    labels = [n.label for n in look.neighbours]
    majority, count = Counter(labels).most_common(1)[0]
    every, agree = count == len(labels), majority == look.label
    values = {"count": count, "digit": majority}
    if not every:
        values["total"] = len(labels)
    if not agree:
        values["answer"] = look.label
    return say(SUMMARIES[every, agree], **values)


def nearest_html(handle: NearestHandle | None, input28: np.ndarray | None) -> str:
    """The drawing's hidden-layer pattern and the ``K`` training digits nearest to it (cosine), or a notice saying
    why not yet: no MNIST ("off", with how to turn it on), "preparing", "error", or nothing drawn ("empty")."""
    state = handle.state if handle is not None else "off"
    index = handle.index if handle is not None else None
    message = handle.message if handle is not None else ""
    if state == "preparing":
        return _notice("preparing", say("tabs.nearest.preparing"), message)
    if state == "error":
        return _notice("error", say("tabs.nearest.error"), message)
    if state != "ready" or index is None:
        return _notice("off", say("tabs.nearest.off", **OFF_HELP), message)
    text = explanation(len(index.labels), int(index.embeddings.shape[1]), index.layer)
    title = say("tabs.nearest.title")
    if input28 is None:
        return placeholder("nearest", title, text)
    look = index.look(input28, K)
    drawing = (f'<figure class="nearest-drawing"><figcaption>{say("tabs.nearest.drawing_caption")}</figcaption>'
               f'{img(render.gray_picture(input28).data_uri(), plain("tabs.nearest.drawing_alt"), INPUT_PX)}'
               f'<figcaption>{say("tabs.nearest.hidden_caption", layer=index.layer)}</figcaption>'
               f'{_embedding_strip(look.embedding)}</figure>')
    if not look.neighbours:  # every hidden unit silent: no direction, so no cosine to rank by
        body = (f'<div class="charts">{drawing}<div class="view-note">'
                f'{say("tabs.nearest.all_zero", count=look.embedding.size)}</div></div>')
        return lesson("nearest", title, body, text, f' data-state="ready" data-answer="{look.label}" data-count="0"')
    cells = "".join(_neighbour(n.index, n.label, n.similarity, n.image, rank)
                    for rank, n in enumerate(look.neighbours, start=1))
    # Four to a row, each column as wide as its picture (THUMB_PX; a min-content column would let the picture's
    # max-width shrink it to nothing).
    note = say("tabs.nearest.grid_note", shown=len(look.neighbours), count=localised(f"{len(index.labels):,}"))
    grid = (f'<div class="nearest-grid" style="grid-template-columns:repeat(4,{THUMB_PX}px)">'
            f'<div class="view-note">{note}</div>{cells}</div>')
    majority = Counter(n.label for n in look.neighbours).most_common(1)[0][0]
    body = (f'<div class="charts nearest-charts">{drawing}{grid}</div>'
            f'<p class="nearest-summary">{_summary(look)}</p>')
    data = (f' data-state="ready" data-answer="{look.label}" data-majority="{majority}" '
            f'data-count="{len(look.neighbours)}"')
    return lesson("nearest", title, body, text, data)
