"""The highlighted snippet of a search answer: the stretch of an article's body where the
query's words are thickest, with each matching word marked.

FTS5's own `snippet()` would mark the stem columns, which nobody wants to read; this works on the
original text instead and decides what matches the way the index does (by stem, a stem as a
prefix, the typed word as a prefix, a spelling correction). The text is HTML-escaped and the
marks are `<mark>…</mark>`, so a client may show it as HTML as it is.
"""

# ruff: noqa: RUF001

from __future__ import annotations

import html
import re
from collections.abc import Collection

from hotline.kb.text import MIN_PREFIX_STEM, MIN_TYPED_PREFIX, QueryTerms, normalise, stem

__all__ = ["MARK_CLOSE", "MARK_OPEN", "snippet"]

MARK_OPEN, MARK_CLOSE = "<mark>", "</mark>"
WINDOW_WORDS = 24
_TOKEN = re.compile(r"[0-9A-Za-zА-Яа-яЁё]+")
_MARKDOWN = re.compile(r"[#*_`|]+|^\s*>", re.MULTILINE)  # emphasis, headings, tables, quotes


class _Matcher:
    def __init__(self, terms: QueryTerms, corrections: Collection[str]) -> None:
        self._stems = {stem(w) for w in terms.words}
        self._typed = terms.typed if terms.typed and len(terms.typed) >= MIN_TYPED_PREFIX else None
        self._corrections = set(corrections)

    def __call__(self, word: str) -> bool:
        plain = normalise(word)
        stemmed = stem(plain)
        if stemmed in self._corrections or (self._typed and plain.startswith(self._typed)):
            return True
        return any(
            stemmed == s or (len(s) >= MIN_PREFIX_STEM and stemmed.startswith(s))
            for s in self._stems
        )


def snippet(body: str, terms: QueryTerms, corrections: Collection[str] = ()) -> str:
    """About `WINDOW_WORDS` words of `body` around its best run of matches, marked."""
    text = " ".join(_MARKDOWN.sub(" ", body).split())
    spans = [(m.start(), m.end()) for m in _TOKEN.finditer(text)]
    if not spans:
        return ""
    matches = _Matcher(terms, corrections)
    hit = [matches(text[a:b]) for a, b in spans]
    best, best_count = 0, -1
    running = sum(hit[:WINDOW_WORDS])
    for start in range(max(1, len(spans) - WINDOW_WORDS + 1)):
        if start:
            running += hit[start + WINDOW_WORDS - 1] - hit[start - 1]
        if running > best_count:
            best, best_count = start, running
    first = max(0, best - 2) if best else 0
    last = min(len(spans), first + WINDOW_WORDS)
    pieces: list[str] = ["…" if first else ""]
    cursor = spans[first][0]
    for index in range(first, last):
        a, b = spans[index]
        pieces.append(html.escape(text[cursor:a]))
        word = html.escape(text[a:b])
        pieces.append(f"{MARK_OPEN}{word}{MARK_CLOSE}" if hit[index] else word)
        cursor = b
    end = spans[last - 1][1]
    if last < len(spans):
        pieces.append(html.escape(text[cursor:end]) + "…")
    else:
        pieces.append(html.escape(text[cursor:]))
    return "".join(pieces).strip()
