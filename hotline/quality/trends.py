"""What citizens' comments are about, and what they talk about more than before: the "recurring
problems" list of `GET /v1/quality/trends`.

Pure: the service reads each comment's label and stems (`hotline.store.feedback.trend_rows`) for
a period and for the period of the same length just before it, and this module counts. A term is
a stem (`ожидан` for ожидание, ожидания …) counted once per comment that uses it; words that say
nothing by themselves (`STOP_STEMS`: что, это, был …) and numbers are not terms. A term's rise is
the number of comments using it now minus before; the list holds the terms that rose, most first
(ties: more comments now, then alphabetical), used by at least `min_count` comments now.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from hotline.domain.words import stem
from hotline.quality.themes import THEMES, Theme

# Function words and the line's own vocabulary, which every comment holds in every period.
_STOP_WORDS = (
    "что как это все всё был была было были быть так там тут уже еще ещё или его она они оно"
    " мне меня мой моя мое моё мои вас вам ваш ваша наш нас нам для при про без под над через"
    " когда чтобы если даже очень только потом тоже весь вся свой своя который которая которые"
    " где кто чем чего сам сама этот эта эти тот того этого после перед между почему зачем"
    " день раз вот ещё нет есть быть будет можно нужно надо"
)
STOP_STEMS = frozenset(stem(w.replace("ё", "е")) for w in _STOP_WORDS.split())


@dataclass(frozen=True, slots=True)
class Comment:
    group: str | None  # the topic (or whatever the report is grouped by); None: not known
    categories: Sequence[Theme]
    terms: Sequence[str]


@dataclass(frozen=True, slots=True)
class Rise:
    term: str
    count: int  # comments using it in the period
    previous: int  # ... in the period before

    @property
    def rise(self) -> int:
        return self.count - self.previous


@dataclass(frozen=True, slots=True)
class Trend:
    total: int  # comments in the period
    categories: dict[Theme, int]  # comments per theme; a comment counts once in each of its own
    rising: list[Rise]


def trend(
    now: Iterable[Comment], before: Iterable[Comment], *, limit: int, min_count: int
) -> Trend:
    """The counts of `now` and its terms that rose against `before`."""
    current = list(now)
    categories = dict.fromkeys(THEMES, 0)
    for comment in current:
        for theme in set(comment.categories):
            categories[theme] += 1
    counts = _term_counts(current)
    previous = _term_counts(before)
    rising = [
        Rise(term, count, previous.get(term, 0))
        for term, count in counts.items()
        if count >= min_count and count > previous.get(term, 0)
    ]
    rising.sort(key=lambda r: (-r.rise, -r.count, r.term))
    return Trend(len(current), categories, rising[:limit])


def by_group(
    now: Iterable[Comment], before: Iterable[Comment], *, limit: int, min_count: int
) -> dict[str | None, Trend]:
    """`trend` per group that has comments now, each against the same group before."""
    current: dict[str | None, list[Comment]] = {}
    for comment in now:
        current.setdefault(comment.group, []).append(comment)
    previous: dict[str | None, list[Comment]] = {}
    for comment in before:
        previous.setdefault(comment.group, []).append(comment)
    return {
        group: trend(comments, previous.get(group, ()), limit=limit, min_count=min_count)
        for group, comments in current.items()
    }


def _term_counts(comments: Iterable[Comment]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for comment in comments:
        counts.update(
            {t for t in comment.terms if t not in STOP_STEMS and not t.isdigit() and len(t) > 2}
        )
    return counts
