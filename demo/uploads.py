"""Uploaded files: handed to the app without leftovers, and removed once read.

Gradio keeps every upload in its temp folder (``GRADIO_TEMP_DIR``, in a folder named after the file's SHA-256) for
as long as the server runs, and Gradio 6's ``gr.File(type="filepath")`` also leaves one empty temporary file behind
per call. On a busy classroom server both pile up with every request (bench/load.py counted 2 files per upload), so
:class:`UploadedFile` skips the empty file and :func:`discard_upload` deletes an upload as soon as it has been read.
Uploads that are never read (someone posting to ``/gradio_api/upload`` only) are caught by ``delete_cache`` in
:mod:`demo.ui`.
"""

from __future__ import annotations

import logging
import os
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


def upload_folder() -> Path:
    """Where Gradio stores uploads (``GRADIO_TEMP_DIR``, else ``<tmp>/gradio``)."""
    return Path(utils.get_upload_folder()).resolve()


def discard_upload(path: str | os.PathLike | None) -> bool:
    """Deletes an uploaded file (and its now-empty hash folder); returns whether it did.

    Only files inside Gradio's upload folder are touched, so a path given by a caller can never delete anything else.
    """
    if not path:
        return False
    file = Path(path).resolve()
    root = upload_folder()
    if root not in file.parents or not file.is_file():
        return False
    try:
        file.unlink()
    except FileNotFoundError:  # a simultaneous identical upload shares the path and was discarded first
        return False
    except OSError as error:
        log.warning("could not delete the upload %s: %s", file, error)
        return False
    if file.parent != root:
        try:
            file.parent.rmdir()  # the per-hash folder, when nothing else is in it
        except OSError:
            pass
    return True
