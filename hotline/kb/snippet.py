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
from itertools import accumulate, islice

from hotline.kb.text import Option

__all__ = ["MARK_CLOSE", "MARK_OPEN", "marked_words", "snippet"]

MARK_OPEN, MARK_CLOSE = "<mark>", "</mark>"
WINDOW_WORDS = 24
# The words of the original text, as `hotline.kb.text.words` finds them once lower-cased.
_TOKEN = re.compile(r"[0-9A-Za-zА-Яа-яЁё]+")
# Markdown's marks, read as spaces: a quote's `>` at the start of a line, and emphasis,
# headings and tables (`str.replace` of each is several times faster than a regex pass).
_QUOTE = re.compile(r"^\s*>", re.MULTILINE)
_MARKS = "#*_`|"


def marked_words(body_stems: str, options: Iterable[Option]) -> list[bool]:
    """For each stem of a body's stem column, whether one of `options` matches it."""
    exact, prefixes = set(), []
    for option in options:
        if option.prefix:
            prefixes.append(option.term)
        else:
            exact.add(option.term)
    # `str.startswith` takes a tuple: each stem is judged at C speed (a body has ~100 of them).
    starts = tuple(prefixes)
    return [token in exact or token.startswith(starts) for token in body_stems.split()]


def snippet(body: str, marks: Sequence[bool]) -> str:
    """About `WINDOW_WORDS` words of `body` around its best run of matches, marked; `marks[i]`
    says whether the i-th word matched."""
    plain = _QUOTE.sub(" ", body)
    for mark in _MARKS:
        plain = plain.replace(mark, " ")
    text = " ".join(plain.split())
    count = len(_TOKEN.findall(text))
    if not count:
        return ""
    hit = [bool(m) for m in marks[:count]] + [False] * (count - len(marks))
    # The window with the most matches, the first of equals, from the running totals.
    total = [0, *accumulate(hit)]
    if count > WINDOW_WORDS:
        sums = [total[s + WINDOW_WORDS] - total[s] for s in range(count - WINDOW_WORDS + 1)]
        best = sums.index(max(sums))
    else:
        best = 0
    first = max(0, best - 2) if best else 0
    last = min(count, first + WINDOW_WORDS)
    # Only the window's words are located (the regex engine skips the text before it), and
    # only the matched words are cut out to be marked: the rest is escaped in runs.
    spans = [m.span() for m in islice(_TOKEN.finditer(text), first, last)]
    pieces: list[str] = ["…" if first else ""]
    cursor = spans[0][0]
    for index, (a, b) in enumerate(spans, first):
        if hit[index]:
            pieces.append(html.escape(text[cursor:a]))
            pieces.append(f"{MARK_OPEN}{html.escape(text[a:b])}{MARK_CLOSE}")
            cursor = b
    if last < count:
        pieces.append(html.escape(text[cursor : spans[-1][1]]) + "…")
    else:
        pieces.append(html.escape(text[cursor:]))
    return "".join(pieces).strip()
