"""Uploads deleted once read (demo/page/uploads.py), with identical uploads sharing one path.

Each test plays Gradio's upload route step by step (the file renamed into ``<folder>/<hash>/<name>``, then counted
through the app's set of uploads) and the readers' deletions in the orders a busy server can produce, so the race
that lost 1 upload in 1,000 under bench/load.py is reproduced exactly rather than hoped for.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from demo.page.uploads import CountedUploads, discard_upload

CONTENT = b"the same worksheet, uploaded by the whole class"


@pytest.fixture
def folder(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "uploads"))
    (tmp_path / "uploads" / "hash").mkdir(parents=True)
    return tmp_path / "uploads"


def put_in_place(folder: Path, name: str = "worksheet.png") -> Path:
    """What the upload route does first: the received file renamed onto the shared path (a new copy each time)."""
    received = folder / f"received-{os.urandom(4).hex()}"
    received.write_bytes(CONTENT)
    path = folder / "hash" / name
    os.rename(received, path)
    return path


def files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


def test_a_copy_put_in_place_before_it_is_counted_survives_the_last_reader_of_the_others(folder):
    counted = CountedUploads()
    path = put_in_place(folder)
    counted.update([str(path)])  # pupil A's upload, answered
    # A's request reads the file. Meanwhile pupil B's identical upload renames its copy onto the path; the route has
    # not counted it yet when A's reader finishes:
    put_in_place(folder)
    assert discard_upload(path) is False
    assert path.read_bytes() == CONTENT  # B's copy is still there for B
    counted.update([str(path)])  # B's upload is counted and answered; B's request reads it
    assert discard_upload(path) is True
    assert files(folder) == []


def test_the_last_reader_deletes_whichever_counted_copy_is_there(folder):
    counted = CountedUploads()
    path = put_in_place(folder)
    counted.update([str(path)])  # A
    counted_b = put_in_place(folder)
    counted.update([str(counted_b)])  # B: its copy replaced A's, same content
    assert discard_upload(path) is False  # B's reader finishes first: A's is still to come
    assert discard_upload(path) is True  # A's reader: the copy there is B's, counted, so nobody needs it
    assert files(folder) == []


def test_a_reader_whose_file_is_gone_still_uses_up_its_count(folder):
    counted = CountedUploads()
    path = put_in_place(folder)
    counted.update([str(path)])
    path.unlink()  # removed by hand, or by Gradio's clean-up of old files
    assert discard_upload(path) is False
    path = put_in_place(folder)  # the same file uploaded again later
    counted.update([str(path)])
    assert discard_upload(path) is True  # its one reader deletes it: no count was left over to keep it forever
    assert files(folder) == []


def test_files_gradio_cached_by_itself_are_deleted_and_nothing_outside_the_folder_is_touched(folder, tmp_path):
    cached = folder / "hash" / "sent-as-data.png"
    cached.write_bytes(CONTENT)
    assert discard_upload(cached) is True and not cached.exists()
    outside = tmp_path / "mine.png"
    outside.write_bytes(CONTENT)
    assert discard_upload(outside) is False and outside.exists()
    assert discard_upload(folder / ".." / "mine.png") is False and outside.exists()
    assert discard_upload(None) is False and discard_upload("") is False
