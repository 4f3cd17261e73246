"""Reports measured on one network (weights/*.json written by tools/): read only when they name the weights in use.

Each report records the SHA-256 of the weights file it was measured on (``classifier_sha256``); a text quotes its
figures only for that network, so other weights never borrow them.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import Any


@functools.cache
def weights_sha256(weights: str) -> str:
    """The SHA-256 of a weights file (read once per process)."""
    return hashlib.sha256(Path(weights).read_bytes()).hexdigest()


@functools.cache
def measured_report(report: str, weights: str) -> dict[str, Any] | None:
    """The JSON report at ``report`` when it was measured on the network in ``weights``; None otherwise (missing,
    unreadable, or measured on other weights)."""
    try:
        data = json.loads(Path(report).read_text())
        if data.get("classifier_sha256") != weights_sha256(weights):
            return None
    except (OSError, ValueError):
        return None
    return data
