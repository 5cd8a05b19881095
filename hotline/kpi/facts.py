"""What the router's events say about the line's service: one fact when a contact's wait ends,
one when its handling ends, and a piece of an operator's time at every change of its state.

A contact is offered when it enters a queue, answered when an operator accepts it (the wait runs
from arrival to accept, so ringing counts), abandoned when the citizen leaves before that, and
expired when the router ends it unanswered. Its wait is counted in the interval in which the
wait ended, so a closed interval's figures never change afterwards.

`KpiTracker` holds only what the facts still need: the contacts not yet ended and each
operator's state since its last change. It is fed every event the router publishes, in order;
a restart gives it back the open contacts and operators from the store (`OpenContact`,
`OpenOperator`), since the router's own recovery publishes no events for them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, Protocol, cast

from hotline.routing.model import (
    Accepted,
    Breached,
    Channel,
    ContactState,
    Ended,
    Enqueued,
    Event,
    OperatorChanged,
    OperatorState,
)


class Outcome(StrEnum):
    ANSWERED = "answered"
    ABANDONED = "abandoned"
    EXPIRED = "expired"


# Facts are values: nobody mutates one after it is made. They are not frozen dataclasses only
# because a frozen one costs about four times as much to build (each field through
# object.__setattr__), and every contact makes four or five of them, on the journal's hot path
# and the simulator's (there they were a tenth of its time); hashable and equal by value all
# the same, as the router's events are.
@dataclass(slots=True, unsafe_hash=True)
class WaitEnded:
    """A contact's wait ended at `at` after `wait_s`. `operator_id`: who answered it.
    `deadline_met`: True if answered by its class's deadline, False if the deadline passed
    first, None if it ended unanswered before its deadline (it counts in neither)."""

    at: float
    topic: str
    priority: str
    channel: str
    operator_id: str | None
    outcome: Outcome
    wait_s: float
    deadline_met: bool | None


@dataclass(slots=True, unsafe_hash=True)
class HandleEnded:
    """An answered contact ended (completed, transferred, or the citizen left) at `at`, after
    `talk_s` with `operator_id`."""

    at: float
    topic: str
    priority: str
    channel: str
    operator_id: str
    talk_s: float


@dataclass(slots=True, unsafe_hash=True)
class OperatorTime:
    """`operator_id` was in `state` from `start` to `end`. A wrap-up names the group of the
    contact it follows (`topic`, `priority`, `channel`), so handle time splits by topic too.
    `holding`: it held an answered contact all along in a state shown as not busy (on break
    during a call): it was busy; always False in states that count as shown."""

    operator_id: str
    start: float
    end: float
    state: OperatorState
    topic: str | None = None
    priority: str | None = None
    channel: str | None = None
    holding: bool = False


Fact = WaitEnded | HandleEnded | OperatorTime


class FactSink(Protocol):
    """Where a tracker's facts go field by field, no fact built: `Buckets` counts them as they
    come (the simulator's way: every contact makes four or five). The arguments are the
    facts' fields, in order. A tracker is given a sink, or a callable it hands each fact."""

    def wait_ended(
        self,
        at: float,
        topic: str,
        priority: str,
        channel: str,
        operator_id: str | None,
        outcome: Outcome,
        wait_s: float,
        deadline_met: bool | None,
    ) -> None: ...

    def handle_ended(
        self, at: float, topic: str, priority: str, channel: str, operator_id: str, talk_s: float
    ) -> None: ...

    def operator_time(
        self,
        operator_id: str,
        start: float,
        end: float,
        state: OperatorState,
        topic: str | None,
        priority: str | None,
        channel: str | None,
        holding: bool,
    ) -> None: ...


class _Emitter:
    """A callable given each fact, as a `FactSink`: builds the facts."""

    __slots__ = ("emit",)

    def __init__(self, emit: Callable[[Fact], None]) -> None:
        self.emit = emit

    def wait_ended(
        self,
        at: float,
        topic: str,
        priority: str,
        channel: str,
        operator_id: str | None,
        outcome: Outcome,
        wait_s: float,
        deadline_met: bool | None,
    ) -> None:
        self.emit(
            WaitEnded(at, topic, priority, channel, operator_id, outcome, wait_s, deadline_met)
        )

    def handle_ended(
        self, at: float, topic: str, priority: str, channel: str, operator_id: str, talk_s: float
    ) -> None:
        self.emit(HandleEnded(at, topic, priority, channel, operator_id, talk_s))

    def operator_time(
        self,
        operator_id: str,
        start: float,
        end: float,
        state: OperatorState,
        topic: str | None,
        priority: str | None,
        channel: str | None,
        holding: bool,
    ) -> None:
        self.emit(OperatorTime(operator_id, start, end, state, topic, priority, channel, holding))


Emit = Callable[[Fact], None] | FactSink


def _sink(emit: Emit) -> FactSink:
    if hasattr(emit, "operator_time"):
        return cast(FactSink, emit)
    return _Emitter(emit)


@dataclass(slots=True)
class OpenContact:
    """A contact not yet ended, as the tracker (and the store, for a restart) knows it."""

    id: str
    topic: str
    priority: str
    channel: str
    arrived_at: float
    deadline_at: float
    breached: bool = False
    answered_at: float | None = None
    operator_id: str | None = None


@dataclass(slots=True)
class OpenOperator:
    """An operator's state since its last change; `last_*`: the group of the contact it ended
    last (its wrap-up belongs to that contact). `holding`: answered contacts it has not ended;
    a tracker counts them from its open contacts, so the store need not keep it."""

    id: str
    state: OperatorState
    since: float
    last_topic: str | None = None
    last_priority: str | None = None
    last_channel: str | None = None
    holding: int = 0


# Shown states whose time counts the same whether the operator holds a contact or not: busy
# and wrap-up are busy anyway, offline is not counted. In the others (a break asked for during a
# call) holding one makes the operator busy.
_COUNTED_AS_SHOWN = (OperatorState.BUSY, OperatorState.WRAP_UP, OperatorState.OFFLINE)
# Enum members and values as plain constants for the hot path: on Python 3.11 reading a member
# off its class, or `.value` off a member, costs ~0.2 us, and every event reads one or two.
_WRAP_UP = OperatorState.WRAP_UP
_ANSWERED, _ABANDONED, _EXPIRED = Outcome.ANSWERED, Outcome.ABANDONED, Outcome.EXPIRED
_CONTACT_ABANDONED = ContactState.ABANDONED
_CHANNEL_VALUE = {channel: channel.value for channel in Channel}


class KpiTracker:
    """Router events in, facts out (`feed(event, emit)`)."""

    __slots__ = ("_contacts", "_operators")

    def __init__(
        self,
        contacts: Iterable[OpenContact] = (),
        operators: Iterable[OpenOperator] = (),
    ) -> None:
        # Copies: the tracker changes its records in place, and must not change the caller's
        # (another tracker's, or a list the caller still reads).
        self._contacts = {c.id: replace(c) for c in contacts}
        self._operators = {o.id: replace(o, holding=0) for o in operators}
        for c in self._contacts.values():
            held_by = self._operators.get(c.operator_id or "")
            if c.answered_at is not None and held_by is not None:
                held_by.holding += 1

    def feed(self, event: Event, emit: Emit) -> None:
        """`emit`: a `FactSink`, or a callable given each fact."""
        self.feed_to((event,), _sink(emit))

    def feed_all(self, events: Iterable[Event], emit: Emit) -> None:
        self.feed_to(events, _sink(emit))

    def feed_to(self, events: Iterable[Event], sink: FactSink) -> None:
        """`feed_all` to a `FactSink`, known to be one.

        One loop over the events, each kind handled in place (by how often it comes: an
        operator's change, then a contact's accept, end and arrival) rather than by a method
        per kind: the simulator feeds every event of a run through here, six or so a contact,
        and a call per event and per fact was a third of the KPI core's time."""
        contacts, operators = self._contacts, self._operators
        e: Any
        for e in events:
            kind = type(e)
            if kind is OperatorChanged:
                o = operators.get(e.operator_id)
                if o is None:
                    operators[e.operator_id] = OpenOperator(e.operator_id, e.state, e.at)
                    continue
                state = e.state
                if state is o.state:
                    continue  # the same state for another reason (a second chat, a restart)
                at = e.at
                if at > o.since:  # `_piece_to(o, at, sink)`, spelt out: two pieces a contact
                    last = o.state
                    holding = o.holding > 0 and last not in _COUNTED_AS_SHOWN
                    if last is _WRAP_UP:
                        sink.operator_time(
                            o.id,
                            o.since,
                            at,
                            last,
                            o.last_topic,
                            o.last_priority,
                            o.last_channel,
                            holding,
                        )
                    else:
                        sink.operator_time(o.id, o.since, at, last, None, None, None, holding)
                o.state = state
                o.since = at
            elif kind is Accepted:
                c = contacts.get(e.contact_id)
                if c is None or c.answered_at is not None:
                    continue
                at = e.at
                c.answered_at = at
                operator_id = c.operator_id = e.operator_id
                o = operators.get(operator_id)
                if o is not None:
                    # It takes a contact: where that turns it busy, its piece ends.
                    if not o.holding and o.state not in _COUNTED_AS_SHOWN:
                        if at > o.since:
                            _piece_to(o, at, sink)
                        o.since = at
                    o.holding += 1
                sink.wait_ended(
                    at,
                    c.topic,
                    c.priority,
                    c.channel,
                    operator_id,
                    _ANSWERED,
                    at - c.arrived_at,
                    at <= c.deadline_at and not c.breached,
                )
            elif kind is Ended:
                c = contacts.pop(e.contact_id, None)
                if c is None:
                    continue
                at = e.at
                if c.answered_at is None:
                    outcome = _ABANDONED if e.state is _CONTACT_ABANDONED else _EXPIRED
                    late = c.breached or at > c.deadline_at
                    sink.wait_ended(
                        at,
                        c.topic,
                        c.priority,
                        c.channel,
                        None,
                        outcome,
                        at - c.arrived_at,
                        False if late else None,
                    )
                    continue
                operator_id = c.operator_id
                assert operator_id is not None
                sink.handle_ended(
                    at, c.topic, c.priority, c.channel, operator_id, at - c.answered_at
                )
                o = operators.get(operator_id)
                if o is not None:
                    # It ends a contact: where that turns it not busy, its piece ends.
                    if o.holding == 1 and o.state not in _COUNTED_AS_SHOWN:
                        if at > o.since:
                            _piece_to(o, at, sink)
                        o.since = at
                    o.holding -= 1
                    if o.state is _WRAP_UP and at > o.since:
                        # In wrap-up after another contact (chats): that wrap-up ends here,
                        # this one's begins (the router starts the wrap-up again).
                        _piece_to(o, at, sink)
                        o.since = at
                    o.last_topic, o.last_priority, o.last_channel = c.topic, c.priority, c.channel
            elif kind is Enqueued:
                if e.contact_id in contacts:
                    continue  # a restored contact enqueued again: it keeps what it had
                contacts[e.contact_id] = OpenContact(
                    e.contact_id,
                    e.topic,
                    e.priority,
                    _CHANNEL_VALUE.get(e.channel) or e.channel.value,
                    e.arrived_at,
                    e.deadline_at,
                )
            elif kind is Breached:
                c = contacts.get(e.contact_id)
                if c is not None:
                    c.breached = True

    def open_time(self, now: float) -> Iterator[OperatorTime]:
        """Each operator's current state from its last change up to `now` (not yet a fact:
        the state goes on). Live figures and reports that reach `now` add these."""
        for o in self._operators.values():
            if now > o.since:
                yield _piece(o, now)

    @property
    def waiting(self) -> Iterator[OpenContact]:
        """The contacts whose wait has not ended."""
        return (c for c in self._contacts.values() if c.answered_at is None)

    def open_contacts(self) -> list[OpenContact]:
        """A snapshot of the contacts not yet ended (copies: the next events leave it alone)."""
        return [replace(c) for c in self._contacts.values()]

    def open_operators(self) -> list[OpenOperator]:
        """A snapshot of each operator's state since its last change (copies, likewise)."""
        return [replace(o) for o in self._operators.values()]


def _piece(o: OpenOperator, end: float) -> OperatorTime:
    holding = o.holding > 0 and o.state not in _COUNTED_AS_SHOWN
    if o.state is _WRAP_UP:
        topic, priority, channel = o.last_topic, o.last_priority, o.last_channel
        return OperatorTime(o.id, o.since, end, o.state, topic, priority, channel, holding)
    return OperatorTime(o.id, o.since, end, o.state, holding=holding)


def _piece_to(o: OpenOperator, end: float, sink: FactSink) -> None:
    """`_piece(o, end)` told to `sink`."""
    state = o.state
    holding = o.holding > 0 and state not in _COUNTED_AS_SHOWN
    if state is _WRAP_UP:
        topic, priority, channel = o.last_topic, o.last_priority, o.last_channel
        sink.operator_time(o.id, o.since, end, state, topic, priority, channel, holding)
    else:
        sink.operator_time(o.id, o.since, end, state, None, None, None, holding)
