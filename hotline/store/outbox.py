"""The outbox: messages to citizens (SMS, e-mail, personal-account events) and their history.

Writers (the ticket and form services) call `enqueue_message` inside the transaction that makes
the change the message tells about, so the two commit or vanish together. The sender actors
(`hotline.notify.sender`) take due rows with `claim_due` and record what happened with
`mark_sent`, `mark_retry` and `mark_failed`; the receipts endpoint calls `apply_receipt`; the
messages API reads with `get_message`, `list_messages` and `message_events`.

Every state change appends a row to `message_events` in the same statement group. Recipients are
stored as given (E.164, e-mail address): masking is the API's job.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from hotline.store.tx import Tx


class MessageKind(StrEnum):
    SMS = "sms"
    EMAIL = "email"
    ACCOUNT_EVENT = "account_event"


class MessageState(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"


class ReceiptStatus(StrEnum):
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class NewMessage:
    kind: MessageKind
    recipient: str  # E.164 phone (sms), e-mail address (email), account key / phone (account_event)
    body: str  # text for sms/email; JSON text for account_event
    dedupe_key: str  # one message per cause and change, e.g. "ticket:HL-7K3M-9QX2:3:sms"
    subject: str | None = None  # e-mail only
    ttl_s: float | None = None  # give up after this long; None = the sender's default for the kind


@dataclass(frozen=True, slots=True)
class MessageRow:
    id: int
    kind: MessageKind
    recipient: str
    subject: str | None
    body: str
    dedupe_key: str
    state: MessageState
    attempts: int
    next_attempt_at: float
    expires_at: float | None
    provider: str | None
    provider_id: str | None
    segments: int | None
    last_error: str | None
    created_at: float
    updated_at: float

    def deadline(self, default_ttl_s: float) -> float:
        """When the sender gives up on it."""
        if self.expires_at is not None:
            return self.expires_at
        return self.created_at + default_ttl_s


@dataclass(frozen=True, slots=True)
class MessageEventRow:
    at: float
    kind: str
    state: MessageState
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ReceiptResult:
    message: MessageRow  # as it stands after the receipt
    changed: bool  # False for a repeat, or for a receipt that would move a final state back


_COLUMNS = (
    "id, kind, recipient, subject, body, dedupe_key, state, attempts, next_attempt_at,"
    " expires_at, provider, provider_id, segments, last_error, created_at, updated_at"
)
_LIVE = "state IN ('pending', 'sending')"  # spelled as in the partial index messages_due


async def enqueue_message(tx: Tx, msg: NewMessage, *, at: float) -> int | None:
    """Insert in the caller's transaction (the same one as the change that causes it); the new
    row id, or None if `dedupe_key` was already there (nothing written)."""
    expires_at = None if msg.ttl_s is None else at + msg.ttl_s
    row = await tx.fetchone(
        "INSERT INTO messages (kind, recipient, subject, body, dedupe_key, next_attempt_at,"
        " expires_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (dedupe_key) DO NOTHING RETURNING id",
        (
            *(str(msg.kind), msg.recipient, msg.subject, msg.body, msg.dedupe_key),
            *(at, expires_at, at, at),
        ),
    )
    if row is None:
        return None
    message_id = int(row["id"])
    await _event(tx, message_id, at, "enqueued", MessageState.PENDING, {})
    tx.after_commit(OutboxWritten(msg.kind))  # its sender looks at once, not at the next poll
    return message_id


@dataclass(frozen=True, slots=True)
class OutboxWritten:
    """A message of `kind` was committed to the outbox (a post-commit fact, see `Tx`)."""

    kind: MessageKind


async def get_message(tx: Tx, message_id: int) -> MessageRow | None:
    row = await tx.fetchone(f"SELECT {_COLUMNS} FROM messages WHERE id = ?", (message_id,))
    return None if row is None else _message(row)


async def list_messages(
    tx: Tx,
    *,
    state: MessageState | None = None,
    kind: MessageKind | None = None,
    after_id: int = 0,
    limit: int,
) -> list[MessageRow]:
    """Messages in id order after `after_id` (keyset paging), optionally of one state and kind."""
    where = ["id > :after"]
    params: dict[str, Any] = {"after": after_id, "limit": limit}
    if state is not None:
        where.append("state = :state")
        params["state"] = str(state)
    if kind is not None:
        where.append("kind = :kind")
        params["kind"] = str(kind)
    rows = await tx.fetchall(
        f"SELECT {_COLUMNS} FROM messages WHERE {' AND '.join(where)} ORDER BY id LIMIT :limit",
        params,
    )
    return [_message(r) for r in rows]


async def message_events(tx: Tx, message_id: int) -> list[MessageEventRow]:
    rows = await tx.fetchall(
        "SELECT at, kind, state, data FROM message_events WHERE message_id = ? ORDER BY id",
        (message_id,),
    )
    return [
        MessageEventRow(r["at"], r["kind"], MessageState(r["state"]), json.loads(r["data"]))
        for r in rows
    ]


async def next_due_at(tx: Tx, kind: MessageKind) -> float | None:
    """When the earliest live message of `kind` falls due (or its lease ends); None if none."""
    row = await tx.fetchone(
        f"SELECT MIN(next_attempt_at) AS due FROM messages WHERE kind = ? AND {_LIVE}",
        (str(kind),),
    )
    return None if row is None or row["due"] is None else float(row["due"])


async def count_unsent(tx: Tx) -> dict[tuple[MessageKind, MessageState], int]:
    """Messages not delivered by kind: `pending` (due, or being sent now) and `failed` (given
    up on), every pair present, zeros too (`GET /metrics`)."""
    rows = await tx.fetchall(
        "SELECT kind, CASE state WHEN 'failed' THEN 'failed' ELSE 'pending' END AS unsent,"
        " count(*) AS n FROM messages WHERE state IN ('pending', 'sending', 'failed')"
        " GROUP BY kind, unsent"
    )
    counts = {
        (kind, state): 0
        for kind in MessageKind
        for state in (MessageState.PENDING, MessageState.FAILED)
    }
    for r in rows:
        counts[MessageKind(r["kind"]), MessageState(r["unsent"])] = r["n"]
    return counts


async def claim_due(
    tx: Tx, kind: MessageKind, now: float, limit: int, lease_s: float
) -> list[MessageRow]:
    """Take up to `limit` due messages of `kind`, oldest due first: each becomes `sending` with
    `attempts` one higher and a lease until `now + lease_s`. A `sending` row whose lease has
    ended (its sender died mid-send) is due again, so nothing is stuck after a crash."""
    rows = await tx.fetchall(
        "UPDATE messages SET state = 'sending', attempts = attempts + 1,"
        " next_attempt_at = :lease_end, updated_at = :now"
        " WHERE id IN (SELECT id FROM messages"
        f"  WHERE kind = :kind AND {_LIVE} AND next_attempt_at <= :now"
        "  ORDER BY next_attempt_at, id LIMIT :limit)"
        f" RETURNING {_COLUMNS}",
        {"kind": str(kind), "now": now, "lease_end": now + lease_s, "limit": limit},
    )
    claimed = sorted((_message(r) for r in rows), key=lambda m: m.id)
    await tx.executemany(
        "INSERT INTO message_events (message_id, at, kind, state, data) VALUES (?, ?, ?, ?, ?)",
        [
            (m.id, now, "claimed", str(MessageState.SENDING), json.dumps({"attempt": m.attempts}))
            for m in claimed
        ],
    )
    return claimed


async def mark_sent(
    tx: Tx,
    message_id: int,
    *,
    attempt: int,
    provider: str,
    provider_id: str | None,
    segments: int | None = None,
    at: float,
) -> bool:
    """The provider accepted attempt `attempt`. False (nothing written) if that claim is no longer
    the current one: the lease ran out and the message was claimed again or settled."""
    return await _settle(
        tx,
        message_id,
        attempt,
        at,
        MessageState.SENT,
        "provider = ?, provider_id = ?, segments = COALESCE(?, segments), last_error = NULL",
        (provider, provider_id, segments),
        "sent",
        {"provider": provider, "provider_id": provider_id},
    )


async def mark_retry(
    tx: Tx, message_id: int, *, attempt: int, next_attempt_at: float, error: str, at: float
) -> bool:
    """Attempt `attempt` failed for now: pending again, due at `next_attempt_at`."""
    return await _settle(
        tx,
        message_id,
        attempt,
        at,
        MessageState.PENDING,
        "next_attempt_at = ?, last_error = ?",
        (next_attempt_at, error),
        "retry",
        {"error": error, "next_attempt_at": next_attempt_at},
    )


async def mark_failed(
    tx: Tx,
    message_id: int,
    *,
    attempt: int,
    error: str,
    at: float,
    segments: int | None = None,
) -> bool:
    """Given up: expired, refused for good by the provider, or undeliverable as written."""
    return await _settle(
        tx,
        message_id,
        attempt,
        at,
        MessageState.FAILED,
        "last_error = ?, segments = COALESCE(?, segments)",
        (error, segments),
        "failed",
        {"error": error},
    )


async def _settle(
    tx: Tx,
    message_id: int,
    attempt: int,
    at: float,
    state: MessageState,
    sets: str,
    values: tuple[Any, ...],
    kind: str,
    data: dict[str, Any],
) -> bool:
    """End claim `attempt` of the message in `state` (with `sets`) and log it; False, with
    nothing written, if that claim is no longer the current one (its lease ran out)."""
    changed = await tx.execute(
        f"UPDATE messages SET state = ?, {sets}, updated_at = ?"
        " WHERE id = ? AND state = 'sending' AND attempts = ?",
        (str(state), *values, at, message_id, attempt),
    )
    if changed != 1:
        return False
    await _event(tx, message_id, at, kind, state, {"attempt": attempt, **data})
    return True


# A receipt moves a message only forward along this order; delivered and failed are both final.
_RANK = {
    MessageState.PENDING: 0,
    MessageState.SENDING: 0,
    MessageState.SENT: 1,
    MessageState.DELIVERED: 2,
    MessageState.FAILED: 2,
}


async def apply_receipt(
    tx: Tx, provider_id: str, status: ReceiptStatus, *, at: float, reported_at: float | None = None
) -> ReceiptResult | None:
    """Record a delivery receipt for the SMS the provider knows as `provider_id`; None if no
    message has that id. Idempotent: a repeat changes nothing, and a final state never moves."""
    row = await tx.fetchone(
        f"SELECT {_COLUMNS} FROM messages WHERE provider_id = ? AND kind = 'sms'"
        " ORDER BY id DESC LIMIT 1",
        (provider_id,),
    )
    if row is None:
        return None
    message = _message(row)
    target = MessageState(str(status))
    if _RANK[target] <= _RANK[message.state]:  # a repeat, or a final state already
        return ReceiptResult(message, changed=False)
    await tx.execute(
        "UPDATE messages SET state = ?, updated_at = ? WHERE id = ?",
        (str(target), at, message.id),
    )
    data: dict[str, Any] = {"status": str(status), "provider_id": provider_id}
    if reported_at is not None:
        data["reported_at"] = reported_at
    await _event(tx, message.id, at, "receipt", target, data)
    return ReceiptResult(dataclasses.replace(message, state=target, updated_at=at), changed=True)


async def _event(
    tx: Tx, message_id: int, at: float, kind: str, state: MessageState, data: dict[str, Any]
) -> None:
    await tx.execute(
        "INSERT INTO message_events (message_id, at, kind, state, data) VALUES (?, ?, ?, ?, ?)",
        (message_id, at, kind, str(state), json.dumps(data, ensure_ascii=False)),
    )


def _message(r: sqlite3.Row) -> MessageRow:
    return MessageRow(
        id=r["id"],
        kind=MessageKind(r["kind"]),
        recipient=r["recipient"],
        subject=r["subject"],
        body=r["body"],
        dedupe_key=r["dedupe_key"],
        state=MessageState(r["state"]),
        attempts=r["attempts"],
        next_attempt_at=r["next_attempt_at"],
        expires_at=r["expires_at"],
        provider=r["provider"],
        provider_id=r["provider_id"],
        segments=r["segments"],
        last_error=r["last_error"],
        created_at=r["created_at"],
        updated_at=r["updated_at"],
    )


async def enqueue_messages(tx: Tx, messages: list[tuple[NewMessage, float]]) -> int:
    """`enqueue_message` for many (each with the instant it is enqueued at) in two statements:
    for the journal, which writes a batch's survey invitations together. Returns how many were
    new (a dedupe key already there writes nothing)."""
    if not messages:
        return 0
    rows = [
        (
            *(str(m.kind), m.recipient, m.subject, m.body, m.dedupe_key),
            *(at, None if m.ttl_s is None else at + m.ttl_s, at, at),
        )
        for m, at in messages
    ]
    await tx.executemany(
        "INSERT INTO messages (kind, recipient, subject, body, dedupe_key, next_attempt_at,"
        " expires_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (dedupe_key) DO NOTHING",
        rows,
    )
    keys = json.dumps([m.dedupe_key for m, _ in messages])
    # The new ones are those without a history yet: their `enqueued` event, as `_event` writes it.
    added = await tx.fetchall(
        "INSERT INTO message_events (message_id, at, kind, state, data)"
        " SELECT id, created_at, 'enqueued', ?, '{}' FROM messages AS m"
        " WHERE dedupe_key IN (SELECT value FROM json_each(?))"
        " AND NOT EXISTS (SELECT 1 FROM message_events AS e WHERE e.message_id = m.id)"
        " RETURNING message_id",
        (str(MessageState.PENDING), keys),
    )
    for kind in {m.kind for m, _ in messages}:
        tx.after_commit(OutboxWritten(kind))
    return len(added)
