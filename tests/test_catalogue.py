"""The text catalogue (demo/texts): every sentence a learner reads is in it, every entry is used, the entries
hold only the inline tags the catalogue allows, and filling a text is strict and escapes what it fills in."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from markupsafe import Markup

from demo import texts
from demo.texts import catalogue

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "demo"
KEY = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")
FILE_NAME = re.compile(r"\.(pdf|png|css|js|html|json|toml|py|md)$")  # "worksheet.pdf" is a file, not a key
ALLOWED_TAGS = {"b", "i", "em", "sub", "sup", "br"}
# Three words in a row, outside tags: a sentence (or a phrase) for people, not a CSS class or an attribute.
WORDS = re.compile(r"[A-Za-z][a-z’']+[ ,:;]+[a-z’']+[ ,]+[a-z’']+")
TAGS = re.compile(r"<[^>]*>")
# Strings that are for developers and operators, never shown to a learner: log lines, command-line help, errors
# raised for programmers, warnings.
DEVELOPER_CALLS = {"print", "add_argument", "ArgumentParser", "warn", "info", "warning", "error", "exception",
                   "debug", "critical", "ValueError", "TypeError", "RuntimeError", "KeyError", "AssertionError",
                   "WeightsError", "SystemExit", "NotImplementedError", "AttributeError", "OSError", "getLogger",
                   "add_argument_group", "add_mutually_exclusive_group",
                   # a missing or broken shipped file stops the app at start-up: said to whoever runs it
                   "MnistNotFoundError", "DigitnessError", "AtlasError",
                   # a class room's network that cannot be read is logged, and the shipped network reads instead
                   "RoomNetworkError"}
# The same kind of strings held in a variable first: the command that rebuilds a shipped file, a method's name stored
# in a file's metadata, SQL. The command lines (demo/__main__.py, evaluate.py, predict.py) speak to whoever runs them.
FOR_OPERATORS = {("demo/core/checkpoint.py", "Rebuild it with: "), ("demo/core/digitness.py", "Rebuild it with: "),
                 ("demo/teaching/atlas.py", "Rebuild it with: "),
                 ("demo/core/digitness.py", "sum of standardised Mahalanobis distances"),
                 ("demo/server/room.py", "CREATE TABLE"), ("demo/server/room.py", "INSERT INTO"),
                 ("demo/server/rooms.py", "CREATE TABLE"), ("demo/server/rooms.py", "INSERT INTO"),
                 ("demo/server/rooms.py", "SELECT "), ("demo/server/learn_job.py", "SELECT "),
                 ("demo/server/room_learning.py", "INSERT OR")}
COMMAND_LINES = {"demo/__main__.py", "demo/evaluate.py", "demo/predict.py"}
SCRIPT_STRING = re.compile(r"""(['"`])((?:\\.|(?!\1).)*)\1""")
SCRIPT_COMMENT = re.compile(r"^\s*(//|/\*|\*)")


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def _call_name(node: ast.Call) -> str:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def _developer_strings(tree: ast.AST) -> set[int]:
    """Strings inside calls for developers (logging, argparse, exceptions for programmers) and in comparisons."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _call_name(node) in DEVELOPER_CALLS:
            found |= {id(n) for n in ast.walk(node) if isinstance(n, ast.Constant)}
    return found


def python_strings(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _docstrings(tree) | _developer_strings(tree)
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip]


def script_strings(path: Path) -> list[tuple[int, str]]:
    found = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not SCRIPT_COMMENT.match(line):
            found += [(number, match.group(2)) for match in SCRIPT_STRING.finditer(line.split(" // ")[0])]
    return found


def html_texts(path: Path) -> list[tuple[int, str]]:
    found = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        found += [(number, text) for text in re.split(r"<[^>]*>", line)]
        found += [(number, value) for value in re.findall(r'(?:title|alt|aria-label|placeholder)="([^"]*)"', line)]
    return found


def sentences_outside_the_catalogue() -> dict[str, list[str]]:
    """Per file, the learner-looking texts written in code instead of the catalogue."""
    found: dict[str, list[str]] = {}
    for path in sorted(DEMO.rglob("*")):
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith("demo/texts/") or relative in COMMAND_LINES:
            continue
        reader = {".py": python_strings, ".js": script_strings, ".html": html_texts}.get(path.suffix)
        if reader is None:
            continue
        hits = [f"{relative}:{line}: {text.strip()[:90]}" for line, text in reader(path)
                if WORDS.search(TAGS.sub(" ", text)) and not KEY.match(text)
                and not any(relative == file and text.strip().startswith(start.strip())
                            for file, start in FOR_OPERATORS)]
        if hits:
            found[relative] = hits
    return found


def test_every_sentence_a_learner_reads_is_in_the_catalogue():
    found = sentences_outside_the_catalogue()
    assert not found, "\n".join(hit for hits in found.values() for hit in hits)


def _code_strings() -> set[str]:
    """Every string literal of demo/, and of the tools that print learners' pages (the worksheet)."""
    strings: set[str] = set()
    for path in [*DEMO.rglob("*"), *(ROOT / "tools").glob("*.py")]:
        if path.suffix == ".py" and ("texts" not in path.parts or path.name != "__init__.py"):
            strings |= {value for _, value in python_strings(path)}
            tree = ast.parse(path.read_text(encoding="utf-8"))
            strings |= {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
        elif path.suffix == ".js":
            strings |= {value for _, value in script_strings(path)}
    return strings


def test_every_key_in_the_catalogue_is_used_and_every_key_used_exists():
    keys = texts.keys()
    used = _code_strings()
    script_keys = {f"js.{path.stem}.{value}" for path in (DEMO / "page" / "static").glob("*.js")
                   for _, value in script_strings(path)}
    unused = sorted(key for key in keys if key not in used and key not in script_keys)
    assert not unused, unused
    sections = {key.rsplit(".", n)[0] for key in keys for n in range(1, key.count(".") + 1)}
    named = {value for value in used if KEY.match(value) and value.split(".")[0] in {k.split(".")[0] for k in keys}
             and not FILE_NAME.search(value)}
    assert named <= keys | sections, sorted(named - keys - sections)


def test_entries_hold_only_the_allowed_inline_tags_and_no_attributes():
    for key, template in texts.entries().items():
        assert KEY.match(key), key
        for tag in TAGS.findall(template):
            name = tag.strip("</>").split()[0].lower() if tag.strip("</>").split() else ""
            assert name in ALLOWED_TAGS and " " not in tag.strip("</>").strip(), (key, tag)


class AnyFigure:
    """Stands for any value a template may be filled with, whatever its format spec ({n:,}, {x:.1f})."""

    def __format__(self, spec: str) -> str:
        format(1.5, spec)  # the spec must be one a number accepts
        return "X"


def test_every_template_parses_and_fills():
    for key, template in texts.entries().items():
        names = catalogue.placeholders(template)
        filled = template.format(**{name: AnyFigure() for name in names})
        assert "{" not in filled.replace("{{", "") or "}" not in filled, key


def test_filling_is_strict_and_escapes_values(monkeypatch):
    monkeypatch.setitem(catalogue.entries(), "test.greeting", "Hello <b>{name}</b>: {count:,} digits")
    assert texts.say("test.greeting", name="<i>Ann</i>", count=60000) == Markup(
        "Hello <b>&lt;i&gt;Ann&lt;/i&gt;</b>: 60,000 digits")
    assert texts.say("test.greeting", name=Markup("<i>Ann</i>"), count=1).startswith("Hello <b><i>Ann</i>")
    with pytest.raises(ValueError, match="missing"):
        texts.say("test.greeting", name="Ann")
    with pytest.raises(ValueError, match="not used"):
        texts.say("test.greeting", name="Ann", count=1, extra=2)
    with pytest.raises(ValueError, match="markup"):
        texts.plain("test.greeting", name="Ann", count=1)
    with pytest.raises(KeyError):
        texts.say("test.nothing")


def test_the_scanner_finds_a_sentence_written_in_code(tmp_path):
    module = tmp_path / "view.py"
    module.write_text('"""Doc string words are fine."""\nTITLE = "What the filters look for"\n'
                      'raise ValueError("for developers only here")\n')
    assert [text for _, text in python_strings(module) if WORDS.search(text)] == ["What the filters look for"]
    script = tmp_path / "page.js"
    script.write_text("// a comment in words here\nsay('Draw a digit first, then send it.');\n")
    assert [text for _, text in script_strings(script) if WORDS.search(text)] == ["Draw a digit first, then send it."]
