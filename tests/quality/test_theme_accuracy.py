"""The theme classifier, with the rules of config/hotline.toml, against comments labelled by hand.

The labelled comments (tests/quality/data/) are what citizens write about the line and the
portal: typos, capitals, `ё` and `е`, several themes in one. They come in three files, written in
this order: `comments_tune.tsv` (the rules were written while reading it), `comments_validation.tsv`
(measured once as held out, then used to revise the rules) and `comments_held_out.tsv` (written
after the last revision and never used to change a rule: the honest estimate).

A comment counts as right only when the classifier gives exactly its set of themes. The guide the
labels follow:
- wait_time: waiting is the complaint: the line, the queue, the chat, a callback or an answer to
  an application that does not come;
- wrong_answer: the answer was wrong, incomplete, contradictory or did not help, or the operator
  did not know;
- suggestion: a proposal to change how the line or the portal works;
- thanks: gratitude or praise;
- new_service: a request for a service the portal or the line does not offer (it absorbs
  suggestion: such a request is labelled new_service alone);
- other: none of these (questions, technical faults, rudeness, neutral marks).

The accuracy of each file and of all of them is printed in the run's summary; the test fails below
85 % on all comments or on the held-out ones.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from hotline.config import load_settings
from hotline.quality.themes import Theme, ThemeClassifier
from tests.conftest import SUMMARY

DATA = Path(__file__).parent / "data"
CONFIG = Path(__file__).resolve().parents[2] / "config" / "hotline.toml"
FILES = ("comments_tune.tsv", "comments_validation.tsv", "comments_held_out.tsv")
GOAL = 0.85
SECTION = "feedback themes: accuracy on the labelled comments"

Labelled = list[tuple[frozenset[Theme], str]]


def labelled(name: str) -> Labelled:
    rows: Labelled = []
    for number, line in enumerate((DATA / name).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        themes, text = line.split("\t")
        gold = frozenset(Theme(t) for t in themes.split(","))
        assert text.strip(), f"{name}:{number}: no text"
        assert Theme.OTHER not in gold or len(gold) == 1, f"{name}:{number}: other and more"
        assert not {Theme.NEW_SERVICE, Theme.SUGGESTION} <= gold, f"{name}:{number}: absorbed"
        rows.append((gold, text))
    return rows


@pytest.fixture(scope="module")
def classifier() -> ThemeClassifier:
    return ThemeClassifier(load_settings(CONFIG).feedback.themes)


def test_the_labelled_set_is_large_and_varied() -> None:
    every = [row for name in FILES for row in labelled(name)]
    texts = [text for _, text in every]
    assert len(every) >= 200
    assert len(set(texts)) == len(texts), "a comment twice"
    assert len(labelled("comments_held_out.tsv")) >= 60
    for theme in Theme:
        assert sum(theme in gold for gold, _ in every) >= 15, theme
    assert sum(len(gold) > 1 for gold, _ in every) >= 20  # several themes in one
    assert any("ё" in t for t in texts) and any(t != t.lower() and t.isupper() for t in texts)


def test_themes_are_found_in_at_least_85_percent_of_the_comments(
    classifier: ThemeClassifier, record_property: Callable[[str, object], None]
) -> None:
    right_all = total_all = 0
    scores: dict[str, float] = {}
    for name in FILES:
        rows = labelled(name)
        right = sum(frozenset(classifier.classify(text)) == gold for gold, text in rows)
        scores[name] = right / len(rows)
        line = f"{name:<26} {right:>3} / {len(rows):>3} = {right / len(rows):6.1%}"
        record_property(SUMMARY, (SECTION, line))
        right_all += right
        total_all += len(rows)
    overall = right_all / total_all
    line = f"{'all':<26} {right_all:>3} / {total_all:>3} = {overall:6.1%}"
    record_property(SUMMARY, (SECTION, line))
    assert overall >= GOAL
    assert scores["comments_held_out.tsv"] >= GOAL
