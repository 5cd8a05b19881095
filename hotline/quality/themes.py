"""The themes of a citizen's comment: a pure, rule-based classifier for Russian text.

The rules (`[feedback.themes]` in config) give, per theme, words and phrases in any grammatical
form. A rule and a comment go through the same steps: lower case, `ё` folded to `е`, split into
words, each word reduced by the Snowball Russian stemmer (PyStemmer). A phrase matches where its
stems follow one another in the comment. Refinements, each for something citizens write:

- a word ending in `*` is a prefix of the folded word, not stemmed (`благодар*` is every form of
  благодарить and благодарность, which the stemmer leaves with different endings); a word
  beginning with `=` is that word exactly (`=долго`: its stem `долг` is also a debt's);
- words of politeness that carry no theme (`FILLERS`: пожалуйста …) are skipped, so "добавьте,
  пожалуйста, услугу" is the phrase "добавьте услугу";
- a long stem (`FUZZY_MIN` letters and more) also matches a comment's stem one typo away (one
  letter left out, added, changed or two swapped: `ожидане`, `неправельно`), so a slip of the
  finger does not hide a complaint;
- a rule that does not begin with a negation does not match right after one (`не`, `ни`, `нет`):
  `помогли` is thanks, `не помогли` is not (a rule `не помог` says what that is);
- a match that lies within a longer match of another theme does not count: with a thanks rule
  `спасибо за ожидание`, "спасибо за ожидание" is thanks, not also a complaint about the wait;
- a request for a new service is itself a wish: `new_service` absorbs `suggestion` ("хотелось бы
  оформлять полис через портал" is `new_service` alone), so the two never appear together.

A comment carries EVERY theme one of whose rules matches, in `THEMES` order ("долго ждал, но
спасибо" is both `wait_time` and `thanks`); `other` only when none does, and never beside another
theme. Callers who need one label per comment take the first.

Pure: no I/O, no trio, no pydantic; the store calls it on insert and the tests measure it against
a labelled set (tests/quality/).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from hotline.domain.words import WORD, stem, words
from hotline.domain.words import normalise as fold


class Theme(StrEnum):
    WAIT_TIME = "wait_time"  # жалобы на длительность ожидания
    WRONG_ANSWER = "wrong_answer"  # некорректные ответы
    SUGGESTION = "suggestion"  # предложения по улучшению
    THANKS = "thanks"  # благодарности
    NEW_SERVICE = "new_service"  # запросы на новые услуги
    OTHER = "other"  # none of the above


THEMES: tuple[Theme, ...] = tuple(Theme)
RULED: tuple[Theme, ...] = tuple(t for t in Theme if t is not Theme.OTHER)  # `other` has no rules
FUZZY_MIN = 6  # shorter stems must match exactly: one letter changes too many short words
NEGATIONS = frozenset({"не", "ни", "нет"})
FILLERS = frozenset({"пожалуйста", "пожалуста", "плиз", "пжл", "пжлст", "пож"})
ABSORBS = {Theme.NEW_SERVICE: Theme.SUGGESTION}  # a theme found drops the one it absorbs


def _theme_words(text: str) -> list[str]:
    return [w for w in words(text) if w not in FILLERS]


def terms(text: str) -> list[str]:
    """The distinct stems of a text's words of three letters and more, in order of first use:
    what the trends count (shorter words are particles and prepositions). Words with digits are
    left out: they are numbers, and a phone, an INN or a SNILS must not be kept as a term."""
    seen: dict[str, None] = {}
    for word in words(text):
        if len(word) >= 3 and word.isalpha():
            seen.setdefault(stem(word), None)
    return list(seen)


@dataclass(frozen=True, slots=True)
class _Part:
    """One word of a rule: a stem to match exactly (or one typo away), or a prefix."""

    text: str
    how: str  # "stem" | "prefix" | "exact"


@dataclass(frozen=True, slots=True)
class _Rule:
    theme: Theme
    source: str  # as written in config: what a repr of the rule shows
    parts: tuple[_Part, ...]
    negated: bool  # begins with a negation itself: may follow one


class RulesError(ValueError):
    """A rule set that cannot be used; the message names the theme and the rule."""


class ThemeClassifier:
    """Compiled rules; `classify(text)` gives a comment's themes."""

    __slots__ = ("_by_exact", "_by_prefix", "_by_stem", "_fuzzy_firsts", "_fuzzy_stems", "_rules")

    def __init__(self, rules: Mapping[str, Sequence[str]]) -> None:
        compiled: list[_Rule] = []
        for name, phrases in rules.items():
            try:
                theme = Theme(name)
            except ValueError:
                raise RulesError(f"{name!r} is not a theme ({', '.join(RULED)})") from None
            if theme is Theme.OTHER:
                raise RulesError("`other` has no rules: it is what matches none")
            for phrase in phrases:
                compiled.append(_compile(theme, phrase))
        self._rules = tuple(compiled)
        self._fuzzy_stems = frozenset(
            p.text
            for r in compiled
            for p in r.parts
            if p.how == "stem" and len(p.text) >= FUZZY_MIN
        )
        # Rules by their first part, so that a word looks up the rules it can start instead of
        # trying them all: by stem and exact word (a dictionary), by prefix and by a stem one
        # typo away (short lists).
        self._by_stem: dict[str, list[_Rule]] = {}
        self._by_exact: dict[str, list[_Rule]] = {}
        prefixed: dict[str, list[_Rule]] = {}
        for rule in compiled:
            first = rule.parts[0]
            index = {"stem": self._by_stem, "exact": self._by_exact, "prefix": prefixed}[first.how]
            index.setdefault(first.text, []).append(rule)
        self._by_prefix = tuple(prefixed.items())
        self._fuzzy_firsts = tuple(
            (first, rules) for first, rules in self._by_stem.items() if first in self._fuzzy_stems
        )

    def classify(self, text: str) -> tuple[Theme, ...]:
        """The comment's themes in `THEMES` order; `(Theme.OTHER,)` when no rule matches."""
        found = self.matches(text)
        kept = {
            rule.theme
            for rule, i in found
            if not any(
                other.theme is not rule.theme and _inside(rule, i, other, j) for other, j in found
            )
        }
        for theme, absorbed in ABSORBS.items():
            if theme in kept:
                kept.discard(absorbed)
        return tuple(t for t in RULED if t in kept) or (Theme.OTHER,)

    def matches(self, text: str) -> list[tuple[_Rule, int]]:
        """Every rule that matches, with the index of the word where it starts."""
        folded = _theme_words(text)
        stems = [stem(w) for w in folded]
        found: list[tuple[_Rule, int]] = []
        for i in range(len(folded)):
            negated = i > 0 and folded[i - 1] in NEGATIONS
            for rule in self._candidates(folded[i], stems[i]):
                if negated and not rule.negated:
                    continue
                if self._matches_at(rule, folded, stems, i):
                    found.append((rule, i))
        return found

    def _candidates(self, word: str, word_stem: str) -> Iterable[_Rule]:
        yield from self._by_stem.get(word_stem, ())
        yield from self._by_exact.get(word, ())
        for prefix, rules in self._by_prefix:
            if word.startswith(prefix):
                yield from rules
        if len(word_stem) >= FUZZY_MIN - 1:
            for first, rules in self._fuzzy_firsts:
                if first != word_stem and one_typo_apart(first, word_stem):
                    yield from rules

    def _matches_at(self, rule: _Rule, folded: list[str], stems: list[str], i: int) -> bool:
        if i + len(rule.parts) > len(folded):
            return False
        return all(
            self._part_matches(part, folded[i + k], stems[i + k])
            for k, part in enumerate(rule.parts)
        )

    def _part_matches(self, part: _Part, word: str, word_stem: str) -> bool:
        if part.how == "prefix":
            return word.startswith(part.text)
        if part.how == "exact":
            return word == part.text
        if part.text == word_stem:
            return True
        return (
            part.text in self._fuzzy_stems
            and len(word_stem) >= FUZZY_MIN - 1
            and one_typo_apart(part.text, word_stem)
        )


def _inside(rule: _Rule, i: int, other: _Rule, j: int) -> bool:
    """Whether `rule`'s match at word `i` lies within the longer match of `other` at `j`."""
    return (
        len(other.parts) > len(rule.parts)
        and j <= i
        and i + len(rule.parts) <= j + len(other.parts)
    )


def _compile(theme: Theme, phrase: str) -> _Rule:
    raw = fold(phrase).split()
    parts: list[_Part] = []
    for token in raw:
        body = token.rstrip("*").lstrip("=")
        if not WORD.fullmatch(body):
            raise RulesError(f"{theme}: {phrase!r}: {token!r} is not one word")
        if token.endswith("*"):
            parts.append(_Part(body, "prefix"))
        elif token.startswith("="):
            parts.append(_Part(body, "exact"))
        else:
            parts.append(_Part(stem(body), "stem"))
    if not parts:
        raise RulesError(f"{theme}: an empty rule")
    return _Rule(theme, phrase, tuple(parts), negated=raw[0].strip("*=") in NEGATIONS)


def one_typo_apart(a: str, b: str) -> bool:
    """Whether `b` is `a` with one letter left out, added, changed, or two neighbours swapped
    (the optimal-string-alignment distance is at most 1)."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la == lb:
        diff = [i for i in range(la) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        return (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )
    short, long_ = (a, b) if la < lb else (b, a)
    i = 0
    while i < len(short) and short[i] == long_[i]:
        i += 1
    return short[i:] == long_[i + 1 :]
