"""Values of the routing core: channels and states, what callers hand in, what the core decides.

Owned by the pure core; the actor passes the specs in and publishes the events out, the store and
the API read them. Times are seconds since the Unix epoch (UTC), always passed in by the caller.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Channel(StrEnum):
    VOICE = "voice"
    CHAT = "chat"
    CALLBACK = "callback"
    FORM = "form"


class Presence(StrEnum):
    """What an operator (or a supervisor for them) asks to be."""

    OFFLINE = "offline"
    READY = "ready"
    BREAK = "break"


class OperatorState(StrEnum):
    """What an operator is, as shown to supervisors: presence plus work in hand."""

    OFFLINE = "offline"
    READY = "ready"
    BUSY = "busy"
    WRAP_UP = "wrap_up"
    BREAK = "break"


class ContactState(StrEnum):
    WAITING = "waiting"
    OFFERED = "offered"
    ASSIGNED = "assigned"
    COMPLETED = "completed"
    ABANDONED = "abandoned"
    EXPIRED = "expired"
    TRANSFERRED = "transferred"


TERMINAL_STATES = frozenset(
    {
        ContactState.COMPLETED,
        ContactState.ABANDONED,
        ContactState.EXPIRED,
        ContactState.TRANSFERRED,
    }
)


@dataclass(frozen=True, slots=True)
class OperatorSpec:
    """An operator's routing profile; `certified_until` is an instant, None if never certified."""

    id: str
    skills: Mapping[str, int]
    languages: frozenset[str]
    capacity: Mapping[Channel, int]
    certified_until: float | None


@dataclass(slots=True)
class NewContact:
    """A contact to route. Unset fields are filled from the policy (class, target, limit).
    A value like the events below (not frozen for the same reason: the simulator builds one
    per arrival), and the router copies its fields into its own record, keeping none of it.

    `skills` is what an operator must hold, all of it (a callback needs `callback` and the
    topic); by default it is the topic alone. `arrived_at` may lie in the past when a contact
    is restored after a restart, and its deadlines are then kept as they were.
    """

    id: str
    channel: Channel
    topic: str
    language: str | None = None
    skills: frozenset[str] | None = None
    priority: str | None = None
    arrived_at: float | None = None
    target_at: float | None = None
    deadline_at: float | None = None


# -- what the core decides: one event per fact, in the order they happened ----------------------
# Events are values: nobody mutates one after it is made. They are not frozen dataclasses only
# because a frozen dataclass costs about five times as much to build, on the routing hot path.


@dataclass(slots=True)
class Enqueued:
    contact_id: str
    at: float
    channel: Channel
    topic: str
    language: str
    priority: str
    arrived_at: float
    target_at: float
    deadline_at: float
    skills: tuple[str, ...] = ()  # what an operator must hold, all of it; () as in older logs
    # Facts the router never reads (the caller's phone, its idempotency key), attached by the
    # actor to the event of the command they came with, for the journal (`RouterHandle.admit`).
    note: object = field(default=None, compare=False, repr=False)


@dataclass(slots=True)
class Offered:
    contact_id: str
    operator_id: str
    at: float
    expires_at: float


@dataclass(slots=True)
class OfferWithdrawn:
    """An offer ended without acceptance; the contact went back to its place or ended."""

    contact_id: str
    operator_id: str
    at: float
    reason: str  # rejected | missed | abandoned | expired | operator_unavailable | operator_changed
    # | certification_lapsed


@dataclass(slots=True)
class Accepted:
    contact_id: str
    operator_id: str
    at: float
    waited_s: float


@dataclass(slots=True)
class Overflowed:
    contact_id: str
    at: float
    skills: tuple[str, ...]


@dataclass(slots=True)
class Breached:
    contact_id: str
    at: float
    priority: str
    deadline_at: float


@dataclass(slots=True)
class Ended:
    """A contact reached its one terminal state."""

    contact_id: str
    at: float
    state: ContactState
    operator_id: str | None = None
    transferred_to: str | None = None
    note: object = field(default=None, compare=False, repr=False)  # e.g. the outcome recorded


@dataclass(slots=True)
class OperatorChanged:
    operator_id: str
    at: float
    state: OperatorState
    reason: str


# -- the same events, built for the routing hot path ----------------------------------------------
# `Offered(...)` goes through `type.__call__` and the dataclass's `__init__`, a Python frame that
# CPython 3.11 cannot inline: about twice what the object costs. The core builds its per-decision
# events with these instead: the same type and fields (tests/unit/test_routing_events.py holds
# each to its class, field by field), a third of a microsecond less per decision.

_new = object.__new__


def enqueued(
    contact_id: str,
    at: float,
    channel: Channel,
    topic: str,
    language: str,
    priority: str,
    arrived_at: float,
    target_at: float,
    deadline_at: float,
    skills: tuple[str, ...],
) -> Enqueued:
    e: Enqueued = _new(Enqueued)
    e.contact_id = contact_id
    e.at = at
    e.channel = channel
    e.topic = topic
    e.language = language
    e.priority = priority
    e.arrived_at = arrived_at
    e.target_at = target_at
    e.deadline_at = deadline_at
    e.skills = skills
    e.note = None
    return e


def offered(contact_id: str, operator_id: str, at: float, expires_at: float) -> Offered:
    e: Offered = _new(Offered)
    e.contact_id = contact_id
    e.operator_id = operator_id
    e.at = at
    e.expires_at = expires_at
    return e


def accepted(contact_id: str, operator_id: str, at: float, waited_s: float) -> Accepted:
    e: Accepted = _new(Accepted)
    e.contact_id = contact_id
    e.operator_id = operator_id
    e.at = at
    e.waited_s = waited_s
    return e


def ended(
    contact_id: str,
    at: float,
    state: ContactState,
    operator_id: str | None,
    transferred_to: str | None,
) -> Ended:
    e: Ended = _new(Ended)
    e.contact_id = contact_id
    e.at = at
    e.state = state
    e.operator_id = operator_id
    e.transferred_to = transferred_to
    e.note = None
    return e


def operator_changed(
    operator_id: str, at: float, state: OperatorState, reason: str
) -> OperatorChanged:
    e: OperatorChanged = _new(OperatorChanged)
    e.operator_id = operator_id
    e.at = at
    e.state = state
    e.reason = reason
    return e


Event = (
    Enqueued | Offered | OfferWithdrawn | Accepted | Overflowed | Breached | Ended | OperatorChanged
)
_EVENT_FIELDS: dict[type, tuple[str, ...]] = {}


def event_fields(event: Event) -> dict[str, Any]:
    """An event's fields by name, values as they are (no deep copy, unlike `asdict`): for the
    log and the store, which see every event. An attached note is not one of them."""
    kind: type = type(event)
    names = _EVENT_FIELDS.get(kind)
    if names is None:
        # `note` is the caller's, not the router's: it may hold personal data, never logged.
        fields = dataclasses.fields(kind)
        names = _EVENT_FIELDS[kind] = tuple(f.name for f in fields if f.name != "note")
    return {name: getattr(event, name) for name in names}


@dataclass(frozen=True, slots=True)
class QueuePosition:
    """Where a contact stands: `position` waiting contacts an operator would take first (0 =
    next; 0 too once it is offered or assigned), `eligible_operators` not offline who could take
    it, `free_operators` of them ready with room now."""

    position: int
    eligible_operators: int
    free_operators: int


@dataclass(frozen=True, slots=True)
class QueueFigures:
    """Live figures for one (topic, priority class) queue."""

    topic: str
    priority: str
    waiting: int
    offered: int
    longest_wait_s: float
    breached_waiting: int
    free_operators: int
    eligible_operators: int


@dataclass(frozen=True, slots=True)
class RouterStatistics:
    """A frozen record of counts; `created` always equals the sum of the per-state counts.
    `by_state` names every contact state, with 0 for those no contact is or ended in."""

    created: int
    by_state: Mapping[ContactState, int]
    operators: Mapping[OperatorState, int]
    breaches: int
    overflows: int
    offers: int
    missed_offers: int
    queues: tuple[QueueFigures, ...] = field(default=())
