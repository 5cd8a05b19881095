"""The audit of personal-data reads in the store: `pii_reads`, appended to and listed.

Written by `hotline.services.audit` (one `transact` per answer, shared with whatever else commits
in the same group) and read by the supervisors' `GET /v1/audit/reads`. The table is append-only
(its triggers refuse UPDATE and DELETE); it is paged by keyset on its id, which is never reused.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hotline.store.tx import Tx


@dataclass(frozen=True, slots=True)
class ReadRecord:
    """One resource shown unmasked to one person."""

    token_id: str
    role: str
    operator_id: str | None
    kind: str
    resource_id: str
    fields: tuple[str, ...]
    reason: str | None = None  # why, when the caller had to say (a citizen's history)


@dataclass(frozen=True, slots=True)
class ReadRow:
    id: int
    at: float
    token_id: str
    role: str
    operator_id: str | None
    kind: str
    resource_id: str
    fields: list[str]
    reason: str | None = None


async def append_reads(tx: Tx, records: Sequence[ReadRecord], *, at: float) -> None:
    await tx.executemany(
        "INSERT INTO pii_reads"
        " (at, token_id, role, operator_id, kind, resource_id, fields, reason)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                at,
                r.token_id,
                r.role,
                r.operator_id,
                r.kind,
                r.resource_id,
                json.dumps(r.fields),
                r.reason,
            )
            for r in records
        ],
    )


async def list_reads(
    tx: Tx,
    *,
    since: float | None,
    until: float | None,
    actor: str | None,
    after_id: int,
    limit: int,
) -> list[ReadRow]:
    """Reads in the order they were recorded, from `since` (inclusive) to `until` (exclusive);
    `actor` is a token id or an operator id."""
    where = ["id > :after"]
    params: dict[str, Any] = {"after": after_id, "limit": limit}
    if since is not None:
        where.append("at >= :since")
        params["since"] = since
    if until is not None:
        where.append("at < :until")
        params["until"] = until
    if actor is not None:
        where.append("(token_id = :actor OR operator_id = :actor)")
        params["actor"] = actor
    rows = await tx.fetchall(
        "SELECT id, at, token_id, role, operator_id, kind, resource_id, fields, reason"
        " FROM pii_reads"
        f" WHERE {' AND '.join(where)} ORDER BY id LIMIT :limit",
        params,
    )
    return [_read(r) for r in rows]


def _read(r: sqlite3.Row) -> ReadRow:
    return ReadRow(
        id=r["id"],
        at=r["at"],
        token_id=r["token_id"],
        role=r["role"],
        operator_id=r["operator_id"],
        kind=r["kind"],
        resource_id=r["resource_id"],
        fields=json.loads(r["fields"]),
        reason=r["reason"],
    )
