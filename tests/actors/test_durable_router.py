"""`DurableRouter`, what services hold: a change returns only once its events are committed, a
refusal only once what came before it is, and the facts a caller brings (a phone, an outcome)
reach the store on the command's own events.

The journal writes through a store whose commits wait at a gate the test opens, so "returned
before its change was on disk" is something the test can see, not a race it hopes to lose."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, cast

import pytest
import trio
import trio.testing

from hotline.clock import WallClock
from hotline.domain.errors import Conflict, NotFound
from hotline.journal import Journal
from hotline.notify.sender import Notifier
from hotline.routing import Presence, RoutingState
from hotline.routing.actor import RouterActor, RouterHandle
from hotline.services.durable import CommittingStore, DurableRouter, after_commit
from hotline.services.open_tickets import OpenTickets, TicketRevised
from hotline.store import StoreHandle, Tx
from hotline.store.events import ContactNote
from hotline.store.outbox import MessageKind, NewMessage, enqueue_message
from hotline.store.queries import get_contact
from tests.routing_fixtures import T0, contact, operator, policy

GIVE_UP_AFTER = 30.0


class GatedStore:
    """The real store, but each write waits until `gate` is set."""

    def __init__(self, store: StoreHandle) -> None:
        self._store = store
        self.gate = trio.Event()
        self.gate.set()

    async def transact(self, work: Any, **how: Any) -> Any:
        await self.gate.wait()
        return await self._store.transact(work, **how)


@dataclass
class Line:
    router: DurableRouter
    store: GatedStore


@asynccontextmanager
async def open_line(store: StoreHandle) -> AsyncIterator[Line]:
    gated = GatedStore(store)
    actor = RouterActor(RoutingState(policy()), clock=WallClock(epoch=T0))
    journal = Journal(
        actor.subscribe(lossless=True),
        cast(StoreHandle, gated),
        published=lambda: actor.published,
    )
    with trio.fail_after(GIVE_UP_AFTER):
        async with trio.open_nursery() as nursery:
            await nursery.start(journal.run)
            handle = await nursery.start(actor.run)
            yield Line(DurableRouter(handle, journal), gated)
            nursery.cancel_scope.cancel()


async def phone_of(store: StoreHandle, cid: str) -> str | None:
    row = await store.read(lambda tx: get_contact(tx, cid))
    return None if row is None else row.phone


async def test_a_change_returns_only_once_its_events_are_committed(store: StoreHandle) -> None:
    async with open_line(store) as line, trio.open_nursery() as nursery:
        await line.router.put_operator(operator("ann", {"documents": 3}))
        line.store.gate = trio.Event()  # the disk stalls from here
        returned: list[str] = []
        both_returned = trio.Event()

        async def change(name: str, call: Any) -> None:
            await call
            returned.append(name)
            if len(returned) == 2:
                both_returned.set()

        nursery.start_soon(change, "admit", line.router.admit(contact("c1", "documents")))
        nursery.start_soon(change, "ready", line.router.set_presence("ann", Presence.READY))
        await trio.testing.wait_all_tasks_blocked()
        assert returned == []  # both decided by the router, neither on disk
        assert await phone_of(store, "c1") is None

        line.store.gate.set()
        await both_returned.wait()
        assert sorted(returned) == ["admit", "ready"]
        row = await store.read(lambda tx: get_contact(tx, "c1"))
        assert row is not None and row.operator_id == "ann"  # offered: ann was ready


async def test_a_refusal_waits_for_the_change_that_caused_it(store: StoreHandle) -> None:
    """An accept that finds the contact gone answers only once its end is on disk, so a caller
    that next reads the store sees how it ended (a 409 at the edge, never a 404)."""
    async with open_line(store) as line, trio.open_nursery() as nursery:
        await line.router.admit(contact("c1", "documents"))
        line.store.gate = trio.Event()
        nursery.start_soon(line.router.abandon, "c1")
        await trio.testing.wait_all_tasks_blocked()
        refused = trio.Event()

        async def accept() -> None:
            with pytest.raises(NotFound):
                await line.router.accept("c1", "ann")
            refused.set()

        nursery.start_soon(accept)
        await trio.testing.wait_all_tasks_blocked()
        assert not refused.is_set()

        line.store.gate.set()
        await refused.wait()
        row = await store.read(lambda tx: get_contact(tx, "c1"))
        assert row is not None and row.state == "abandoned"


async def test_the_facts_of_a_command_reach_the_store_on_its_own_events(
    store: StoreHandle,
) -> None:
    async with open_line(store) as line:
        await line.router.put_operator(operator("ann", {"documents": 3}))
        await line.router.set_presence("ann", Presence.READY)
        admission = await line.router.admit(
            contact("c1", "documents"), note=ContactNote(phone="+79120000004")
        )
        assert admission.position is None  # offered at once: no place in the queue
        await line.router.accept("c1", "ann")
        with pytest.raises(NotFound):  # refused: its note goes nowhere
            await line.router.complete("c2", "ann", note=ContactNote(outcome="lost"))
        await line.router.complete("c1", "ann", note=ContactNote(outcome="explained"))

        row = await store.read(lambda tx: get_contact(tx, "c1"))
        assert row is not None
        assert (row.phone, row.state, row.outcome) == ("+79120000004", "completed", "explained")


async def test_two_creations_of_one_new_operator_cannot_both_find_it_new(
    store: StoreHandle,
) -> None:
    async with open_line(store) as line:
        answers = []

        async def put() -> None:
            answers.append(await line.router.put_operator(operator("ann", {"documents": 3})))

        async with trio.open_nursery() as nursery:
            nursery.start_soon(put)
            nursery.start_soon(put)
        assert sorted(a.existed for a in answers) == [False, True]
        assert {a.state for a in answers} == {"offline"}


def test_the_router_handle_runs_no_code_from_outside() -> None:
    assert not hasattr(RouterHandle, "command") and not hasattr(RouterHandle, "query")
    assert not hasattr(Journal, "noted")


# -- the store's post-commit hook -----------------------------------------------------------------


class RecordingNotifier:
    def __init__(self) -> None:
        self.woken: list[MessageKind | None] = []

    def notify_new(self, kind: MessageKind | None = None) -> None:
        self.woken.append(kind)


async def test_an_outbox_message_wakes_its_sender_once_committed_and_a_rollback_wakes_none(
    store: StoreHandle,
) -> None:
    notifier = RecordingNotifier()
    index = OpenTickets()
    committing = CommittingStore(store, after_commit(store, cast(Notifier, notifier), index))

    def sms(key: str) -> NewMessage:
        return NewMessage(MessageKind.SMS, "+79120000005", "Ваше обращение принято", dedupe_key=key)

    async def two_messages(tx: Tx) -> None:
        await enqueue_message(tx, sms("k1"), at=T0)
        await enqueue_message(tx, sms("k2"), at=T0)
        tx.after_commit(TicketRevised("+79120000005", "T-1", "accepted", T0))

    async def refused(tx: Tx) -> None:
        await enqueue_message(tx, sms("k3"), at=T0)
        tx.after_commit(TicketRevised("+79120000006", "T-2", "accepted", T0))
        raise Conflict("changed meanwhile")

    await committing.transact(two_messages)
    assert notifier.woken == [MessageKind.SMS]  # once per kind and commit
    assert index.of("+79120000005") == "T-1"
    with pytest.raises(Conflict):
        await committing.transact(refused)
    assert notifier.woken == [MessageKind.SMS] and index.of("+79120000006") is None

    async def completed(tx: Tx) -> None:
        tx.after_commit(TicketRevised("+79120000005", "T-1", "completed", T0))

    await committing.transact(completed)
    assert index.of("+79120000005") is None
