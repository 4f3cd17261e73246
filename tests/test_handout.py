"""The printable handout (demo/views/handout.py): one A4 page, PNG and PDF, for real MNIST digits.

PDF text: the handout keeps matplotlib's default Type 3 fonts. The alternatives (``pdf.fonttype`` 42,
``pdf.use14corefonts``) are rcParams, process-wide and read at draw time, so switching them per call would mutate
global state under other server threads. Type 3 text is still vector and searchable: matplotlib subsets the font
and writes a ToUnicode CMap for every subset, which is what PDF viewers use to search and copy text. The tests read
the text the same way (:func:`pdf_texts`): each text's glyph codes mapped through its font's CMap, so they hold
whatever codes a matplotlib version assigns to the glyphs of a subset.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zlib
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from PIL import Image

from demo.core.model import CONV, POOL, stage_kind
from demo.views.handout import NothingDrawnError, handout_pdf, handout_png
from demo.views.handout_layout import INPUT_BOX, PAGE_H, PAGE_W

DATE = dt.date(2024, 3, 5)
PERCENT = re.compile(r"\d+\.\d %")


def _objects(pdf: bytes) -> dict[int, bytes]:
    return {int(n): body for n, body in re.findall(rb"(\d+) 0 obj\s*(.*?)endobj", pdf, re.S)}


def _stream(body: bytes) -> bytes:
    data = re.search(rb"stream\r?\n(.*)\r?\nendstream", body, re.S).group(1)
    return zlib.decompress(data) if b"/FlateDecode" in body.split(b"stream")[0] else data


def _ref(body: bytes, key: bytes) -> int:
    return int(re.search(rb"/" + key + rb"\s+(\d+) 0 R", body).group(1))


def _cmap(text: bytes) -> tuple[dict[bytes, str], int]:
    """A ToUnicode CMap -> (code bytes -> text, code width in bytes)."""
    table: dict[bytes, str] = {}
    width = 1
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", text, re.S):
        for start, end, dest in re.findall(rb"<(\w+)>\s*<(\w+)>\s*(\[[^\]]*\]|<\w+>)", block):
            width = len(start) // 2
            first, last = int(start, 16), int(end, 16)
            targets = re.findall(rb"<(\w+)>", dest)
            for i, code in enumerate(range(first, last + 1)):
                hex_text = targets[i] if dest.startswith(b"[") else b"%04x" % (int(targets[0], 16) + i)
                table[code.to_bytes(width, "big")] = bytes.fromhex(hex_text.decode()).decode("utf-16-be")
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", text, re.S):
        for code, dest in re.findall(rb"<(\w+)>\s*<(\w+)>", block):
            width = len(code) // 2
            table[bytes.fromhex(code.decode())] = bytes.fromhex(dest.decode()).decode("utf-16-be")
    return table, width


def _unescape(literal: bytes) -> bytes:
    escapes = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}

    def one(m: re.Match[bytes]) -> bytes:
        s = m.group(1)
        if s[:1].isdigit():
            return bytes([int(s, 8)])
        return escapes.get(s, s)

    return re.sub(rb"\\([0-7]{1,3}|.)", one, literal, flags=re.S)


def pdf_texts(pdf: bytes) -> list[str]:
    """Every text item on the single page (one per BT ... ET block), decoded through the fonts' ToUnicode CMaps."""
    objects = _objects(pdf)
    page = next(body for body in objects.values() if re.search(rb"/Type\s*/Page\b", body))
    fonts_dict = objects[_ref(objects[_ref(page, b"Resources")], b"Font")]
    cmaps = {name: _cmap(_stream(objects[_ref(objects[int(ref)], b"ToUnicode")]))
             for name, ref in re.findall(rb"/([\w.+-]+)\s+(\d+) 0 R", fonts_dict)}
    content = _stream(objects[_ref(page, b"Contents")])
    token = re.compile(rb"/(?P<font>[\w.+-]+)\s+[-\d.]+\s+Tf|(?P<bt>\bBT\b)|(?P<et>\bET\b)"
                       rb"|\((?P<lit>(?:\\.|[^\\()])*)\)|<(?P<hex>[0-9a-fA-F\s]*)>", re.S)
    texts, current, font = [], [], None
    for m in token.finditer(content):
        if m["font"]:
            font = m["font"]
        elif m["bt"]:
            current = []
        elif m["et"]:
            texts.append("".join(current))
        else:
            raw = _unescape(m["lit"]) if m["lit"] is not None else bytes.fromhex(m["hex"].decode())
            table, width = cmaps[font]
            current.extend(table.get(raw[i:i + width], "\ufffd") for i in range(0, len(raw), width))
    return texts


def flat(texts: list[str]) -> str:
    """All text as one line: wrapped captions read as written."""
    return " ".join(" ".join(texts).split())


@pytest.fixture(scope="module")
def digits(mnist_test):
    images, labels = mnist_test
    return images[0] / 255, images[1] / 255, int(labels[0]), int(labels[1])  # a 7 and a 2


@pytest.fixture(scope="module")
def png_a(clf, digits):
    return handout_png(clf, digits[0], date=DATE)


@pytest.fixture(scope="module")
def pdf_a(clf, digits):
    return handout_pdf(clf, digits[0], date=DATE)


@pytest.fixture(scope="module")
def png_b(clf, digits):
    return handout_png(clf, digits[1], date=DATE)


def _grey(png: bytes) -> np.ndarray:
    image = Image.open(io.BytesIO(png))
    assert image.size == (1654, 2339)
    return np.asarray(image.convert("L"), dtype=np.float64)


def _input_cells(page: np.ndarray) -> np.ndarray:
    """The printed input picture sampled at the centre of each of its 28×28 cells."""
    x, y, side = INPUT_BOX
    sx, sy = page.shape[1] / PAGE_W, page.shape[0] / PAGE_H  # pixels per mm
    centres = (np.arange(28) + 0.5) * side / 28
    rows = np.round((y + centres) * sy).astype(int)
    cols = np.round((x + centres) * sx).astype(int)
    return page[np.ix_(rows, cols)]


def test_png_is_an_a4_page_at_200_dpi_mostly_white(png_a):
    image = Image.open(io.BytesIO(png_a))
    assert image.format == "PNG" and image.mode == "RGB" and image.size == (1654, 2339)
    assert round(image.info["dpi"][0]) == 200
    page = _grey(png_a)
    assert (page > 245).mean() > 0.75  # printer friendly: white paper
    assert (page < 60).mean() > 0.005  # not blank: text, the digit, the maps


def test_png_prints_the_input_dark_on_white(png_a, png_b, digits):
    for png, x in ((png_a, digits[0]), (png_b, digits[1])):
        cells = _input_cells(_grey(png))
        expected = 255 * (1 - x)  # inverted for print: ink 1 is black
        assert np.abs(cells - expected).mean() < 6
    a, b = _input_cells(_grey(png_a)), _input_cells(_grey(png_b))
    assert np.abs(a - b).mean() > 20  # two different digits, two different pictures


def test_pdf_is_one_page_with_the_answer_and_every_stage(pdf_a, clf, digits):
    assert pdf_a.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page\b", pdf_a)) == 1  # /Page, not /Pages
    texts = pdf_texts(pdf_a)
    text = flat(texts)
    probs, activations = clf.forward_staged(digits[0])
    answer = int(probs.argmax())
    assert answer == digits[2]
    assert "The network's answer" in texts and str(answer) in texts
    assert f"softmax probability {100 * probs[answer]:.1f} %" in texts
    assert f"The largest is the answer: {answer}." in text
    for name, module in clf.model.named_children():
        if name not in activations:
            continue
        c, h, w = activations[name].shape
        if stage_kind(module) == CONV:
            k = module.kernel_size[0]
            assert f"{name} · convolution · {c} maps {h}×{w} · {k}×{k} kernels" in text
        elif stage_kind(module) == POOL:
            assert f"{name} · max pooling 2×2 · {c} maps {h}×{w}" in text
        elif h > 1:
            assert f"{name} · ReLU · {c} maps {h}×{w}" in text
        else:
            assert f"fc1 + {name} · fully connected + ReLU · 3,136 → {c} values" in text
    assert "fc2 + softmax" in text
    for words in ("kernel slides over the image", "ReLU keeps the positive values",
                  "keeps the strongest value in each 2×2 window", "Flatten", "0–9", "printed dark on white"):
        assert words.lower() in text.lower()


def test_printed_probabilities_are_the_models(pdf_a, clf, digits):
    """Oracle: the ten percentages under the bars are forward_staged's probabilities, in order 0-9."""
    probs, _ = clf.forward_staged(digits[0])
    printed = [t for t in pdf_texts(pdf_a) if PERCENT.fullmatch(t)]
    assert printed == [f"{100 * p:.1f} %" for p in probs]
    assert float(printed[int(probs.argmax())][:-2]) == max(float(p[:-2]) for p in printed)


def test_footer_has_test_accuracy_and_date(pdf_a, clf):
    text = flat(pdf_texts(pdf_a))
    assert f"Test accuracy {100 * clf.report['test_accuracy']:.2f} %" in text
    assert DATE.isoformat() in text
    assert "This does not look like a digit" not in text  # a real MNIST digit is not flagged
    assert "close enough to the typical digits" in text


def test_not_a_digit_is_said_on_the_page(clf):
    square = np.zeros((28, 28), np.float32)
    square[4:24, 4:24] = 1
    square[8:20, 8:20] = 0
    _, activations = clf.forward_staged(square)
    assert clf.digitness is not None
    assert not clf.digitness.digit_like(clf.digitness.score(activations))
    text = flat(pdf_texts(handout_pdf(clf, square, title="Class 4B: a square", date=DATE)))
    assert "This does not look like a digit" in text and "do not trust the answer too much" in text
    assert "Class 4B: a square" in text


@pytest.mark.parametrize("blank", [None, np.zeros((28, 28), np.float32)])
def test_nothing_drawn(clf, blank):
    for render in (handout_png, handout_pdf):
        with pytest.raises(NothingDrawnError, match="nothing drawn"):
            render(clf, blank)
    assert issubclass(NothingDrawnError, ValueError)


def test_wrong_shape_is_a_plain_value_error(clf):
    with pytest.raises(ValueError, match="28, 28") as error:
        handout_png(clf, np.ones((32, 32), np.float32))
    assert not isinstance(error.value, NothingDrawnError)


def test_four_threads_render_the_same_bytes(clf, digits, png_a, pdf_a, png_b):
    """Many server threads at once: no shared pyplot or rcParams state, so each page equals its serial render."""
    jobs = [(handout_png, 0), (handout_pdf, 0), (handout_png, 1), (handout_pdf, 0)]
    with ThreadPoolExecutor(4) as pool:
        out = list(pool.map(lambda job: job[0](clf, digits[job[1]], date=DATE), jobs))
    assert out == [png_a, pdf_a, png_b, pdf_a]
