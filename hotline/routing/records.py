"""The routing state's mutable records of operators and contacts, and who may take what.

Private to `hotline.routing`: only `RoutingState`, its matchers and the invariant checks touch
these. `can_take` and `score` are the one definition of eligibility and ranking; the indexed
matcher is an accelerated form of them, and the checks compare it against them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from hotline.routing.model import Channel, ContactState, OperatorState, Presence

# Enum members as plain module constants for the hot path: on Python 3.11 reading
# `ContactState.WAITING` costs ~0.2 us (the enum metaclass defines `__getattr__`, which slows
# every attribute read on the class), and a routing decision reads a dozen of them.
WAITING: Final = ContactState.WAITING
OFFERED: Final = ContactState.OFFERED
ASSIGNED: Final = ContactState.ASSIGNED
OFFLINE: Final = Presence.OFFLINE
READY: Final = Presence.READY
BREAK: Final = Presence.BREAK
_SHOWN_READY: Final = OperatorState.READY
SHOWN_BUSY: Final = OperatorState.BUSY
_SHOWN_WRAP_UP: Final = OperatorState.WRAP_UP
_SHOWN_AWAY: Final = {Presence.OFFLINE: OperatorState.OFFLINE, Presence.BREAK: OperatorState.BREAK}

RouteKey = frozenset[str]
# Position of a contact in every queue it stands in: class rank, deadline, arrival, sequence.
ContactKey = tuple[int, float, float, int]


class OperatorRecord:
    __slots__ = (
        "capacity",
        "certified_until",
        "id",
        "idle_since",
        "languages",
        "load",
        "offer",
        "parked",
        "presence",
        "reach",
        "route_keys",
        "shown",
        "skills",
        "version",
        "wrap_until",
        "wrapping",
    )

    def __init__(
        self,
        op_id: str,
        skills: dict[str, int],
        languages: frozenset[str],
        capacity: dict[Channel, int],
        certified_until: float | None,
        now: float,
    ) -> None:
        self.id = op_id
        self.skills = skills
        self.languages = languages
        self.capacity = capacity
        self.certified_until = certified_until
        self.presence: Presence = OFFLINE
        self.wrapping = False
        self.wrap_until = 0.0
        self.offer: str | None = None  # the one contact offered and not yet answered
        # Contacts offered or assigned to it, per channel (which ones: each says its holder).
        self.load: dict[Channel, int] = dict.fromkeys(capacity, 0)
        self.idle_since = now
        self.version = 0  # bumped when it leaves the free-operator queues it was parked in
        self.route_keys: list[tuple[RouteKey, int]] = []  # routes it can serve, with its score
        self.shown: OperatorState = _SHOWN_AWAY[OFFLINE]
        # Owned by the matcher: what the operator can reach per channel (None once its profile
        # changes), and the free-operator queues it currently stands in.
        self.reach: list[Any] | None = None
        self.parked: list[Any] = []

    @property
    def routable(self) -> bool:
        """Signed in, not on break or in wrap-up, and not holding an unanswered offer."""
        return self.presence is READY and not self.wrapping and self.offer is None

    def certified(self, now: float) -> bool:
        return self.certified_until is not None and now < self.certified_until

    def has_room(self, channel: Channel) -> bool:
        return self.load.get(channel, 0) < self.capacity.get(channel, 0)

    def state(self) -> OperatorState:
        if self.presence is not READY:
            return _SHOWN_AWAY[self.presence]
        if self.wrapping:
            return _SHOWN_WRAP_UP
        return SHOWN_BUSY if any(self.load.values()) else _SHOWN_READY

    def holds_more_than_its_offer(self) -> bool:
        """Has a contact in hand beyond an unanswered offer."""
        return sum(self.load.values()) > (self.offer is not None)

    def route_score(self, key: RouteKey) -> int:
        """Proficiency on a route: the weakest of the skills it needs."""
        return min(self.skills[s] for s in key)


class ContactRecord:
    __slots__ = (
        "arrived_at",
        "breached",
        "channel",
        "deadline_at",
        "id",
        "lanes",
        "language",
        "offered_at",
        "operator",
        "overflowed",
        "parked",
        "priority",
        "rank",
        "routes",
        "seq",
        "seq_offer",
        "skills",
        "state",
        "target_at",
        "topic",
        "version",
    )

    def __init__(
        self,
        contact_id: str,
        channel: Channel,
        topic: str,
        language: str,
        routes: tuple[RouteKey],
        priority: str,
        rank: int,
        arrived_at: float,
        target_at: float,
        deadline_at: float,
        seq: int,
    ) -> None:
        self.id = contact_id
        self.channel = channel
        self.topic = topic
        self.language = language
        self.skills = routes[0]  # what an operator must hold, all of it
        self.priority = priority
        self.rank = rank
        self.arrived_at = arrived_at
        self.target_at = target_at
        self.deadline_at = deadline_at
        self.seq = seq
        # Its first route is its skills; fallback routes follow once it overflows. A tuple,
        # shared by every contact of the topic until then: nothing to allocate per contact.
        self.routes: tuple[RouteKey, ...] = routes
        self.state: ContactState = WAITING
        self.overflowed = False
        self.breached = False
        self.operator: str | None = None
        self.offered_at = 0.0
        self.seq_offer = 0  # which offer is open, so that a stale offer timer is ignored
        self.version = 0  # bumped when it leaves the queues it was parked in
        # Owned by the matcher: the queues of its routes (None once routes change), and the
        # queues it currently stands in (a shared, never mutated sequence).
        self.lanes: list[Any] | None = None
        self.parked: Sequence[Any] = ()

    @property
    def key(self) -> ContactKey:
        """Its place in every queue it stands in (the matcher builds its entries from the
        parts; a tuple per contact would be one more object for the collector to walk)."""
        return (self.rank, self.deadline_at, self.arrived_at, self.seq)


def can_take(op: OperatorRecord, c: ContactRecord, now: float) -> bool:
    """Rule 2: ready, certified, room on the channel, the language, and every skill of a route."""
    return (
        op.routable
        and op.certified(now)
        and op.has_room(c.channel)
        and c.language in op.languages
        and any(key <= op.skills.keys() for key in c.routes)
    )


def score(op: OperatorRecord, c: ContactRecord) -> int:
    """An operator's proficiency for a contact: its best route."""
    return max(op.route_score(key) for key in c.routes if key <= op.skills.keys())


def operator_key(op: OperatorRecord, c: ContactRecord) -> tuple[int, float, str]:
    """Rule 5's order among eligible operators: most proficient, then idle longest."""
    return (-score(op, c), op.idle_since, op.id)
