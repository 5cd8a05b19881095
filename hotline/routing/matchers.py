"""How the routing state finds the best match: an indexed matcher and a scanning one.

`RoutingState` decides *when* to match; a matcher answers *who*: the best waiting contact for a
free operator, or the best free operator for a contact. `IndexedMatcher` answers in
O(routes x languages x channels of one operator) heap peeks, with lazy deletion and compaction;
`ScanMatcher` looks at everything, is obviously right, and serves as the oracle in property
tests and the naive baseline in `scripts/bench`.
"""

from __future__ import annotations

import heapq
from typing import Any, Protocol

from hotline.routing.model import Channel, ContactState
from hotline.routing.records import (
    ContactRecord,
    OperatorRecord,
    RouteKey,
    can_take,
    operator_key,
)

QueueKey = tuple[RouteKey, str, Channel]
# (rank, deadline, arrival, seq, version, contact) and (-proficiency, idle_since, id, version, op)
ContactEntry = tuple[int, float, float, int, int, ContactRecord]
OperatorEntry = tuple[int, float, str, int, OperatorRecord]

_SLACK = 32  # a heap may hold this many stale entries beyond twice its live ones


class Matcher(Protocol):
    def best_contact_for(self, op: OperatorRecord, now: float) -> ContactRecord | None: ...

    def best_operator_for(self, c: ContactRecord, now: float) -> OperatorRecord | None: ...

    def park_operator(self, op: OperatorRecord) -> None:
        """`op` is routable and found nothing: keep it findable as free."""

    def unpark_operator(self, op: OperatorRecord) -> None:
        """`op` is about to change; forget where it was parked."""

    def park_contact(self, c: ContactRecord) -> None:
        """`c` waits: keep it findable in every queue of its routes."""

    def unpark_contact(self, c: ContactRecord) -> None: ...

    def profile_changed(self, op: OperatorRecord) -> None:
        """`op`'s skills, languages or capacity changed."""

    def routes_changed(self, c: ContactRecord) -> None:
        """`c` gained routes (overflow); it is not parked."""

    def contacts_ahead(self, c: ContactRecord) -> int:
        """How many waiting contacts sharing a queue with waiting `c` come before it."""
        ...


class ScanMatcher:
    """Looks at every waiting contact or every operator: O(n) a decision, and plainly correct."""

    def __init__(self, ops: dict[str, OperatorRecord], waiting: dict[str, ContactRecord]) -> None:
        self._ops = ops
        self._waiting = waiting

    def best_contact_for(self, op: OperatorRecord, now: float) -> ContactRecord | None:
        best: ContactRecord | None = None
        for c in self._waiting.values():
            if can_take(op, c, now) and (best is None or c.key < best.key):
                best = c
        return best

    def best_operator_for(self, c: ContactRecord, now: float) -> OperatorRecord | None:
        best: OperatorRecord | None = None
        for op in self._ops.values():
            if can_take(op, c, now) and (
                best is None or operator_key(op, c) < operator_key(best, c)
            ):
                best = op
        return best

    def park_operator(self, op: OperatorRecord) -> None:
        pass

    def unpark_operator(self, op: OperatorRecord) -> None:
        pass

    def park_contact(self, c: ContactRecord) -> None:
        pass

    def unpark_contact(self, c: ContactRecord) -> None:
        pass

    def profile_changed(self, op: OperatorRecord) -> None:
        pass

    def routes_changed(self, c: ContactRecord) -> None:
        pass

    def contacts_ahead(self, c: ContactRecord) -> int:
        routes = set(c.routes)
        return sum(
            1
            for other in self._waiting.values()
            if other.key < c.key
            and other.language == c.language
            and other.channel == c.channel
            and not routes.isdisjoint(other.routes)
        )


class _Lane:
    """One heap of a (route, language, channel) queue and how many of its entries are live."""

    __slots__ = ("heap", "live")

    def __init__(self) -> None:
        self.heap: list[Any] = []
        self.live = 0

    def push(self, entry: Any, version_at: int) -> None:
        """Push `entry`; rebuild once stale entries (whose `entry[version_at]` is behind the
        record's `version`) outnumber the live ones, so memory stays O(live)."""
        heap = self.heap
        heapq.heappush(heap, entry)
        self.live += 1
        if len(heap) > 2 * self.live + _SLACK:
            heap[:] = [e for e in heap if e[version_at] == e[-1].version]
            heapq.heapify(heap)


# What an operator can reach on one channel: its capacity there, the contact lanes it serves
# and the free-operator lanes it parks in (with its proficiency on each route).
_Reach = tuple[Channel, int, list[_Lane], list[tuple[_Lane, int]]]


class IndexedMatcher:
    """Heaps per (route, language, channel): waiting contacts in priority order, free operators
    by proficiency then longest idle. Entries are never removed in place: a record's `version`
    moves on when it changes, stale entries are dropped when they surface, and a heap is
    rebuilt once it holds more stale entries than live ones. Each operator's lanes are worked
    out once per profile change, so a decision costs heap peeks and no key building."""

    def __init__(self, ops: dict[str, OperatorRecord], waiting: dict[str, ContactRecord]) -> None:
        self._queues: dict[QueueKey, _Lane] = {}
        self._free: dict[QueueKey, _Lane] = {}

    def profile_changed(self, op: OperatorRecord) -> None:
        op.reach = None

    def routes_changed(self, c: ContactRecord) -> None:
        c.lanes = None

    def contacts_ahead(self, c: ContactRecord) -> int:
        # O(size of c's own lanes): live entries only, each contact once across its lanes.
        ahead: set[str] = set()
        for lane, _ in self._lanes_of(c):
            for entry in lane.heap:
                other = entry[5]
                if entry[4] == other.version and other.key < c.key:
                    ahead.add(other.id)
        return len(ahead)

    def _reach_of(self, op: OperatorRecord) -> list[_Reach]:
        reach: list[_Reach] | None = op.reach
        if reach is None:
            reach = []
            for channel, cap in op.capacity.items():
                contacts: list[_Lane] = []
                free: list[tuple[_Lane, int]] = []
                for language in op.languages:
                    for route, score in op.route_keys:
                        qk = (route, language, channel)
                        contacts.append(self._queues.setdefault(qk, _Lane()))
                        free.append((self._free.setdefault(qk, _Lane()), score))
                reach.append((channel, cap, contacts, free))
            op.reach = reach
        return reach

    def _lanes_of(self, c: ContactRecord) -> list[tuple[_Lane, _Lane]]:
        """The (waiting-contact lane, free-operator lane) of each of `c`'s routes."""
        lanes: list[tuple[_Lane, _Lane]] | None = c.lanes
        if lanes is None:
            lanes = []
            for route in c.routes:
                qk = (route, c.language, c.channel)
                lanes.append(
                    (self._queues.setdefault(qk, _Lane()), self._free.setdefault(qk, _Lane()))
                )
            c.lanes = lanes
        return lanes

    # -- contacts ---------------------------------------------------------------------------

    def park_contact(self, c: ContactRecord) -> None:
        rank, deadline, arrived, seq = c.key
        entry: ContactEntry = (rank, deadline, arrived, seq, c.version, c)
        parked = c.parked
        for lane, _ in self._lanes_of(c):
            lane.push(entry, 4)
            parked.append(lane)

    def unpark_contact(self, c: ContactRecord) -> None:
        c.version += 1
        parked = c.parked
        if parked:
            for lane in parked:
                lane.live -= 1
            parked.clear()

    def best_contact_for(self, op: OperatorRecord, now: float) -> ContactRecord | None:
        if not op.certified(now):
            return None
        best: ContactRecord | None = None
        load = op.load
        for channel, cap, lanes, _ in self._reach_of(op):
            if load[channel] >= cap:
                continue
            for lane in lanes:
                heap = lane.heap
                while heap:
                    top = heap[0]
                    c = top[5]
                    if top[4] == c.version and c.state is ContactState.WAITING:
                        if best is None or c.key < best.key:
                            best = c
                        break
                    heapq.heappop(heap)
        return best

    # -- operators --------------------------------------------------------------------------

    def park_operator(self, op: OperatorRecord) -> None:
        parked = op.parked
        load = op.load
        for channel, cap, _, lanes in self._reach_of(op):
            if load[channel] >= cap:
                continue
            for lane, score in lanes:
                lane.push((-score, op.idle_since, op.id, op.version, op), 3)
                parked.append(lane)

    def unpark_operator(self, op: OperatorRecord) -> None:
        op.version += 1
        parked = op.parked
        if parked:
            for lane in parked:
                lane.live -= 1
            parked.clear()

    def best_operator_for(self, c: ContactRecord, now: float) -> OperatorRecord | None:
        best: OperatorEntry | None = None
        for _, lane in self._lanes_of(c):
            heap = lane.heap
            while heap:
                top = heap[0]
                op = top[4]
                if top[3] != op.version:
                    heapq.heappop(heap)
                elif not op.certified(now):
                    # Certification lapsed while free: forget the operator until it is renewed.
                    heapq.heappop(heap)
                    self.unpark_operator(op)
                else:
                    if best is None or top[:3] < best[:3]:
                        best = top
                    break
        return None if best is None else best[4]
