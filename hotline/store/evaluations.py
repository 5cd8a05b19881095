"""Quality evaluations of handled contacts (migration 0017): written once, read per contact and,
for the period figures by operator, per operator over a span of handling times."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from hotline.store.tx import Tx


@dataclass(frozen=True, slots=True)
class EvaluationRow:
    id: int
    contact_id: str
    operator_id: str
    scorecard: str
    answers: dict[str, bool]
    score: float
    failed_criticals: tuple[str, ...]
    passed: bool
    comment: str | None
    handled_at: float
    evaluated_by: str
    evaluated_at: float


@dataclass(frozen=True, slots=True)
class OperatorQuality:
    """One operator's evaluations of contacts handled in a span."""

    evaluations: int
    score_sum: float
    failed_criticals: int  # critical questions not met, over all its evaluations
    failed: int  # evaluations that failed


_COLUMNS = (
    "id, contact_id, operator_id, scorecard, answers, score, failed_criticals, passed, comment,"
    " handled_at, evaluated_by, evaluated_at"
)


async def add_evaluation(
    tx: Tx,
    *,
    contact_id: str,
    operator_id: str,
    scorecard: str,
    answers: dict[str, bool],
    score: float,
    failed_criticals: tuple[str, ...],
    passed: bool,
    comment: str | None,
    handled_at: float,
    evaluated_by: str,
    at: float,
) -> EvaluationRow:
    row = await tx.fetchone(
        f"INSERT INTO evaluations ({_COLUMNS.removeprefix('id, ')})"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING " + _COLUMNS,
        (
            contact_id,
            operator_id,
            scorecard,
            json.dumps({"answers": answers, "failed": list(failed_criticals)}),
            score,
            len(failed_criticals),
            int(passed),
            comment,
            handled_at,
            evaluated_by,
            at,
        ),
    )
    assert row is not None
    return _row(row)


async def evaluations_of(tx: Tx, contact_id: str) -> list[EvaluationRow]:
    rows = await tx.fetchall(
        f"SELECT {_COLUMNS} FROM evaluations WHERE contact_id = ? ORDER BY id", (contact_id,)
    )
    return [_row(r) for r in rows]


async def handled_between(
    tx: Tx, start: float, end: float
) -> list[tuple[float, str, float, int, bool]]:
    """(handled_at, operator, score, failed criticals, passed) of the evaluations of contacts
    handled in [start, end)."""
    rows = await tx.fetchall(
        "SELECT handled_at, operator_id, score, failed_criticals, passed FROM evaluations"
        " WHERE handled_at >= ? AND handled_at < ? ORDER BY handled_at",
        (start, end),
    )
    return [(r[0], r[1], r[2], r[3], bool(r[4])) for r in rows]


async def certified_until_of(tx: Tx) -> dict[str, str | None]:
    """Each operator's last certified day (ISO), for the figures by operator."""
    rows = await tx.fetchall("SELECT id, certified_until FROM operators")
    return {r[0]: r[1] for r in rows}


def _row(r: sqlite3.Row) -> EvaluationRow:
    stored = json.loads(r["answers"])
    return EvaluationRow(
        id=r["id"],
        contact_id=r["contact_id"],
        operator_id=r["operator_id"],
        scorecard=r["scorecard"],
        answers=stored["answers"],
        score=r["score"],
        failed_criticals=tuple(stored["failed"]),
        passed=bool(r["passed"]),
        comment=r["comment"],
        handled_at=r["handled_at"],
        evaluated_by=r["evaluated_by"],
        evaluated_at=r["evaluated_at"],
    )
