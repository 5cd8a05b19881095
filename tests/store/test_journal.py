"""The journal's one promise: `sync()` returns only once every event the router published before
the call is committed, including an event handed straight to the journal while it was waiting
on its feed (in no buffer yet, and not yet seen by the journal's task)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import trio
import trio.testing

from hotline.clock import WallClock
from hotline.journal import Journal
from hotline.routing import RoutingState
from hotline.routing.actor import RouterActor, RouterHandle, batches
from hotline.routing.model import Event
from hotline.store import StoreHandle
from hotline.store.events import ContactNote
from hotline.store.queries import get_contact
from tests.routing_fixtures import T0, contact, policy

GIVE_UP_AFTER = 30.0


@dataclass(frozen=True, slots=True)
class Line:
    router: RouterHandle
    journal: Journal


@asynccontextmanager
async def open_line(store: StoreHandle) -> AsyncIterator[Line]:
    actor = RouterActor(RoutingState(policy()), clock=WallClock(epoch=T0))
    journal = Journal(actor.subscribe(lossless=True), store, published=lambda: actor.published)
    with trio.fail_after(GIVE_UP_AFTER):
        async with trio.open_nursery() as nursery:
            await nursery.start(journal.run)
            router = await nursery.start(actor.run)
            yield Line(router, journal)
            nursery.cancel_scope.cancel()


async def create_noted(router: RouterHandle, cid: str, phone: str) -> list[Event]:
    """Queue `cid` through the router, its phone noted for the journal."""
    admission = await router.admit(contact(cid, "documents"), note=ContactNote(phone=phone))
    return admission.events


async def test_sync_right_after_a_command_waits_for_its_events_to_be_committed(
    store: StoreHandle,
) -> None:
    async with open_line(store) as line:
        await trio.testing.wait_all_tasks_blocked()  # the journal waits on its empty feed
        events = await create_noted(line.router, "c1", "+79120000001")
        await line.journal.sync()

        assert line.journal.statistics().events >= len(events)
        row = await store.read(lambda tx: get_contact(tx, "c1"))
        assert row is not None and row.phone == "+79120000001"


async def test_every_caller_of_a_busy_line_finds_its_contact_on_disk(store: StoreHandle) -> None:
    async with open_line(store) as line:
        missing: list[str] = []

        async def create(cid: str) -> None:
            await create_noted(line.router, cid, "+79120000002")
            await line.journal.sync()
            if await store.read(lambda tx: get_contact(tx, cid)) is None:
                missing.append(cid)

        async with trio.open_nursery() as callers:
            for i in range(40):
                callers.start_soon(create, f"c{i}")
        assert missing == []
        assert line.journal.statistics().batches < 40  # they shared commits


async def test_a_note_rides_on_its_command_even_if_the_caller_stops_waiting(
    store: StoreHandle,
) -> None:
    actor = RouterActor(RoutingState(policy()), clock=WallClock(epoch=T0))
    journal = Journal(actor.subscribe(lossless=True), store, published=lambda: actor.published)
    with trio.fail_after(GIVE_UP_AFTER):
        async with trio.open_nursery() as nursery:
            await nursery.start(journal.run)
            router = await nursery.start(actor.run)
            stalled = actor.subscribe(lossless=True, buffer=0)  # holds the actor in the command
            with trio.move_on_after(0.2) as gave_up:
                await create_noted(router, "c1", "+79120000003")
            assert gave_up.cancelled_caught  # the caller left; the command had been handed over
            await stalled.aclose()
            await router.statistics()  # the actor has moved on
            await journal.sync()

            row = await store.read(lambda tx: get_contact(tx, "c1"))
            assert row is not None and row.phone == "+79120000003"
            nursery.cancel_scope.cancel()


async def test_the_journal_takes_buffered_events_without_a_pass_of_the_scheduler() -> None:
    # Its next batch is ready the moment the last commit is: under load a pass of the scheduler
    # runs every request in flight (the previous batch's answers among them), ~10 ms.
    send, feed = trio.open_memory_channel[Event](10)
    state = RoutingState(policy())
    events = [e for c in ("a", "b", "c") for e in state.enqueue(contact(c, "documents"), T0)]
    for event in events:
        send.send_nowait(event)
    eager = batches(feed, eager=True)
    with trio.CancelScope() as scope:
        scope.cancel()  # any checkpoint in here would raise Cancelled
        assert await anext(eager) == events
    assert not scope.cancelled_caught
    send.send_nowait(events[0])
    with trio.CancelScope() as scope:
        scope.cancel()
        await anext(batches(feed))  # the plain reader passes through the scheduler first
    assert scope.cancelled_caught
    send.close()
    assert [b async for b in batches(feed, eager=True)] == [[events[0]]]
