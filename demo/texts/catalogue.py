"""Reading the catalogue and filling its texts.

An entry is a template with named placeholders (``{digit}``, ``{share}``), as Python's ``str.format`` reads them.
Entries may hold a few inline tags (``<b>``, ``<i>``, ``<sub>``...), never attributes a value could break: ``say``
returns markup in which every filled-in value is escaped (markupsafe), so HTML stays escaped by construction.
Filling is strict: a placeholder left unfilled, or a value the template does not name, is an error, so a text and
the code that fills it cannot drift apart silently.
"""

from __future__ import annotations

import re
import string
import tomllib
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from markupsafe import Markup

HOME = Path(__file__).resolve().parent
LANGUAGE = "en"  # the catalogue every text comes from
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


@cache
def entries(language: str = LANGUAGE) -> dict[str, str]:
    """Every key of the catalogue and its template."""
    with (HOME / f"{language}.toml").open("rb") as file:  # TOML itself refuses a key defined twice
        return dict(_flatten(tomllib.load(file)))


def keys(language: str = LANGUAGE) -> set[str]:
    return set(entries(language))


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
    return Markup(_template(key, values)).format(**values)


def plain(key: str, /, **values: Any) -> str:
    """The text ``key`` as plain text (a button's label, an error message, an image's alt text), filled in; an
    entry used this way holds no tags."""
    template = _template(key, values)
    if TAG.search(template):
        raise ValueError(f"text {key!r} holds markup; use say()")
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
