"""The `py-floor` row of `scripts/bench routing`: the leanest pure-Python dispatcher we could
write that makes exactly the core's offers on the bench stream. Not part of hotline: a yardstick.

It answers the question "how fast can any Python routing core be on this stream?", so that the
core's ratio to `sql-dispatch` can be read against what the language allows. It keeps only what
the offers need: per queue (skill, language, channel) the waiting contacts in the core's order
(rank, deadline, arrival, sequence) and the free operators in the core's order (proficiency,
longest idle, id); per operator its capacity, load, presence, wrap-up and open offer. No
timers, no overflow, no events but the offers, no counters, no validation beyond what a wrong
stream would trip over: it is the floor, not a router (a contact has one route, its topic; the
stream never overflows, lapses or times out).

The matching is the core's (the same two moves: a freed operator takes the best top of its
queues, an arriving contact takes the best free operator of its queue), on the plainest data:
lists for records, a sorted run plus a heap per queue of contacts, a heap per queue of free
operators with lazy deletion.
"""

from __future__ import annotations

from heapq import heappop, heappush
from typing import Any

from hotline.domain.errors import Conflict
from hotline.routing import NewContact, OperatorSpec, Presence, RoutingPolicy
from hotline.routing.model import Event, Offered

# An operator is a list: [id, reach, load, ready, wrapping, offer, idle_since, certified_until,
# version, parked]. `reach` is per channel: (channel, capacity, contact lanes, free lanes).
_ID, _REACH, _LOAD, _READY, _WRAPPING, _OFFER, _IDLE, _CERT, _VERSION, _PARKED = range(10)
# A contact is a list: [id, channel, lane, parked entry, state, operator, entry]; state 0
# waiting, 1 offered, 2 assigned. An entry in a lane is live while it is its contact's parked
# entry: it is offered only from the top of its lane, which then drops it, so it never stands
# twice in a lane.
_CHANNEL, _LANE, _ENTRY, _STATE, _OP, _KEY = 1, 2, 3, 4, 5, 6
_NO_OFFERS: list[Event] = []  # what most calls answer: one shared list (the bench only reads)


class _Lane:
    """One queue's waiting contacts (a sorted run with a head, and a heap for the few that come
    back out of order) and its free operators (a heap)."""

    __slots__ = ("free", "head", "heap", "run", "top")

    def __init__(self) -> None:
        self.run: list[Any] = []
        self.head = 0
        self.heap: list[Any] = []
        self.top: Any = None
        self.free: list[Any] = []

    def refresh(self) -> None:
        run, heap, head = self.run, self.heap, self.head
        end = len(run)
        while head < end and run[head][-1][_ENTRY] is not run[head]:
            head += 1
        if head > 64 and 2 * head > end:
            del run[:head]
            end -= head
            head = 0
        self.head = head
        while heap and heap[0][-1][_ENTRY] is not heap[0]:
            heappop(heap)
        if head < end:
            front = run[head]
            self.top = heap[0] if heap and heap[0] < front else front
        else:
            self.top = heap[0] if heap else None


class FloorDispatch:
    def __init__(self, policy: RoutingPolicy) -> None:
        self.policy = policy
        self._ops: dict[str, list[Any]] = {}
        self._contacts: dict[str, list[Any]] = {}
        self._lanes: dict[tuple[str, str, str], _Lane] = {}
        self._class: dict[str, tuple[int, float]] = {}
        self._seq = 0
        self._timeout = policy.offer_timeout_s
        self._wraps = policy.wrap_up_s > 0

    def _lane(self, key: tuple[str, str, str]) -> _Lane:
        lane = self._lanes.get(key)
        if lane is None:
            lane = self._lanes[key] = _Lane()
        return lane

    # -- operators -----------------------------------------------------------------------------

    def upsert_operator(self, spec: OperatorSpec, now: float) -> list[Event]:
        reach = []
        for channel, cap in spec.capacity.items():
            contacts, free = [], []
            for language in spec.languages:
                for skill, level in spec.skills.items():
                    lane = self._lane((skill, language, channel))
                    contacts.append(lane)
                    free.append((lane.free, -level))
            reach.append((channel, cap, contacts, free))
        load = dict.fromkeys(spec.capacity, 0)
        op = [spec.id, reach, load, False, False, None, now, spec.certified_until, 0, []]
        self._ops[spec.id] = op
        return _NO_OFFERS

    def set_presence(self, op_id: str, presence: Presence, now: float) -> list[Event]:
        if presence is not Presence.READY:
            raise NotImplementedError("the stream only sets operators ready")
        op = self._ops[op_id]
        if op[_READY] and not op[_WRAPPING]:
            return _NO_OFFERS
        op[_READY] = True
        op[_WRAPPING] = False
        op[_IDLE] = now
        return self._route_operator(op, now)

    def end_wrap_up(self, op_id: str, now: float) -> list[Event]:
        op = self._ops[op_id]
        if not op[_WRAPPING]:
            return _NO_OFFERS
        op[_WRAPPING] = False
        op[_IDLE] = now
        return self._route_operator(op, now)

    # -- contacts ------------------------------------------------------------------------------

    def enqueue(self, spec: NewContact, now: float) -> list[Event]:
        topic = spec.topic
        cls = self._class.get(topic)
        if cls is None:
            pc = self.policy.class_of(topic)
            cls = self._class[topic] = (pc.rank, pc.limit_s)
        channel = spec.channel
        key = (topic, spec.language or self.policy.default_language, channel)
        lane = self._lanes.get(key) or self._lane(key)
        self._seq = seq = self._seq + 1
        c = [spec.id, channel, lane, None, 0, None, None]
        c[_KEY] = (cls[0], now + cls[1], now, seq, c)
        self._contacts[spec.id] = c
        return self._place(c, lane, now)

    def accept(self, contact_id: str, op_id: str, now: float) -> list[Event]:
        c = self._contacts.get(contact_id)
        op = self._ops.get(op_id)
        if c is None or op is None or c[_STATE] != 1 or op[_OFFER] != contact_id:
            raise Conflict(f"contact {contact_id} is not offered to operator {op_id}")
        c[_STATE] = 2
        op[_OFFER] = None
        op[_IDLE] = now
        return self._route_operator(op, now)

    def reject(self, contact_id: str, op_id: str, now: float) -> list[Event]:
        c = self._contacts.get(contact_id)
        op = self._ops.get(op_id)
        if c is None or op is None or c[_STATE] != 1 or op[_OFFER] != contact_id:
            raise Conflict(f"contact {contact_id} is not offered to operator {op_id}")
        op[_OFFER] = None
        op[_LOAD][c[_CHANNEL]] -= 1
        op[_READY] = False
        c[_STATE] = 0
        c[_OP] = None
        return self._place(c, c[_LANE], now)

    def complete(self, contact_id: str, op_id: str, now: float) -> list[Event]:
        c = self._contacts.get(contact_id)
        op = self._ops.get(op_id)
        if c is None or op is None or c[_STATE] != 2 or c[_OP] is not op:
            raise Conflict(f"contact {contact_id} is not assigned to operator {op_id}")
        del self._contacts[contact_id]
        c[_KEY] = None  # its entry holds it: no cycle left for the collector
        if op[_PARKED]:
            self._unpark(op)
        op[_LOAD][c[_CHANNEL]] -= 1
        if op[_READY] and self._wraps:
            op[_WRAPPING] = True
            return _NO_OFFERS
        return self._route_operator(op, now)

    def abandon(self, contact_id: str, now: float) -> list[Event]:
        c = self._contacts.get(contact_id)
        if c is None or c[_STATE] == 2:
            raise Conflict(f"no live contact {contact_id} waiting or offered")
        del self._contacts[contact_id]
        c[_KEY] = None
        op = c[_OP]
        if op is None:
            entry = c[_ENTRY]
            c[_ENTRY] = None
            lane = c[_LANE]
            if lane.top is entry:
                lane.refresh()
            return _NO_OFFERS
        op[_OFFER] = None
        op[_LOAD][c[_CHANNEL]] -= 1
        return self._route_operator(op, now)

    # -- the two matching moves ------------------------------------------------------------------

    def _place(self, c: list[Any], lane: _Lane, now: float) -> list[Event]:
        """The best free operator of `c`'s queue takes it, else it waits there."""
        free = lane.free
        while free:
            top = free[0]
            op = top[-1]
            if top[3] != op[_VERSION]:
                heappop(free)
                continue
            cert = op[_CERT]
            if cert is None or now >= cert:
                heappop(free)
                self._unpark(op)
                continue
            return self._offer(c, op, now)
        c[_ENTRY] = entry = c[_KEY]
        run = lane.run
        if not run or run[-1] < entry:
            run.append(entry)
        else:
            heappush(lane.heap, entry)
        top = lane.top
        if top is None or entry < top:
            lane.top = entry
        return _NO_OFFERS

    def _route_operator(self, op: list[Any], now: float) -> list[Event]:
        """A freed operator takes the best top of its queues, else it waits in them."""
        if op[_PARKED]:
            self._unpark(op)
        if not op[_READY] or op[_WRAPPING] or op[_OFFER] is not None:
            return _NO_OFFERS
        cert = op[_CERT]
        if cert is None or now >= cert:
            return _NO_OFFERS
        load = op[_LOAD]
        best = None
        for channel, cap, lanes, _ in op[_REACH]:
            if load[channel] >= cap:
                continue
            for lane in lanes:
                top = lane.top
                if top is not None and (best is None or top < best):
                    best = top
        if best is not None:
            c = best[-1]
            c[_ENTRY] = None
            lane = c[_LANE]
            if lane.top is best:
                lane.refresh()
            return self._offer(c, op, now)
        parked = op[_PARKED]
        idle, op_id, version = op[_IDLE], op[_ID], op[_VERSION]
        for channel, cap, _, frees in op[_REACH]:
            if load[channel] >= cap:
                continue
            for free, neg in frees:
                heappush(free, (neg, idle, op_id, version, op))
                parked.append(free)
        return _NO_OFFERS

    def _unpark(self, op: list[Any]) -> None:
        op[_VERSION] += 1
        for free in op[_PARKED]:
            while free and free[0][3] != free[0][-1][_VERSION]:
                heappop(free)
        op[_PARKED] = []

    def _offer(self, c: list[Any], op: list[Any], now: float) -> list[Event]:
        if op[_PARKED]:
            self._unpark(op)
        c[_STATE] = 1
        c[_OP] = op
        cid = c[0]
        op[_OFFER] = cid
        op[_LOAD][c[_CHANNEL]] += 1
        return [Offered(cid, op[_ID], now, now + self._timeout)]
