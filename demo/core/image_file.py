"""Reading image files safely: every failure becomes an ``InvalidImageError`` with a message for people."""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from .preprocess import MAX_INPUT_SIDE, InvalidImageError

# Decoding is refused above this many pixels (a 10,000×10,000 picture is 100 MP): it bounds memory per request and
# stops decompression bombs before they are decoded. Phone photos (12-48 MP) still pass.
MAX_PIXELS = 50_000_000


def open_image(source: str | os.PathLike | bytes, name: str | None = None) -> Image.Image:
    """Opens and fully decodes an image file (path or bytes); raises ``InvalidImageError`` naming the problem.

    ``name`` is how messages call the file (default: its path; a file's bytes get no name in front of the message).
    """
    label = name or ("" if isinstance(source, bytes) else str(source))
    name = f"{label}: " if label else ""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # we enforce MAX_PIXELS ourselves
            image = Image.open(io.BytesIO(source) if isinstance(source, bytes) else Path(source))
    except FileNotFoundError as error:
        raise InvalidImageError(f"{name}no such file") from error
    except IsADirectoryError as error:
        raise InvalidImageError(f"{name}is a folder, not an image file") from error
    except UnidentifiedImageError as error:
        raise InvalidImageError(f"{name}not an image file (or a format this app cannot read)") from error
    except Image.DecompressionBombError as error:
        raise InvalidImageError(f"{name}image is far too large to decode safely") from error
    except OSError as error:
        raise InvalidImageError(f"{name}cannot be read ({error})") from error
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise InvalidImageError(f"{name}image is too large ({width}×{height} pixels); the limit is "
                                f"{MAX_PIXELS // 1_000_000} megapixels")
    if width == 0 or height == 0:
        raise InvalidImageError(f"{name}image has no pixels")
    if image.format == "JPEG" and max(width, height) > MAX_INPUT_SIDE:
        image.draft("RGB", (MAX_INPUT_SIDE, MAX_INPUT_SIDE))  # decode JPEGs at reduced size: faster, less memory
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # we enforce MAX_PIXELS ourselves
            image.load()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise InvalidImageError(f"{name}image data is truncated or corrupt ({error})") from error
    return image
