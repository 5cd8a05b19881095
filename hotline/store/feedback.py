"""Citizens' feedback in the store: comments sorted by theme, and supervisors' corrections.

Writers call `add_feedback` inside the transaction of the change the comment came with (a survey
answer, a feedback form's ticket, a complaint an operator records), so the comment is on disk
exactly when that change is. The text is classified there and then
(`hotline.quality.themes`) by the rules in force: the `[feedback.themes]` of config, which the
server copies into the database at start (`set_theme_rules`), so a writer needs no config of its
own. A database that was never given rules labels everything `other`.

`add_feedback` is idempotent on `(source, source_id)`: a retried write finds the first row and
returns its id, leaving its text as first written.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from hotline.quality.themes import Theme, ThemeClassifier, terms
from hotline.store.tx import Tx


class FeedbackSource(StrEnum):
    SURVEY = "survey"  # the comment of a survey answer; source_id: the survey
    FORM = "form"  # a feedback form from the portal; source_id: its ticket's number
    COMPLAINT = "complaint"  # recorded by an operator; source_id: "<contact id>:<n>"


_COLUMNS = (
    "id, at, source, source_id, text, topic, operator_id, categories, auto_categories, corrected_at"
)


@dataclass(frozen=True, slots=True)
class FeedbackRow:
    id: int
    at: float
    source: FeedbackSource
    source_id: str
    text: str
    topic: str | None
    operator_id: str | None
    categories: tuple[Theme, ...]  # the current label: the latest correction, else `auto`
    auto_categories: tuple[Theme, ...]  # the classifier's label when it was written
    corrected_at: float | None


def rules_text(rules: Mapping[str, Sequence[str]]) -> str:
    """The rules as the store keeps them (JSON, keys sorted): equal rules, equal text."""
    return json.dumps({k: list(v) for k, v in rules.items()}, ensure_ascii=False, sort_keys=True)


async def set_theme_rules(tx: Tx, rules: Mapping[str, Sequence[str]]) -> None:
    """Make `rules` (theme -> words and phrases) the ones later comments are classified by.
    Refused with `RulesError` if they cannot be compiled; rows already written keep their label."""
    ThemeClassifier(rules)  # a bad rule fails here, not at the next comment
    await tx.execute(
        "INSERT INTO feedback_rules (id, rules) VALUES (1, ?)"
        " ON CONFLICT (id) DO UPDATE SET rules = excluded.rules",
        (rules_text(rules),),
    )


async def theme_rules_text(tx: Tx) -> str | None:
    """The rules in force as `rules_text` wrote them; None if none were ever set."""
    row = await tx.fetchone("SELECT rules FROM feedback_rules WHERE id = 1")
    return None if row is None else str(row["rules"])


async def theme_classifier(tx: Tx) -> ThemeClassifier:
    """The classifier of the rules in force (compiled once per distinct rule set)."""
    return _compiled(await theme_rules_text(tx) or "{}")


@lru_cache(maxsize=4)
def _compiled(rules_json: str) -> ThemeClassifier:
    return ThemeClassifier(json.loads(rules_json))


async def add_feedback(
    tx: Tx,
    *,
    source: FeedbackSource | str,
    source_id: str,
    text: str,
    topic: str | None,
    operator_id: str | None,
    at: float,
) -> int:
    """Write a comment, classified by the rules in force; its id. The same `(source,
    source_id)` again writes nothing and returns the first row's id."""
    source = FeedbackSource(source)  # ValueError for a source that is none of them: a bug
    classifier = await theme_classifier(tx)
    label = json.dumps([t.value for t in classifier.classify(text)])
    stems = " ".join(terms(text))
    row = await tx.fetchone(
        "INSERT INTO feedback (at, source, source_id, text, topic, operator_id, categories,"
        " auto_categories, terms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (source, source_id) DO NOTHING RETURNING id",
        (at, source.value, source_id, text, topic, operator_id, label, label, stems),
    )
    if row is None:
        row = await tx.fetchone(
            "SELECT id FROM feedback WHERE source = ? AND source_id = ?",
            (source.value, source_id),
        )
        assert row is not None  # the conflict was with this very row
    return int(row["id"])


async def get_feedback(tx: Tx, feedback_id: int) -> FeedbackRow | None:
    row = await tx.fetchone(f"SELECT {_COLUMNS} FROM feedback WHERE id = ?", (feedback_id,))
    return None if row is None else _feedback(row)


def _feedback(r: sqlite3.Row) -> FeedbackRow:
    return FeedbackRow(
        id=r["id"],
        at=r["at"],
        source=FeedbackSource(r["source"]),
        source_id=r["source_id"],
        text=r["text"],
        topic=r["topic"],
        operator_id=r["operator_id"],
        categories=_themes(r["categories"]),
        auto_categories=_themes(r["auto_categories"]),
        corrected_at=r["corrected_at"],
    )


def _themes(text: str) -> tuple[Theme, ...]:
    return tuple(Theme(t) for t in json.loads(text))


@dataclass(frozen=True, slots=True)
class CorrectionRow:
    at: float
    token_id: str
    previous: tuple[Theme, ...]
    categories: tuple[Theme, ...]


async def list_feedback(
    tx: Tx,
    *,
    category: Theme | None = None,
    topic: str | None = None,
    since: float | None = None,
    until: float | None = None,
    after_id: int = 0,
    limit: int,
) -> list[FeedbackRow]:
    """Comments in the order written (by id), filtered by a theme of their current label, their
    topic and `since <= at < until`."""
    where = ["id > :after"]
    if category is not None:
        where.append("EXISTS (SELECT 1 FROM json_each(categories) WHERE value = :category)")
    if topic is not None:
        where.append("topic = :topic")
    if since is not None:
        where.append("at >= :since")
    if until is not None:
        where.append("at < :until")
    rows = await tx.fetchall(
        f"SELECT {_COLUMNS} FROM feedback WHERE {' AND '.join(where)} ORDER BY id LIMIT :limit",
        {
            "after": after_id,
            "category": None if category is None else category.value,
            "topic": topic,
            "since": since,
            "until": until,
            "limit": limit,
        },
    )
    return [_feedback(r) for r in rows]


async def correct_categories(
    tx: Tx, feedback_id: int, categories: Sequence[Theme], *, token_id: str, at: float
) -> FeedbackRow | None:
    """Make `categories` the comment's label, keeping the correction with who and when; None if
    there is no such comment. A correction to the label it already has is kept too (it says a
    supervisor confirmed it)."""
    current = await get_feedback(tx, feedback_id)
    if current is None:
        return None
    label = json.dumps([t.value for t in categories])
    await tx.execute(
        "INSERT INTO feedback_corrections (feedback_id, at, token_id, previous, categories)"
        " VALUES (?, ?, ?, ?, ?)",
        (feedback_id, at, token_id, json.dumps([t.value for t in current.categories]), label),
    )
    await tx.execute(
        "UPDATE feedback SET categories = ?, corrected_at = ? WHERE id = ?",
        (label, at, feedback_id),
    )
    return await get_feedback(tx, feedback_id)


async def corrections(tx: Tx, feedback_id: int) -> list[CorrectionRow]:
    """The corrections of a comment's label, oldest first."""
    rows = await tx.fetchall(
        "SELECT at, token_id, previous, categories FROM feedback_corrections"
        " WHERE feedback_id = ? ORDER BY id",
        (feedback_id,),
    )
    return [
        CorrectionRow(r["at"], r["token_id"], _themes(r["previous"]), _themes(r["categories"]))
        for r in rows
    ]


@dataclass(frozen=True, slots=True)
class TrendRow:
    """What the trends count of one comment."""

    at: float
    topic: str | None
    categories: tuple[Theme, ...]
    terms: tuple[str, ...]


async def trend_rows(tx: Tx, *, since: float, until: float) -> list[TrendRow]:
    """The label and terms of every comment with `since <= at < until`."""
    rows = await tx.fetchall(
        "SELECT at, topic, categories, terms FROM feedback WHERE at >= ? AND at < ?",
        (since, until),
    )
    return [
        TrendRow(r["at"], r["topic"], _themes(r["categories"]), tuple(r["terms"].split()))
        for r in rows
    ]
