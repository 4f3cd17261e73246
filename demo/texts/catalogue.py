"""Reading the catalogue and filling its texts.

An entry is a template with named placeholders (``{digit}``, ``{share}``), as Python's ``str.format`` reads them.
Entries may hold a few inline tags (``<b>``, ``<i>``, ``<sub>``...), never attributes a value could break: ``say``
returns markup in which every filled-in value is escaped (markupsafe), so HTML stays escaped by construction.
Filling is strict: a placeholder left unfilled, or a value the template does not name, is an error, so a text and
the code that fills it cannot drift apart silently.

Every language has its own file with the same keys (``en.toml`` is the source; tests check the others against it).
The language of the moment is a context variable: a request's handler runs inside ``use_language(code)`` and every
``say``/``plain`` in it, however deep, speaks that language. Numbers filled into a text are written the language's
way: ``{share:.1f}`` gives "95.8" in English and "95,8" in German, with the separators each file's ``[language]``
section declares.
"""

from __future__ import annotations

import numbers
import re
import string
import tomllib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from typing import Any

from markupsafe import Markup, escape

HOME = Path(__file__).resolve().parent
LANGUAGE = "en"  # the source catalogue: the others translate it, key for key
LANGUAGES = ("en", "es", "de")  # every language a page can be shown in, each a file <code>.toml here
_current: ContextVar[str] = ContextVar("convscope_language", default=LANGUAGE)
TAG = re.compile(r"<\s*/?\s*[A-Za-z]")  # an HTML tag; a bare "<" (x < 0) is no tag


def _flatten(table: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    for name, value in table.items():
        key = f"{prefix}{name}"
        if isinstance(value, Mapping):
            yield from _flatten(value, f"{key}.")
        elif isinstance(value, str):
            yield key, value
        else:
            raise TypeError(f"catalogue entry {key!r} is a {type(value).__name__}, not text")


def current_language() -> str:
    """The language of the moment (a code of :data:`LANGUAGES`)."""
    return _current.get()


@contextmanager
def use_language(code: str) -> Iterator[str]:
    """Every text asked for inside the block is in ``code`` (one of :data:`LANGUAGES`; anything else is an error:
    choose with :func:`demo.texts.choice.chosen_language`, which only returns known codes)."""
    if code not in LANGUAGES:
        raise ValueError(f"no catalogue for language {code!r}")
    token = _current.set(code)
    try:
        yield code
    finally:
        _current.reset(token)


@cache
def _load(language: str) -> dict[str, str]:
    with (HOME / f"{language}.toml").open("rb") as file:  # TOML itself refuses a key defined twice
        return dict(_flatten(tomllib.load(file)))


def entries(language: str | None = None) -> dict[str, str]:
    """Every key of the catalogue of ``language`` (default: the language of the moment) and its template."""
    return _load(language or current_language())


def keys(language: str | None = None) -> set[str]:
    return set(entries(language))


def language_names() -> dict[str, str]:
    """Each language's name in its own words, for the language switch."""
    return {code: entries(code)["language.name"] for code in LANGUAGES}


def localised(number: str, language: str | None = None) -> str:
    """A number written the English way by Python ("60,000.5") rewritten with the language's decimal sign and digit
    grouping ("60.000,5" in German)."""
    table = entries(language)
    decimal, group = table["language.decimal"], table["language.group"]
    if (decimal, group) == (".", ","):
        return number
    return "".join(decimal if c == "." else group if c == "," else c for c in number)


def decimal(value: float, digits: int = 1, spec: str = "f") -> str:
    """``value`` written with ``digits`` decimals (``spec`` "f"; "g" for the shortest form) the language's way."""
    return localised(format(value, f".{digits}{spec}" if spec == "f" else spec))


def _numbers_localised(template: str, values: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """The template and values with every number formatted here, the language's way (spec applied, then
    :func:`localised`), so the filling itself only inserts text. English is left as it is."""
    if entries()["language.decimal"] == "." and entries()["language.group"] == ",":
        return template, dict(values)
    out, filled, i = [], {}, 0
    for literal, field, spec, conversion in string.Formatter().parse(template):
        out.append(literal.replace("{", "{{").replace("}", "}}"))
        if field is None:
            continue
        name = field.split(".")[0].split("[")[0]
        value = values[name]
        if isinstance(value, numbers.Real) and not isinstance(value, bool) and field == name and not conversion:
            slot = f"_n{i}"
            i += 1
            filled[slot] = localised(format(value, spec or ""))
            out.append("{" + slot + "}")
        else:
            filled[name] = value
            out.append("{" + field + ("!" + conversion if conversion else "") + (":" + spec if spec else "") + "}")
    return "".join(out), filled


@cache
def placeholders(template: str) -> frozenset[str]:
    """The names a template's placeholders use (``{share:.1f}`` names ``share``)."""
    return frozenset(field.split(".")[0].split("[")[0]
                     for _, field, _, _ in string.Formatter().parse(template) if field is not None)


def _template(key: str, values: Mapping[str, Any]) -> str:
    template = entries()[key]  # KeyError names the missing key
    wanted = placeholders(template)
    if wanted != set(values):
        missing, extra = sorted(wanted - set(values)), sorted(set(values) - wanted)
        raise ValueError(f"text {key!r}: placeholders missing {missing}, values not used {extra}")
    return template


def say(key: str, /, **values: Any) -> Markup:
    """The text ``key`` as HTML, its placeholders filled with ``values`` (escaped unless they are ``Markup``)."""
    template, values = _numbers_localised(_template(key, values), values)
    return Markup(template).format(**values)


def plain(key: str, /, **values: Any) -> str:
    """The text ``key`` as plain text (a button's label, an error message, an image's alt text), filled in; an
    entry used this way holds no tags."""
    template = _template(key, values)
    if TAG.search(template):
        raise ValueError(f"text {key!r} holds markup; use say()")
    template, values = _numbers_localised(template, values)
    return template.format(**values)


def for_script(prefix: str) -> dict[str, str]:
    """The templates under ``prefix`` (``"js.room"``), keyed by the rest of their key, for the page's scripts, which
    fill ``{name}`` themselves; they hold no tags."""
    start = f"{prefix}."
    chosen = {key[len(start):]: template for key, template in entries().items() if key.startswith(start)}
    tagged = [key for key, template in chosen.items() if TAG.search(template)]
    if tagged:
        raise ValueError(f"texts for scripts hold markup: {tagged}")
    return chosen


class Later:
    """A text made each time it is used, so it is in the language of that moment: for a module's constant texts,
    ``NOTE = Later(lambda: say("explain.pooling"))``. It stands in for the ``Markup`` or ``str`` it makes: in
    f-strings, in ``Markup`` (through ``__html__``), as a value filled into another text, compared with a string."""

    __slots__ = ("_make",)

    def __init__(self, make: Callable[[], str]) -> None:
        self._make = make

    def __str__(self) -> str:
        return str(self._make())

    def __html__(self) -> Markup:
        return escape(self._make())  # Markup passes through unchanged, plain text is escaped; Markup, not str, so
        # markupsafe's formatter does not escape it again

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __contains__(self, part: str) -> bool:
        return part in str(self)

    def __eq__(self, other: object) -> bool:
        return str(self) == other

    def __hash__(self) -> int:
        return hash(str(self))

    def __repr__(self) -> str:
        return f"Later({str(self)!r})"
