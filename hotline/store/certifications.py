"""The certification journal's rows (migration 0017) and the derived date beside the operator.

Entries are only ever inserted; `set_certified_until` writes the derived last day into
`operators.certified_until` (what the router is rebuilt from on start), and an operator event
says so, both in the caller's transaction with the entry that changed it.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import date

from hotline.domain.certification import Entry
from hotline.store.tx import Tx


@dataclass(frozen=True, slots=True)
class JournalRow:
    id: int
    operator_id: str
    kind: str
    score: float | None
    max_score: float | None
    passed: bool
    examiner: str | None
    taken_at: float
    valid_until: date | None
    recommendations: str | None
    corrects: int | None
    corrected_by: int | None
    recorded_by: str
    recorded_at: float

    def entry(self) -> Entry:
        return Entry(
            self.id, self.kind, self.passed, self.taken_at, self.valid_until, self.corrects
        )


@dataclass(frozen=True, slots=True)
class NewEntry:
    operator_id: str
    kind: str
    passed: bool
    taken_at: float
    recorded_by: str
    score: float | None = None
    max_score: float | None = None
    examiner: str | None = None
    valid_until: date | None = None
    recommendations: str | None = None
    corrects: int | None = None


_COLUMNS = (
    "c.id, c.operator_id, c.kind, c.score, c.max_score, c.passed, c.examiner, c.taken_at,"
    " c.valid_until, c.recommendations, c.corrects, c.recorded_by, c.recorded_at,"
    " (SELECT n.id FROM certifications n WHERE n.corrects = c.id) AS corrected_by"
)


async def add_entry(tx: Tx, new: NewEntry, *, at: float) -> int:
    """Insert one entry; its id."""
    row = await tx.fetchone(
        "INSERT INTO certifications (operator_id, kind, score, max_score, passed, examiner,"
        " taken_at, valid_until, recommendations, corrects, recorded_by, recorded_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (
            new.operator_id,
            new.kind,
            new.score,
            new.max_score,
            int(new.passed),
            new.examiner,
            new.taken_at,
            new.valid_until.isoformat() if new.valid_until else None,
            new.recommendations,
            new.corrects,
            new.recorded_by,
            at,
        ),
    )
    assert row is not None
    return int(row[0])


async def journal_of(tx: Tx, operator_id: str) -> list[JournalRow]:
    """Every entry of one operator, oldest first."""
    rows = await tx.fetchall(
        f"SELECT {_COLUMNS} FROM certifications c WHERE c.operator_id = ? ORDER BY c.id",
        (operator_id,),
    )
    return [_row(r) for r in rows]


async def entry_by_id(tx: Tx, entry_id: int) -> JournalRow | None:
    row = await tx.fetchone(f"SELECT {_COLUMNS} FROM certifications c WHERE c.id = ?", (entry_id,))
    return None if row is None else _row(row)


async def set_certified_until(
    tx: Tx, operator_id: str, until: date | None, *, at: float, why: str
) -> None:
    """The derived last day of certification, beside the profile, and an event saying so."""
    text = until.isoformat() if until else None
    await tx.execute(
        "UPDATE operators SET certified_until = ?, updated_at = ? WHERE id = ?",
        (text, at, operator_id),
    )
    await tx.execute(
        "INSERT INTO operator_events (operator_id, at, kind, data) VALUES (?, ?, ?, ?)",
        (
            operator_id,
            at,
            "certification_changed",
            json.dumps({"certified_until": text, "why": why}),
        ),
    )


async def certified_between(tx: Tx, first: date, last: date) -> list[tuple[str, str, date]]:
    """(id, name, last day) of operators whose certification ends from `first` to `last`."""
    rows = await tx.fetchall(
        "SELECT id, name, certified_until FROM operators"
        " WHERE certified_until >= ? AND certified_until <= ? ORDER BY certified_until, id",
        (first.isoformat(), last.isoformat()),
    )
    return [(r["id"], r["name"], date.fromisoformat(r["certified_until"])) for r in rows]


def _row(r: sqlite3.Row) -> JournalRow:
    return JournalRow(
        id=r["id"],
        operator_id=r["operator_id"],
        kind=r["kind"],
        score=r["score"],
        max_score=r["max_score"],
        passed=bool(r["passed"]),
        examiner=r["examiner"],
        taken_at=r["taken_at"],
        valid_until=date.fromisoformat(r["valid_until"]) if r["valid_until"] else None,
        recommendations=r["recommendations"],
        corrects=r["corrects"],
        corrected_by=r["corrected_by"],
        recorded_by=r["recorded_by"],
        recorded_at=r["recorded_at"],
    )
