"""A citizen's history in the store: the notes kept with contacts, and everything one phone did
or was sent (contacts with their notes and survey answer, tickets, voicemails, SMS), in time
order, paged by keyset.

Written and read by `hotline.services.history`. The history is one UNION over the tables, each
part found through an index on the phone (migration 0015, and 0004's `tickets_phone`), ordered
by a key of three integers: the instant in microseconds, the source, and the row's id within it,
so two entries never compare equal and a page starts exactly where the last one ended. The rows
of a page are then read in full by id, a few statements per page whatever its length.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from hotline.store.tx import Tx


class Source(IntEnum):
    """What an entry is; its value orders entries of the same instant."""

    CONTACT = 0
    TICKET = 1
    VOICEMAIL = 2
    SMS = 3


@dataclass(frozen=True, slots=True, order=True)
class HistoryKey:
    """An entry's place in a history: instant (µs since the epoch), source, id in its table."""

    at_us: int
    source: int
    rid: int


FIRST = HistoryKey(-(2**62), -1, -1)  # before every entry


@dataclass(frozen=True, slots=True)
class NoteRow:
    id: int
    contact_id: str
    at: float
    token_id: str
    role: str
    operator_id: str | None
    text: str


@dataclass(frozen=True, slots=True)
class SurveyAnswer:
    """The citizen's answer to the survey after a contact (migration 0013); the comment is the
    survey's row in `feedback` (0014), empty once retention took its text."""

    answered_at: float
    csat: int
    nps: int | None
    comment: str | None


@dataclass(frozen=True, slots=True)
class ContactEntry:
    id: str
    arrived_at: float
    channel: str
    topic: str
    state: str
    operator_id: str | None
    outcome: str | None
    ended_at: float | None
    transferred_to: str | None
    notes: list[NoteRow] = field(default_factory=list)
    survey: SurveyAnswer | None = None


@dataclass(frozen=True, slots=True)
class StatusChange:
    at: float
    from_status: str | None
    to_status: str
    actor: str
    comment: str | None


@dataclass(frozen=True, slots=True)
class TicketEntry:
    number: str
    created_at: float
    topic: str
    status: str
    statuses: list[StatusChange] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class VoicemailEntry:
    id: str
    arrived_at: float
    topic: str
    state: str
    transcript: str | None
    attempts: int
    contact_id: str


@dataclass(frozen=True, slots=True)
class SmsEntry:
    id: int
    created_at: float
    body: str
    state: str


Entry = ContactEntry | TicketEntry | VoicemailEntry | SmsEntry


@dataclass(frozen=True, slots=True)
class Keyed:
    key: HistoryKey
    entry: Entry


# Each part names the index it relies on in its WHERE, word for word (a partial index is matched
# by its terms). `round` keeps an instant stored as 1.5e9 + 0.000001 from landing a µs early.
_KEYS = """
SELECT us, src, rid, ref FROM (
    SELECT CAST(round(arrived_at * 1e6) AS INTEGER) AS us, 0 AS src, rowid AS rid, id AS ref
      FROM contacts WHERE phone = :phone AND phone IS NOT NULL
    UNION ALL
    SELECT CAST(round(created_at * 1e6) AS INTEGER), 1, rowid, number
      FROM tickets WHERE phone = :phone
    UNION ALL
    SELECT CAST(round(arrived_at * 1e6) AS INTEGER), 2, rowid, id
      FROM voicemails WHERE phone = :phone
    UNION ALL
    SELECT CAST(round(created_at * 1e6) AS INTEGER), 3, id, CAST(id AS TEXT)
      FROM messages WHERE recipient = :phone AND kind = 'sms'
)
WHERE (us, src, rid) > (:us, :src, :rid)
ORDER BY us, src, rid
LIMIT :limit
"""


async def add_note(
    tx: Tx,
    *,
    contact_id: str,
    at: float,
    token_id: str,
    role: str,
    operator_id: str | None,
    text: str,
) -> NoteRow:
    row = await tx.fetchone(
        "INSERT INTO contact_notes (contact_id, at, token_id, role, operator_id, text)"
        " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        (contact_id, at, token_id, role, operator_id, text),
    )
    assert row is not None
    return NoteRow(row["id"], contact_id, at, token_id, role, operator_id, text)


async def holds_contact_from(tx: Tx, phone: str, operator_id: str) -> bool:
    """Whether `operator_id` is handling a contact from `phone` now (assigned, not ended)."""
    row = await tx.fetchone(
        "SELECT 1 FROM contacts WHERE phone = ? AND phone IS NOT NULL AND operator_id = ?"
        " AND state = 'assigned' AND ended_at IS NULL LIMIT 1",
        (phone, operator_id),
    )
    return row is not None


async def history_page(tx: Tx, phone: str, *, after: HistoryKey, limit: int) -> list[Keyed]:
    """Up to `limit` entries of `phone`'s history past `after`, oldest first."""
    keys = await tx.fetchall(
        _KEYS,
        {"phone": phone, "us": after.at_us, "src": after.source, "rid": after.rid, "limit": limit},
    )
    refs: dict[int, list[str]] = {}
    for r in keys:
        refs.setdefault(r["src"], []).append(r["ref"])
    found: dict[tuple[int, str], Entry] = {}
    if Source.CONTACT in refs:
        for c in await _contacts(tx, refs[Source.CONTACT]):
            found[Source.CONTACT, c.id] = c
    if Source.TICKET in refs:
        for t in await _tickets(tx, refs[Source.TICKET]):
            found[Source.TICKET, t.number] = t
    if Source.VOICEMAIL in refs:
        for v in await _voicemails(tx, refs[Source.VOICEMAIL]):
            found[Source.VOICEMAIL, v.id] = v
    if Source.SMS in refs:
        for m in await _sms(tx, refs[Source.SMS]):
            found[Source.SMS, str(m.id)] = m
    return [Keyed(HistoryKey(r["us"], r["src"], r["rid"]), found[r["src"], r["ref"]]) for r in keys]


def _in(ids: Sequence[object]) -> tuple[str, tuple[Any, ...]]:
    return ", ".join("?" * len(ids)), tuple(ids)


async def _contacts(tx: Tx, ids: list[str]) -> list[ContactEntry]:
    marks, params = _in(ids)
    notes: dict[str, list[NoteRow]] = {}
    for n in await tx.fetchall(
        "SELECT id, contact_id, at, token_id, role, operator_id, text FROM contact_notes"
        f" WHERE contact_id IN ({marks}) ORDER BY id",
        params,
    ):
        notes.setdefault(n["contact_id"], []).append(_note(n))
    surveys = {
        a["contact_id"]: SurveyAnswer(a["answered_at"], a["csat"], a["nps"], a["comment"])
        for a in await tx.fetchall(
            "SELECT s.contact_id, s.answered_at, s.csat, s.nps, f.text AS comment FROM surveys s"
            " LEFT JOIN feedback f ON f.source = 'survey' AND f.source_id = CAST(s.id AS TEXT)"
            f" WHERE s.contact_id IN ({marks}) AND s.answered_at IS NOT NULL",
            params,
        )
    }
    rows = await tx.fetchall(
        "SELECT id, arrived_at, channel, topic, state, operator_id, outcome, ended_at,"
        f" transferred_to FROM contacts WHERE id IN ({marks})",
        params,
    )
    return [
        ContactEntry(
            r["id"],
            r["arrived_at"],
            r["channel"],
            r["topic"],
            r["state"],
            r["operator_id"],
            r["outcome"],
            r["ended_at"],
            r["transferred_to"],
            notes.get(r["id"], []),
            surveys.get(r["id"]),
        )
        for r in rows
    ]


async def _tickets(tx: Tx, numbers: list[str]) -> list[TicketEntry]:
    marks, params = _in(numbers)
    changes: dict[str, list[StatusChange]] = {}
    for e in await tx.fetchall(
        "SELECT number, at, from_status, to_status, actor, comment FROM ticket_events"
        f" WHERE number IN ({marks}) AND to_status IS NOT NULL ORDER BY id",
        params,
    ):
        changes.setdefault(e["number"], []).append(
            StatusChange(e["at"], e["from_status"], e["to_status"], e["actor"], e["comment"])
        )
    rows = await tx.fetchall(
        f"SELECT number, created_at, topic, status FROM tickets WHERE number IN ({marks})", params
    )
    return [
        TicketEntry(
            r["number"], r["created_at"], r["topic"], r["status"], changes.get(r["number"], [])
        )
        for r in rows
    ]


async def _voicemails(tx: Tx, ids: list[str]) -> list[VoicemailEntry]:
    marks, params = _in(ids)
    rows = await tx.fetchall(
        "SELECT id, arrived_at, topic, state, transcript, attempts, contact_id FROM voicemails"
        f" WHERE id IN ({marks})",
        params,
    )
    return [
        VoicemailEntry(
            r["id"],
            r["arrived_at"],
            r["topic"],
            r["state"],
            r["transcript"],
            r["attempts"],
            r["contact_id"],
        )
        for r in rows
    ]


async def _sms(tx: Tx, ids: list[str]) -> list[SmsEntry]:
    marks, params = _in([int(i) for i in ids])
    rows = await tx.fetchall(
        f"SELECT id, created_at, body, state FROM messages WHERE id IN ({marks})", params
    )
    return [SmsEntry(r["id"], r["created_at"], r["body"], r["state"]) for r in rows]


def _note(r: sqlite3.Row) -> NoteRow:
    return NoteRow(
        r["id"], r["contact_id"], r["at"], r["token_id"], r["role"], r["operator_id"], r["text"]
    )
