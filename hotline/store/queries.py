"""Reads the API needs beside the router's live view: contacts, idempotency keys, API tokens.

Called by the services in `hotline.services` inside `StoreHandle.read` (or `transact` for the
writes at the bottom). Lists are paged by keyset (`seq` of the last row seen), so a page costs
the same at the millionth contact as at the first and a concurrent insert never shifts a page.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from hotline.routing.model import ContactState
from hotline.store.rows import ContactRow, StoredToken, contact_fields
from hotline.store.tx import Tx

_CONTACT_COLUMNS = (
    "id, channel, topic, language, phone, priority, state, operator_id, arrived_at, target_at,"
    " deadline_at, seq, breached, overflowed, transferred_to, ended_at, outcome, repeat_of"
)


async def get_contact(tx: Tx, contact_id: str) -> ContactRow | None:
    row = await tx.fetchone(f"SELECT {_CONTACT_COLUMNS} FROM contacts WHERE id = ?", (contact_id,))
    return None if row is None else _contact(row)


async def get_repeat_of(tx: Tx, contact_id: str) -> str | None:
    """The earlier contact `contact_id` repeats, as the journal recorded it when it was new."""
    row = await tx.fetchone("SELECT repeat_of FROM contacts WHERE id = ?", (contact_id,))
    return None if row is None else row["repeat_of"]


async def list_contacts(
    tx: Tx,
    *,
    state: ContactState | None = None,
    topic: str | None = None,
    after_seq: int = 0,
    limit: int,
) -> list[ContactRow]:
    """Contacts in arrival order (queue order), after the one numbered `after_seq`."""
    where = ["seq > :after"]
    params: dict[str, Any] = {"after": after_seq, "limit": limit}
    if state is not None:
        where.append("state = :state")
        params["state"] = state.value
    if topic is not None:
        where.append("topic = :topic")
        params["topic"] = topic
    rows = await tx.fetchall(
        f"SELECT {_CONTACT_COLUMNS} FROM contacts WHERE {' AND '.join(where)}"
        " ORDER BY seq LIMIT :limit",
        params,
    )
    return [_contact(r) for r in rows]


async def find_idempotency_key(tx: Tx, scope: str, key: str) -> tuple[str, str] | None:
    """(request hash, contact id) of the contact created with this key, if any."""
    row = await tx.fetchone(
        "SELECT request_hash, json_extract(response, '$.contact_id') AS contact_id"
        " FROM idempotency_keys WHERE scope = ? AND key = ?",
        (scope, key),
    )
    return None if row is None else (row["request_hash"], row["contact_id"])


async def find_token(tx: Tx, token_hash: str) -> StoredToken | None:
    row = await tx.fetchone(
        "SELECT id, role, operator_id, name FROM api_tokens"
        " WHERE token_hash = ? AND revoked_at IS NULL",
        (token_hash,),
    )
    if row is None:
        return None
    return StoredToken(row["id"], row["role"], row["operator_id"], row["name"])


async def insert_token(tx: Tx, token: StoredToken, token_hash: str, *, at: float) -> None:
    await tx.execute(
        "INSERT INTO api_tokens (id, token_hash, role, operator_id, name, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (token.id, token_hash, token.role, token.operator_id, token.name, at),
    )


def _contact(r: sqlite3.Row) -> ContactRow:
    return ContactRow(
        **contact_fields(r),
        phone=r["phone"],
        transferred_to=r["transferred_to"],
        ended_at=r["ended_at"],
        outcome=r["outcome"],
        repeat_of=r["repeat_of"],
    )
