"""The house's rules, checked on every run: the layers of demo/ (import-linter's contract in pyproject.toml), the
linter with its complexity limit, only the entry points at demo/'s root, only ``demo`` installed."""

from __future__ import annotations

import importlib.metadata
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENTRY_POINTS = {"__init__.py", "__main__.py", "app.py", "predict.py", "evaluate.py"}
LAYERS = {"texts", "core", "teaching", "views", "server", "page"}


def tool(name: str) -> str:
    """A command installed beside this Python (the project's virtual environment)."""
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    assert found, f"{name} is not installed: pip install -e '.[dev]'"
    return found


def test_each_layer_imports_only_the_layers_below_it_and_gradio_stays_in_the_page():
    result = subprocess.run([tool("lint-imports"), "--no-cache"], cwd=ROOT, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "3 kept, 0 broken" in result.stdout  # the layers; Gradio only in the page; no web server below it


def test_ruff_passes_with_the_complexity_limit():
    result = subprocess.run([tool("ruff"), "check", "--no-cache", "--output-format", "concise", "."], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "max-complexity = 12" in (ROOT / "pyproject.toml").read_text()


def test_demo_root_holds_only_the_entry_points_and_the_layers():
    demo = ROOT / "demo"
    modules = {p.name for p in demo.glob("*.py")}
    packages = {p.name for p in demo.iterdir() if (p / "__init__.py").is_file()}
    assert modules == ENTRY_POINTS and len(modules) <= 8, modules
    assert packages == LAYERS, packages


def test_only_the_app_package_is_installed():
    top_level = importlib.metadata.distribution("convscope").read_text("top_level.txt") or ""
    assert top_level.split() == ["demo"]
