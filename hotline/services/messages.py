"""Messages to citizens seen from outside: delivery receipts from the SMS provider, and what
supervisors read of the outbox (failed messages above all).

Called by `hotline.api.messages`; reads and writes through `hotline.store.outbox`. A receipt is
idempotent and only ever moves a message forward: a final state (delivered, failed) stays.
"""

from __future__ import annotations

from dataclasses import dataclass

from hotline.domain.errors import NotFound
from hotline.services import Services
from hotline.services.auth import Principal, Role
from hotline.services.paging import read_page
from hotline.store import Tx
from hotline.store.outbox import (
    MessageEventRow,
    MessageKind,
    MessageRow,
    MessageState,
    ReceiptResult,
    ReceiptStatus,
    apply_receipt,
    get_message,
    list_messages,
    message_events,
)


@dataclass(frozen=True, slots=True)
class MessagePage:
    messages: list[MessageRow]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class MessageView:
    message: MessageRow
    events: list[MessageEventRow]


async def record_receipt(
    sv: Services,
    caller: Principal,
    provider_id: str,
    status: ReceiptStatus,
    *,
    reported_at: float | None = None,
) -> ReceiptResult:
    """Apply the provider's receipt for the SMS it knows as `provider_id` (404 if none)."""
    caller.require(Role.INTEGRATION)
    now = sv.clock.now()

    async def work(tx: Tx) -> ReceiptResult | None:
        return await apply_receipt(tx, provider_id, status, at=now, reported_at=reported_at)

    result = await sv.store.transact(work)
    if result is None:
        raise NotFound("no message with this provider id", field="provider_id")
    return result


async def list_message_page(
    sv: Services,
    caller: Principal,
    *,
    state: MessageState | None,
    kind: MessageKind | None,
    limit: int,
    cursor: str | None,
) -> MessagePage:
    caller.require(Role.SUPERVISOR)

    async def fetch(after: int, n: int) -> list[MessageRow]:
        return await sv.store.read(
            lambda tx: list_messages(tx, state=state, kind=kind, after_id=after, limit=n)
        )

    return MessagePage(*await read_page("m", cursor, limit, fetch, key=lambda row: row.id))


async def get_message_view(sv: Services, caller: Principal, message_id: int) -> MessageView:
    caller.require(Role.SUPERVISOR)

    async def work(tx: Tx) -> MessageView | None:
        message = await get_message(tx, message_id)
        if message is None:
            return None
        return MessageView(message, await message_events(tx, message_id))

    view = await sv.store.read(work)
    if view is None:
        raise NotFound(f"no message {message_id}")
    return view
