"""What the KPI definitions say, worked out from the router's events alone: the yardstick the
KPI property test holds `hotline.kpi` against.

It reads the events as the issue words the definitions, not as `KpiTracker` is written: a wait
is the router's own `Accepted.waited_s` (or end minus arrival), a deadline is missed when the
router said `Breached`, an operator is busy while it holds an accepted contact or is in
wrap-up or shown busy, and its wrap-up belongs to the contact it ended last. Intervals are
counted on Moscow's wall clock with `datetime`, not with `KpiRules.interval_of`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime

from hotline.kpi import Outcome, WaitEnded
from hotline.kpi.rules import MOSCOW
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

Group = tuple[str, str, str]  # topic, priority class, channel


def local_interval(at: float, length: int) -> float:
    """The start of the `length`-second interval holding `at`, counted from Moscow's midnight."""
    wall = datetime.fromtimestamp(at, MOSCOW)
    since_midnight = wall.hour * 3600 + wall.minute * 60 + wall.second + wall.microsecond / 1e6
    return at - since_midnight % length


@dataclass
class Contact:
    arrived_at: float
    group: Group
    breached: bool = False
    answered_by: str | None = None


@dataclass
class Operator:
    state: OperatorState
    since: float
    first_seen: float
    holding: int = 0
    last_group: Group | None = None
    open_s: float = 0.0
    busy_s: float = 0.0


class ExpectedKpis:
    """Fed every router event in order (`see`); `waits` says how each contact's wait ended."""

    def __init__(self) -> None:
        self.contacts: dict[str, Contact] = {}
        self.waits: dict[str, WaitEnded] = {}
        self.enqueued: Counter[bool] = Counter()  # by "is a callback"
        self.operators: dict[str, Operator] = {}
        self.wrap_by_group: defaultdict[Group, float] = defaultdict(float)

    def see(self, e: Event) -> None:
        if isinstance(e, Enqueued):
            group = (e.topic, e.priority, e.channel.value)
            self.contacts[e.contact_id] = Contact(e.arrived_at, group)
            self.enqueued[e.channel is Channel.CALLBACK] += 1
        elif isinstance(e, Breached):
            self.contacts[e.contact_id].breached = True
        elif isinstance(e, Accepted):
            c = self.contacts[e.contact_id]
            c.answered_by = e.operator_id
            self._wait_ended(e.contact_id, e.at, e.operator_id, Outcome.ANSWERED, e.waited_s)
            self._advance(e.operator_id, e.at)
            self.operators[e.operator_id].holding += 1
        elif isinstance(e, Ended):
            c = self.contacts[e.contact_id]
            if c.answered_by is None:
                outcome = (
                    Outcome.ABANDONED if e.state is ContactState.ABANDONED else Outcome.EXPIRED
                )
                self._wait_ended(e.contact_id, e.at, None, outcome, e.at - c.arrived_at)
                del self.contacts[e.contact_id]
                return
            del self.contacts[e.contact_id]
            op = self._advance(c.answered_by, e.at)
            op.holding -= 1
            op.last_group = c.group
        elif isinstance(e, OperatorChanged):
            if e.operator_id not in self.operators:
                self.operators[e.operator_id] = Operator(e.state, e.at, e.at)
            else:
                self._advance(e.operator_id, e.at).state = e.state

    def _wait_ended(
        self, cid: str, at: float, by: str | None, outcome: Outcome, wait: float
    ) -> None:
        assert cid not in self.waits, f"{cid}'s wait ended twice"
        c = self.contacts[cid]
        if outcome is Outcome.ANSWERED:
            met: bool | None = not c.breached
        else:
            met = False if c.breached else None
        self.waits[cid] = WaitEnded(at, *c.group, by, outcome, wait, met)

    def _advance(self, op_id: str, at: float) -> Operator:
        op = self.operators[op_id]
        seconds = at - op.since
        assert seconds >= 0, "events go forward in time"
        if op.state is not OperatorState.OFFLINE:
            op.open_s += seconds
            if op.holding or op.state in (OperatorState.BUSY, OperatorState.WRAP_UP):
                op.busy_s += seconds
            if op.state is OperatorState.WRAP_UP and op.last_group is not None:
                self.wrap_by_group[op.last_group] += seconds
        op.since = at
        return op

    def time_until(
        self, now: float
    ) -> tuple[dict[str, tuple[float, float]], defaultdict[Group, float]]:
        """Each operator's (open, busy) seconds and the wrap-up by group, up to `now`."""
        times: dict[str, tuple[float, float]] = {}
        wrap = defaultdict(float, self.wrap_by_group)
        for op_id, op in self.operators.items():
            open_s, busy_s = op.open_s, op.busy_s
            seconds = now - op.since
            if op.state is not OperatorState.OFFLINE:
                open_s += seconds
                if op.holding or op.state in (OperatorState.BUSY, OperatorState.WRAP_UP):
                    busy_s += seconds
                if op.state is OperatorState.WRAP_UP and op.last_group is not None:
                    wrap[op.last_group] += seconds
            times[op_id] = (open_s, busy_s)
        return times, wrap

    def waiting(self, *, callbacks: bool) -> set[str]:
        return {
            cid
            for cid, c in self.contacts.items()
            if c.answered_by is None and (c.group[2] == Channel.CALLBACK.value) is callbacks
        }
