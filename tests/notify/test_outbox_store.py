"""The outbox table: one row per cause, leases that outlive a crashed sender, receipts that only
move forward, and a history row for every change."""

from __future__ import annotations

import pytest

from hotline.store import StoreHandle, Tx
from hotline.store.outbox import (
    MessageKind,
    MessageRow,
    MessageState,
    NewMessage,
    ReceiptStatus,
    apply_receipt,
    claim_due,
    enqueue_message,
    get_message,
    list_messages,
    mark_failed,
    mark_retry,
    mark_sent,
    message_events,
    next_due_at,
)

SMS = NewMessage(
    kind=MessageKind.SMS,
    recipient="+79123456789",
    body="Обращение HL-7K3M-9QX2 принято",
    dedupe_key="ticket:HL-7K3M-9QX2:1:sms",
)


async def _enqueue(store: StoreHandle, msg: NewMessage = SMS, at: float = 100.0) -> int | None:
    return await store.transact(lambda tx: enqueue_message(tx, msg, at=at))


async def _claim(store: StoreHandle, now: float, lease_s: float = 30.0) -> list[MessageRow]:
    return await store.transact(lambda tx: claim_due(tx, MessageKind.SMS, now, 10, lease_s))


async def _get(store: StoreHandle, message_id: int) -> MessageRow:
    row = await store.read(lambda tx: get_message(tx, message_id))
    assert row is not None
    return row


async def test_a_second_enqueue_with_the_same_dedupe_key_writes_nothing(
    store: StoreHandle,
) -> None:
    first = await _enqueue(store)
    second = await _enqueue(store, at=200.0)
    assert first is not None and second is None
    rows = await store.read(lambda tx: list_messages(tx, limit=10))
    assert [r.id for r in rows] == [first]
    assert rows[0].state is MessageState.PENDING and rows[0].next_attempt_at == 100.0


async def test_enqueue_rolls_back_with_the_change_that_caused_it(store: StoreHandle) -> None:
    async def change_then_fail(tx: Tx) -> None:
        await enqueue_message(tx, SMS, at=1.0)
        raise RuntimeError("the ticket change was refused")

    with pytest.raises(RuntimeError):
        await store.transact(change_then_fail)
    assert await store.read(lambda tx: list_messages(tx, limit=10)) == []


async def test_claim_leases_due_rows_and_a_lapsed_lease_is_claimed_again(
    store: StoreHandle,
) -> None:
    message_id = await _enqueue(store)
    assert message_id is not None
    assert await _claim(store, now=99.0) == []  # not yet due
    (claimed,) = await _claim(store, now=100.0, lease_s=30.0)
    assert claimed.state is MessageState.SENDING and claimed.attempts == 1
    assert await _claim(store, now=129.0) == []  # leased
    assert await store.read(lambda tx: next_due_at(tx, MessageKind.SMS)) == 130.0
    (again,) = await _claim(store, now=130.0)  # the sender died: the lease lapsed
    assert again.attempts == 2
    # The first claim is stale now: its outcome is not recorded.
    stale = await store.transact(
        lambda tx: mark_sent(tx, message_id, attempt=1, provider="file", provider_id="x", at=131.0)
    )
    assert stale is False
    fresh = await store.transact(
        lambda tx: mark_sent(
            tx, message_id, attempt=2, provider="file", provider_id="p-1", segments=1, at=131.0
        )
    )
    assert fresh is True
    row = await _get(store, message_id)
    assert (row.state, row.provider_id, row.segments) == (MessageState.SENT, "p-1", 1)
    assert await _claim(store, now=10_000.0) == []


async def test_retry_makes_the_row_due_later_and_failure_is_final(store: StoreHandle) -> None:
    message_id = await _enqueue(store)
    assert message_id is not None
    await _claim(store, now=100.0)
    assert await store.transact(
        lambda tx: mark_retry(
            tx, message_id, attempt=1, next_attempt_at=160.0, error="HTTP 503", at=101.0
        )
    )
    assert await _claim(store, now=159.0) == []
    await _claim(store, now=160.0)
    assert await store.transact(
        lambda tx: mark_failed(tx, message_id, attempt=2, error="expired", at=161.0)
    )
    row = await _get(store, message_id)
    assert (row.state, row.last_error, row.attempts) == (MessageState.FAILED, "expired", 2)
    events = await store.read(lambda tx: message_events(tx, message_id))
    assert [e.kind for e in events] == ["enqueued", "claimed", "retry", "claimed", "failed"]


async def test_receipts_move_forward_only_and_repeat_without_effect(store: StoreHandle) -> None:
    message_id = await _enqueue(store)
    assert message_id is not None
    await _claim(store, now=100.0)
    await store.transact(
        lambda tx: mark_sent(tx, message_id, attempt=1, provider="http", provider_id="p", at=101)
    )

    async def receipt(status: ReceiptStatus) -> tuple[MessageState, bool] | None:
        result = await store.transact(lambda tx: apply_receipt(tx, "p", status, at=102.0))
        return None if result is None else (result.message.state, result.changed)

    assert await receipt(ReceiptStatus.SENT) == (MessageState.SENT, False)
    assert await receipt(ReceiptStatus.DELIVERED) == (MessageState.DELIVERED, True)
    assert await receipt(ReceiptStatus.DELIVERED) == (MessageState.DELIVERED, False)
    assert await receipt(ReceiptStatus.FAILED) == (MessageState.DELIVERED, False)
    assert await receipt(ReceiptStatus.SENT) == (MessageState.DELIVERED, False)
    none = await store.transact(
        lambda tx: apply_receipt(tx, "nobody", ReceiptStatus.DELIVERED, at=1.0)
    )
    assert none is None
    events = await store.read(lambda tx: message_events(tx, message_id))
    assert [e.kind for e in events].count("receipt") == 1


async def test_listing_filters_by_state_and_kind_and_pages_by_id(store: StoreHandle) -> None:
    ids = []
    for n in range(5):
        kind = MessageKind.EMAIL if n % 2 else MessageKind.SMS
        msg = NewMessage(kind=kind, recipient=f"r{n}", body="b", dedupe_key=f"k{n}", ttl_s=60)
        ids.append(await _enqueue(store, msg, at=float(n)))
    sms = await store.read(lambda tx: list_messages(tx, kind=MessageKind.SMS, limit=2))
    assert [m.id for m in sms] == [ids[0], ids[2]]
    rest = await store.read(
        lambda tx: list_messages(tx, kind=MessageKind.SMS, after_id=sms[-1].id, limit=2)
    )
    assert [m.id for m in rest] == [ids[4]]
    assert rest[0].expires_at == 4.0 + 60
    none_failed = await store.read(lambda tx: list_messages(tx, state=MessageState.FAILED, limit=9))
    assert none_failed == []
