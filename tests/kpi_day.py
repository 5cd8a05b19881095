"""A driven stretch of the line for the KPI tests: the pure router run through a seeded, busy
day (arrivals on three channels, offers answered, missed or rejected, calls completed, wrap-ups
ending by themselves or by hand, abandons, expiries, breaches, operators changing state), with
every instant a whole second, so sums of seconds are exact however they are split."""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable
from datetime import date

from hotline.domain.errors import HotlineError
from hotline.kpi.rules import MOSCOW
from hotline.routing import Channel, NewContact, OperatorSpec, Presence, RoutingState
from hotline.routing.model import Accepted, Ended, Event, Offered
from hotline.store.rollups import LocalDays
from tests.routing_fixtures import policy

TOPICS = ("payments", "documents", "registration")
DAY = 86_400
DAY_START = LocalDays(MOSCOW).midnight(date(2027, 3, 10))  # a Wednesday, local midnight


def desk(op_id: str) -> OperatorSpec:
    return OperatorSpec(
        id=op_id,
        skills={"payments": 3, "documents": 3, "registration": 2, "callback": 3},
        languages=frozenset({"ru"}),
        capacity={Channel.VOICE: 1, Channel.CHAT: 2, Channel.CALLBACK: 1},
        certified_until=DAY_START + 400 * DAY,
    )


class DrivenLine:
    """The router and what happened to it; `run(until)` drives it on."""

    def __init__(self, seed: int, *, operators: int = 8, start: int = DAY_START) -> None:
        self.rng = random.Random(seed)
        self.state = RoutingState(policy(offer_timeout_s=15.0, wrap_up_s=30.0))
        self.events: list[Event] = []
        self.now = start
        self.operators = [f"op-{i}" for i in range(operators)]
        self._pending: list[tuple[int, int, str, str, str]] = []  # (due, seq, kind, cid, op)
        self._seq = 0
        self._contacts = 0
        self._live: set[str] = set()  # waiting or offered
        self._returned = 0
        for op in self.operators:
            self._do(self.state.upsert_operator, desk(op))

    def run(self, until: int) -> list[Event]:
        """Drive on until `until`; the events since the last `run` (the operators' joining too,
        the first time)."""
        first = self._returned
        rng = self.rng
        while True:
            step = self.now + rng.randint(1, 90)
            self._due(min(step, until))
            self._timers(min(step, until))
            if step >= until:
                break
            self.now = step
            roll = rng.random()
            if roll < 0.35:
                self._arrive()
            elif roll < 0.48 and self._live:
                cid = rng.choice(sorted(self._live))
                self._do(self.state.abandon, cid)
            elif roll < 0.5 and self._live:
                cid = rng.choice(sorted(self._live))
                self._do(self.state.expire, cid)
            elif roll < 0.62:
                op = rng.choice(self.operators)
                presence = rng.choices(list(Presence), weights=(1, 8, 1))[0]
                self._do(self.state.set_presence, op, presence)
        self.now = until
        self._returned = len(self.events)
        return self.events[first:]

    def _arrive(self) -> None:
        self._contacts += 1
        cid = f"c{self._contacts:05d}"
        topic = self.rng.choice(TOPICS)
        channel = self.rng.choices(list(Channel)[:3], weights=(6, 3, 1))[0]
        skills = frozenset({"callback", topic}) if channel is Channel.CALLBACK else None
        self._live.add(cid)
        if self.rng.random() < 0.05:
            self._later(self.rng.randint(1, 8), "abandon", cid, "")  # a wrong number
        spec = NewContact(id=cid, channel=channel, topic=topic, language="ru", skills=skills)
        self._do(self.state.enqueue, spec)

    def _timers(self, until: int) -> None:
        while (due := self.state.next_deadline()) is not None and due <= until:
            self.now = max(self.now, int(due))
            self._do(self.state.tick)

    def _due(self, until: int) -> None:
        while self._pending and self._pending[0][0] <= until:
            due, _, kind, cid, op = heapq.heappop(self._pending)
            self._timers(due)
            self.now = max(self.now, due)
            if kind == "accept":
                self._do(self.state.accept, cid, op)
            elif kind == "reject":
                self._do(self.state.reject, cid, op)
            elif kind == "abandon":
                self._do(self.state.abandon, cid)
            elif kind == "complete":
                self._do(self.state.complete, cid, op)
            else:
                self._do(self.state.end_wrap_up, op)

    def _do(self, change: Callable[..., list[Event]], *args: object) -> None:
        """`change(*args, now)` on the router, its events kept (a refusal changes nothing)."""
        try:
            events = change(*args, float(self.now))
        except HotlineError:
            return
        self.events.extend(events)
        rng = self.rng
        for e in events:
            if isinstance(e, Offered):
                kind = "reject" if rng.random() < 0.05 else "accept"
                self._later(rng.randint(1, 16), kind, e.contact_id, e.operator_id)  # 16: missed
            elif isinstance(e, Accepted):
                self._later(rng.randint(20, 900), "complete", e.contact_id, e.operator_id)
                if rng.random() < 0.5:
                    self._later(rng.randint(921, 940), "end_wrap_up", "", e.operator_id)
            if isinstance(e, Accepted | Ended):
                self._live.discard(e.contact_id)

    def _later(self, delay: int, kind: str, cid: str, op: str) -> None:
        self._seq += 1
        heapq.heappush(self._pending, (self.now + delay, self._seq, kind, cid, op))
