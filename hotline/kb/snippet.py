"""The highlighted snippet of a search answer: the stretch of an article's body where the
query's words are thickest, with each matching word marked.

FTS5's own `snippet()` would cut the stem columns, which nobody wants to read. But the body's
stem column holds one stem per word of the body, in order (`hotline.kb.text.stems`), so which
words of the original matched is read off that column with the query's own options (stem,
prefix, the typed word, a spelling correction: `hotline.kb.text.Option`), as the index decided;
`snippet` cuts the original text around the best run of them. The text is HTML-escaped and the
marks are `<mark>…</mark>`, so a client may show it as HTML as it is.
"""

# ruff: noqa: RUF001

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence

from hotline.kb.text import Option

__all__ = ["MARK_CLOSE", "MARK_OPEN", "marked_words", "snippet"]

MARK_OPEN, MARK_CLOSE = "<mark>", "</mark>"
WINDOW_WORDS = 24
# The words of the original text, as `hotline.kb.text.words` finds them once lower-cased.
_TOKEN = re.compile(r"[0-9A-Za-zА-Яа-яЁё]+")
_MARKDOWN = re.compile(r"[#*_`|]+|^\s*>", re.MULTILINE)  # emphasis, headings, tables, quotes


def marked_words(body_stems: str, options: Iterable[Option]) -> list[bool]:
    """For each stem of a body's stem column, whether one of `options` matches it."""
    choices = tuple(options)
    seen: dict[str, bool] = {}  # an article repeats its words: judge each once
    marks = []
    for token in body_stems.split():
        hit = seen.get(token)
        if hit is None:
            hit = seen[token] = any(o.matches(token) for o in choices)
        marks.append(hit)
    return marks


def snippet(body: str, marks: Sequence[bool]) -> str:
    """About `WINDOW_WORDS` words of `body` around its best run of matches, marked; `marks[i]`
    says whether the i-th word matched."""
    text = " ".join(_MARKDOWN.sub(" ", body).split())
    spans = [(m.start(), m.end()) for m in _TOKEN.finditer(text)]
    if not spans:
        return ""
    hit = [i < len(marks) and marks[i] for i in range(len(spans))]
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
    if last < len(spans):
        pieces.append(html.escape(text[cursor : spans[last - 1][1]]) + "…")
    else:
        pieces.append(html.escape(text[cursor:]))
    return "".join(pieces).strip()
