"""The router actor on trio's virtual clock: its timers, its errors, cancelled callers, its feeds.

Each test runs under an autojumping `MockClock`, so a timer of minutes fires at once and at its
exact virtual instant. Tests wait on feeds, replies and `wait_all_tasks_blocked()`, never on
real time; `trio.sleep` only moves the virtual clock on.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import pytest
import trio
import trio.testing

from hotline.clock import WallClock
from hotline.domain.errors import Conflict, Invalid, NotFound
from hotline.routing import (
    Channel,
    ContactState,
    NewContact,
    OperatorSpec,
    OperatorState,
    Presence,
    RoutingState,
)
from hotline.routing.actor import RouterActor, RouterHandle
from hotline.routing.model import (
    Accepted,
    Breached,
    Event,
    Offered,
    OfferWithdrawn,
    OperatorChanged,
    Overflowed,
    QueuePosition,
)
from tests.routing_fixtures import MIN, T0, contact, offers, operator, policy

GIVE_UP_AFTER = 24 * 3600.0  # virtual seconds: a test that hangs fails instead


@dataclass(frozen=True, slots=True)
class Router:
    actor: RouterActor
    handle: RouterHandle
    clock: WallClock


@asynccontextmanager
async def open_router() -> AsyncIterator[Router]:
    """A running router on an audited state; on a clean exit its state is checked once more."""
    clock = WallClock(epoch=T0)
    actor = RouterActor(RoutingState(policy(), audit=True), clock=clock)
    with trio.fail_after(GIVE_UP_AFTER):
        async with trio.open_nursery() as nursery:
            handle: RouterHandle = await nursery.start(actor.run)
            yield Router(actor, handle, clock)
            await handle.check_invariants()
            nursery.cancel_scope.cancel()


async def add_ready(handle: RouterHandle, spec: OperatorSpec) -> list[Event]:
    return await handle.upsert_operator(spec) + await handle.set_presence(spec.id, Presence.READY)


async def contact_state(handle: RouterHandle, contact_id: str) -> ContactState:
    return await handle.contact_state(contact_id)


async def operator_state(handle: RouterHandle, op_id: str) -> OperatorState:
    return (await handle.operator_states([op_id]))[op_id]


# -- timers -----------------------------------------------------------------------------------


async def test_missed_offer_is_withdrawn_after_fifteen_seconds_and_goes_to_the_next_operator(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with open_router() as r:
        await add_ready(r.handle, operator("ann", {"documents": 5}))
        await add_ready(r.handle, operator("bob", {"documents": 3}))
        assert offers(await r.handle.enqueue(contact("c1", "documents"))) == [("c1", "ann")]
        offered_at = trio.current_time()
        feed = r.actor.subscribe()

        withdrawn = await feed.receive()
        assert trio.current_time() == offered_at + 15
        now = r.clock.now()
        assert withdrawn == OfferWithdrawn("c1", "ann", now, "missed")
        assert await feed.receive() == OperatorChanged(
            "ann", now, OperatorState.BREAK, "missed_offer"
        )
        assert await feed.receive() == Offered("c1", "bob", now, now + 15)
        assert await operator_state(r.handle, "ann") is OperatorState.BREAK
        assert (await r.handle.statistics()).missed_offers == 1


async def test_wrap_up_ends_by_itself_and_the_next_contact_is_offered(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with open_router() as r:
        await add_ready(r.handle, operator("ann", {"documents": 3}))
        await r.handle.enqueue(contact("c1", "documents"))
        await r.handle.enqueue(contact("c2", "documents"))
        await r.handle.accept("c1", "ann")
        await trio.sleep(100)
        await r.handle.complete("c1", "ann")
        completed_at = trio.current_time()
        assert await operator_state(r.handle, "ann") is OperatorState.WRAP_UP
        feed = r.actor.subscribe()

        ended = await feed.receive()
        assert trio.current_time() == completed_at + 30
        assert ended == OperatorChanged(
            "ann", r.clock.now(), OperatorState.READY, "wrap_up_timeout"
        )
        assert offers([await feed.receive()]) == [("c2", "ann")]


async def test_contact_overflows_exactly_at_its_target(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with open_router() as r:
        await add_ready(r.handle, operator("gen", {"general": 4}))
        arrived_at = trio.current_time()
        assert offers(await r.handle.enqueue(contact("c1", "documents"))) == []
        feed = r.actor.subscribe()

        overflowed = await feed.receive()
        assert trio.current_time() == arrived_at + 15 * MIN
        assert overflowed == Overflowed("c1", r.clock.now(), ("general",))
        assert offers([await feed.receive()]) == [("c1", "gen")]


async def test_breach_is_published_once_at_the_limit(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with open_router() as r:
        arrived_at = trio.current_time()
        await r.handle.enqueue(contact("c1", "documents"))
        feed = r.actor.subscribe()
        seen: list[tuple[float, type[Event]]] = []
        with trio.move_on_after(4 * 30 * MIN):
            async for event in feed:
                seen.append((trio.current_time() - arrived_at, type(event)))

        assert seen == [(15 * MIN, Overflowed), (30 * MIN, Breached)]
        assert (await r.handle.statistics()).breaches == 1
        assert await contact_state(r.handle, "c1") is ContactState.WAITING


# -- requests ---------------------------------------------------------------------------------


async def test_state_errors_reach_the_caller_and_the_actor_keeps_serving(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with open_router() as r:
        with pytest.raises(NotFound):
            await r.handle.accept("nope", "ann")
        with pytest.raises(Invalid) as invalid:
            await r.handle.upsert_operator(operator("ann", {"documents": 6}))
        assert invalid.value.field == "skills"
        await r.handle.enqueue(contact("c1", "documents"))
        with pytest.raises(Conflict):
            await r.handle.enqueue(contact("c1", "payments"))
        with pytest.raises(NotFound):
            await r.handle.holding("nope")

        assert offers(await add_ready(r.handle, operator("ann", {"documents": 3}))) == [
            ("c1", "ann")
        ]
        assert (await r.handle.statistics()).created == 1


async def test_cancelled_caller_does_not_break_the_actor(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with open_router() as r:
        await add_ready(r.handle, operator("ann", {"documents": 3}))
        # An unread lossless feed holds the actor inside the next command until it is read.
        stalled = r.actor.subscribe(lossless=True, buffer=0)
        arrived_at = trio.current_time()
        with trio.move_on_after(5) as waiting:
            await r.handle.enqueue(contact("c1", "documents"))
        assert waiting.cancelled_caught

        assert offers([await stalled.receive() for _ in range(3)]) == [("c1", "ann")]
        await stalled.aclose()  # a lossless reader that leaves is dropped, not waited for
        assert await contact_state(r.handle, "c1") is ContactState.OFFERED  # the change stands
        assert await r.handle.accept("c1", "ann") == [
            Accepted("c1", "ann", r.clock.now(), trio.current_time() - arrived_at)
        ]


async def test_a_caller_cancelled_before_its_command_is_handed_over_changes_nothing(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with open_router() as r:
        with trio.CancelScope() as scope:
            scope.cancel()
            await r.handle.enqueue(contact("c1", "documents"))
        assert scope.cancelled_caught
        with pytest.raises(NotFound):
            await contact_state(r.handle, "c1")
        assert (await r.handle.statistics()).created == 0


async def test_callers_held_back_by_a_full_inbox_each_get_their_own_answer(
    autojump_clock: trio.testing.MockClock,
) -> None:
    clock = WallClock(epoch=T0)
    actor = RouterActor(RoutingState(policy(), audit=True), clock=clock, inbox_size=1)
    answers: dict[str, list[Event]] = {}

    async def create(cid: str) -> None:
        answers[cid] = await actor.handle.enqueue(contact(cid, "documents"))

    with trio.fail_after(GIVE_UP_AFTER):
        async with trio.open_nursery() as nursery:
            await nursery.start(actor.run)
            # A stalled lossless feed holds the actor inside the first command: one more request
            # fills the inbox and the rest wait in `send`, to be served in one run of the actor
            # that answers some of them before they are even resumed.
            stalled = actor.subscribe(lossless=True, buffer=0)
            ids = [f"c{i}" for i in range(12)]
            for cid in ids:
                nursery.start_soon(create, cid)
            await trio.testing.wait_all_tasks_blocked()
            assert answers == {}
            await stalled.aclose()
            await trio.testing.wait_all_tasks_blocked()

            assert sorted(answers) == sorted(ids)
            for cid, events in answers.items():
                assert {getattr(e, "contact_id", None) for e in events} == {cid}
            assert (await actor.handle.statistics()).created == len(ids)
            await actor.handle.check_invariants()
            nursery.cancel_scope.cancel()


async def test_an_accept_sent_after_the_offer_expired_is_refused_even_if_the_actor_was_busy(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with open_router() as r, trio.open_nursery() as nursery:
        await r.handle.upsert_operator(operator("ann", {"documents": 3}))
        await r.handle.enqueue(contact("c1", "documents"))
        stalled = r.actor.subscribe(lossless=True, buffer=1)
        # The offer is made, then the actor waits on the unread feed (the store, say, is slow).
        nursery.start_soon(r.handle.set_presence, "ann", Presence.READY)
        await trio.testing.wait_all_tasks_blocked()
        await trio.sleep(20)  # the offer expired 5 s ago
        accepted: list[Exception | list[Event]] = []

        async def accept_late() -> None:
            try:
                accepted.append(await r.handle.accept("c1", "ann"))
            except Conflict as refused:
                accepted.append(refused)

        nursery.start_soon(accept_late)
        await trio.testing.wait_all_tasks_blocked()
        published = [await stalled.receive() for _ in range(3)]
        assert offers(published) == [("c1", "ann")]
        await stalled.aclose()
        await trio.testing.wait_all_tasks_blocked()

        assert len(accepted) == 1
        assert isinstance(accepted[0], Conflict)
        assert await contact_state(r.handle, "c1") is ContactState.WAITING
        assert await operator_state(r.handle, "ann") is OperatorState.BREAK


async def test_restored_contacts_wait_in_their_place_and_time_without_repeating_events(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with open_router() as r:
        await r.handle.upsert_operator(operator("ann", {"documents": 3}))
        now = r.clock.now()
        handled = NewContact("handled", Channel.VOICE, "documents", arrived_at=now - 20 * MIN)
        late = NewContact("late", Channel.VOICE, "documents", arrived_at=now - 20 * MIN)
        fresh = NewContact("fresh", Channel.VOICE, "documents", arrived_at=now - MIN)
        feed = r.actor.subscribe()
        assert await r.handle.restore_contact(handled, assigned_to="ann") == []
        assert await r.handle.restore_contact(late, overflowed=True) == []
        assert await r.handle.restore_contact(fresh) == []
        assert await r.handle.queue_position("fresh") == QueuePosition(1, 0, 0)
        assert await r.handle.queue_position("handled") == QueuePosition(0, 0, 0)

        seen: list[tuple[float, Event]] = []
        with trio.move_on_after(60 * MIN):
            async for event in feed:
                seen.append((r.clock.now() - now, event))
        # "late" overflowed before the restart: only its limit is left, at 10 min from now.
        assert [(at, type(e), e.contact_id) for at, e in seen] == [
            (10 * MIN, Breached, "late"),
            (14 * MIN, Overflowed, "fresh"),
            (29 * MIN, Breached, "fresh"),
        ]
        await r.handle.set_presence("ann", Presence.READY)
        assert await r.handle.queue_position("late") == QueuePosition(0, 1, 0)
        await r.handle.complete("handled", "ann")
        await r.handle.end_wrap_up("ann")
        assert await contact_state(r.handle, "late") is ContactState.OFFERED


# -- feeds ------------------------------------------------------------------------------------


async def test_lagging_lossy_feed_is_closed_while_a_lossless_feed_gets_every_event(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with open_router() as r, trio.open_nursery() as nursery:
        lossy = r.actor.subscribe(buffer=2)
        lossless = r.actor.subscribe(lossless=True, buffer=1)
        received: list[Event] = []

        async def read_lossless() -> None:
            async for event in lossless:
                received.append(event)

        nursery.start_soon(read_lossless)
        decided = await add_ready(r.handle, operator("ann", {"documents": 3}))
        decided += await r.handle.enqueue(contact("c1", "documents"))
        decided += await r.handle.accept("c1", "ann")
        decided += await r.handle.complete("c1", "ann")
        await trio.testing.wait_all_tasks_blocked()

        assert len(decided) > 2
        assert received == decided
        assert [lossy.receive_nowait(), lossy.receive_nowait()] == decided[:2]
        with pytest.raises(trio.EndOfChannel):
            lossy.receive_nowait()
        nursery.cancel_scope.cancel()


async def test_events_reach_subscribers_in_the_order_the_state_decided_them(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A twin state driven by the same commands at the same instants decides the same events;
    both kinds of feed must deliver exactly those, in that order, timers included."""
    twin = RoutingState(policy(), audit=True)
    decided: list[Event] = []
    async with open_router() as r, trio.open_nursery() as nursery:
        feeds = [r.actor.subscribe(), r.actor.subscribe(lossless=True, buffer=1)]
        received: list[list[Event]] = [[], []]

        async def read(i: int) -> None:
            async for event in feeds[i]:
                received[i].append(event)

        for i in range(2):
            nursery.start_soon(read, i)

        async def both(command: str, *args: object) -> None:
            """The same command on the twin, with the instant, and through the handle."""
            now = r.clock.now()
            decided.extend(getattr(twin, command)(*args, now) + twin.tick(now))
            await getattr(r.handle, command)(*args)

        await both("upsert_operator", operator("ann", {"documents": 5}))
        await both("upsert_operator", operator("bob", {"documents": 3}))
        await both("set_presence", "ann", Presence.READY)
        await both("set_presence", "bob", Presence.READY)
        for cid in ("c1", "c2", "c3"):
            await both("enqueue", contact(cid, "documents"))
        await trio.sleep(5)
        await both("accept", "c2", "bob")
        await trio.sleep(15)  # ann misses c1 at 15 s: nobody free, it waits
        decided.extend(twin.tick(T0 + 15))
        await both("complete", "c2", "bob")
        await trio.sleep(40)  # bob's wrap-up ends at 50 s and c1 is offered to him
        decided.extend(twin.tick(T0 + 50))
        await trio.testing.wait_all_tasks_blocked()

        assert offers(decided) == [("c1", "ann"), ("c2", "bob"), ("c1", "bob")]
        assert received == [decided, decided]
        nursery.cancel_scope.cancel()
