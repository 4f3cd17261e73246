"""Where the shipped files live. No torch here, so a command line can name its defaults (``--help``) at once."""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
WEIGHTS_DIR = PROJECT_ROOT / "weights"
DEFAULT_WEIGHTS = WEIGHTS_DIR / "cnn.safetensors"
