"""How the routing state finds the best match: an indexed matcher and a scanning one.

`RoutingState` decides *when* to match; a matcher answers *who*: the best waiting contact for a
free operator, or the best free operator for a contact. `IndexedMatcher` answers in
O(routes x languages x channels of one operator) peeks at lane tops, with lazy deletion and
compaction; `ScanMatcher` looks at everything, is obviously right, and serves as the oracle in
property tests and the naive baseline in `scripts/bench`.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left, insort
from collections.abc import Iterator
from heapq import heappop, heappush
from itertools import islice, pairwise
from typing import Any, Protocol

from hotline.routing.model import Channel
from hotline.routing.records import (
    WAITING,
    ContactKey,
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

    def place_contact(self, c: ContactRecord, now: float) -> OperatorRecord | None:
        """The best free operator for unparked `c`; if there is none, `c` waits: it is parked
        in every queue of its routes, findable by `best_contact_for`."""
        ...

    def park_operator(self, op: OperatorRecord) -> None:
        """`op` is routable and found nothing: keep it findable as free."""

    def unpark_operator(self, op: OperatorRecord) -> None:
        """`op` is about to change; forget where it was parked."""

    def unpark_contact(self, c: ContactRecord) -> None: ...

    def profile_changed(self, op: OperatorRecord) -> None:
        """`op`'s skills, languages or capacity changed."""

    def routes_changed(self, c: ContactRecord) -> None:
        """`c` gained routes (overflow); it is not parked."""

    def contacts_ahead(self, c: ContactRecord) -> int:
        """How many waiting contacts sharing a queue with waiting `c` come before it."""
        ...

    def check(self) -> None:
        """Raise AssertionError if the matcher's own bookkeeping is inconsistent."""


class ScanMatcher:
    """Looks at every waiting contact or every operator: O(n) a decision, and plainly correct."""

    def __init__(self, ops: dict[str, OperatorRecord], contacts: dict[str, ContactRecord]) -> None:
        self._ops = ops
        self._contacts = contacts

    def _waiting(self) -> Iterator[ContactRecord]:
        return (c for c in self._contacts.values() if c.state is WAITING)

    def best_contact_for(self, op: OperatorRecord, now: float) -> ContactRecord | None:
        best: ContactRecord | None = None
        for c in self._waiting():
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

    def place_contact(self, c: ContactRecord, now: float) -> OperatorRecord | None:
        return self.best_operator_for(c, now)

    def unpark_contact(self, c: ContactRecord) -> None:
        pass

    def profile_changed(self, op: OperatorRecord) -> None:
        pass

    def routes_changed(self, c: ContactRecord) -> None:
        pass

    def check(self) -> None:
        pass

    def contacts_ahead(self, c: ContactRecord) -> int:
        routes = set(c.routes)
        return sum(
            1
            for other in self._waiting()
            if other.key < c.key
            and other.language == c.language
            and other.channel == c.channel
            and not routes.isdisjoint(other.routes)
        )


class _Lane:
    """The free operators of a (route, language, channel) queue: a heap, and how many of its
    entries are live."""

    __slots__ = ("heap", "live")

    def __init__(self) -> None:
        self.heap: list[Any] = []
        self.live = 0


class _ContactLane:
    """The waiting contacts of a (route, language, channel) queue, best first.

    Contacts mostly arrive in queue order: one topic has one class, and its deadline is arrival
    plus the class's limit. Those entries go to the end of `run`, a list that stays sorted and
    whose front is `run[head]` (taking the best moves `head` on), so that parking and taking the
    best cost O(1) and touch only the ends of the queue; the few that arrive out of order (a
    contact back from an offer, one overflowing from another topic, one restored or with
    deadlines of its own) go to `heap`. `top` is the best live entry of the two, or None: a
    decision compares tops and never looks further.

    `gone` lists, in order, the entries of `run` that went stale away from its front (an
    abandon, a contact taken through another of its lanes): the live entries of the run before
    a key are then two bisections (`ahead_in_run`), so that a position costs O(log n) and not a
    walk of the queue. Entries the front has passed, or a rebuild dropped, no longer count."""

    __slots__ = ("gone", "head", "heap", "live", "run", "top")

    def __init__(self) -> None:
        self.run: list[ContactEntry] = []
        self.head = 0
        self.heap: list[ContactEntry] = []
        self.gone: list[ContactEntry] = []
        self.live = 0
        self.top: ContactEntry | None = None

    def entries(self) -> Iterator[ContactEntry]:
        """Every entry, live or stale, in no particular order."""
        yield from islice(self.run, self.head, None)
        yield from self.heap

    def find_top(self) -> None:
        """Drop the stale entries at the front of `run` and `heap`; the best of their fronts is
        the new top."""
        run, heap, head = self.run, self.heap, self.head
        end = len(run)
        while head < end and run[head][4] != run[head][5].version:
            head += 1
        if head > 64 and 2 * head > end:  # let the records passed go, in O(1) amortised
            gone = self.gone
            if gone:
                del gone[: bisect_left(gone, run[head]) if head < end else len(gone)]
            del run[:head]
            end -= head
            head = 0
        self.head = head
        while heap and heap[0][4] != heap[0][5].version:
            heappop(heap)
        if head < end:
            front = run[head]
            self.top = heap[0] if heap and heap[0] < front else front
        else:
            self.top = heap[0] if heap else None

    def went_stale(self, c: ContactRecord, version: int) -> None:
        """`c`'s entry of `version`, not the top, went stale: note it if it stands in `run`."""
        run = self.run
        # Its entry is the only one with its key and that version.
        at = bisect_left(run, (c.rank, c.deadline_at, c.arrived_at, c.seq, version), self.head)
        if at < len(run) and run[at][5] is c:
            insort(self.gone, run[at])

    def ahead_in_run(self, key: ContactKey) -> int:
        """Live entries of `run` before `key`: O(log n)."""
        run, head = self.run, self.head
        ahead = bisect_left(run, key, head) - head
        gone = self.gone
        if gone and ahead:
            ahead -= bisect_left(gone, key) - bisect_left(gone, run[head])
        return ahead

    def compact(self) -> None:
        """Drop every stale entry; the top, live, stays."""
        self.run = [e for e in islice(self.run, self.head, None) if e[4] == e[5].version]
        self.head = 0
        self.gone = []
        heap = self.heap
        heap[:] = [e for e in heap if e[4] == e[5].version]
        heapq.heapify(heap)


def _compact(heap: list[Any], version_at: int) -> None:
    """Drop the stale entries (whose `entry[version_at]` is behind the record's `version`)."""
    heap[:] = [e for e in heap if e[version_at] == e[-1].version]
    heapq.heapify(heap)


# A lane is rebuilt once its stale entries outnumber its live ones (plus `_SLACK`), so memory
# stays O(live) and a rebuild's cost is paid for by the pushes that made the stale entries.
# The pushes below test this inline: a call per push would cost more than the push.

# What an operator can reach on one channel: its capacity there, the contact lanes it serves,
# and the free-operator lanes it parks in (with its proficiency on each, negated).
_Reach = tuple[Channel, int, list[_ContactLane], list[tuple[_Lane, int]]]
_Pair = tuple[_ContactLane, _Lane]  # a queue's waiting contacts and its free operators


class IndexedMatcher:
    """Lanes per (route, language, channel): waiting contacts in priority order (a sorted run
    plus a heap, see `_ContactLane`), free operators by proficiency then longest idle (a heap).
    Entries are never removed in place: a record's `version` moves on when it leaves its
    queues, and the stale entries that this leaves at the top of a lane are dropped at once, so
    the top of every lane is live and a decision only compares tops; a lane is rebuilt once it
    holds more stale entries than live ones. Each operator's lanes are worked out once per
    profile change, and contacts of one shape (skills, language, channel) share one list of
    lanes, so a decision costs peeks at tops and no key building."""

    def __init__(self, ops: dict[str, OperatorRecord], contacts: dict[str, ContactRecord]) -> None:
        self._pairs: dict[QueueKey, _Pair] = {}
        self._shapes: dict[QueueKey, list[_Pair]] = {}  # lanes of a contact with one route

    def profile_changed(self, op: OperatorRecord) -> None:
        op.reach = None

    def routes_changed(self, c: ContactRecord) -> None:
        c.lanes = None

    def contacts_ahead(self, c: ContactRecord) -> int:
        # An entry compares with a key as its own key would, and with an equal key it is the
        # greater (longer): `c` itself is not counted.
        key = c.key
        lanes = self._lanes_of(c)
        if len(lanes) == 1:  # a lane holds a contact once: O(log n + its out-of-order few)
            lane = lanes[0][0]
            return lane.ahead_in_run(key) + sum(
                1 for e in lane.heap if e < key and e[4] == e[5].version
            )
        return self.contacts_ahead_by_scan(c)

    def contacts_ahead_by_scan(self, c: ContactRecord) -> int:
        """`contacts_ahead` by a walk of `c`'s lanes: an overflowed contact's (a contact in two
        lanes is counted once), and the oracle of the property tests."""
        key = c.key
        lanes = self._lanes_of(c)
        if len(lanes) == 1:
            return sum(1 for e in lanes[0][0].entries() if e < key and e[4] == e[5].version)
        ahead: set[str] = set()
        for lane, _ in lanes:
            for entry in lane.entries():
                if entry < key and entry[4] == entry[5].version:
                    ahead.add(entry[5].id)
        return len(ahead)

    def check(self) -> None:
        """Brute-force consistency of the index (for the invariant checks): every lane counts
        its live entries right, its top is live, and a live entry is a waiting contact or a
        routable operator."""
        for contacts, free in self._pairs.values():
            live = [e for e in contacts.entries() if e[4] == e[5].version]
            assert len(live) == contacts.live, "a contact lane miscounts its live entries"
            assert all(e[5].state is WAITING for e in live), "a parked contact is not waiting"
            assert contacts.top == min(live, default=None), "a lane's top is not its best"
            run = contacts.run[contacts.head :]
            assert all(a < b for a, b in pairwise(run)), "a run is out of order"
            assert all(a < b for a, b in pairwise(contacts.gone)), "gone is out of order"
            noted = {id(e) for e in contacts.gone}
            assert all(e[4] != e[5].version for e in contacts.gone), "a live entry is gone"
            assert all(e[4] == e[5].version or id(e) in noted for e in run), (
                "an entry of a run went stale unnoted"
            )
            parked = [e for e in free.heap if e[3] == e[4].version]
            assert len(parked) == free.live, "an operator lane miscounts its live entries"
            assert all(e[4].routable for e in parked), "a parked operator is not routable"
            assert not free.heap or free.heap[0] in parked, "a stale operator on top"

    def _pair(self, qk: QueueKey) -> _Pair:
        pair = self._pairs.get(qk)
        if pair is None:
            pair = self._pairs[qk] = (_ContactLane(), _Lane())
        return pair

    def _reach_of(self, op: OperatorRecord) -> list[_Reach]:
        reach: list[_Reach] | None = op.reach
        if reach is None:
            reach = []
            for channel, cap in op.capacity.items():
                contacts: list[_ContactLane] = []
                free: list[tuple[_Lane, int]] = []
                for language in op.languages:
                    for route, score in op.route_keys:
                        waiting_lane, free_lane = self._pair((route, language, channel))
                        contacts.append(waiting_lane)
                        free.append((free_lane, -score))
                reach.append((channel, cap, contacts, free))
            op.reach = reach
        return reach

    def _lanes_of(self, c: ContactRecord) -> list[_Pair]:
        """The (waiting-contact lane, free-operator lane) of each of `c`'s routes."""
        lanes: list[_Pair] | None = c.lanes
        if lanes is None:
            routes = c.routes
            if len(routes) == 1:  # not overflowed: shared with every contact of its shape
                qk = (routes[0], c.language, c.channel)
                lanes = self._shapes.get(qk)
                if lanes is None:
                    lanes = self._shapes[qk] = [self._pair(qk)]
            else:
                # A loop, not a comprehension: on 3.11 a comprehension would make `self` and
                # `c` closure cells on every call, the usual one above included.
                lanes = []
                for route in routes:
                    lanes.append(self._pair((route, c.language, c.channel)))
            c.lanes = lanes
        return lanes

    # -- contacts ---------------------------------------------------------------------------

    def place_contact(self, c: ContactRecord, now: float) -> OperatorRecord | None:
        lanes = c.lanes
        if lanes is None:  # a new contact: the lanes of its shape, mostly known already
            routes = c.routes
            if len(routes) == 1:
                lanes = self._shapes.get((routes[0], c.language, c.channel))
            if lanes is None:
                lanes = self._lanes_of(c)
            else:
                c.lanes = lanes
        for _, free in lanes:
            if free.heap:  # someone may be free: look properly
                op = self.best_operator_for(c, now)
                if op is not None:
                    return op
                break
        # Nobody free: park it (inline: a call here cost as much as the parking).
        entry: ContactEntry = (c.rank, c.deadline_at, c.arrived_at, c.seq, c.version, c)
        for lane, _ in lanes:
            run = lane.run
            if not run or run[-1] < entry:
                run.append(entry)
            else:
                heappush(lane.heap, entry)
            top = lane.top
            if top is None or entry < top:
                lane.top = entry
            lane.live = live = lane.live + 1
            if len(run) + len(lane.heap) > 2 * live + _SLACK:
                lane.compact()
        c.parked = lanes  # a contact stands in all its lanes: their (shared) list says where
        return None

    def unpark_contact(self, c: ContactRecord) -> None:
        # Nothing parked means no live entry: every entry already carries an older version.
        parked = c.parked
        if parked:
            version = c.version
            c.version = version + 1
            for lane, _ in parked:
                lane.live -= 1
                top = lane.top
                if top is not None and top[5] is c:  # keep the top live
                    lane.find_top()
                else:  # away from the front: counted out of the positions behind it
                    lane.went_stale(c, version)
            c.parked = ()

    def best_contact_for(self, op: OperatorRecord, now: float) -> ContactRecord | None:
        certified_until = op.certified_until
        if certified_until is None or now >= certified_until:
            return None
        # Entries compare as their contacts' keys (seq differs between contacts; one contact
        # in two lanes is one and the same entry, equal to itself).
        # Every top is live (see `unpark_contact`), so a waiting contact (see `check`).
        best: ContactEntry | None = None
        load = op.load
        for channel, cap, lanes, _ in op.reach or self._reach_of(op):
            if load[channel] >= cap:
                continue
            for lane in lanes:
                top = lane.top
                if top is not None and (best is None or top < best):
                    best = top
        return None if best is None else best[5]

    # -- operators --------------------------------------------------------------------------

    def park_operator(self, op: OperatorRecord) -> None:
        parked = op.parked
        load = op.load
        idle_since, op_id, version = op.idle_since, op.id, op.version
        for channel, cap, _, lanes in op.reach or self._reach_of(op):
            if load[channel] >= cap:
                continue
            for lane, neg_score in lanes:
                heap = lane.heap
                heappush(heap, (neg_score, idle_since, op_id, version, op))
                lane.live = live = lane.live + 1
                if len(heap) > 2 * live + _SLACK:
                    _compact(heap, 3)
                parked.append(lane)

    def unpark_operator(self, op: OperatorRecord) -> None:
        # Nothing parked means no live entry: every entry already carries an older version.
        parked = op.parked
        if parked:
            op.version += 1
            for lane in parked:
                lane.live -= 1
                heap = lane.heap
                while heap and heap[0][3] != heap[0][4].version:  # keep the top live
                    heappop(heap)
            parked.clear()

    def best_operator_for(self, c: ContactRecord, now: float) -> OperatorRecord | None:
        best: OperatorEntry | None = None
        for _, lane in self._lanes_of(c):
            heap = lane.heap
            while heap:  # every top is live (see `unpark_operator`)
                top = heap[0]
                op = top[4]
                certified_until = op.certified_until
                if certified_until is None or now >= certified_until:
                    # Certification lapsed while free: forget the operator until it is renewed
                    # (which also pops what that leaves stale on top here).
                    heappop(heap)
                    self.unpark_operator(op)
                    continue
                if best is None or top[:3] < best[:3]:
                    best = top
                break
        return None if best is None else best[4]
