"""Builders shared by the routing tests: a small policy, terse operator/contact specs, and a
routing state in audit mode that checks every rule after every step."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

from hotline.domain.errors import HotlineError
from hotline.routing import (
    Channel,
    ContactState,
    NewContact,
    OperatorSpec,
    OperatorState,
    Presence,
    PriorityClass,
    RoutingPolicy,
    RoutingState,
)
from hotline.routing.model import Event, Offered, QueuePosition, RouterStatistics

MIN = 60.0
T0 = 1_800_000_000.0  # a fixed instant; the core never reads a clock

E = TypeVar("E", bound=Event)


def policy(*, offer_timeout_s: float = 15.0, wrap_up_s: float = 30.0) -> RoutingPolicy:
    return RoutingPolicy(
        classes={
            "urgent": PriorityClass("urgent", 0, 5 * MIN, 10 * MIN),
            "normal": PriorityClass("normal", 1, 15 * MIN, 30 * MIN),
        },
        topic_class={"payments": "urgent", "emergency": "urgent", "account_blocked": "urgent"},
        default_class="normal",
        overflow={"*": ("general",)},
        offer_timeout_s=offer_timeout_s,
        wrap_up_s=wrap_up_s,
    )


def operator(
    op_id: str,
    skills: dict[str, int],
    *,
    languages: tuple[str, ...] = ("ru",),
    voice: int = 1,
    chat: int = 0,
    certified: bool = True,
) -> OperatorSpec:
    return OperatorSpec(
        id=op_id,
        skills=skills,
        languages=frozenset(languages),
        capacity={Channel.VOICE: voice, Channel.CHAT: chat},
        certified_until=T0 + 365 * 86400 if certified else None,
    )


def contact(
    cid: str, topic: str, *, channel: Channel = Channel.VOICE, language: str = "ru"
) -> NewContact:
    return NewContact(id=cid, channel=channel, topic=topic, language=language)


def offers(events: Iterable[Event]) -> list[tuple[str, str]]:
    """(contact, operator) of every offer among `events`, in order."""
    return [(e.contact_id, e.operator_id) for e in events if isinstance(e, Offered)]


def of_type(events: list[Event], kind: type[E]) -> list[E]:
    return [e for e in events if isinstance(e, kind)]


class AuditedRouter:
    """A `RoutingState` in audit mode: each step runs at `T0 + at` and is followed by a full
    check of the routing rules, also when the step is refused."""

    def __init__(self, state_class: type[RoutingState]) -> None:
        self.state = state_class(policy(), audit=True)

    def step(self, at: float, apply: Callable[[float], list[Event]]) -> list[Event]:
        now = T0 + at
        try:
            events = apply(now)
        except HotlineError:
            self.state.check_invariants(now)
            raise
        self.state.check_invariants(now)
        return events

    def add(self, spec: OperatorSpec, *, at: float) -> list[Event]:
        return self.step(at, lambda now: self.state.upsert_operator(spec, now))

    def add_ready(self, spec: OperatorSpec, *, at: float) -> list[Event]:
        return self.add(spec, at=at) + self.presence(spec.id, Presence.READY, at=at)

    def presence(self, op_id: str, presence: Presence, *, at: float) -> list[Event]:
        return self.step(at, lambda now: self.state.set_presence(op_id, presence, now))

    def remove(self, op_id: str, *, at: float) -> list[Event]:
        return self.step(at, lambda now: self.state.remove_operator(op_id, now))

    def enqueue(self, spec: NewContact, *, at: float) -> list[Event]:
        return self.step(at, lambda now: self.state.enqueue(spec, now))

    def restore(
        self,
        spec: NewContact,
        *,
        at: float,
        overflowed: bool = False,
        breached: bool = False,
        assigned_to: str | None = None,
    ) -> list[Event]:
        return self.step(
            at,
            lambda now: self.state.restore_contact(
                spec, now, overflowed=overflowed, breached=breached, assigned_to=assigned_to
            ),
        )

    def accept(self, contact_id: str, op_id: str, *, at: float) -> list[Event]:
        return self.step(at, lambda now: self.state.accept(contact_id, op_id, now))

    def reject(self, contact_id: str, op_id: str, *, at: float) -> list[Event]:
        return self.step(at, lambda now: self.state.reject(contact_id, op_id, now))

    def abandon(self, contact_id: str, *, at: float) -> list[Event]:
        return self.step(at, lambda now: self.state.abandon(contact_id, now))

    def complete(self, contact_id: str, op_id: str, *, at: float) -> list[Event]:
        return self.step(at, lambda now: self.state.complete(contact_id, op_id, now))

    def end_wrap_up(self, op_id: str, *, at: float) -> list[Event]:
        return self.step(at, lambda now: self.state.end_wrap_up(op_id, now))

    def transfer(self, contact_id: str, new: NewContact, *, at: float) -> list[Event]:
        return self.step(at, lambda now: self.state.transfer(contact_id, new, now))

    def tick(self, *, at: float) -> list[Event]:
        return self.step(at, self.state.tick)

    def handle(self, contact_id: str, op_id: str, *, at: float) -> list[Event]:
        """Accept, complete and end wrap-up at once: the operator is free again after it."""
        self.accept(contact_id, op_id, at=at)
        self.complete(contact_id, op_id, at=at)
        return self.end_wrap_up(op_id, at=at)

    def queue_position(self, contact_id: str, *, at: float) -> QueuePosition:
        return self.state.queue_position(contact_id, T0 + at)

    def statistics(self, *, at: float) -> RouterStatistics:
        return self.state.statistics(T0 + at)

    def contact(self, contact_id: str) -> ContactState:
        return self.state.contact_state(contact_id)

    def operator(self, op_id: str) -> OperatorState:
        return self.state.operator_state(op_id)
