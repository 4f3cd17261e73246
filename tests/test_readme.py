"""The README a teacher follows: its commands are the ones CI runs and the app accepts, its first screen gives the
class's start command and the teacher's three documents, and every relative link in it and in docs/ resolves.
Fast: nothing here starts a server."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from demo.__main__ import parse_args

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
TEACHER_DOCS = ("docs/lesson-plan.md", "docs/privacy.md", "docs/troubleshooting.md")

FENCE = re.compile(r"^```[^\n]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)


def code_blocks(text: str) -> list[str]:
    """The bodies of the fenced code blocks, in order."""
    return [match.group(1) for match in FENCE.finditer(text)]


def commands(block: str) -> list[list[str]]:
    """Each line of a block as words, the shell comment dropped. Backslashes become slashes first, so a Windows
    path (.venv\\Scripts\\convscope) splits like a POSIX one instead of being read as escapes."""
    return [words for line in block.splitlines() if (words := shlex.split(line.replace("\\", "/"), comments=True))]


def start_flags(words: list[str]) -> list[list[str]]:
    """The flags of every ConvScope start in one command line (`convscope ...` or `python -m demo ...`), however
    the executable is reached (.venv/bin/, .venv/Scripts/), one list per start between `&&`s."""
    found = []
    segment: list[str] = []
    for word in [*words, "&&"]:
        if word != "&&":
            segment.append(word)
            continue
        for i, token in enumerate(segment):
            if token.rsplit("/", 1)[-1] in ("convscope", "convscope.exe"):
                found.append(segment[i + 1:])
                break
            if token == "-m" and segment[i + 1:i + 2] == ["demo"]:
                found.append(segment[i + 2:])
                break
        segment = []
    return found


def first_screen(text: str) -> str:
    """The README before its first `## ` heading: the title, the set-up commands and the teacher's part."""
    head, _, _ = text.partition("\n## ")
    return head


README_TEXT = README.read_text(encoding="utf-8")
README_STARTS = [flags for block in code_blocks(README_TEXT) for words in commands(block)
                 for flags in start_flags(words)]


def test_the_first_code_block_holds_the_two_set_up_commands_and_the_second_is_what_ci_runs():
    first = commands(code_blocks(README_TEXT)[0])
    assert len(first) == 2, first
    assert start_flags(first[0]) == [[]], "the first command starts the demo as it is"
    ci = [line for line in (ROOT / ".ci" / "run").read_text().splitlines() if "pytest" in line
          and not line.lstrip().startswith("#")]
    assert len(ci) == 1, ci
    # CI adds only --durations=N (its report of the slowest tests), which changes nothing the tests check
    ci_words = [word for word in shlex.split(ci[0]) if not word.startswith("--durations")]
    assert first[1] == ci_words


def test_readme_has_teacher_start_commands():
    assert sum(flags[:1] == ["--classroom"] for flags in README_STARTS) >= 2, README_STARTS  # POSIX and Windows


@pytest.mark.parametrize("flags", sorted({tuple(flags) for flags in README_STARTS}), ids=" ".join)
def test_every_start_command_in_the_readme_is_one_the_app_accepts(flags, monkeypatch):
    monkeypatch.delenv("CONVSCOPE_TEACHER_TOKEN", raising=False)  # a token set in this shell is not the README's
    args, token = parse_args(list(flags))
    assert bool(token) == args.classroom
    # the real command line too: argparse's own exit codes, no server (--help exits before anything starts)
    result = subprocess.run([sys.executable, "-m", "demo", *flags, "--help"], cwd=ROOT, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage:")


def test_the_first_screen_gives_a_class_start_command_and_the_teachers_documents():
    screen = first_screen(README_TEXT)
    assert len(screen.split()) <= 800, "the teacher's part should fit a first screen's reading (about 500 words)"
    teacher_blocks = code_blocks(screen)[1:]  # after the set-up commands
    starts = [flags for block in teacher_blocks for words in commands(block) for flags in start_flags(words)]
    assert starts, "no start command in the teacher's part"
    for flags in starts:  # the class's command, in one piece: the room, reachable from pupils' phones
        assert "--classroom" in flags and flags[flags.index("--host") + 1] == "0.0.0.0", flags
    for block in teacher_blocks:  # pure pip: nothing a teacher runs needs root or the system's package manager
        assert not re.search(r"\b(sudo|apt-get|apt|\.ci/setup)\b", block), block
    for doc in TEACHER_DOCS:
        assert f"]({doc})" in screen, f"the first screen does not link {doc}"


def heading_anchors(text: str) -> set[str]:
    """GitHub's anchors for a Markdown file's headings: lower case, punctuation dropped, spaces as hyphens, a
    repeated heading numbered."""
    anchors: set[str] = set()
    for line in FENCE.sub("", text).splitlines():
        match = re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not match:
            continue
        slug = re.sub(r"[^\w\- ]", "", match.group(1).lower()).replace(" ", "-")
        anchor, n = slug, 0
        while anchor in anchors:
            n += 1
            anchor = f"{slug}-{n}"
        anchors.add(anchor)
    return anchors


def relative_links(text: str) -> list[str]:
    """Every link target in a Markdown file that is not a web address: inline links and images, reference
    definitions, and src/href in HTML. Code (fenced and inline) is left out: it shows text, not links."""
    prose = re.sub(r"`[^`\n]*`", "", FENCE.sub("", text))
    targets = re.findall(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)", prose)
    targets += re.findall(r"^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", prose, re.MULTILINE)
    targets += re.findall(r"(?:src|href)=\"([^\"]+)\"", prose)
    return [target for target in targets if not re.match(r"[a-z][a-z0-9+.-]*:", target, re.IGNORECASE)]


@pytest.mark.parametrize("page", [README, *DOCS], ids=lambda path: str(path.relative_to(ROOT)))
def test_every_relative_link_resolves(page):
    broken = []
    for target in relative_links(page.read_text(encoding="utf-8")):
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(f"{target}: no such file")
        elif anchor and file.suffix == ".md" and anchor.lower() not in heading_anchors(file.read_text("utf-8")):
            broken.append(f"{target}: no such heading in {file.name}")
    assert not broken, broken


def test_every_page_in_docs_is_reachable_from_the_readme():
    """A page nobody links is a page nobody reads: each is linked from the README or from another page in docs/."""
    linked = {(page.parent / target.partition("#")[0]).resolve()
              for page in [README, *DOCS] for target in relative_links(page.read_text(encoding="utf-8"))
              if (page.parent / target.partition("#")[0]).resolve() != page.resolve()}
    assert not [doc.name for doc in DOCS if doc.resolve() not in linked]
