"""Search text: the same normalising and stemming for what is indexed and what is asked.

SQLite's FTS5 through the stdlib `sqlite3` (so aiosqlite) cannot load a custom tokenizer, so
morphology is handled outside it: an article's title, body and tags are stored a second time as
their stems (`stems()`), in FTS columns beside the originals, and a query is stemmed the same way
(`match_expression()`). Cyrillic words go through the Snowball Russian stemmer, Latin words
through the English one; ё is е before anything else, so either spelling finds both.

A query's words are OR-ed (bm25 puts the articles that match more, and rarer, words first),
each as a prefix of its stem: Russian stems of one word differ in their tails
(«восстановить» → «восстанов», «восстановление» → «восстановлен»), and a prefix bridges them.
The last word may still be being typed: its raw form is a prefix too. Common function words
(«как», «мне», «the») are dropped: they match everything and rank nothing.
"""

# ruff: noqa: RUF001, RUF002, RUF003

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from hotline.domain.words import WORD, normalise, stem, words

__all__ = [
    "STOP_WORDS",
    "Option",
    "QueryTerms",
    "match_expression",
    "normalise",
    "query_options",
    "query_terms",
    "stem",
    "stems",
    "widest",
    "word_options",
    "words",
]

# A stem this short is matched whole: as a prefix it would match too much («код*» → «кодекс»).
MIN_PREFIX_STEM = 4
# The raw last word is a prefix from this length on («па» is not yet a word worth matching).
MIN_TYPED_PREFIX = 2
MAX_QUERY_WORDS = 16

STOP_WORDS = frozenset(
    """
    а без бы в вам вас во вот все всё где да для до его ее её если есть же за и из или им их к
    как ко когда кто ли либо мне мой меня мы на над не нам нас нет ни но ну о об около от по под
    при про с со так там то тот тут у уже чем что чтобы эта эти это я ещё еще пожалуйста можно
    нужно надо хочу могу мочь сделать делать быть был была было были будет очень a an and are as
    at be by can do for from how i in is it me my of on or the to what where with you your
    """.split()  # noqa: SIM905
)


@lru_cache(maxsize=1_024)  # the starter base is stemmed at every fresh start: once per process
def stems(text: str) -> str:
    """`text` as its stems, space-separated: what goes in the FTS index's stem columns."""
    return " ".join(stem(w) for w in words(text))


@dataclass(frozen=True, slots=True)
class QueryTerms:
    """A query's words, stop words dropped; `typed` is the raw last word when the query does not
    end in a space or punctuation (the caller may still be typing it)."""

    words: tuple[str, ...]
    typed: str | None

    @property
    def empty(self) -> bool:
        return not self.words


def query_terms(query: str) -> QueryTerms:
    found = words(query)
    meaningful = [w for w in found if w not in STOP_WORDS] or found
    meaningful = meaningful[:MAX_QUERY_WORDS]
    still_typing = bool(found) and WORD.fullmatch(normalise(query[-1:]) or " ") is not None
    typed = found[-1] if still_typing and found[-1] in meaningful else None
    return QueryTerms(tuple(dict.fromkeys(meaningful)), typed)


@dataclass(frozen=True, slots=True, order=True)
class Option:
    """One way an indexed stem can match a query word: equal to `term`, or beginning with it."""

    term: str
    prefix: bool

    def matches(self, indexed: str) -> bool:
        return indexed.startswith(self.term) if self.prefix else indexed == self.term

    def expression(self) -> str:
        # Terms are [0-9a-zа-я]+; quoted, so FTS5 reads AND/OR/NOT/NEAR as words, not syntax.
        return f'"{self.term}"' + ("*" if self.prefix else "")


def word_options(word: str, *, typed: bool, extra: Iterable[str] = ()) -> tuple[Option, ...]:
    """How the index may match `word`: its stem (as a prefix unless short), the raw word as a
    prefix while it is being typed, and `extra` stems (spelling corrections) exactly."""
    stemmed = stem(word)
    options = {Option(stemmed, len(stemmed) >= MIN_PREFIX_STEM)}
    if typed and len(word) >= MIN_TYPED_PREFIX:
        options.add(Option(word, True))
    options.update(Option(e, False) for e in extra)
    return tuple(sorted(options))


def widest(options: Iterable[Option]) -> tuple[Option, ...]:
    """`options` without those another one covers: a prefix matches everything its longer
    prefixes and its own word do («заявлен»* covers the typed «заявление»*). The same
    articles match; bm25 no longer counts such a word twice, and FTS5 has one phrase less to
    score."""
    choices = tuple(options)
    return tuple(
        o
        for o in choices
        if not any(p != o and p.prefix and o.term.startswith(p.term) for p in choices)
    )


def query_options(
    terms: QueryTerms, corrections: Mapping[str, Sequence[str]] | None = None
) -> dict[str, tuple[Option, ...]]:
    """Each query word's options; `corrections` maps a word to indexed stems spelt close to it
    (a misspelling's likely meaning), matched as alternatives of that word."""
    corrections = corrections or {}
    return {
        w: word_options(w, typed=w == terms.typed, extra=corrections.get(w, ()))
        for w in terms.words
    }


def match_expression(groups: Iterable[Sequence[Option]], *, every: bool = False) -> str:
    """The FTS5 MATCH expression over the stem columns: one group per word, OR-ed (AND-ed
    with `every`)."""
    parts = []
    for options in groups:
        alternatives = [o.expression() for o in options]
        parts.append(
            alternatives[0] if len(alternatives) == 1 else "(" + " OR ".join(alternatives) + ")"
        )
    return (" AND " if every else " OR ").join(parts)
