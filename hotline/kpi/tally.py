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

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from hotline.kpi.facts import Fact, HandleEnded, Outcome, WaitEnded
from hotline.kpi.quality import QualityTally, quality_figures
from hotline.kpi.rules import _QUARTER_HOUR, KpiRules
from hotline.routing.model import OperatorState

CALLBACK = "callback"
_BUSY = (OperatorState.BUSY, OperatorState.WRAP_UP)
# Enum members as plain constants: on Python 3.11 reading one off its class costs ~0.2 us (the
# enum metaclass's `__getattr__`), and every fact reads several.
_ANSWERED, _EXPIRED = Outcome.ANSWERED, Outcome.EXPIRED
_WRAP_UP, _OFFLINE = OperatorState.WRAP_UP, OperatorState.OFFLINE


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
        self.count_wait_of(f.channel, f.priority, f.outcome, f.wait_s, f.deadline_met, rules)

    def count_wait_of(
        self,
        channel: str,
        priority: str,
        outcome: Outcome,
        wait: float,
        deadline_met: bool | None,
        rules: KpiRules,
    ) -> None:
        """`count_wait` of a `WaitEnded` given by its fields."""
        if channel == CALLBACK:  # voicemail callbacks: their own one-hour compliance only
            if deadline_met is not None:
                self.vm_due += 1
                self.vm_met += deadline_met
            return
        self.offered += 1
        if outcome is _EXPIRED:
            self.expired += 1
        else:
            if wait > self.wait_max:
                self.wait_max = wait
            if outcome is _ANSWERED:
                self.answered += 1
                self.wait_sum += wait
                within = self.met
            else:
                self.abandoned += 1
                if wait <= rules.short_abandon_s:
                    self.short_abandoned += 1
                within = self.abandoned_within
            # Thresholds ascend: a wait within one is within every later one.
            thresholds = rules.thresholds
            i = len(thresholds) - 1
            while i >= 0 and wait <= thresholds[i]:
                within[i] += 1
                i -= 1
        if deadline_met is not None:
            due = self.deadline_due
            due[priority] = due.get(priority, 0) + 1
            if deadline_met:
                done = self.deadline_met
                done[priority] = done.get(priority, 0) + 1

    def count_handle(self, f: HandleEnded) -> None:
        self.handled += 1
        self.talk_sum += f.talk_s

    def count_time(self, state: OperatorState, seconds: float, holding: bool = False) -> None:
        """`seconds` of an operator's time in `state` (one interval's share of a piece), while
        `holding` an answered contact or not."""
        if state is _WRAP_UP:
            self.wrap_sum += seconds
        if state is not _OFFLINE:
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
_K = TypeVar("_K")
_Key = TypeVar("_Key", QueueKey, OperatorKey)


class Buckets:
    """Facts counted per interval, twice: by queue (topic, priority, channel) and by operator.

    The queue side holds every contact figure and the wrap-up time of the contact it followed;
    the operator side holds what each operator answered and handled and its time by state.
    The whole line's tally is the queue side's with the operator side's time (`total`), so no
    contact counts twice. An operator's time is split at interval boundaries."""

    __slots__ = ("_n", "_now", "_step", "operators", "queues", "rules")

    def __init__(self, rules: KpiRules) -> None:
        self.rules = rules
        self.queues: dict[QueueKey, Tally] = {}
        self.operators: dict[OperatorKey, Tally] = {}
        self._n = len(rules.thresholds)
        # Every fact asks which interval it falls in: where `rules.interval_of` is plain
        # arithmetic (intervals dividing a quarter hour), the same arithmetic inline, else 0.
        step = rules.interval_s
        self._step = step if _QUARTER_HOUR % step == 0 else 0
        # Each operator's last interval touched: (its start, its end, the operator's tally in
        # `operators`). An operator's facts come in time order and most fall in the interval
        # of the one before: they go straight to its tally, without building a key and
        # looking it up among all operators' intervals (a simulated day has 28,800). Only
        # with arithmetic intervals (`_step`): then an instant in [start, end) is in it.
        self._now: dict[str, tuple[float, float, Tally]] = {}

    def add(self, fact: Fact) -> None:
        if isinstance(fact, WaitEnded):
            self.wait_ended(
                fact.at,
                fact.topic,
                fact.priority,
                fact.channel,
                fact.operator_id,
                fact.outcome,
                fact.wait_s,
                fact.deadline_met,
            )
        elif isinstance(fact, HandleEnded):
            self.handle_ended(
                fact.at, fact.topic, fact.priority, fact.channel, fact.operator_id, fact.talk_s
            )
        else:
            self.operator_time(
                fact.operator_id,
                fact.start,
                fact.end,
                fact.state,
                fact.topic,
                fact.priority,
                fact.channel,
                fact.holding,
            )

    def add_all(self, facts: Iterable[Fact]) -> None:
        add = self.add
        for fact in facts:
            add(fact)

    # -- the three facts by their fields (a `FactSink`: a `KpiTracker` tells them so) ---------

    def _tally(self, tallies: dict[_Key, Tally], key: _Key) -> Tally:
        t = tallies.get(key)
        if t is None:
            t = tallies[key] = Tally(self._n)
        return t

    def wait_ended(
        self,
        at: float,
        topic: str,
        priority: str,
        channel: str,
        operator_id: str | None,
        outcome: Outcome,
        wait_s: float,
        deadline_met: bool | None,
    ) -> None:
        """A `WaitEnded`: in its queue, and in its operator's tally if one answered it (not a
        callback: those count in their queue's voicemail figures only)."""
        step, rules = self._step, self.rules
        interval = at - at % step if step else rules.interval_of(at)
        key = (interval, topic, priority, channel)
        queue = self.queues.get(key)
        if queue is None:
            queue = self.queues[key] = Tally(self._n)
        queue.count_wait_of(channel, priority, outcome, wait_s, deadline_met, rules)
        if operator_id is not None and channel != CALLBACK:
            now = self._now.get(operator_id)
            if now is not None and now[0] <= at < now[1]:
                op = now[2]
            else:
                op = self._operator(interval, operator_id)
            op.count_wait_of(channel, priority, outcome, wait_s, deadline_met, rules)

    def handle_ended(
        self, at: float, topic: str, priority: str, channel: str, operator_id: str, talk_s: float
    ) -> None:
        """A `HandleEnded`, in its queue and its operator's tally (`Tally.count_handle`)."""
        step = self._step
        interval = at - at % step if step else self.rules.interval_of(at)
        key = (interval, topic, priority, channel)
        queue = self.queues.get(key)
        if queue is None:
            queue = self.queues[key] = Tally(self._n)
        queue.handled += 1
        queue.talk_sum += talk_s
        now = self._now.get(operator_id)
        if now is not None and now[0] <= at < now[1]:
            op = now[2]
        else:
            op = self._operator(interval, operator_id)
        op.handled += 1
        op.talk_sum += talk_s

    def operator_time(
        self,
        operator_id: str,
        start: float,
        end: float,
        state: OperatorState,
        topic: str | None,
        priority: str | None,
        channel: str | None,
        holding: bool,
    ) -> None:
        """An `OperatorTime`, split at interval boundaries, each part counted in the
        operator's tally as `Tally.count_time` counts it (and a wrap-up's in the queue of the
        contact it followed too). Spelt out: most pieces fall in one interval, the operator's
        last one (`_now`)."""
        if not start < end:
            return
        wrap = state is _WRAP_UP
        counted = state is not _OFFLINE
        busy = holding or state in _BUSY
        now = self._now.get(operator_id)
        if now is not None and now[0] <= start and end <= now[1]:
            seconds = end - start
            operator = now[2]
            if wrap:
                operator.wrap_sum += seconds
            if counted:
                operator.open_s += seconds
                if busy:
                    operator.busy_s += seconds
            if wrap and topic is not None:
                assert priority is not None and channel is not None
                self._tally(self.queues, (now[0], topic, priority, channel)).wrap_sum += seconds
            return
        stop = end
        step, interval_s = self._step, self.rules.interval_s
        while start < stop:
            interval = start - start % step if step else self.rules.interval_of(start)
            bound = interval + interval_s
            end = stop if stop <= bound else bound
            seconds = end - start
            operator = self._operator(interval, operator_id)
            if wrap:
                operator.wrap_sum += seconds
            if counted:
                operator.open_s += seconds
                if busy:
                    operator.busy_s += seconds
            if wrap and topic is not None:
                assert priority is not None and channel is not None
                self._tally(self.queues, (interval, topic, priority, channel)).wrap_sum += seconds
            start = end

    def _operator(self, interval: float, operator_id: str) -> Tally:
        """The operator's tally of `interval`, made if new; with arithmetic intervals the
        operator's `_now` from then on."""
        key = (interval, operator_id)
        t = self.operators.get(key)
        if t is None:
            t = self.operators[key] = Tally(self._n)
        if self._step:
            self._now[operator_id] = (interval, interval + self.rules.interval_s, t)
        return t

    def total(self) -> Tally:
        """The whole line: every contact figure once, and every operator's time."""
        return self._line(_whole).get(None) or Tally(self._n)

    def by_interval(self) -> dict[float, Tally]:
        """The whole line's tally of each interval, as `total` is of all of them: the queue
        side's contact figures with the operator side's time."""
        return self._line(_start)

    def _line(self, group: Callable[[float], _K]) -> dict[_K, Tally]:
        """The whole line's tally of each group of intervals (`group`: an interval's start to
        its group): the queue side's tallies merged without their wrap-up (it is the time of
        the operators who wrapped up, counted with the operator side's), and the operator
        side's wrap-up, busy and open time. Each group adds its tallies in the buckets' order."""
        n = self._n
        lines: dict[_K, Tally] = {}
        for (start, *_), t in self.queues.items():
            key = group(start)
            line = lines.get(key)
            if line is None:
                line = lines[key] = Tally(n)
            line.merge(t)
        for line in lines.values():
            line.wrap_sum = 0.0
        for (start, _), t in self.operators.items():
            key = group(start)
            line = lines.get(key)
            if line is None:
                line = lines[key] = Tally(n)
            line.wrap_sum += t.wrap_sum
            line.busy_s += t.busy_s
            line.open_s += t.open_s
        return lines


def _whole(start: float) -> None:
    return None


def _start(start: float) -> float:
    return start
