"""In-memory stand-ins for the sender's tests on a MockClock: an outbox queue with the table's
semantics (leases, claims fenced by attempt) and a provider that answers from a script."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field

import trio

from hotline.notify.providers import Accepted, DeliveryResult, Outgoing
from hotline.store.outbox import MessageKind, MessageRow, MessageState

LIVE = (MessageState.PENDING, MessageState.SENDING)


class MemoryQueue:
    def __init__(self) -> None:
        self.rows: dict[int, MessageRow] = {}
        self.events: list[tuple[int, str, float]] = []  # (message id, what, wall time)

    def add(
        self,
        *,
        at: float,
        kind: MessageKind = MessageKind.SMS,
        recipient: str = "+79123456789",
        body: str = "Ваше обращение принято",
        ttl_s: float | None = None,
        key: str | None = None,
    ) -> int:
        message_id = len(self.rows) + 1
        self.rows[message_id] = MessageRow(
            id=message_id,
            kind=kind,
            recipient=recipient,
            subject=None,
            body=body,
            dedupe_key=key or f"test:{message_id}",
            state=MessageState.PENDING,
            attempts=0,
            next_attempt_at=at,
            expires_at=None if ttl_s is None else at + ttl_s,
            provider=None,
            provider_id=None,
            segments=None,
            last_error=None,
            created_at=at,
            updated_at=at,
        )
        return message_id

    def state(self, message_id: int) -> MessageState:
        return self.rows[message_id].state

    async def claim_due(
        self, kind: MessageKind, now: float, limit: int, lease_s: float
    ) -> list[MessageRow]:
        await trio.lowlevel.checkpoint()
        due = sorted(
            (
                r
                for r in self.rows.values()
                if r.kind is kind and r.state in LIVE and r.next_attempt_at <= now
            ),
            key=lambda r: (r.next_attempt_at, r.id),
        )[:limit]
        claimed = []
        for r in due:
            r = self._put(
                r,
                state=MessageState.SENDING,
                attempts=r.attempts + 1,
                next_attempt_at=now + lease_s,
                updated_at=now,
            )
            self.events.append((r.id, "claimed", now))
            claimed.append(r)
        return claimed

    async def next_due_at(self, kind: MessageKind) -> float | None:
        await trio.lowlevel.checkpoint()
        due = [r.next_attempt_at for r in self.rows.values() if r.kind is kind and r.state in LIVE]
        return min(due, default=None)

    async def mark_sent(
        self,
        row: MessageRow,
        *,
        provider: str,
        provider_id: str | None,
        segments: int | None,
        at: float,
    ) -> bool:
        return await self._settle(
            row,
            "sent",
            at,
            state=MessageState.SENT,
            provider=provider,
            provider_id=provider_id,
            segments=segments,
        )

    async def mark_retry(
        self, row: MessageRow, *, next_attempt_at: float, error: str, at: float
    ) -> bool:
        return await self._settle(
            row,
            "retry",
            at,
            state=MessageState.PENDING,
            next_attempt_at=next_attempt_at,
            last_error=error,
        )

    async def mark_failed(
        self, row: MessageRow, *, error: str, segments: int | None, at: float
    ) -> bool:
        return await self._settle(
            row, "failed", at, state=MessageState.FAILED, last_error=error, segments=segments
        )

    async def _settle(self, row: MessageRow, what: str, at: float, **changes: object) -> bool:
        await trio.lowlevel.checkpoint()
        current = self.rows[row.id]
        if current.state is not MessageState.SENDING or current.attempts != row.attempts:
            return False
        self._put(current, updated_at=at, **changes)
        self.events.append((row.id, what, at))
        return True

    def _put(self, row: MessageRow, **changes: object) -> MessageRow:
        new = dataclasses.replace(row, **changes)  # type: ignore[arg-type]
        self.rows[row.id] = new
        return new


@dataclass
class ScriptedProvider:
    """Answers each delivery with `answer(outgoing)` (accepted by default) and keeps a log of
    (trio time, outgoing) for every call."""

    answer: Callable[[Outgoing], DeliveryResult] = lambda o: Accepted(f"p-{o.message_id}")
    name: str = "scripted"
    calls: list[tuple[float, Outgoing]] = field(default_factory=list)
    hang: bool = False
    closed: bool = False

    async def deliver(self, message: Outgoing) -> DeliveryResult:
        self.calls.append((trio.current_time(), message))
        if self.hang:
            await trio.sleep_forever()
        await trio.lowlevel.checkpoint()
        return self.answer(message)

    async def aclose(self) -> None:
        self.closed = True

    def times_of(self, message_id: int) -> list[float]:
        return [t for t, o in self.calls if o.message_id == message_id]
