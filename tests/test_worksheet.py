"""The pupils' worksheet (tools/worksheet.py) and the lesson plan it belongs to (docs/lesson-plan.md).

The worksheet must build anywhere the tests run (no network, no model, well under a second), as one A4 page whose
text a PDF reader can find: every sentence of the catalogue's [worksheet] section, blanks included, read back out of
the PDF itself through the fonts' ToUnicode maps (no PDF library is a dependency; this reads just what matplotlib
writes). The lesson plan's links must lead to files (and headings) that exist.
"""

from __future__ import annotations

import json
import re
import zlib
from pathlib import Path

import pytest

from demo import texts
from tools import worksheet

ROOT = Path(__file__).resolve().parent.parent
LESSON_PLAN = ROOT / "docs" / "lesson-plan.md"
A4_POINTS = (595.28, 841.89)
OBJECT = re.compile(rb"(\d+) 0 obj(.*?)endobj", re.S)
STREAM = re.compile(rb"stream\r?\n(.*)\r?\nendstream", re.S)
# What a content stream says about text: the font chosen, a literal or hex string, the start and end of a text block.
TEXT_TOKEN = re.compile(rb"/(F\d+)\s+[\d.]+\s+Tf|\(((?:\\.|[^\\)])*)\)|<([0-9A-Fa-f\s]*)>(?!>)|\b(BT|ET)\b", re.S)
# A ToUnicode CMap's entries: one code to a text, or a range of codes to a list of texts or to consecutive ones.
BFCHAR = re.compile(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>")
BFRANGE = re.compile(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*(\[[^\]]*\]|<[0-9A-Fa-f]+>)")
ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


def _objects(pdf: bytes) -> dict[int, tuple[bytes, bytes | None]]:
    """Object number -> (its dictionary, its stream inflated, or None)."""
    found = {}
    for number, body in OBJECT.findall(pdf):
        stream = STREAM.search(body)
        data = None
        if stream:
            data = stream.group(1)
            if b"/FlateDecode" in body[:stream.start()]:
                data = zlib.decompress(data)
        found[int(number)] = (body[:stream.start()] if stream else body, data)
    return found


def _to_unicode(cmap: bytes) -> dict[int, str]:
    """A ToUnicode CMap's bfchar and bfrange entries (both forms of bfrange) as code -> text."""
    table: dict[int, str] = {}

    def text(hex_: bytes) -> str:
        return bytes.fromhex(hex_.decode()).decode("utf-16-be")

    for block in re.findall(rb"beginbfchar(.*?)endbfchar", cmap, re.S):
        for code, target in BFCHAR.findall(block):
            table[int(code, 16)] = text(target)
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", cmap, re.S):
        for start, end, rest in BFRANGE.findall(block):
            first, last = int(start, 16), int(end, 16)
            if rest.startswith(b"["):
                for offset, target in enumerate(re.findall(rb"<([0-9A-Fa-f]+)>", rest)):
                    table[first + offset] = text(target)
            else:
                base = text(rest[1:-1])
                for offset in range(last - first + 1):
                    table[first + offset] = base[:-1] + chr(ord(base[-1]) + offset)
    return table


def _literal(raw: bytes) -> bytes:
    """A PDF literal string's bytes, its escapes resolved."""
    out, i = bytearray(), 0
    while i < len(raw):
        if raw[i:i + 1] == b"\\" and i + 1 < len(raw):
            octal = re.match(rb"[0-7]{1,3}", raw[i + 1:i + 4])
            if octal:
                out.append(int(octal.group(), 8))
                i += 1 + len(octal.group())
                continue
            out += ESCAPES.get(raw[i + 1:i + 2], raw[i + 1:i + 2])
            i += 2
        else:
            out.append(raw[i])
            i += 1
    return bytes(out)


def pdf_pages(pdf: bytes) -> list[bytes]:
    """The dictionaries of the PDF's page objects (/Type /Page, not /Pages)."""
    return [body for body, _ in _objects(pdf).values() if re.search(rb"/Type\s*/Page(?![A-Za-z])", body)]


def pdf_text(pdf: bytes) -> list[str]:
    """The text of each text block of the PDF's content streams, decoded through each font's ToUnicode map."""
    objects = _objects(pdf)
    fonts: dict[bytes, tuple[dict[int, str], int]] = {}  # resource name -> (code -> text, bytes per code)
    for body, _ in objects.values():
        for name, number in re.findall(rb"/(F\d+)\s+(\d+)\s+0\s+R", body):
            font = objects[int(number)][0]
            cmap = re.search(rb"/ToUnicode\s+(\d+)\s+0\s+R", font)
            assert cmap, f"font {name.decode()} has no ToUnicode map: its text could not be searched"
            width = 2 if b"/Type0" in font else 1
            fonts[name] = (_to_unicode(objects[int(cmap.group(1))][1] or b""), width)
    blocks: list[str] = []
    for page in pdf_pages(pdf):
        contents = re.search(rb"/Contents\s+(\d+)\s+0\s+R", page)
        assert contents, "a page without a content stream"
        font: tuple[dict[int, str], int] = ({}, 1)
        for name, literal, hex_, marker in TEXT_TOKEN.findall(objects[int(contents.group(1))][1] or b""):
            if marker == b"BT":
                blocks.append("")
            elif name:
                font = fonts[name]
            elif (literal or hex_) and blocks:
                data = _literal(literal) if literal else bytes.fromhex(re.sub(rb"\s", b"", hex_).decode())
                table, width = font
                blocks[-1] += "".join(table.get(int.from_bytes(data[i:i + width], "big"), "\ufffd")
                                      for i in range(0, len(data), width))
    return [block for block in blocks if block]


def _words(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    out = tmp_path_factory.mktemp("worksheet") / "worksheet.pdf"
    assert worksheet.main(["--out", str(out)]) == 0
    return out.read_bytes()


def test_the_worksheet_builds_as_one_a4_page(built: bytes):
    assert built.startswith(b"%PDF-")
    pages = pdf_pages(built)
    assert len(pages) == 1
    box = re.search(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", pages[0])
    assert box and tuple(round(float(v), 2) for v in box.groups()) == A4_POINTS


def worksheet_texts() -> dict[str, str]:
    """Every text of the catalogue's [worksheet] section printed on the page, filled in as the tool fills it."""
    report = json.loads(worksheet.REPORT.read_text(encoding="utf-8"))
    values = {"worksheet.question_class": {"accuracy": 100 * report["test_accuracy"]},
              "worksheet.footer": {"images": report["train_images"]}}
    return {key: _words(texts.plain(key, **values.get(key, {}))) for key in texts.keys()
            if key.startswith("worksheet.") and key != "worksheet.pdf_subject"}  # the subject is the file's property


def test_every_sentence_of_the_worksheet_is_on_the_page_as_searchable_text(built: bytes):
    page = _words(" ".join(pdf_text(built)))
    for key, text in worksheet_texts().items():
        assert text in page, key
    # The blanks a pupil fills in from the screen, as the lesson plan names them.
    for blank in ("I drew the digit: ____ The network read: ____ with ______ % (the percentage on your phone)",
                  "conv1 has ____ filters, each a ____ × ____ kernel.", "After pool1 each map is ____ × ____.",
                  "The class tally: ____ of ____ read as meant", "99.72 %"):
        assert blank in page, blank


def test_nothing_on_the_page_is_written_outside_the_catalogue(built: bytes):
    catalogue = worksheet_texts().values()
    for block in pdf_text(built):
        text = _words(block)  # one line of the page: a whole text, or part of a wrapped one
        assert re.fullmatch(r"[a-e]\)", text) or any(text in entry for entry in catalogue), text


def test_the_worksheet_is_the_same_file_at_every_build(built: bytes):
    assert worksheet.worksheet_pdf() == built  # no creation date: rebuilding it is no change to commit


def test_the_worksheet_refuses_to_spill_onto_a_second_page(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(worksheet, "ANSWER_LINES", 6)
    with pytest.raises(ValueError, match="one page"):
        worksheet.worksheet_pdf()


def test_the_help_states_the_default_output(capsys: pytest.CaptureFixture[str]):
    with pytest.raises(SystemExit):
        worksheet.main(["--help"])
    assert "default: docs/worksheet.pdf" in capsys.readouterr().out


def test_the_committed_worksheet_is_one_page():
    committed = ROOT / "docs" / "worksheet.pdf"
    assert committed.is_file(), "build it with: python -m tools.worksheet"
    assert len(pdf_pages(committed.read_bytes())) == 1


def _slug(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower().replace("`", ""))
    return text.replace(" ", "-")


def _anchors(markdown: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", markdown.read_text(encoding="utf-8"), flags=re.S)
    return {_slug(m) for m in re.findall(r"^#{1,6}\s+(.*?)\s*#*\s*$", text, re.M)}


def test_the_lesson_plans_links_lead_somewhere():
    text = LESSON_PLAN.read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)\s]+)\)", text)
    assert links, "the lesson plan links the README and the other docs"
    for link in links:
        if re.match(r"[a-z]+:", link):
            continue  # no network in the tests: outside addresses are not checked
        path, _, anchor = link.partition("#")
        target = (LESSON_PLAN.parent / path).resolve() if path else LESSON_PLAN
        assert target.exists(), f"{link}: no such file"
        if anchor and target.suffix == ".md":
            assert anchor in _anchors(target), f"{link}: no such heading in {target.name}"
