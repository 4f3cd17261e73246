"""Reading image files: every failure is an InvalidImageError with a message for people, in bounded time."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from demo.core.image_file import open_image
from demo.core.preprocess import InvalidImageError


def _png(size: tuple[int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("L", size, 255).save(buffer, format="PNG")
    return buffer.getvalue()


def _bomb_png(width: int, height: int) -> bytes:
    """A tiny file that claims ``width``×``height`` pixels (all zeros compress to almost nothing)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = zlib.compress(b"\x00" * 1000)  # far fewer bytes than the header promises: never decoded anyway
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def test_reads_a_good_file(tmp_path):
    path = tmp_path / "ok.png"
    path.write_bytes(_png((40, 30)))
    assert open_image(path).size == (40, 30)
    assert open_image(path.read_bytes()).size == (40, 30)


@pytest.mark.parametrize("data, words", [
    (b"hello, this is text", "not an image file"),
    (b"", "not an image file"),
    (_png((50, 50))[:60], "truncated or corrupt"),
    (_bomb_png(20_000, 20_000), "too large"),
    (_bomb_png(8_000, 8_000), "too large"),
])
def test_bad_files(tmp_path, data, words):
    path = tmp_path / "upload.png"
    path.write_bytes(data)
    with pytest.raises(InvalidImageError) as error:
        open_image(path, name="upload.png")
    assert words in str(error.value) and "upload.png" in str(error.value) and "::" not in str(error.value)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(InvalidImageError, match="there is no file .*nope.png"):
        open_image(tmp_path / "nope.png")
    with pytest.raises(InvalidImageError, match="folder"):
        open_image(tmp_path)


def test_one_by_one_image_is_empty_not_an_error(tmp_path):
    from demo.core.preprocess import preprocess

    path = tmp_path / "dot.png"
    Image.fromarray(np.zeros((1, 1), np.uint8)).save(path)
    assert preprocess(open_image(path)).empty
