"""Reading image files safely: every failure becomes an ``InvalidImageError`` with a message for people."""

from __future__ import annotations

import io
import logging
import os
import warnings
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from demo.texts import plain

from .preprocess import MAX_INPUT_SIDE, InvalidImageError

# Decoding is refused above this many pixels (a 10,000×10,000 picture is 100 MP): it bounds memory per request and
# stops decompression bombs before they are decoded. Phone photos (12-48 MP) still pass.
MAX_PIXELS = 50_000_000
log = logging.getLogger(__name__)


def open_image(source: str | os.PathLike | bytes, name: str | None = None) -> Image.Image:
    """Opens and fully decodes an image file (path or bytes); raises ``InvalidImageError`` naming the problem.

    ``name`` is how messages call the file (default: its path; a file's bytes are "the file"). What the decoder
    itself said is logged, not shown: it is technical, and in English only.
    """
    label = name or ("" if isinstance(source, bytes) else str(source))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # we enforce MAX_PIXELS ourselves
            image = Image.open(io.BytesIO(source) if isinstance(source, bytes) else Path(source))
    except FileNotFoundError as error:
        raise _refused("core.image_file.no_such_file", label) from error
    except IsADirectoryError as error:
        raise _refused("core.image_file.folder", label) from error
    except UnidentifiedImageError as error:
        raise _refused("core.image_file.not_an_image", label) from error
    except Image.DecompressionBombError as error:
        raise _refused("core.image_file.decompression_bomb", label) from error
    except OSError as error:
        log.info("%s cannot be read: %s", label or "an image", error)
        raise _refused("core.image_file.unreadable", label) from error
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise _refused("core.image_file.too_large", label, width=width, height=height,
                       megapixels=MAX_PIXELS // 1_000_000)
    if width == 0 or height == 0:
        raise _refused("core.image_file.no_pixels", label)
    if image.format == "JPEG" and max(width, height) > MAX_INPUT_SIDE:
        image.draft("RGB", (MAX_INPUT_SIDE, MAX_INPUT_SIDE))  # decode JPEGs at reduced size: faster, less memory
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # we enforce MAX_PIXELS ourselves
            image.load()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        log.info("%s is truncated or corrupt: %s", label or "an image", error)
        raise _refused("core.image_file.corrupt", label) from error
    return image


def _refused(key: str, label: str, **values: object) -> InvalidImageError:
    """The error for file ``label`` (empty: a file's bytes with no name), its message the catalogue's text."""
    return InvalidImageError(plain(key, file=label or plain("core.image_file.this_file"), **values))
