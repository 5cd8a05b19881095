"""Tickets in the store: rows, history and links to contacts, read and written by the ticket
service inside its transactions (`hotline.services.tickets`). Every write here goes with a
history row in the same transaction; lists are paged by keyset on the row id."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from hotline.store.tx import Tx

_COLUMNS = (
    "rowid, number, status, topic, phone, full_name, email, description, department, source,"
    " revision, created_at, updated_at"
)


@dataclass(frozen=True, slots=True)
class TicketRow:
    row_id: int
    number: str
    status: str
    topic: str
    phone: str
    full_name: str | None
    email: str | None
    description: str
    department: str | None
    source: str
    revision: int
    created_at: float
    updated_at: float


@dataclass(frozen=True, slots=True)
class TicketEventRow:
    revision: int
    at: float
    kind: str
    actor: str
    from_status: str | None
    to_status: str | None
    comment: str | None
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class NewTicket:
    number: str
    status: str
    topic: str
    phone: str
    full_name: str | None
    email: str | None
    description: str
    source: str


async def insert_ticket(
    tx: Tx, t: NewTicket, *, actor: str, at: float, data: dict[str, Any] | None = None
) -> TicketRow | None:
    """Create the ticket and its row as stored; None if its number is taken (nothing written).
    `data` goes with its `created` history entry (what a form attached)."""
    row = await tx.fetchone(
        "INSERT INTO tickets (number, status, topic, phone, full_name, email, description,"
        " source, revision, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)"
        f" ON CONFLICT (number) DO NOTHING RETURNING {_COLUMNS}",
        (
            *(t.number, t.status, t.topic, t.phone, t.full_name),
            t.email,
            t.description,
            t.source,
            at,
            at,
        ),
    )
    if row is None:
        return None
    await _history(tx, t.number, 1, at, "created", actor, None, t.status, None, data or {})
    return _ticket(row)


async def form_folders(tx: Tx) -> set[str]:
    """The attachment folders that feedback-form tickets name (`<folder>/<file>` in their
    `created` history entry)."""
    rows = await tx.fetchall(
        "SELECT e.data FROM ticket_events e JOIN tickets t ON t.number = e.number"
        " WHERE t.source = 'feedback_form' AND e.kind = 'created'"
    )
    return {
        attachment["file"].split("/", 1)[0]
        for r in rows
        for attachment in json.loads(r["data"]).get("attachments", ())
    }


async def get_ticket(tx: Tx, number: str) -> TicketRow | None:
    row = await tx.fetchone(f"SELECT {_COLUMNS} FROM tickets WHERE number = ?", (number,))
    return None if row is None else _ticket(row)


async def ticket_history(tx: Tx, number: str) -> list[TicketEventRow]:
    rows = await tx.fetchall(
        "SELECT revision, at, kind, actor, from_status, to_status, comment, data"
        " FROM ticket_events WHERE number = ? ORDER BY id",
        (number,),
    )
    return [
        TicketEventRow(
            r["revision"],
            r["at"],
            r["kind"],
            r["actor"],
            r["from_status"],
            r["to_status"],
            r["comment"],
            json.loads(r["data"]),
        )
        for r in rows
    ]


async def linked_contacts(tx: Tx, number: str) -> list[str]:
    rows = await tx.fetchall(
        "SELECT contact_id FROM ticket_contacts WHERE number = ? ORDER BY linked_at, contact_id",
        (number,),
    )
    return [r["contact_id"] for r in rows]


async def held_by(tx: Tx, number: str, operator_id: str, *, since: float) -> bool:
    """Whether `operator_id` holds a contact linked to the ticket now, or accepted one since
    `since` (the local midnight: "held today")."""
    row = await tx.fetchone(
        "SELECT 1 FROM ticket_contacts l JOIN contacts c ON c.id = l.contact_id"
        " WHERE l.number = :number AND ("
        "  (c.operator_id = :op AND c.ended_at IS NULL AND c.state = 'assigned')"
        "  OR EXISTS (SELECT 1 FROM contact_events e WHERE e.contact_id = l.contact_id"
        "   AND e.kind = 'accepted' AND e.operator_id = :op AND e.at >= :since)"
        ") LIMIT 1",
        {"number": number, "op": operator_id, "since": since},
    )
    return row is not None


async def remember_key(
    tx: Tx, scope: str, key: str, request_hash: str, number: str, *, at: float
) -> bool:
    """Record that `Idempotency-Key` `key` created ticket `number`, in the transaction that
    created it; False (nothing written) if the key is taken already."""
    changed = await tx.execute(
        "INSERT INTO idempotency_keys (scope, key, request_hash, response, created_at)"
        " VALUES (?, ?, ?, json_object('ticket', ?), ?) ON CONFLICT DO NOTHING",
        (scope, key, request_hash, number, at),
    )
    return changed == 1


async def find_key(tx: Tx, scope: str, key: str) -> tuple[str, str] | None:
    """(request hash, ticket number) of the ticket created with this key, if any."""
    row = await tx.fetchone(
        "SELECT request_hash, json_extract(response, '$.ticket') AS number"
        " FROM idempotency_keys WHERE scope = ? AND key = ?",
        (scope, key),
    )
    return None if row is None else (row["request_hash"], row["number"])


async def list_tickets(
    tx: Tx,
    *,
    phone: str | None = None,
    status: str | None = None,
    after_row: int = 0,
    limit: int,
) -> list[TicketRow]:
    where = ["rowid > :after"]
    params: dict[str, Any] = {"after": after_row, "limit": limit}
    if phone is not None:
        where.append("phone = :phone")
        params["phone"] = phone
    if status is not None:
        where.append("status = :status")
        params["status"] = status
    rows = await tx.fetchall(
        f"SELECT {_COLUMNS} FROM tickets WHERE {' AND '.join(where)} ORDER BY rowid LIMIT :limit",
        params,
    )
    return [_ticket(r) for r in rows]


async def change_status(
    tx: Tx, t: TicketRow, to: str, *, actor: str, comment: str | None, at: float
) -> TicketRow:
    """Move `t` (as read in this transaction) to `to`; the ticket as it is now."""
    moved = await _bump(tx, t, at, status=to)
    await _history(
        tx, t.number, moved.revision, at, "status_changed", actor, t.status, to, comment, {}
    )
    return moved


async def escalate(
    tx: Tx, t: TicketRow, department: str, *, actor: str, comment: str | None, at: float
) -> TicketRow:
    moved = await _bump(tx, t, at, department=department)
    data = {"department": department, "from_department": t.department}
    await _history(tx, t.number, moved.revision, at, "escalated", actor, None, None, comment, data)
    return moved


async def link_contact(
    tx: Tx, t: TicketRow, contact_id: str, *, actor: str, at: float
) -> TicketRow | None:
    """Link a contact to the ticket; the ticket as it is now, or None if the contact already
    was linked (nothing written)."""
    changed = await tx.execute(
        "INSERT INTO ticket_contacts (number, contact_id, linked_at) VALUES (?, ?, ?)"
        " ON CONFLICT DO NOTHING",
        (t.number, contact_id, at),
    )
    if not changed:
        return None
    moved = await _bump(tx, t, at)
    data = {"contact_id": contact_id}
    await _history(tx, t.number, moved.revision, at, "linked", actor, None, None, None, data)
    return moved


async def _bump(tx: Tx, t: TicketRow, at: float, **columns: str) -> TicketRow:
    """Advance the revision, refusing if someone changed the ticket since `t` was read; the
    ticket as it is now."""
    sets = "".join(f", {name} = :{name}" for name in columns)
    row = await tx.fetchone(
        f"UPDATE tickets SET revision = revision + 1, updated_at = :at{sets}"
        f" WHERE number = :number AND revision = :revision RETURNING {_COLUMNS}",
        {"at": at, "number": t.number, "revision": t.revision, **columns},
    )
    if row is None:
        raise sqlite3.IntegrityError(f"ticket {t.number} changed under this transaction")
    return _ticket(row)


async def _history(
    tx: Tx,
    number: str,
    revision: int,
    at: float,
    kind: str,
    actor: str,
    from_status: str | None,
    to_status: str | None,
    comment: str | None,
    data: dict[str, Any],
) -> None:
    await tx.execute(
        "INSERT INTO ticket_events (number, revision, at, kind, actor, from_status, to_status,"
        " comment, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            *(number, revision, at, kind, actor),
            *(from_status, to_status, comment, json.dumps(data, ensure_ascii=False)),
        ),
    )


def _ticket(r: sqlite3.Row) -> TicketRow:
    return TicketRow(
        row_id=r["rowid"],
        number=r["number"],
        status=r["status"],
        topic=r["topic"],
        phone=r["phone"],
        full_name=r["full_name"],
        email=r["email"],
        description=r["description"],
        department=r["department"],
        source=r["source"],
        revision=r["revision"],
        created_at=r["created_at"],
        updated_at=r["updated_at"],
    )
