"""`OutboxQueue`: what a sender needs of the outbox, and `StoreOutboxQueue`, the outbox table
behind it with each call one transaction of the store.

Used by `hotline.notify.sender`; the sender's tests put an in-memory fake in its place, so that
they can run on trio's MockClock (the real store works in threads, which a MockClock cannot see).
Each outcome names the claim it settles (`row.attempts`): a claim whose lease ran out and was
taken again records nothing.
"""

from __future__ import annotations

from typing import Protocol

from hotline.store import StoreHandle
from hotline.store import outbox as rows
from hotline.store.outbox import MessageKind, MessageRow


class OutboxQueue(Protocol):
    """What a sender needs of the outbox; `StoreOutboxQueue` is the real one, tests use a fake."""

    async def claim_due(
        self, kind: MessageKind, now: float, limit: int, lease_s: float
    ) -> list[MessageRow]: ...

    async def next_due_at(self, kind: MessageKind) -> float | None: ...

    async def mark_sent(
        self,
        row: MessageRow,
        *,
        provider: str,
        provider_id: str | None,
        segments: int | None,
        at: float,
    ) -> bool: ...

    async def mark_retry(
        self, row: MessageRow, *, next_attempt_at: float, error: str, at: float
    ) -> bool: ...

    async def mark_failed(
        self, row: MessageRow, *, error: str, segments: int | None, at: float
    ) -> bool: ...


class StoreOutboxQueue:
    """The outbox table, each call one transaction of the store."""

    def __init__(self, store: StoreHandle) -> None:
        self._store = store

    async def claim_due(
        self, kind: MessageKind, now: float, limit: int, lease_s: float
    ) -> list[MessageRow]:
        return await self._store.transact(lambda tx: rows.claim_due(tx, kind, now, limit, lease_s))

    async def next_due_at(self, kind: MessageKind) -> float | None:
        return await self._store.read(lambda tx: rows.next_due_at(tx, kind))

    async def mark_sent(
        self,
        row: MessageRow,
        *,
        provider: str,
        provider_id: str | None,
        segments: int | None,
        at: float,
    ) -> bool:
        return await self._store.transact(
            lambda tx: rows.mark_sent(
                tx,
                row.id,
                attempt=row.attempts,
                provider=provider,
                provider_id=provider_id,
                segments=segments,
                at=at,
            )
        )

    async def mark_retry(
        self, row: MessageRow, *, next_attempt_at: float, error: str, at: float
    ) -> bool:
        return await self._store.transact(
            lambda tx: rows.mark_retry(
                tx,
                row.id,
                attempt=row.attempts,
                next_attempt_at=next_attempt_at,
                error=error,
                at=at,
            )
        )

    async def mark_failed(
        self, row: MessageRow, *, error: str, segments: int | None, at: float
    ) -> bool:
        return await self._store.transact(
            lambda tx: rows.mark_failed(
                tx, row.id, attempt=row.attempts, error=error, segments=segments, at=at
            )
        )
