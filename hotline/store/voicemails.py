"""Voicemails in the store: the row, its callback attempts and its history, read and written by the
voicemail services (`hotline.services.voicemails`) and watcher inside their transactions.

Every change here writes a `voicemail_events` row in the same transaction. Moves of a voicemail
are conditional on the state they start from (its state and attempt count as read), so two
writers racing on one voicemail cannot both win: the loser gets `VoicemailChanged`, a domain
`Conflict` (409 at the edge), not a driver error. What the router decides about callback contacts
(accepted, breached) arrives through the journal's projection (`hotline.store.events`), in the
journal's transactions.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from hotline.domain.errors import Conflict
from hotline.store.tx import Tx

_COLUMNS = (
    "id, phone, topic, language, transcript, audio_type, audio_size, audio_sha256, audio_file,"
    " audio_deleted_at, arrived_at, deadline_at, state, attempts, contact_id, next_attempt_at,"
    " breached, ended_at, updated_at"
)
_ATTEMPT_COLUMNS = (
    "voicemail_id, attempt, contact_id, arrived_at, target_at, deadline_at, accepted_at,"
    " operator_id, breached_at, outcome, comment, reported_by, reported_at"
)


class VoicemailChanged(Conflict):
    """The voicemail moved on since it was read (say, another report of the same attempt won)."""


@dataclass(frozen=True, slots=True)
class VoicemailRow:
    id: str
    phone: str
    topic: str
    language: str
    transcript: str | None
    audio_type: str
    audio_size: int
    audio_sha256: str
    audio_file: str
    audio_deleted_at: float | None
    arrived_at: float
    deadline_at: float
    state: str
    attempts: int
    contact_id: str
    next_attempt_at: float | None
    breached: bool
    ended_at: float | None
    updated_at: float


@dataclass(frozen=True, slots=True)
class AttemptRow:
    voicemail_id: str
    attempt: int
    contact_id: str
    arrived_at: float
    target_at: float
    deadline_at: float
    accepted_at: float | None
    operator_id: str | None
    breached_at: float | None
    outcome: str | None
    comment: str | None
    reported_by: str | None
    reported_at: float | None


@dataclass(frozen=True, slots=True)
class NewVoicemail:
    id: str
    phone: str
    topic: str
    language: str
    transcript: str | None
    audio_type: str
    audio_size: int
    audio_sha256: str
    audio_file: str
    arrived_at: float
    deadline_at: float
    idempotency_scope: str | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True, slots=True)
class NewAttempt:
    attempt: int
    contact_id: str
    arrived_at: float
    target_at: float
    deadline_at: float


@dataclass(frozen=True, slots=True)
class VoicemailEventRow:
    at: float
    kind: str
    attempt: int | None
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class OpenCallback:
    """A voicemail whose callback contact is live, with that contact's row as the store has it."""

    voicemail: VoicemailRow
    attempt: AttemptRow
    contact_state: str | None  # None: the contact row is missing (a crash before it was queued)
    contact_ended_at: float | None
    contact_outcome: str | None


@dataclass(frozen=True, slots=True)
class ReportedButLive:
    """An attempt whose outcome is recorded while its contact has not ended (a crash between)."""

    voicemail_id: str
    contact_id: str
    reported_by: str
    outcome: str


@dataclass(frozen=True, slots=True)
class VoicemailFigures:
    calling: int
    calling_breached: int  # live callbacks past their hour
    retry_wait: int
    next_retry_at: float | None
    breaches_since: int  # breach events since the instant asked about


# -- writes -------------------------------------------------------------------------------------


async def insert_voicemail(tx: Tx, v: NewVoicemail, first: NewAttempt, *, at: float) -> None:
    await tx.execute(
        f"INSERT INTO voicemails ({_COLUMNS}, idempotency_scope, idempotency_key)"
        " VALUES (:id, :phone, :topic, :language, :transcript, :audio_type, :audio_size,"
        " :audio_sha256, :audio_file, NULL, :arrived_at, :deadline_at, 'calling', 1,"
        " :contact_id, NULL, 0, NULL, :at, :scope, :key)",
        {
            "id": v.id,
            "phone": v.phone,
            "topic": v.topic,
            "language": v.language,
            "transcript": v.transcript,
            "audio_type": v.audio_type,
            "audio_size": v.audio_size,
            "audio_sha256": v.audio_sha256,
            "audio_file": v.audio_file,
            "arrived_at": v.arrived_at,
            "deadline_at": v.deadline_at,
            "contact_id": first.contact_id,
            "at": at,
            "scope": v.idempotency_scope,
            "key": v.idempotency_key,
        },
    )
    data = {"audio_type": v.audio_type, "audio_size": v.audio_size, "sha256": v.audio_sha256}
    await record_event(tx, v.id, at, "received", None, data)
    await _insert_attempt(tx, v.id, first, at=at)


async def start_retry(tx: Tx, vm: VoicemailRow, attempt: NewAttempt, *, at: float) -> None:
    """Move `vm` from waiting for a retry to calling, with `attempt` as its new contact."""
    changed = await tx.execute(
        "UPDATE voicemails SET state = 'calling', attempts = :n, contact_id = :contact,"
        " next_attempt_at = NULL, updated_at = :at"
        " WHERE id = :id AND state = 'retry_wait' AND attempts = :n - 1",
        {"n": attempt.attempt, "contact": attempt.contact_id, "at": at, "id": vm.id},
    )
    if changed != 1:
        raise VoicemailChanged(f"voicemail {vm.id} is not waiting for attempt {attempt.attempt}")
    await _insert_attempt(tx, vm.id, attempt, at=at)


async def record_outcome(
    tx: Tx,
    vm: VoicemailRow,
    *,
    outcome: str,
    comment: str | None,
    reported_by: str,
    state: str,
    next_attempt_at: float | None,
    at: float,
) -> None:
    """Record the outcome of `vm`'s current attempt and move it to `state`."""
    ended = state in ("completed", "closed")
    changed = await tx.execute(
        "UPDATE voicemails SET state = :state, next_attempt_at = :next, updated_at = :at,"
        " ended_at = CASE WHEN :ended THEN :at ELSE NULL END"
        " WHERE id = :id AND state = 'calling' AND attempts = :n",
        {
            "state": state,
            "next": next_attempt_at,
            "at": at,
            "ended": ended,
            "id": vm.id,
            "n": vm.attempts,
        },
    )
    if changed != 1:
        raise VoicemailChanged(f"voicemail {vm.id} has no callback in progress")
    await tx.execute(
        "UPDATE voicemail_attempts SET outcome = ?, comment = ?, reported_by = ?, reported_at = ?"
        " WHERE voicemail_id = ? AND attempt = ?",
        (outcome, comment, reported_by, at, vm.id, vm.attempts),
    )
    data: dict[str, Any] = {"outcome": outcome, "operator_id": reported_by}
    if comment:
        data["comment"] = comment
    await record_event(tx, vm.id, at, "attempt_reported", vm.attempts, data)
    if next_attempt_at is not None:
        await record_event(
            tx, vm.id, at, "retry_scheduled", vm.attempts + 1, {"due_at": next_attempt_at}
        )
    else:
        await record_event(tx, vm.id, at, state, vm.attempts, {})


async def mark_audio_deleted(tx: Tx, voicemail_id: str, *, at: float, reason: str) -> None:
    changed = await tx.execute(
        "UPDATE voicemails SET audio_deleted_at = ?, updated_at = ?"
        " WHERE id = ? AND audio_deleted_at IS NULL",
        (at, at, voicemail_id),
    )
    if changed == 1:
        await record_event(tx, voicemail_id, at, "audio_deleted", None, {"reason": reason})


async def record_event(
    tx: Tx, voicemail_id: str, at: float, kind: str, attempt: int | None, data: dict[str, Any]
) -> None:
    await tx.execute(
        "INSERT INTO voicemail_events (voicemail_id, at, kind, attempt, data)"
        " VALUES (?, ?, ?, ?, ?)",
        (voicemail_id, at, kind, attempt, json.dumps(data, ensure_ascii=False, sort_keys=True)),
    )


async def _insert_attempt(tx: Tx, voicemail_id: str, a: NewAttempt, *, at: float) -> None:
    await tx.execute(
        "INSERT INTO voicemail_attempts (voicemail_id, attempt, contact_id, arrived_at,"
        " target_at, deadline_at) VALUES (?, ?, ?, ?, ?, ?)",
        (voicemail_id, a.attempt, a.contact_id, a.arrived_at, a.target_at, a.deadline_at),
    )
    data = {"contact_id": a.contact_id, "arrived_at": a.arrived_at, "deadline_at": a.deadline_at}
    await record_event(tx, voicemail_id, at, "callback_queued", a.attempt, data)


# -- reads --------------------------------------------------------------------------------------


async def get_voicemail(tx: Tx, voicemail_id: str) -> VoicemailRow | None:
    row = await tx.fetchone(f"SELECT {_COLUMNS} FROM voicemails WHERE id = ?", (voicemail_id,))
    return None if row is None else _voicemail(row)


async def find_by_idempotency_key(tx: Tx, scope: str, key: str) -> VoicemailRow | None:
    row = await tx.fetchone(
        f"SELECT {_COLUMNS} FROM voicemails WHERE idempotency_scope = ? AND idempotency_key = ?",
        (scope, key),
    )
    return None if row is None else _voicemail(row)


async def list_attempts(tx: Tx, voicemail_id: str) -> list[AttemptRow]:
    rows = await tx.fetchall(
        f"SELECT {_ATTEMPT_COLUMNS} FROM voicemail_attempts WHERE voicemail_id = ?"
        " ORDER BY attempt",
        (voicemail_id,),
    )
    return [_attempt(r) for r in rows]


async def list_events(tx: Tx, voicemail_id: str) -> list[VoicemailEventRow]:
    rows = await tx.fetchall(
        "SELECT at, kind, attempt, data FROM voicemail_events WHERE voicemail_id = ? ORDER BY id",
        (voicemail_id,),
    )
    return [
        VoicemailEventRow(r["at"], r["kind"], r["attempt"], json.loads(r["data"])) for r in rows
    ]


async def due_retries(tx: Tx, *, now: float, limit: int) -> list[VoicemailRow]:
    rows = await tx.fetchall(
        f"SELECT {_COLUMNS} FROM voicemails WHERE state = 'retry_wait' AND next_attempt_at <= ?"
        " ORDER BY next_attempt_at, id LIMIT ?",
        (now, limit),
    )
    return [_voicemail(r) for r in rows]


async def next_retry_at(tx: Tx) -> float | None:
    row = await tx.fetchone(
        "SELECT MIN(next_attempt_at) AS due FROM voicemails WHERE state = 'retry_wait'"
    )
    return None if row is None or row["due"] is None else float(row["due"])


async def open_callbacks(tx: Tx, *, ended_only: bool) -> list[OpenCallback]:
    """Voicemails in `calling` with their current attempt and its contact's state; with
    `ended_only`, just those whose contact has ended (without an outcome reported here)."""
    prefixed = ", ".join(f"v.{c.strip()}" for c in _COLUMNS.split(","))
    attempt_cols = ", ".join(f"a.{c.strip()} AS a_{c.strip()}" for c in _ATTEMPT_COLUMNS.split(","))
    where = " AND c.ended_at IS NOT NULL" if ended_only else ""
    rows = await tx.fetchall(
        f"SELECT {prefixed}, {attempt_cols}, c.state AS c_state, c.ended_at AS c_ended_at,"
        " c.outcome AS c_outcome"
        " FROM voicemails v"
        " JOIN voicemail_attempts a ON a.voicemail_id = v.id AND a.attempt = v.attempts"
        " LEFT JOIN contacts c ON c.id = v.contact_id"
        f" WHERE v.state = 'calling'{where} ORDER BY v.arrived_at, v.id"
    )
    return [
        OpenCallback(
            _voicemail(r),
            _attempt(r, prefix="a_"),
            r["c_state"],
            r["c_ended_at"],
            r["c_outcome"],
        )
        for r in rows
    ]


async def reported_but_live(tx: Tx) -> list[ReportedButLive]:
    rows = await tx.fetchall(
        "SELECT a.voicemail_id, a.contact_id, a.reported_by, a.outcome"
        " FROM voicemail_attempts a JOIN contacts c ON c.id = a.contact_id"
        " WHERE c.ended_at IS NULL AND a.outcome IS NOT NULL ORDER BY a.reported_at"
    )
    return [
        ReportedButLive(r["voicemail_id"], r["contact_id"], r["reported_by"], r["outcome"])
        for r in rows
    ]


async def recording_names(tx: Tx) -> set[str]:
    """The file names of the recordings still kept (retention deletes the file first, then
    records it): bounded by the retention, not by all history."""
    rows = await tx.fetchall("SELECT audio_file FROM voicemails WHERE audio_deleted_at IS NULL")
    return {r["audio_file"] for r in rows}


async def recordings_older_than(tx: Tx, before: float, *, limit: int) -> list[tuple[str, str]]:
    """(voicemail id, file name) of kept recordings that arrived before `before`, oldest first."""
    rows = await tx.fetchall(
        "SELECT id, audio_file FROM voicemails"
        " WHERE audio_deleted_at IS NULL AND arrived_at < ? ORDER BY arrived_at LIMIT ?",
        (before, limit),
    )
    return [(r["id"], r["audio_file"]) for r in rows]


async def first_callbacks(
    tx: Tx, start: float, end: float
) -> list[tuple[float, float, float | None]]:
    """(arrived, deadline, accepted) of the first callback of each voicemail arrived in
    [start, end)."""
    rows = await tx.fetchall(
        "SELECT v.arrived_at, a.deadline_at, a.accepted_at FROM voicemails v"
        " JOIN voicemail_attempts a ON a.voicemail_id = v.id AND a.attempt = 1"
        " WHERE v.arrived_at >= ? AND v.arrived_at < ?",
        (start, end),
    )
    return [(r[0], r[1], r[2]) for r in rows]


async def voicemail_figures(tx: Tx, *, now: float, breaches_since: float) -> VoicemailFigures:
    row = await tx.fetchone(
        "SELECT"
        " (SELECT count(*) FROM voicemails WHERE state = 'calling') AS calling,"
        " (SELECT count(*) FROM voicemails v JOIN voicemail_attempts a"
        "    ON a.voicemail_id = v.id AND a.attempt = v.attempts"
        "    WHERE v.state = 'calling' AND a.accepted_at IS NULL AND a.deadline_at <= :now)"
        "   AS calling_breached,"
        " (SELECT count(*) FROM voicemails WHERE state = 'retry_wait') AS retry_wait,"
        " (SELECT MIN(next_attempt_at) FROM voicemails WHERE state = 'retry_wait') AS next_retry,"
        " (SELECT count(*) FROM voicemail_events WHERE kind = 'breached' AND at >= :since)"
        "   AS breaches",
        {"now": now, "since": breaches_since},
    )
    assert row is not None
    return VoicemailFigures(
        row["calling"],
        row["calling_breached"],
        row["retry_wait"],
        row["next_retry"],
        row["breaches"],
    )


def _voicemail(r: sqlite3.Row) -> VoicemailRow:
    return VoicemailRow(
        id=r["id"],
        phone=r["phone"],
        topic=r["topic"],
        language=r["language"],
        transcript=r["transcript"],
        audio_type=r["audio_type"],
        audio_size=r["audio_size"],
        audio_sha256=r["audio_sha256"],
        audio_file=r["audio_file"],
        audio_deleted_at=r["audio_deleted_at"],
        arrived_at=r["arrived_at"],
        deadline_at=r["deadline_at"],
        state=r["state"],
        attempts=r["attempts"],
        contact_id=r["contact_id"],
        next_attempt_at=r["next_attempt_at"],
        breached=bool(r["breached"]),
        ended_at=r["ended_at"],
        updated_at=r["updated_at"],
    )


def _attempt(r: sqlite3.Row, *, prefix: str = "") -> AttemptRow:
    return AttemptRow(
        voicemail_id=r[f"{prefix}voicemail_id"],
        attempt=r[f"{prefix}attempt"],
        contact_id=r[f"{prefix}contact_id"],
        arrived_at=r[f"{prefix}arrived_at"],
        target_at=r[f"{prefix}target_at"],
        deadline_at=r[f"{prefix}deadline_at"],
        accepted_at=r[f"{prefix}accepted_at"],
        operator_id=r[f"{prefix}operator_id"],
        breached_at=r[f"{prefix}breached_at"],
        outcome=r[f"{prefix}outcome"],
        comment=r[f"{prefix}comment"],
        reported_by=r[f"{prefix}reported_by"],
        reported_at=r[f"{prefix}reported_at"],
    )
