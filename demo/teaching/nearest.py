"""Nearest digits: the MNIST training digits closest to a drawing as the network sees it.

"As the network sees it" is the last hidden layer: the output of the activation just before the final linear
layer (``relu4`` of the shipped CNN, 128 values), the numbers the final layer reads to pick a digit. Drawings are
compared with the training digits by cosine similarity of those vectors, so what counts is which hidden units fire
together, not how strongly the pen pressed.

The 60,000 training embeddings take 15-20 s with one torch thread on 2 CPU cores (longer while the app serves
requests), so they are computed once and cached (float16, 15 MB) in ``$CONVSCOPE_CACHE`` or ``~/.cache/convscope``,
in a file named after the SHA-256 of the weights file and of the MNIST files: another network or other data never
reuses a stale cache. A query is one small forward pass and one (60000×128)·(128) product, a few milliseconds.

    index = NearestDigits.load_or_build("../shared/data/mnist", clf)
    for n in index.query(input28, k=8): n.index, n.label, n.similarity, n.image
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from demo.core.classifier import Classifier
from demo.core.data import DEFAULT_CACHE, MnistNotFoundError, load_mnist, sha256_file
from demo.core.model import ACTIVATION, FULLY_CONNECTED, stage_kind
from demo.texts import localised, plain

log = logging.getLogger("convscope")

FORMAT = "convscope-nearest-1"  # bumped when the file's layout or the embedding's definition changes
# Images per forward pass while building: small steps, so a live server's requests interleave, and small enough
# for a batch's feature maps to stay in the CPU's caches (128 builds the index about 2.5 times as fast as 1,000).
BATCH = 128
SPOT_CHECKS = 16  # cached embeddings recomputed on load, so a cache that lies about its network is caught


@dataclass(frozen=True)
class Neighbour:
    index: int  # position in the MNIST training set
    label: int
    similarity: float  # cosine similarity of the last hidden layers, in [-1, 1] (in [0, 1] after a ReLU)
    image: np.ndarray  # uint8 (28, 28), as MNIST stores it (white ink on black)


@dataclass(frozen=True)
class Look:
    """One drawing through the index: its embedding, the network's answer and its nearest training digits."""

    embedding: np.ndarray  # float32 (hidden,)
    label: int  # the network's own answer for the drawing
    neighbours: list[Neighbour]


def cache_root(cache_dir: str | os.PathLike | None = None) -> Path:
    """``cache_dir``, else ``$CONVSCOPE_CACHE``, else demo/core/data.py's DEFAULT_CACHE."""
    chosen = cache_dir or os.environ.get("CONVSCOPE_CACHE") or DEFAULT_CACHE
    return Path(chosen).expanduser()


def embedding_stage(model: nn.Sequential) -> int:
    """Position of the last hidden layer: the last activation stage before the final linear layer."""
    kinds = [stage_kind(m) for m in model.children()]
    last_fc = max((i for i, k in enumerate(kinds) if k == FULLY_CONNECTED), default=-1)
    hidden = [i for i, k in enumerate(kinds[:last_fc]) if k == ACTIVATION]
    if last_fc < 0 or not hidden:
        raise ValueError("the network has no hidden layer before its final linear layer")
    return hidden[-1]


def _as_float(images: np.ndarray | torch.Tensor) -> torch.Tensor:
    """uint8 (0-255) or float ([0, 1]) images, (28, 28) or (N, 28, 28) -> float32 (N, 1, 28, 28)."""
    x = torch.as_tensor(np.asarray(images))
    x = x.float() / 255 if x.dtype == torch.uint8 else x.float()
    if x.ndim == 2:
        x = x[None]
    if x.ndim != 3 or tuple(x.shape[1:]) != (28, 28):
        raise ValueError(f"expected images of shape (28, 28) or (N, 28, 28), got {tuple(x.shape)}")
    return x[:, None]


@torch.inference_mode()
def embed_batch(head: nn.Sequential, images: np.ndarray | torch.Tensor) -> np.ndarray:
    """The last hidden layer (float32 (N, hidden)) of a few images, through the network's stages up to it."""
    out = head(_as_float(images))
    return out.reshape(out.shape[0], -1).numpy()


def compute_embeddings(head: nn.Sequential, images: torch.Tensor, batch: int = BATCH) -> np.ndarray:
    """All images' embeddings as float16, in batches of ``batch``. Uses torch's thread count as the app set it
    (a process-wide setting, changing it here would slow the live server's own requests); the short sleep between
    batches lets the server's threads take the interpreter."""
    parts = []
    for start in range(0, len(images), batch):
        parts.append(embed_batch(head, images[start:start + batch]).astype(np.float16))
        time.sleep(0.001)
    return np.concatenate(parts) if parts else np.zeros((0, 0), np.float16)


def _normalised(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1 (float32); all-zero rows stay zero, so their similarity is 0, never NaN."""
    v = np.asarray(vectors, np.float32)
    norms = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.maximum(norms, 1e-12)


class NearestDigits:
    """The training digits' embeddings (normalised, in memory) plus their images and labels, for queries."""

    def __init__(self, clf: Classifier, embeddings: np.ndarray, images: np.ndarray, labels: np.ndarray,
                 info: dict[str, str]) -> None:
        self.clf = clf
        self.stage = embedding_stage(clf.model)
        self.head = clf.model[:self.stage + 1]  # stages up to the last hidden layer: shares the modules
        self.tail = clf.model[self.stage + 1:]  # the rest: from the hidden layer to the logits
        self.embeddings = embeddings  # float16 (N, hidden), as cached
        self.unit = _normalised(embeddings)  # float32 rows of length 1: a product is a cosine
        self._unit = torch.from_numpy(self.unit)  # the same memory, for torch.mv
        self.images = images  # uint8 (N, 28, 28), for the thumbnails
        self.labels = labels  # int64 (N,)
        self.info = info  # the cache metadata: weights and data hashes, layer, format
        self.path: Path | None = None  # the cache file, once written or read

    @property
    def layer(self) -> str:
        return list(self.clf.model._modules)[self.stage]

    @classmethod
    def load_or_build(cls, data_dir: str | os.PathLike, clf: Classifier, cache_dir: str | os.PathLike | None = None,
                      *, download: bool = False) -> NearestDigits:
        """Loads MNIST (``MnistNotFoundError`` if absent) and the cached embeddings for exactly this network and
        data, computing and caching them first when missing, stale or unreadable."""
        root = cache_root(cache_dir)
        mnist = load_mnist(data_dir, root, download=download)
        images, labels = mnist.train_images.numpy(), mnist.train_labels.numpy()
        info = cache_info(clf, mnist.sha256, len(images))
        path = cache_path(root, info)
        embeddings = _read_cache(path, info)
        if embeddings is not None:
            index = cls(clf, embeddings, images, labels, info)
            if index._spot_check():
                index.path = path
                return index
            log.warning("nearest digits: %s does not match the network; computing it again", path)
        start = time.perf_counter()
        embeddings = compute_embeddings(clf.model[:embedding_stage(clf.model) + 1], mnist.train_images)
        log.info("nearest digits: %d embeddings in %.1f s", len(embeddings), time.perf_counter() - start)
        index = cls(clf, embeddings, images, labels, info)
        if _write_cache(path, embeddings, info):
            index.path = path
        return index

    @classmethod
    def start_in_background(cls, data_dir: str | os.PathLike | None, clf: Classifier,
                            cache_dir: str | os.PathLike | None = None) -> NearestHandle:
        """A handle that becomes ready once a daemon thread has loaded (or built) the index; never raises."""
        handle = NearestHandle()
        if not data_dir:
            handle._set("off", plain("teaching.nearest.no_data_dir"))
            return handle

        def run() -> None:
            try:
                index = cls.load_or_build(data_dir, clf, cache_dir)
                place = index.path or plain("teaching.nearest.memory_only")
                ready = plain("teaching.nearest.ready", count=localised(f"{len(index.labels):,}"), place=place)
                handle._set("ready", ready, index)
            except MnistNotFoundError as error:
                handle._set("off", str(error))
            except Exception as error:  # a failed index costs this one view, never the server
                log.exception("nearest digits could not be prepared")
                handle._set("error", plain("teaching.nearest.failed", error_type=type(error).__name__, error=error))

        handle._set("preparing", plain("teaching.nearest.preparing"))
        threading.Thread(target=run, name="convscope-nearest", daemon=True).start()
        return handle

    def _spot_check(self) -> bool:
        """A few cached rows recomputed: a cache renamed or edited by hand still cannot show wrong neighbours."""
        picks = np.linspace(0, len(self.images) - 1, SPOT_CHECKS).round().astype(int)
        fresh = embed_batch(self.head, self.images[picks])
        if fresh.shape[1] != self.embeddings.shape[1]:
            return False
        return bool(np.allclose(fresh, self.embeddings[picks].astype(np.float32), rtol=2e-3,
                                atol=2e-3 * max(float(np.abs(fresh).max()), 1.0)))

    def embed(self, input28: np.ndarray) -> np.ndarray:
        """The drawing's last hidden layer, float32 (hidden,); input28 is (28, 28) in [0, 1] (or uint8 0-255)."""
        return embed_batch(self.head, input28)[0]

    @torch.inference_mode()
    def neighbours_of(self, embedding: np.ndarray, k: int = 8) -> list[Neighbour]:
        """The ``k`` training digits of largest cosine similarity to ``embedding``, most similar first; empty when
        the embedding is all zeros (no direction to compare).

        The product runs in torch, on the threads the app gave torch (one per request in the server): numpy's BLAS
        would start its own threads, which only fight with the other requests' on a small machine."""
        query = torch.as_tensor(np.asarray(embedding, np.float32).ravel())
        norm = float(torch.linalg.vector_norm(query))
        k = max(0, min(int(k), len(self.labels)))
        if norm < 1e-12 or k == 0:
            return []
        sims, top = torch.topk(torch.mv(self._unit, query / norm), k)
        sims, top = sims.numpy(), top.numpy()
        order = np.lexsort((top, -sims))  # by similarity, ties by index: the same order every time
        return [Neighbour(int(top[j]), int(self.labels[top[j]]), float(sims[j]), self.images[top[j]]) for j in order]

    def query(self, input28: np.ndarray, k: int = 8) -> list[Neighbour]:
        """The ``k`` training digits nearest to the drawing as the network sees it, most similar first."""
        return self.neighbours_of(self.embed(input28), k)

    @torch.inference_mode()
    def look(self, input28: np.ndarray, k: int = 8) -> Look:
        """Embedding, the network's answer (from that same embedding) and the nearest ``k`` in one forward pass."""
        embedding = self.embed(input28)
        logits = self.tail(torch.from_numpy(embedding)[None])
        return Look(embedding, int(logits.argmax()), self.neighbours_of(embedding, k))


class NearestHandle:
    """What the app holds while the index is prepared in the background: state, a sentence, then the index.

    ``state`` is "off" (no MNIST), "preparing", "ready" or "error"; ``index`` is set when "ready"."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._done = threading.Event()
        self.state = "off"
        self.message = ""
        self.index: NearestDigits | None = None

    def _set(self, state: str, message: str, index: NearestDigits | None = None) -> None:
        with self._lock:  # the index before the state, so "ready" is never seen without it
            self.index = index
            self.state = state
            self.message = message
        if state != "preparing":
            self._done.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Blocks until the handle is no longer preparing (or ``timeout`` seconds); True when it is settled."""
        return self._done.wait(timeout)


def cache_info(clf: Classifier, data_sha256: dict[str, str], count: int) -> dict[str, str]:
    """What a cache file must have been made from (stored in its metadata, checked on every load)."""
    return {"format": FORMAT, "weights_sha256": sha256_file(Path(clf.path)),
            "data_sha256": json.dumps(data_sha256, sort_keys=True),
            "layer": list(clf.model._modules)[embedding_stage(clf.model)], "count": str(count)}


def cache_path(root: Path, info: dict[str, str]) -> Path:
    """The cache file for ``info``: named by both hashes, so another network or data set gets a file of its own."""
    data_key = hashlib.sha256(info["data_sha256"].encode()).hexdigest()
    return root / f"nearest-{info['weights_sha256'][:16]}-{data_key[:16]}.safetensors"


def _read_cache(path: Path, info: dict[str, str]) -> np.ndarray | None:
    """The cached float16 embeddings when the file is readable and made for exactly ``info``; None otherwise."""
    if not path.is_file():
        return None
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), framework="numpy") as f:
            stored = f.metadata() or {}
            embeddings = f.get_tensor("embeddings")
    except (SafetensorError, OSError, ValueError, KeyError) as error:  # damaged, truncated, or not ours
        log.warning("nearest digits: cache %s is unreadable (%s); computing it again", path, error)
        return None
    if any(stored.get(key) != value for key, value in info.items()):
        log.warning("nearest digits: cache %s was made for another network or data; computing it again", path)
        return None
    if (embeddings.dtype != np.float16 or embeddings.ndim != 2 or len(embeddings) != int(info["count"])
            or not np.isfinite(embeddings).all()):
        log.warning("nearest digits: cache %s holds unusable embeddings; computing it again", path)
        return None
    return embeddings


def _write_cache(path: Path, embeddings: np.ndarray, info: dict[str, str]) -> bool:
    """Writes the cache atomically (a whole file or none); a read-only cache folder only costs the next start."""
    from safetensors.numpy import save

    tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(save({"embeddings": np.ascontiguousarray(embeddings, np.float16)}, metadata=info))
        os.replace(tmp, path)
        return True
    except OSError as error:
        log.warning("nearest digits: could not write the cache %s (%s); it will be computed again", path, error)
        tmp.unlink(missing_ok=True)
        return False
