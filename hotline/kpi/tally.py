"""Facts counted: a `Tally` is additive (two tallies of disjoint facts `merge` into the tally of
both), so intervals add up to days and groups to the whole; `figures` turns one into FIGURES.

Definitions (README "Service levels, defined" says the same for deployers):
- offered = answered + abandoned + expired: every inbound contact whose wait ended.
- service level at T, by `KpiRules.basis` (the issue's bases; an expired contact, which the
  service ended, is in no denominator: Asterisk counts only completed and abandoned calls, and
  Genesys adds flow-outs only when told to):
    answered             answered within T / answered                           (Asterisk's SL)
    offered              answered within T / (answered + abandoned)
    offered_minus_short  answered within T / (answered + abandoned - short)    (the default)
    sl2                  (answered + abandoned) within T / (answered + abandoned) (Asterisk's SL2)
- asa_s: mean wait of the answered; max_wait_s: the longest wait answered or abandoned.
- abandon_rate = (abandoned - short) / (offered - short).
- talk_s and wrap_s: talk (accept -> end) and wrap-up time per handled contact; aht_s their sum.
- occupancy = time holding contacts (shown busy, or on break with a call in hand) or in
  wrap-up / time not offline.
- deadline_met[class] = answered by the class's deadline / (answered + those whose deadline
  passed unanswered).
- voicemail_within_hour: callback contacts (voicemails) answered by their deadline (one working
  hour) / (answered + those whose deadline passed); callbacks count in nothing else of the
  inbound figures above but handle time and occupancy.
- csat, nps, survey_response_rate, repeat_rate, first_contact_resolution: the quality figures,
  from a `QualityTally` counted beside the tally (hotline.kpi.quality says how).
A ratio with nothing to divide is None.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from hotline.kpi.facts import Fact, HandleEnded, OperatorTime, Outcome, WaitEnded
from hotline.kpi.quality import QualityTally, quality_figures
from hotline.kpi.rules import KpiRules
from hotline.routing.model import OperatorState

CALLBACK = "callback"
_BUSY = (OperatorState.BUSY, OperatorState.WRAP_UP)


class Tally:
    """Counters of facts. `met[i]`, `abandoned_within[i]`: waits within `thresholds[i]`."""

    __slots__ = (
        "abandoned",
        "abandoned_within",
        "answered",
        "busy_s",
        "deadline_due",
        "deadline_met",
        "expired",
        "handled",
        "met",
        "offered",
        "open_s",
        "short_abandoned",
        "talk_sum",
        "vm_due",
        "vm_met",
        "wait_max",
        "wait_sum",
        "wrap_sum",
    )

    def __init__(self, thresholds: int) -> None:
        self.offered = self.answered = self.abandoned = self.short_abandoned = self.expired = 0
        self.wait_sum = self.wait_max = 0.0
        self.met = [0] * thresholds
        self.abandoned_within = [0] * thresholds
        self.handled = 0
        self.talk_sum = self.wrap_sum = self.busy_s = self.open_s = 0.0
        self.deadline_met: dict[str, int] = {}
        self.deadline_due: dict[str, int] = {}
        self.vm_met = self.vm_due = 0

    def count_wait(self, f: WaitEnded, rules: KpiRules) -> None:
        if f.channel == CALLBACK:  # voicemail callbacks: their own one-hour compliance only
            if f.deadline_met is not None:
                self.vm_due += 1
                self.vm_met += f.deadline_met
            return
        self.offered += 1
        wait = f.wait_s
        if f.outcome is Outcome.EXPIRED:
            self.expired += 1
        else:
            if wait > self.wait_max:
                self.wait_max = wait
            within = self.met if f.outcome is Outcome.ANSWERED else self.abandoned_within
            for i, t in enumerate(rules.thresholds):
                if wait <= t:
                    within[i] += 1
            if f.outcome is Outcome.ANSWERED:
                self.answered += 1
                self.wait_sum += wait
            else:
                self.abandoned += 1
                if wait <= rules.short_abandon_s:
                    self.short_abandoned += 1
        if f.deadline_met is not None:
            self.deadline_due[f.priority] = self.deadline_due.get(f.priority, 0) + 1
            if f.deadline_met:
                self.deadline_met[f.priority] = self.deadline_met.get(f.priority, 0) + 1

    def count_handle(self, f: HandleEnded) -> None:
        self.handled += 1
        self.talk_sum += f.talk_s

    def count_time(self, state: OperatorState, seconds: float, holding: bool = False) -> None:
        """`seconds` of an operator's time in `state` (one interval's share of a piece), while
        `holding` an answered contact or not."""
        if state is OperatorState.WRAP_UP:
            self.wrap_sum += seconds
        if state is not OperatorState.OFFLINE:
            self.open_s += seconds
            if holding or state in _BUSY:
                self.busy_s += seconds

    def merge(self, other: Tally) -> Tally:
        """Add `other` into this tally; returns self."""
        self.offered += other.offered
        self.answered += other.answered
        self.abandoned += other.abandoned
        self.short_abandoned += other.short_abandoned
        self.expired += other.expired
        self.wait_sum += other.wait_sum
        self.wait_max = max(self.wait_max, other.wait_max)
        self.met = [a + b for a, b in zip(self.met, other.met, strict=True)]
        self.abandoned_within = [
            a + b for a, b in zip(self.abandoned_within, other.abandoned_within, strict=True)
        ]
        self.handled += other.handled
        self.talk_sum += other.talk_sum
        self.wrap_sum += other.wrap_sum
        self.busy_s += other.busy_s
        self.open_s += other.open_s
        for name, n in other.deadline_met.items():
            self.deadline_met[name] = self.deadline_met.get(name, 0) + n
        for name, n in other.deadline_due.items():
            self.deadline_due[name] = self.deadline_due.get(name, 0) + n
        self.vm_met += other.vm_met
        self.vm_due += other.vm_due
        return self

    def copy(self) -> Tally:
        return Tally(len(self.met)).merge(self)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Tally):
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in Tally.__slots__)

    def __repr__(self) -> str:
        fields = ", ".join(f"{n}={getattr(self, n)!r}" for n in Tally.__slots__)
        return f"Tally({fields})"


def _ratio(part: float, whole: float) -> float | None:
    return part / whole if whole > 0 else None


def figures(t: Tally, rules: KpiRules, quality: QualityTally | None = None) -> dict[str, Any]:
    """FIGURES of the issue (and of `GET /v1/stats`): counts, seconds and ratios 0..1; the
    quality figures from `quality` (None: nothing counted, so they are None too)."""
    answered_or_abandoned = t.answered + t.abandoned
    base = {
        "answered": t.answered,
        "offered": answered_or_abandoned,
        "offered_minus_short": answered_or_abandoned - t.short_abandoned,
        "sl2": answered_or_abandoned,
    }[rules.basis]
    service_level: dict[str, float | None] = {}
    for i, threshold in enumerate(rules.thresholds):
        met = t.met[i] + (t.abandoned_within[i] if rules.basis == "sl2" else 0)
        service_level[str(threshold)] = _ratio(met, base)
    talk = _ratio(t.talk_sum, t.handled)
    wrap = _ratio(t.wrap_sum, t.handled)
    return {
        "offered": t.offered,
        "answered": t.answered,
        "abandoned": t.abandoned,
        "short_abandoned": t.short_abandoned,
        "expired": t.expired,
        "asa_s": _ratio(t.wait_sum, t.answered),
        "max_wait_s": t.wait_max if t.answered or t.abandoned else None,
        "service_level": service_level,
        "abandon_rate": _ratio(t.abandoned - t.short_abandoned, t.offered - t.short_abandoned),
        "aht_s": None if talk is None or wrap is None else talk + wrap,
        "talk_s": talk,
        "wrap_s": wrap,
        "occupancy": _ratio(t.busy_s, t.open_s),
        "deadline_met": {
            name: _ratio(t.deadline_met.get(name, 0), t.deadline_due.get(name, 0))
            for name in rules.classes
        },
        "voicemail_within_hour": _ratio(t.vm_met, t.vm_due),
        **quality_figures(quality),
    }


QueueKey = tuple[float, str, str, str]  # (interval start, topic, priority, channel)
OperatorKey = tuple[float, str]  # (interval start, operator)


class Buckets:
    """Facts counted per interval, twice: by queue (topic, priority, channel) and by operator.

    The queue side holds every contact figure and the wrap-up time of the contact it followed;
    the operator side holds what each operator answered and handled and its time by state.
    The whole line's tally is the queue side's with the operator side's time (`total`), so no
    contact counts twice. An operator's time is split at interval boundaries."""

    __slots__ = ("_n", "operators", "queues", "rules")

    def __init__(self, rules: KpiRules) -> None:
        self.rules = rules
        self.queues: dict[QueueKey, Tally] = {}
        self.operators: dict[OperatorKey, Tally] = {}
        self._n = len(rules.thresholds)

    def _queue(self, at: float, topic: str, priority: str, channel: str) -> Tally:
        key = (self.rules.interval_of(at), topic, priority, channel)
        t = self.queues.get(key)
        if t is None:
            t = self.queues[key] = Tally(self._n)
        return t

    def _operator(self, start: float, operator_id: str) -> Tally:
        key = (start, operator_id)
        t = self.operators.get(key)
        if t is None:
            t = self.operators[key] = Tally(self._n)
        return t

    def add(self, fact: Fact) -> None:
        if isinstance(fact, WaitEnded):
            self._queue(fact.at, fact.topic, fact.priority, fact.channel).count_wait(
                fact, self.rules
            )
            if fact.operator_id is not None and fact.channel != CALLBACK:
                op = self._operator(self.rules.interval_of(fact.at), fact.operator_id)
                op.count_wait(fact, self.rules)
        elif isinstance(fact, HandleEnded):
            self._queue(fact.at, fact.topic, fact.priority, fact.channel).count_handle(fact)
            self._operator(self.rules.interval_of(fact.at), fact.operator_id).count_handle(fact)
        else:
            self._add_time(fact)

    def add_all(self, facts: Iterable[Fact]) -> None:
        for fact in facts:
            self.add(fact)

    def _add_time(self, piece: OperatorTime) -> None:
        step = self.rules.interval_s
        start = piece.start
        while start < piece.end:
            interval = self.rules.interval_of(start)
            end = min(piece.end, interval + step)
            seconds = end - start
            operator = self._operator(interval, piece.operator_id)
            operator.count_time(piece.state, seconds, piece.holding)
            if piece.state is OperatorState.WRAP_UP and piece.topic is not None:
                assert piece.priority is not None and piece.channel is not None
                queue = self._queue(start, piece.topic, piece.priority, piece.channel)
                queue.wrap_sum += seconds
            start = end

    def total(self) -> Tally:
        """The whole line: every contact figure once, and every operator's time."""
        whole = Tally(self._n)
        for t in self.queues.values():
            whole.merge(t)
        whole.wrap_sum = 0.0  # the queue side's wrap-up, counted again below with the time
        for t in self.operators.values():
            whole.wrap_sum += t.wrap_sum
            whole.busy_s += t.busy_s
            whole.open_s += t.open_s
        return whole
