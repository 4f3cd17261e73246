"""Uploaded files: handed to the app without leftovers, and removed once read.

Gradio keeps every upload in its temp folder (``GRADIO_TEMP_DIR``, in a folder named after the file's SHA-256) for
as long as the server runs, and Gradio 6's ``gr.File(type="filepath")`` also leaves one empty temporary file behind
per call. On a busy classroom server both pile up with every request (bench/load.py counted 2 files per upload), so
:class:`UploadedFile` skips the empty file and :func:`discard_upload` deletes an upload as soon as it has been read.
Uploads that are never read (someone posting to ``/gradio_api/upload`` only) are caught by ``delete_cache`` in
:mod:`demo.page.ui`.

Gradio names an upload by its content's hash, so two uploads of the same file (the worksheet the whole class has, a
double click) get the same path. :func:`count_uploads` makes the app count uploads per path, and an upload is
deleted only when every upload of that path has been read: each identical upload is answered, and still nothing is
left behind.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import gradio as gr
from gradio import utils
from gradio.data_classes import FileData
from gradio_client import utils as client_utils

log = logging.getLogger("convscope")


class UploadedFile(gr.File):
    """``gr.File(type="filepath")`` that hands over the upload's path without creating an empty temporary file."""

    # The page draws it with Gradio's own File component: without this, Gradio treats the subclass as a custom
    # component, the browser asks for /gradio_api/custom_component/.../index.js (404) and the page never loads.
    is_template = True

    def _process_single_file(self, f: FileData) -> str:  # type: ignore[override]
        if self.type != "filepath":
            return super()._process_single_file(f)
        if self.file_types and not client_utils.is_valid_file(f.path, self.file_types):
            raise gr.Error(f"Invalid file type. Please upload a file that is one of these formats: {self.file_types}")
        return f.path


_counts: Counter[Path] = Counter()  # path -> uploads of it not yet read (every app in this process)
_copies: dict[Path, set[tuple[int, int]]] = {}  # path -> the copies counted uploads put there (see discard_upload)
_counts_lock = threading.Lock()


def _identity(file: Path) -> tuple[int, int] | None:
    """Which copy of an upload is at ``file`` (inode and modification time), or None when there is none."""
    try:
        status = file.stat()
    except OSError:
        return None
    return status.st_ino, status.st_mtime_ns


class CountedUploads(set):
    """Gradio's set of uploaded paths (``Blocks.upload_file_set``, updated after each upload), counting too.

    Gradio's upload route puts the file in place and then updates this set, in the event loop with nothing awaited
    in between, so the copy at the path when it is counted is the one that upload brought."""

    def update(self, *others: Iterable[str]) -> None:
        paths = [Path(path).resolve() for other in others for path in other]
        with _counts_lock:
            for path in paths:
                _counts[path] += 1
                copy = _identity(path)
                if copy is not None:
                    _copies.setdefault(path, set()).add(copy)
            if len(_counts) > 10_000:  # uploads nobody read and delete_cache removed: forget them
                for stale in [p for p in _counts if not p.exists()]:
                    del _counts[stale]
                    _copies.pop(stale, None)
        super().update(str(path) for path in paths)


def count_uploads(blocks: gr.Blocks) -> None:
    """Makes ``blocks`` count its uploads per path, so :func:`discard_upload` knows when the last reader is done."""
    counted = CountedUploads(blocks.upload_file_set)
    blocks.temp_file_sets = [counted if s is blocks.upload_file_set else s for s in blocks.temp_file_sets]
    blocks.upload_file_set = counted


def upload_folder() -> Path:
    """Where Gradio stores uploads (``GRADIO_TEMP_DIR``, else ``<tmp>/gradio``)."""
    return Path(utils.get_upload_folder()).resolve()


def _own_upload(path: str | os.PathLike | None) -> Path | None:
    """``path`` resolved, if it lies inside Gradio's upload folder; None otherwise (nothing else is ever deleted)."""
    if not path:
        return None
    file = Path(path).resolve()
    return file if upload_folder() in file.parents else None


def discard_upload(path: str | os.PathLike | None) -> bool:
    """Deletes an uploaded file once every upload of that path has been read; returns whether it did.

    Gradio puts an upload in place (a rename) a moment before it counts it, and a reader's thread may run in that
    moment: the copy at the path may belong to an identical upload that is not counted yet. So the last reader first
    renames the file aside, atomically, while the counts are locked (an upload's count, and so its answer to the
    uploader, waits for that): a copy that counted uploads brought is deleted; any other goes back (its content is
    the same, the name being its hash) for the reader of the upload that brought it.

    The file's folder (named after its content's hash) is left, empty, as Gradio's own clean-up leaves it: an
    identical upload may be creating it again at this very moment, and removing it then would fail that upload.
    """
    file = _own_upload(path)
    if file is None:
        return False
    with _counts_lock:
        if _counts[file] > 1:  # an identical upload is still to be read
            _counts[file] -= 1
            return False
        _counts.pop(file, None)
        counted = _copies.pop(file, set())
        aside = file.with_name(f".{file.name}.{secrets.token_hex(8)}.read")
        try:
            os.rename(file, aside)
        except FileNotFoundError:  # removed meanwhile (delete_cache, or by hand)
            return False
        try:
            # A path never counted is a file Gradio cached by itself (an image sent as a URL or data): deleted.
            if counted and _identity(aside) not in counted:  # an upload not counted yet brought it: it stays
                os.rename(aside, file)
                return False
            aside.unlink()
        except OSError as error:
            log.warning("could not delete the upload %s: %s", file, error)
            return False
    return True
