"""Counts since the process started, by queue: what `GET /metrics` exports as Prometheus counters
and histograms (`hotline.api.metrics` renders them).

Fed the same facts as the live view (the journal's post-commit hook). Split by topic, priority
class and channel only: never by contact, phone or operator (an operator's id would make a
series per person, and the state gauge says enough). A contact counts when its wait ends, as in
FIGURES: offered = answered + abandoned + expired, so a ratio of these counters in PromQL is the
ratio the API reports; voicemail callbacks count under `channel="callback"`, which FIGURES leave
out of the inbound figures.

Pure: plain counters, no prometheus_client here.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence

from hotline.kpi.facts import Fact, HandleEnded, OperatorTime, Outcome, WaitEnded
from hotline.kpi.rules import KpiRules
from hotline.routing.model import OperatorState

# Upper bounds in seconds; every service-level threshold, the short-abandon limit and the
# time goals are added to the waits' (`wait_bounds`), so each is read off one bucket.
WAIT_BOUNDS = (5, 10, 15, 20, 25, 30, 45, 60, 90, 120, 180, 300, 600, 900, 1800, 3600)
HANDLE_BOUNDS = (15, 30, 60, 120, 180, 300, 450, 600, 900, 1200, 1800, 3600)

Queue = tuple[str, str, str]  # (topic, priority, channel)
_ANSWERED, _ABANDONED = Outcome.ANSWERED, Outcome.ABANDONED  # globals: cheaper than enum members
_WRAP_UP = OperatorState.WRAP_UP


def wait_bounds(rules: KpiRules) -> tuple[float, ...]:
    goals = [rules.goals[name] for name in ("asa_s", "max_wait_s") if name in rules.goals]
    return tuple(sorted({*WAIT_BOUNDS, *rules.thresholds, rules.short_abandon_s, *goals}))


class Histogram:
    """Observations counted in buckets (`counts[i]`: at most `bounds[i]`, not cumulative; the
    last: above every bound), with their sum."""

    __slots__ = ("bounds", "counts", "sum")

    def __init__(self, bounds: Sequence[float]) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)
        self.sum = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect_left(self.bounds, value)] += 1
        self.sum += value

    def cumulative(self) -> list[tuple[float, int]]:
        """(upper bound, observations at most it), the last bound being +inf."""
        out: list[tuple[float, int]] = []
        seen = 0
        for bound, n in zip([*self.bounds, float("inf")], self.counts, strict=True):
            seen += n
            out.append((bound, seen))
        return out

    @property
    def count(self) -> int:
        return sum(self.counts)


class QueueTotals:
    """One queue's counts: waits ended by outcome (the abandoned split short or not), and
    handling: talk per contact, wrap-up per wrap-up (of the contact ended last)."""

    __slots__ = ("abandoned", "answered", "expired", "short_abandoned", "talk", "waits", "wrap")

    def __init__(self, wait: Sequence[float]) -> None:
        self.answered = self.abandoned = self.short_abandoned = self.expired = 0
        self.waits = {outcome: Histogram(wait) for outcome in Outcome}
        self.talk = Histogram(HANDLE_BOUNDS)
        self.wrap = Histogram(HANDLE_BOUNDS)

    @property
    def offered(self) -> int:
        return self.answered + self.abandoned + self.expired


class Totals:
    """Counts by queue since start; `add(facts)` after each commit."""

    __slots__ = ("_short_s", "_wait", "queues")

    def __init__(self, rules: KpiRules) -> None:
        self._short_s = rules.short_abandon_s
        self._wait = wait_bounds(rules)
        self.queues: dict[Queue, QueueTotals] = {}

    @property
    def wait_bounds(self) -> tuple[float, ...]:
        return self._wait

    def _queue(self, topic: str, priority: str, channel: str) -> QueueTotals:
        key = (topic, priority, channel)
        q = self.queues.get(key)
        if q is None:
            q = self.queues[key] = QueueTotals(self._wait)
        return q

    def add(self, facts: Iterable[Fact]) -> None:
        for fact in facts:
            if type(fact) is WaitEnded:
                q = self._queue(fact.topic, fact.priority, fact.channel)
                outcome = fact.outcome
                if outcome is _ANSWERED:
                    q.answered += 1
                elif outcome is _ABANDONED:
                    q.abandoned += 1
                    q.short_abandoned += fact.wait_s <= self._short_s
                else:
                    q.expired += 1
                q.waits[outcome].observe(fact.wait_s)
            elif type(fact) is HandleEnded:
                self._queue(fact.topic, fact.priority, fact.channel).talk.observe(fact.talk_s)
            elif type(fact) is OperatorTime and fact.state is _WRAP_UP:
                # A wrap-up after a restart may follow no known contact: its queue is blank.
                q = self._queue(fact.topic or "", fact.priority or "", fact.channel or "")
                q.wrap.observe(fact.end - fact.start)
