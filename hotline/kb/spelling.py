"""Close spellings: which indexed stems a misspelt query word most likely means.

Citizens type «пороль», «зоявление», «госуслгуи». A word whose stem is not in the index is
compared with the index's stems that begin with the same letter and are of similar length (the
store hands those over), by optimal-string-alignment distance: one edit (a letter wrong, missing,
extra, or two swapped) for words up to `LONG_WORD` letters, two beyond. The nearest survive.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["LONG_WORD", "MAX_CORRECTIONS", "allowed_edits", "close_spellings", "edit_distance"]

LONG_WORD = 7
MAX_CORRECTIONS = 3
MIN_WORD = 4  # a shorter word has too many neighbours one edit away to guess from


def allowed_edits(word: str) -> int:
    if len(word) < MIN_WORD:
        return 0
    return 1 if len(word) <= LONG_WORD else 2


def edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance of `a` and `b`, or `limit + 1` once it is past
    `limit` (the row minimum tells early)."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


def close_spellings(word: str, candidates: Iterable[str]) -> list[str]:
    """The candidates nearest to `word` within its allowed edits, nearest first (at most
    `MAX_CORRECTIONS`); none when `word` itself is among them or is too short to guess."""
    limit = allowed_edits(word)
    if limit == 0:
        return []
    scored: list[tuple[int, str]] = []
    letters = set(word)
    for candidate in candidates:
        if candidate == word:
            return []
        # An edit changes the set of letters by at most two (a substitution: one out, one in),
        # so a candidate further apart than that cannot be near; a C-speed test that spares the
        # Python edit distance most of a large index's candidates.
        if len(letters.symmetric_difference(candidate)) > 2 * limit:
            continue
        distance = edit_distance(word, candidate, limit)
        if distance <= limit:
            scored.append((distance, candidate))
    scored.sort()
    return [c for _, c in scored[:MAX_CORRECTIONS]]
