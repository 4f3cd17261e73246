"""Which language a request is answered in: the visitor's own choice first, then the browser's languages.

Everything here is named by the client (a query parameter, a cookie, the Accept-Language header), so nothing is
trusted: only the exact codes of :data:`~demo.texts.catalogue.LANGUAGES` are ever returned, and a header is read
only up to :data:`MAX_HEADER` characters and :data:`MAX_RANGES` ranges, so its size bounds the work.
"""

from __future__ import annotations

from .catalogue import LANGUAGE, LANGUAGES

COOKIE = "convscope_lang"  # the visitor's choice from the page's language switch, remembered by the browser
QUERY = "lang"  # ?lang=de: a link that opens the page in a language
MAX_HEADER = 1000
MAX_RANGES = 20


def _known(code: str | None) -> str | None:
    code = (code or "").strip().lower()
    return code if code in LANGUAGES else None


def from_accept_language(header: str | None) -> str | None:
    """The first of our languages in an Accept-Language header, by its q-values ("de-CH,de;q=0.9,en;q=0.8" → de);
    None when it names none of them."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((header or "")[:MAX_HEADER].split(",")[:MAX_RANGES]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        code = _known(tag.split("-")[0])
        if code is not None and 0 < quality <= 1:
            ranked.append((-quality, position, code))
    return min(ranked)[2] if ranked else None


def browser_first(header: str | None) -> str:
    """The language a browser's own words (Gradio's, through ``gr.I18n``) are shown in: the first language of its
    Accept-Language, as ``navigator.language``, when it is one of ours; else English, as Gradio falls back to."""
    first = (header or "")[:MAX_HEADER].split(",")[0].split(";")[0]
    return _known(first.split("-")[0]) or LANGUAGE


def chosen_language(query: str | None = None, cookie: str | None = None, accept_language: str | None = None) -> str:
    """The language to answer in: ``?lang=``, else the switch's cookie, else the browser's, else English."""
    return _known(query) or _known(cookie) or from_accept_language(accept_language) or LANGUAGE
