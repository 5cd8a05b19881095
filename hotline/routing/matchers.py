"""How the routing state finds the best match: an indexed matcher and a scanning one.

`RoutingState` decides *when* to match; a matcher answers *who*: the best waiting contact for a
free operator, or the best free operator for a contact. `IndexedMatcher` answers in
O(routes x languages x channels of one operator) heap peeks, with lazy deletion and compaction;
`ScanMatcher` looks at everything, is obviously right, and serves as the oracle in property
tests and the naive baseline in `scripts/bench`.
"""

from __future__ import annotations

import heapq
from typing import Protocol

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


class IndexedMatcher:
    """Heaps per (route, language, channel): waiting contacts in priority order, free operators
    by proficiency then longest idle. Entries are never removed in place: a record's `version`
    moves on when it changes, stale entries are dropped when they surface, and a heap is
    rebuilt once it holds more stale entries than live ones."""

    def __init__(self, ops: dict[str, OperatorRecord], waiting: dict[str, ContactRecord]) -> None:
        self._queues: dict[QueueKey, list[ContactEntry]] = {}
        self._free: dict[QueueKey, list[OperatorEntry]] = {}
        self._live: dict[QueueKey, int] = {}
        self._free_live: dict[QueueKey, int] = {}
        self._parked_ops: dict[str, list[QueueKey]] = {}
        self._parked_contacts: dict[str, list[QueueKey]] = {}

    # -- contacts ---------------------------------------------------------------------------

    def park_contact(self, c: ContactRecord) -> None:
        rank, deadline, arrived, seq = c.key
        entry: ContactEntry = (rank, deadline, arrived, seq, c.version, c)
        keys = [(route, c.language, c.channel) for route in c.routes]
        self._parked_contacts[c.id] = keys
        for qk in keys:
            heap = self._queues.setdefault(qk, [])
            heapq.heappush(heap, entry)
            live = self._live.get(qk, 0) + 1
            self._live[qk] = live
            if len(heap) > 2 * live + _SLACK:
                heap[:] = [e for e in heap if e[4] == e[5].version]
                heapq.heapify(heap)

    def unpark_contact(self, c: ContactRecord) -> None:
        c.version += 1
        keys = self._parked_contacts.pop(c.id, None)
        if keys:
            for qk in keys:
                self._live[qk] -= 1

    def best_contact_for(self, op: OperatorRecord, now: float) -> ContactRecord | None:
        if not op.certified(now):
            return None
        best: ContactRecord | None = None
        queues = self._queues
        for channel, cap in op.capacity.items():
            if op.load[channel] >= cap:
                continue
            for language in op.languages:
                for route, _score in op.route_keys:
                    heap = queues.get((route, language, channel))
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
        keys: list[QueueKey] = []
        for channel, cap in op.capacity.items():
            if op.load[channel] >= cap:
                continue
            for language in op.languages:
                for route, score in op.route_keys:
                    qk = (route, language, channel)
                    keys.append(qk)
                    heap = self._free.setdefault(qk, [])
                    heapq.heappush(heap, (-score, op.idle_since, op.id, op.version, op))
                    live = self._free_live.get(qk, 0) + 1
                    self._free_live[qk] = live
                    if len(heap) > 2 * live + _SLACK:
                        heap[:] = [e for e in heap if e[3] == e[4].version]
                        heapq.heapify(heap)
        self._parked_ops[op.id] = keys

    def unpark_operator(self, op: OperatorRecord) -> None:
        op.version += 1
        keys = self._parked_ops.pop(op.id, None)
        if keys:
            for qk in keys:
                self._free_live[qk] -= 1

    def best_operator_for(self, c: ContactRecord, now: float) -> OperatorRecord | None:
        best: OperatorEntry | None = None
        for route in c.routes:
            heap = self._free.get((route, c.language, c.channel))
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
