"""The router actor: the trio task that owns one `RoutingState`.

Others hold a `RouterHandle`. A command travels through a bounded inbox carrying its own one-shot
reply slot: the caller parks itself and the actor wakes it with the outcome (the state's answer, or
its error re-raised in the caller), which is what a `trio.Event` or a reply channel would do with
fewer objects and no trip through a parking lot on the hot path. Timers: a small alarm task
sleeps until the state's next deadline, which the actor moves by setting the alarm's deadline,
and then sends a no-op request, so the actor itself just awaits its inbox (a cancel scope per
receive would cost more than the routing decision). Before each request the actor applies the
due timers (offer timeout, wrap-up end, target -> overflow, limit -> breach). Every event the
state decides is published, in order, to subscribers: the store and KPIs subscribe losslessly
(back-pressure), live feeds lossily (a lagging feed is closed, never waited for).
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeAlias, TypeVar

import outcome
import trio

from hotline.clock import WallClock
from hotline.domain.errors import HotlineError
from hotline.routing.model import (
    ContactState,
    Ended,
    Enqueued,
    Event,
    NewContact,
    OperatorSpec,
    OperatorState,
    Presence,
    QueuePosition,
    RouterStatistics,
)
from hotline.routing.state import RoutingState

T = TypeVar("T")
Reply: TypeAlias = Coroutine[Any, Any, T]  # awaited by the caller, answered by the actor


@dataclass(slots=True)
class _Request(Generic[T]):
    apply: Callable[[RoutingState, float], T]
    publishes: bool  # True when `apply` returns the events it decided (or an answer with them)
    waiter: trio.lowlevel.Task | None = None  # the caller, parked until the answer
    result: outcome.Outcome[T] | None = None  # the answer, when nobody was parked for it

    def answer(self, result: outcome.Outcome[T]) -> None:
        waiter = self.waiter
        if waiter is None:
            self.result = result  # the caller is not parked yet (or has given up waiting)
        else:
            self.waiter = None
            trio.lowlevel.reschedule(waiter, result)

    def give_up(self, _: Any) -> trio.lowlevel.Abort:
        """The parked caller was cancelled: the command still runs, its answer goes nowhere."""
        self.waiter = None
        return trio.lowlevel.Abort.SUCCEEDED


def _nothing(state: RoutingState, now: float) -> list[Event]:
    return []


# -- typed answers --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Admission:
    """A new contact's events, and its place in the queue if it waits (None once offered)."""

    events: list[Event]
    position: QueuePosition | None


@dataclass(frozen=True, slots=True)
class OperatorPut:
    events: list[Event]
    existed: bool  # the router knew the operator before (it holds every stored operator)
    state: OperatorState  # how it shows after the change


@dataclass(frozen=True, slots=True)
class Holding:
    state: ContactState
    operator_id: str | None  # offered or assigned to; None while it waits


def _noted(events: list[Event], contact_id: str, note: object) -> list[Event]:
    """Attach `note` to the event that begins or ends `contact_id` among a command's events,
    before they are published: facts the router does not read reach the journal with the
    events they belong to, and a refused command (no events) carries none."""
    for event in events:
        if isinstance(event, Enqueued | Ended) and event.contact_id == contact_id:
            event.note = note
            break
    return events


def _admit(state: RoutingState, spec: NewContact, note: object, now: float) -> Admission:
    events = state.enqueue(spec, now)
    if note is not None:
        _noted(events, spec.id, note)
    waiting = state.contact_state(spec.id) is ContactState.WAITING
    return Admission(events, state.queue_position(spec.id, now) if waiting else None)


def _put_operator(state: RoutingState, spec: OperatorSpec, now: float) -> OperatorPut:
    existed = state.has_operator(spec.id)
    events = state.upsert_operator(spec, now)
    return OperatorPut(events, existed, state.operator_state(spec.id))


def _operator_states(state: RoutingState, ids: list[str]) -> dict[str, OperatorState]:
    return {op_id: state.operator_state(op_id) for op_id in ids if state.has_operator(op_id)}


async def batches(
    feed: trio.MemoryReceiveChannel[Event], max_batch: int = 4096, *, eager: bool = False
) -> AsyncIterator[list[Event]]:
    """A feed's events a list at a time: each one received with whatever has piled up behind it
    (up to `max_batch`). A `receive` passes through the scheduler even when an event is
    buffered, so a reader taking them one by one would wake once per event, not once per
    burst; ends when the feed does.

    `eager`: take what is buffered at once, and wait through the scheduler only for a feed
    that is empty. For a reader that passes through the scheduler anyway while it handles each
    batch (the journal, whose every batch waits for its commit): the next batch is then ready
    when the previous one is done, not a pass later, and a pass under load runs every request
    in flight."""
    while True:
        batch: list[Event] = []
        if eager:
            _take_buffered(feed, batch, max_batch)
        if not batch:
            try:
                batch.append(await feed.receive())
            except trio.EndOfChannel:
                return
            _take_buffered(feed, batch, max_batch)
        yield batch


def _take_buffered(feed: trio.MemoryReceiveChannel[Event], batch: list[Event], limit: int) -> None:
    while len(batch) < limit:
        try:
            batch.append(feed.receive_nowait())
        except (trio.WouldBlock, trio.EndOfChannel):
            return


@dataclass(slots=True)
class _Subscriber:
    send: trio.MemorySendChannel[Event]
    lossless: bool


class RouterHandle:
    """What the rest of the process holds: typed async calls into the router, each answered
    with a value of its own (no code from outside runs on the state). Each is a plain
    function handing back `_call`'s coroutine, so a parked caller sits one frame deep, not
    three (every suspend and resume walks them all). An answer means the router has decided,
    not that the journal has written it: services hold `DurableRouter`, which waits for that."""

    def __init__(self, inbox: trio.MemorySendChannel[_Request[Any]]) -> None:
        self._inbox = inbox

    async def _call(self, apply: Callable[[RoutingState, float], T], publishes: bool) -> T:
        await trio.lowlevel.checkpoint_if_cancelled()
        request = _Request(apply, publishes)
        try:
            # Hand over without the extra trip through the scheduler that `send` makes when the
            # inbox has room: the park below is this call's checkpoint.
            self._inbox.send_nowait(request)
        except trio.WouldBlock:
            await self._inbox.send(request)
            if request.result is not None:  # served while this caller waited to be resumed
                return request.result.unwrap()
        # From here a cancelled caller stops waiting; the command it handed over still runs.
        request.waiter = trio.lowlevel.current_task()
        answer: T = await trio.lowlevel.wait_task_rescheduled(request.give_up)
        return answer

    def upsert_operator(self, spec: OperatorSpec) -> Reply[list[Event]]:
        return self._call(lambda s, now: s.upsert_operator(spec, now), True)

    def remove_operator(self, op_id: str) -> Reply[list[Event]]:
        return self._call(lambda s, now: s.remove_operator(op_id, now), True)

    def set_presence(self, op_id: str, presence: Presence) -> Reply[list[Event]]:
        return self._call(lambda s, now: s.set_presence(op_id, presence, now), True)

    def enqueue(self, spec: NewContact) -> Reply[list[Event]]:
        return self._call(lambda s, now: s.enqueue(spec, now), True)

    def admit(self, spec: NewContact, *, note: object = None) -> Reply[Admission]:
        """Queue a new contact: its events (`note` attached to its `Enqueued`) and, while it
        waits once routing has had its say, its place in the queue; one trip to the router."""
        return self._call(lambda s, now: _admit(s, spec, note, now), True)

    def put_operator(self, spec: OperatorSpec) -> Reply[OperatorPut]:
        """Create or change an operator: whether the router knew it, and how it shows now. In
        one step, so two creations of one new id cannot both find it new."""
        return self._call(lambda s, now: _put_operator(s, spec, now), True)

    def accept(self, contact_id: str, op_id: str) -> Reply[list[Event]]:
        return self._call(lambda s, now: s.accept(contact_id, op_id, now), True)

    def certify(self, op_id: str, certified_until: float | None) -> Reply[list[Event]]:
        """How long the operator stays certified, from its journal (None: not certified)."""
        return self._call(lambda s, now: s.certify(op_id, certified_until, now), True)

    def reject(self, contact_id: str, op_id: str) -> Reply[list[Event]]:
        return self._call(lambda s, now: s.reject(contact_id, op_id, now), True)

    def abandon(self, contact_id: str) -> Reply[list[Event]]:
        return self._call(lambda s, now: s.abandon(contact_id, now), True)

    def expire(self, contact_id: str) -> Reply[list[Event]]:
        return self._call(lambda s, now: s.expire(contact_id, now), True)

    def complete(self, contact_id: str, op_id: str, *, note: object = None) -> Reply[list[Event]]:
        """`note` (say, the outcome recorded) travels on the contact's `Ended` event."""
        if note is None:
            return self._call(lambda s, now: s.complete(contact_id, op_id, now), True)
        return self._call(
            lambda s, now: _noted(s.complete(contact_id, op_id, now), contact_id, note), True
        )

    def end_wrap_up(self, op_id: str) -> Reply[list[Event]]:
        return self._call(lambda s, now: s.end_wrap_up(op_id, now), True)

    def transfer(self, contact_id: str, new: NewContact) -> Reply[list[Event]]:
        return self._call(lambda s, now: s.transfer(contact_id, new, now), True)

    def switch_to_voice(
        self, contact_id: str, op_id: str, new_id: str, *, note: object = None
    ) -> Reply[list[Event]]:
        """A chat moved to a call (`RoutingState.switch_to_voice`); `note` (the phone) travels
        on the call's `Enqueued`."""
        return self._call(
            lambda s, now: _noted(s.switch_to_voice(contact_id, op_id, new_id, now), new_id, note),
            True,
        )

    def restore_contact(
        self,
        spec: NewContact,
        *,
        overflowed: bool = False,
        breached: bool = False,
        assigned_to: str | None = None,
    ) -> Reply[list[Event]]:
        return self._call(
            lambda s, now: s.restore_contact(
                spec, now, overflowed=overflowed, breached=breached, assigned_to=assigned_to
            ),
            True,
        )

    def queue_position(self, contact_id: str) -> Reply[QueuePosition]:
        return self._call(lambda s, now: s.queue_position(contact_id, now), False)

    def contact_state(self, contact_id: str) -> Reply[ContactState]:
        return self._call(lambda s, _now: s.contact_state(contact_id), False)

    def holding(self, contact_id: str) -> Reply[Holding]:
        """A live contact's state and the operator it is offered or assigned to."""
        return self._call(
            lambda s, _now: Holding(s.contact_state(contact_id), s.holder_of(contact_id)), False
        )

    def operator_states(self, op_ids: Iterable[str]) -> Reply[dict[str, OperatorState]]:
        """How each of `op_ids` the router knows shows now; unknown ids are left out."""
        ids = list(op_ids)
        return self._call(lambda s, _now: _operator_states(s, ids), False)

    def check_invariants(self) -> Reply[None]:
        """The state's own consistency check, run inside the actor (tests and audits)."""
        return self._call(lambda s, now: s.check_invariants(now), False)

    def statistics(self, *, queues: bool = False) -> Reply[RouterStatistics]:
        return self._call(lambda s, now: s.statistics(now, queues=queues), False)


class RouterActor:
    def __init__(
        self, state: RoutingState, *, clock: WallClock | None = None, inbox_size: int = 64
    ) -> None:
        self._state = state
        self._clock = clock
        send, self._inbox = trio.open_memory_channel[_Request[Any]](inbox_size)
        self.handle = RouterHandle(send)
        self._subscribers: list[_Subscriber] = []
        # Events handed to the subscribers so far: a lossless feed taken before the first
        # command has been sent exactly this many, though its reader may not have them yet.
        self.published = 0
        self._wake = math.inf  # trio time of the state's next deadline
        self._alarm = trio.CancelScope()

    def subscribe(
        self, *, buffer: int = 1024, lossless: bool = False
    ) -> trio.MemoryReceiveChannel[Event]:
        """A new feed of every event from now on. A lossy feed that falls `buffer` behind is
        closed (the reader sees end-of-channel and may resubscribe after a fresh snapshot)."""
        send, recv = trio.open_memory_channel[Event](buffer)
        self._subscribers.append(_Subscriber(send, lossless))
        return recv

    async def run(
        self, *, task_status: trio.TaskStatus[RouterHandle] = trio.TASK_STATUS_IGNORED
    ) -> None:
        clock = self._clock if self._clock is not None else WallClock()
        state = self._state
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._alarm_task)
            task_status.started(self.handle)
            async for first in self._inbox:
                request: _Request[Any] | None = first
                # Everything below runs to completion: a change is never cut off from its reply.
                # Due timers go first, so that a late answer meets an offer already expired.
                # (Timers that fall due after the last request are the alarm's: it rings at once.)
                while request is not None:
                    now = clock.now()
                    events = state.tick(now)
                    if events:
                        if self._subscribers:
                            await self._publish(events)
                        continue  # publishing may have taken time: apply what fell due meanwhile
                    await self._serve(request, now)
                    try:
                        request = self._inbox.receive_nowait()
                    except trio.WouldBlock:
                        request = None
                due = state.next_deadline()
                wake = math.inf if due is None else clock.trio_time(due)
                if wake != self._wake:
                    self._wake = self._alarm.deadline = wake

    async def _alarm_task(self) -> None:
        """Wake the actor when the next timer is due; the actor moves `self._alarm.deadline`."""
        while True:
            self._alarm = trio.CancelScope(deadline=self._wake)
            with self._alarm:
                await trio.sleep_forever()
            # Wait for the actor to serve the wake-up, so that `_wake` is fresh before re-arming.
            await self.handle._call(_nothing, False)

    async def _serve(self, request: _Request[Any], now: float) -> None:
        try:
            value = request.apply(self._state, now)
        except HotlineError as refused:
            request.answer(outcome.Error(refused))
            return
        except BaseException as bug:
            # A bug inside the state: it may be inconsistent now, so stop and let start-up rebuild.
            request.answer(outcome.Error(bug))
            raise
        if request.publishes and self._subscribers:
            events = value if isinstance(value, list) else value.events
            if events:
                # Before the answer: a caller that next asks the journal to sync finds its
                # events already handed to the journal.
                await self._publish(events)
        request.answer(outcome.Value(value))

    async def _publish(self, events: list[Event]) -> None:
        for sub in list(self._subscribers):
            for event in events:
                if sub.lossless:
                    try:
                        # Wait (and so pass through the scheduler) only when the feed is full.
                        try:
                            sub.send.send_nowait(event)
                        except trio.WouldBlock:
                            await sub.send.send(event)
                    except trio.BrokenResourceError:
                        self._subscribers.remove(sub)
                        break
                else:
                    try:
                        sub.send.send_nowait(event)
                    except (trio.WouldBlock, trio.BrokenResourceError):
                        sub.send.close()
                        self._subscribers.remove(sub)
                        break
        self.published += len(events)
