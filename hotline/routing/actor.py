"""The router actor: the trio task that owns one `RoutingState`.

Others hold a `RouterHandle`. A command travels through a bounded inbox carrying its own one-shot
reply slot (a `trio.Event` and the outcome: a third cheaper than a memory channel per call); the
state's answer (or error) comes back and is re-raised in the caller. Timers: a small alarm task
sleeps until the state's next deadline, which the actor moves by setting the alarm's deadline,
and then sends a no-op request, so the actor itself just awaits its inbox (a cancel scope per
receive would cost more than the routing decision). Before each request the actor applies the
due timers (offer timeout, wrap-up end, target -> overflow, limit -> breach). Every event the
state decides is published, in order, to subscribers: the store and KPIs subscribe losslessly
(back-pressure), live feeds lossily (a lagging feed is closed, never waited for).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import outcome
import trio

from hotline.clock import WallClock
from hotline.domain.errors import HotlineError
from hotline.routing.model import (
    Event,
    NewContact,
    OperatorSpec,
    Presence,
    QueuePosition,
    RouterStatistics,
)
from hotline.routing.state import RoutingState

T = TypeVar("T")


@dataclass(slots=True)
class _Request(Generic[T]):
    apply: Callable[[RoutingState, float], T]
    publishes: bool  # True when `apply` returns the list of events it decided
    done: trio.Event
    result: outcome.Outcome[T] | None = None


def _nothing(state: RoutingState, now: float) -> list[Event]:
    return []


@dataclass(slots=True)
class _Subscriber:
    send: trio.MemorySendChannel[Event]
    lossless: bool


class RouterHandle:
    """What the rest of the process holds: typed async calls into the router."""

    def __init__(self, inbox: trio.MemorySendChannel[_Request[Any]]) -> None:
        self._inbox = inbox

    async def _call(self, apply: Callable[[RoutingState, float], T], publishes: bool) -> T:
        request = _Request(apply, publishes, trio.Event())
        await trio.lowlevel.checkpoint_if_cancelled()
        try:
            # Hand over without the extra trip through the scheduler that `send` makes when the
            # inbox has room: the wait below is this call's checkpoint.
            self._inbox.send_nowait(request)
        except trio.WouldBlock:
            await self._inbox.send(request)
        # If this caller is cancelled now, the command still runs: it was already handed over.
        await request.done.wait()
        assert request.result is not None
        return request.result.unwrap()

    async def command(self, apply: Callable[[RoutingState, float], list[Event]]) -> list[Event]:
        return await self._call(apply, True)

    async def query(self, apply: Callable[[RoutingState, float], T]) -> T:
        return await self._call(apply, False)

    async def upsert_operator(self, spec: OperatorSpec) -> list[Event]:
        return await self.command(lambda s, now: s.upsert_operator(spec, now))

    async def remove_operator(self, op_id: str) -> list[Event]:
        return await self.command(lambda s, now: s.remove_operator(op_id, now))

    async def set_presence(self, op_id: str, presence: Presence) -> list[Event]:
        return await self.command(lambda s, now: s.set_presence(op_id, presence, now))

    async def enqueue(self, spec: NewContact) -> list[Event]:
        return await self.command(lambda s, now: s.enqueue(spec, now))

    async def accept(self, contact_id: str, op_id: str) -> list[Event]:
        return await self.command(lambda s, now: s.accept(contact_id, op_id, now))

    async def reject(self, contact_id: str, op_id: str) -> list[Event]:
        return await self.command(lambda s, now: s.reject(contact_id, op_id, now))

    async def abandon(self, contact_id: str) -> list[Event]:
        return await self.command(lambda s, now: s.abandon(contact_id, now))

    async def expire(self, contact_id: str) -> list[Event]:
        return await self.command(lambda s, now: s.expire(contact_id, now))

    async def complete(self, contact_id: str, op_id: str) -> list[Event]:
        return await self.command(lambda s, now: s.complete(contact_id, op_id, now))

    async def end_wrap_up(self, op_id: str) -> list[Event]:
        return await self.command(lambda s, now: s.end_wrap_up(op_id, now))

    async def transfer(self, contact_id: str, new: NewContact) -> list[Event]:
        return await self.command(lambda s, now: s.transfer(contact_id, new, now))

    async def restore_contact(
        self,
        spec: NewContact,
        *,
        overflowed: bool = False,
        breached: bool = False,
        assigned_to: str | None = None,
    ) -> list[Event]:
        return await self.command(
            lambda s, now: s.restore_contact(
                spec, now, overflowed=overflowed, breached=breached, assigned_to=assigned_to
            )
        )

    async def queue_position(self, contact_id: str) -> QueuePosition:
        return await self.query(lambda s, now: s.queue_position(contact_id, now))

    async def statistics(self, *, queues: bool = False) -> RouterStatistics:
        return await self.query(lambda s, now: s.statistics(now, queues=queues))


class RouterActor:
    def __init__(
        self, state: RoutingState, *, clock: WallClock | None = None, inbox_size: int = 64
    ) -> None:
        self._state = state
        self._clock = clock
        send, self._inbox = trio.open_memory_channel[_Request[Any]](inbox_size)
        self.handle = RouterHandle(send)
        self._subscribers: list[_Subscriber] = []
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
                while True:
                    now = clock.now()
                    events = state.tick(now)
                    if events:
                        await self._publish(events)
                        continue  # publishing may have taken time: apply what fell due meanwhile
                    if request is None:
                        break
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
            await self.handle.query(_nothing)

    async def _serve(self, request: _Request[Any], now: float) -> None:
        result = outcome.capture(request.apply, self._state, now)
        if request.publishes and isinstance(result, outcome.Value):
            await self._publish(result.value)
        request.result = result
        request.done.set()
        if isinstance(result, outcome.Error) and not isinstance(result.error, HotlineError):
            # A bug inside the state: it may be inconsistent now, so stop and let start-up rebuild.
            raise result.error

    async def _publish(self, events: list[Event]) -> None:
        if not self._subscribers:
            return
        for sub in list(self._subscribers):
            for event in events:
                if sub.lossless:
                    try:
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
