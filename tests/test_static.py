"""The page's own JavaScript and CSS files (demo/page/static/): colours come from demo/views/theme.py, scripts parse."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from demo.page.assets import STATIC, asset
from demo.views import theme
from tests.harness import ROOT

CSS_FILES = sorted(STATIC.glob("*.css"))
JS_FILES = sorted(STATIC.glob("*.js")) + sorted((ROOT / "bench").glob("*.js")) + sorted((ROOT / "tests").glob("*.js"))
COLOUR_LITERAL = re.compile(r"#[0-9a-fA-F]{3,8}\b(?![-\w])|\b(?:rgb|rgba|hsl|hsla)\(")


def test_there_are_static_files_to_check():
    assert {p.name for p in CSS_FILES} >= {"app.css", "pad.css", "classroom.css"}
    assert {p.name for p in JS_FILES} >= {"pad.js", "classroom.js", "observer.js"}


@pytest.mark.parametrize("path", CSS_FILES, ids=lambda p: p.name)
def test_style_sheets_hold_no_colour_of_their_own(path):
    """Every colour is a var(--cs-*) that demo/views/theme.py defines, so it is changed in one place."""
    text = re.sub(r"/\*.*?\*/", "", path.read_text(), flags=re.S)
    # Selectors such as #freeze or #pad are ids, not colours: look only inside declarations.
    declarations = " ".join(re.findall(r"\{([^}]*)\}", text))
    assert not COLOUR_LITERAL.findall(declarations), COLOUR_LITERAL.findall(declarations)
    used = set(re.findall(r"var\(--cs-([\w-]+)\)", text))
    assert used <= set(theme.PAGE_COLOURS), used - set(theme.PAGE_COLOURS)


def test_every_page_colour_is_used_somewhere():
    used = set()
    for path in CSS_FILES:
        used |= set(re.findall(r"var\(--cs-([\w-]+)\)", path.read_text()))
    assert set(theme.PAGE_COLOURS) <= used, set(theme.PAGE_COLOURS) - used


def test_css_variables_define_every_page_colour():
    css = theme.css_variables()
    for name, value in theme.PAGE_COLOURS.items():
        assert f"--cs-{name}: {value};" in css


def test_assets_are_read_once():
    assert asset("pad.js") is asset("pad.js")


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
@pytest.mark.parametrize("path", JS_FILES, ids=lambda p: p.name)
def test_scripts_parse(path, tmp_path):
    # Gradio runs js_on_load as a function body with `element` and `props` in scope: check it parsed as one.
    wrapped = tmp_path / path.name
    wrapped.write_text(f"(function (element, props) {{\n{path.read_text()}\n}});\n")
    result = subprocess.run(["node", "--check", str(wrapped)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
