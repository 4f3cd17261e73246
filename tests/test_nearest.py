"""Nearest digits (demo/teaching/nearest.py, demo/views/tabs/nearest.py): the embeddings are the network's own last
hidden layer, queries are an exact cosine search, the cache is reused only for the same network and data, and the view.

The index comes from the run's build cache (tests/conftest.py: built once, about 25 s on 2 cores, and read back by
later runs while the weights and the data are unchanged); how it is built is checked on a slice of the training set,
and the tests that need a rebuild give it the already computed embeddings instead of computing them again.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import shutil
import threading
import time
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from demo.teaching import nearest as nearest_module
from demo.teaching.nearest import NearestDigits, NearestHandle, cache_info, cache_path
from demo.views.tabs.nearest import nearest_html


class Recomputed(Exception):
    """Raised by a patched compute_embeddings: the index was about to be built again."""


@pytest.fixture(scope="module")
def built(mnist_dir, clf, build_cache):
    return NearestDigits.load_or_build(mnist_dir, clf, build_cache), build_cache


@pytest.fixture(scope="module")
def index(built) -> NearestDigits:
    return built[0]


def private_cache(built, tmp_path) -> Path:
    """A cache folder of the test's own holding a copy of the built index, and the decompressed MNIST linked (no
    second decompression): what a test damages there leaves the run's cache alone."""
    index, cache = built
    own = tmp_path / "cache"
    own.mkdir()
    (own / "mnist").symlink_to(cache / "mnist", target_is_directory=True)
    shutil.copy(cache_path(cache, index.info), cache_path(own, index.info))
    return own


@pytest.fixture
def no_recompute(monkeypatch):
    def refuse(*args, **kwargs):
        raise Recomputed

    monkeypatch.setattr(nearest_module, "compute_embeddings", refuse)


def hidden_oracle(model: nn.Sequential, images: np.ndarray) -> np.ndarray:
    """The input of the final linear layer, running the model's stages one by one (independent of
    demo/teaching/nearest.py)."""
    x = torch.from_numpy(images.astype(np.float32) / 255)[:, None]
    children = list(model.children())
    last_linear = max(i for i, m in enumerate(children) if isinstance(m, nn.Linear))
    with torch.inference_mode():
        for stage in children[:last_linear]:
            x = stage(x)
    return x.numpy()


def test_embeddings_are_the_networks_last_hidden_layer(index, clf):
    picks = np.array([0, 1, 7, 12345, 33333, 59999])
    expected = hidden_oracle(clf.model, index.images[picks])
    assert index.layer == "relu4" and index.embeddings.shape == (60000, clf.model.fc2.in_features) == (60000, 128)
    assert index.embeddings.dtype == np.float16
    scale = float(np.abs(expected).max())
    np.testing.assert_allclose(index.embeddings[picks].astype(np.float32), expected, rtol=1e-3, atol=1e-3 * scale)
    for row, i in enumerate(picks):  # a query embeds the way the build did, in float32
        np.testing.assert_allclose(index.embed(index.images[i] / 255.0), expected[row], rtol=1e-5, atol=1e-5)
    # and these are the numbers the final layer reads: fc2 of them is the model's own logits
    with torch.inference_mode():
        logits = clf.model(torch.from_numpy(index.images[picks].astype(np.float32) / 255)[:, None]).numpy()
    np.testing.assert_allclose(clf.model.fc2(torch.from_numpy(expected)).detach().numpy(), logits, atol=1e-4)


def test_building_embeds_every_image_as_the_index_holds_it(index):
    """The build itself (the index may come from the cache), on a slice that spans several batches."""
    picks = slice(1000, 1000 + 3 * nearest_module.BATCH + 7)
    built_now = nearest_module.compute_embeddings(index.head, torch.from_numpy(index.images[picks]))
    assert built_now.dtype == np.float16 and built_now.shape == (3 * nearest_module.BATCH + 7, 128)
    scale = float(np.abs(index.embeddings[picks]).max())
    np.testing.assert_allclose(built_now.astype(np.float32), index.embeddings[picks].astype(np.float32),
                               rtol=2e-3, atol=2e-3 * scale)


def test_queries_are_sorted_and_equal_brute_force_cosine(index, mnist_test):
    images, _ = mnist_test
    table = index.embeddings.astype(np.float64)
    norms = np.linalg.norm(table, axis=1)
    for image in images[:25]:
        found = index.query(image / 255.0, k=8)
        q = index.embed(image / 255.0).astype(np.float64)
        cos = table @ q / (np.maximum(norms, 1e-12) * np.linalg.norm(q))
        best = np.sort(cos)[::-1][:8]
        sims = np.array([n.similarity for n in found])
        assert len(found) == 8 and np.all(np.diff(sims) <= 0)
        np.testing.assert_allclose(sims, best, atol=1e-5)  # the 8 largest cosines of all 60,000
        np.testing.assert_allclose(sims, cos[[n.index for n in found]], atol=1e-5)  # each one is its own cosine
        for n in found:
            assert n.label == index.labels[n.index]
            assert n.image.dtype == np.uint8 and n.image.shape == (28, 28)
            assert np.array_equal(n.image, index.images[n.index])
    # uint8 input reads as 0-255, k is honoured
    assert [n.index for n in index.query(images[0], k=3)] == [n.index for n in index.query(images[0] / 255.0)][:3]


def test_nearest_training_digits_are_mostly_the_same_digit(index, mnist_test):
    images, labels = mnist_test
    top1 = majority = 0
    embeddings = nearest_module.embed_batch(index.head, images[:200])  # one batch: the search is tested here
    for embedding, label in zip(embeddings, labels[:200], strict=True):
        found = index.neighbours_of(embedding, k=8)
        top1 += found[0].label == label
        votes = np.bincount([n.label for n in found], minlength=10)
        majority += int(votes.argmax()) == label
    assert majority >= 190 and top1 >= 190, (majority, top1)


def test_a_query_takes_a_few_milliseconds(index, mnist_test):
    images, _ = mnist_test
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as the server runs it
    try:
        times = []
        for image in images[:30]:
            start = time.perf_counter()
            index.query(image / 255.0)
            times.append(time.perf_counter() - start)
    finally:
        torch.set_num_threads(threads)
    assert np.median(times) < 0.05, times


def test_the_cache_is_reused(built, mnist_dir, clf, no_recompute):
    index, cache = built
    again = NearestDigits.load_or_build(mnist_dir, clf, cache)
    assert np.array_equal(again.embeddings, index.embeddings)
    assert again.info == index.info and again.info["weights_sha256"] == nearest_module.sha256_file(clf.path)


def test_a_cache_for_other_weights_or_data_is_not_used(built, mnist_dir, clf, no_recompute, tmp_path, monkeypatch):
    index, _ = built
    cache = private_cache(built, tmp_path)
    other = copy.copy(clf)  # the same network object under another weights file: only the file's hash differs
    other.path = tmp_path / "other.safetensors"
    other.path.write_bytes(clf.path.read_bytes() + b" ")
    with pytest.raises(Recomputed):
        NearestDigits.load_or_build(mnist_dir, other, cache)
    # even a file given the other network's name is refused: its metadata names the weights it was made from
    other_info = cache_info(other, json.loads(index.info["data_sha256"]), 60000)
    shutil.copy(cache_path(cache, index.info), cache_path(cache, other_info))
    with pytest.raises(Recomputed):
        NearestDigits.load_or_build(mnist_dir, other, cache)
    cache_path(cache, other_info).unlink()

    real_load = nearest_module.load_mnist

    def other_data(*args, **kwargs):
        mnist = real_load(*args, **kwargs)
        return dataclasses.replace(mnist, sha256={**mnist.sha256, "train-images-idx3-ubyte": "0" * 64})

    monkeypatch.setattr(nearest_module, "load_mnist", other_data)
    with pytest.raises(Recomputed):
        NearestDigits.load_or_build(mnist_dir, clf, cache)


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty", "wrong_shape", "wrong_width", "nan",
                                    "other_values"])
def test_a_damaged_cache_is_rebuilt(built, mnist_dir, clf, tmp_path, monkeypatch, damage):
    index, _ = built
    cache = private_cache(built, tmp_path)
    path = cache_path(cache, index.info)
    good = path.read_bytes()
    assert nearest_module._read_cache(path, index.info) is not None
    from safetensors.numpy import save

    bad = {"garbage": b"not a safetensors file" * 100, "truncated": good[:len(good) // 2], "empty": b"",
           "wrong_shape": save({"embeddings": index.embeddings[:100]}, metadata=index.info),
           "wrong_width": save({"embeddings": index.embeddings[:, :64].copy()}, metadata=index.info),
           "nan": save({"embeddings": np.full_like(index.embeddings, np.nan)}, metadata=index.info),
           "other_values": save({"embeddings": index.embeddings[::-1].copy()}, metadata=index.info)}[damage]
    path.write_bytes(bad)
    calls = []

    def recompute(head, images, batch=nearest_module.BATCH):  # the real build, already done once for the module
        calls.append(len(images))
        return index.embeddings

    monkeypatch.setattr(nearest_module, "compute_embeddings", recompute)
    rebuilt = NearestDigits.load_or_build(mnist_dir, clf, cache)
    assert calls == [60000] and np.array_equal(rebuilt.embeddings, index.embeddings)
    assert not list(cache.glob("*.tmp"))  # written whole, through a temporary file

    def refuse(*args, **kwargs):
        raise Recomputed

    monkeypatch.setattr(nearest_module, "compute_embeddings", refuse)  # the rewritten file is good: read, not rebuilt
    assert np.array_equal(NearestDigits.load_or_build(mnist_dir, clf, cache).embeddings, index.embeddings)


def test_an_unwritable_cache_costs_only_the_next_start(built, mnist_dir, clf, tmp_path, monkeypatch):
    index, _ = built
    cache = private_cache(built, tmp_path)
    cache_path(cache, index.info).unlink()
    monkeypatch.setattr(nearest_module, "compute_embeddings", lambda *args, **kwargs: index.embeddings)

    def refuse(src, dst):
        raise PermissionError(13, "read-only", str(dst))

    monkeypatch.setattr(nearest_module.os, "replace", refuse)
    rebuilt = NearestDigits.load_or_build(mnist_dir, clf, cache)
    assert rebuilt.path is None and rebuilt.query(index.images[5], 1)[0].index == 5
    assert not list(cache.glob("nearest-*"))  # no half-written file, no temporary left over


def test_handle_states(built, mnist_dir, clf, tmp_path, monkeypatch):
    off = NearestDigits.start_in_background(None, clf)
    assert off.state == "off" and off.index is None and "--data-dir" in off.message
    missing = NearestDigits.start_in_background(tmp_path / "no-such-folder", clf, tmp_path / "cache")
    assert missing.wait(60) and missing.state == "off" and "no-such-folder" in missing.message

    ready = NearestDigits.start_in_background(mnist_dir, clf, built[1])
    assert ready.wait(120) and ready.state == "ready" and isinstance(ready.index, NearestDigits)
    assert "60,000 training digits" in ready.message and str(built[1]) in ready.message
    assert ready.index.query(ready.index.images[0], 1)[0].index == 0  # a training digit is its own nearest

    release = threading.Event()

    def slow(*args, **kwargs):
        release.wait(30)
        raise RuntimeError("disk <full>")

    monkeypatch.setattr(NearestDigits, "load_or_build", classmethod(lambda cls, *a, **k: slow()))
    failing = NearestDigits.start_in_background(mnist_dir, clf, built[1])
    assert failing.state == "preparing" and not failing.wait(0.05)
    release.set()
    assert failing.wait(30) and failing.state == "error" and "disk <full>" in failing.message


class Elements(HTMLParser):
    """Every element's attributes, with the ids of the elements around it."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str | None] = []
        self.found: list[tuple[dict[str, str | None], list[str | None]]] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.found.append((attributes, list(self.stack)))
        if tag not in ("img", "br", "input", "link", "meta"):
            self.stack.append(attributes.get("id"))

    def handle_endtag(self, tag):
        if self.stack:
            self.stack.pop()


def parse(page: str) -> Elements:
    parser = Elements()
    parser.feed(page)
    return parser


def handle_with(state: str, message: str = "", index: NearestDigits | None = None) -> NearestHandle:
    handle = NearestHandle()
    handle._set(state, message, index)
    return handle


def test_view_shows_the_eight_nearest(index, mnist_test):
    images, labels = mnist_test
    page = nearest_html(handle_with("ready", "ready", index), images[0] / 255.0)
    elements = parse(page)
    root = elements.found[0][0]
    assert root["id"] == "nearest" and root["data-state"] == "ready"
    cells = [a for a, around in elements.found if "data-label" in a and "nearest" in around]
    assert len(cells) == 8
    expected = index.query(images[0] / 255.0, k=8)
    assert [int(a["data-index"]) for a in cells] == [n.index for n in expected]
    assert [int(a["data-label"]) for a in cells] == [n.label for n in expected]
    assert [a["data-similarity"] for a in cells] == [f"{n.similarity:.3f}" for n in expected]
    assert page.count('class="pixelated"') >= 9 and "data:image/png;base64," in page
    assert "60,000 labelled examples" in page and "128 numbers" in page and "cos " in page
    assert root["data-answer"] == str(labels[0])
    empty = nearest_html(handle_with("ready", "ready", index), None)
    assert parse(empty).found[0][0]["data-state"] == "empty"


def test_view_notices_escape_and_say_how_to_turn_it_on(clf):
    for page in (nearest_html(None, None), nearest_html(NearestDigits.start_in_background(None, clf), None)):
        root = parse(page).found[0][0]
        assert root["id"] == "nearest" and root["data-state"] == "off"
        assert "python -m demo --data-dir PATH/TO/MNIST" in page and "*-ubyte.gz" in page
    preparing = nearest_html(handle_with("preparing", "computing"), np.zeros((28, 28), np.float32))
    assert parse(preparing).found[0][0]["data-state"] == "preparing" and "once" in preparing
    error = nearest_html(handle_with("error", "failed: <script>alert(1)</script> & more"), None)
    assert parse(error).found[0][0]["data-state"] == "error"
    assert "<script>" not in error and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in error
    off = nearest_html(handle_with("off", 'MNIST was not found in /tmp/"<b>"'), None)
    assert "<b>" not in off and "&lt;b&gt;" in off
