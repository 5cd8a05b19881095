"""The live figures: today's FIGURES and the last 15 minutes', kept in memory from the facts the
journal commits, so that `GET /v1/stats/live` and its stream never query the store.

Fed by the journal's post-commit hook (`feed(events, facts)`: the events of one committed batch
and the facts the journal's `KpiTracker` drew from them); read by the live endpoints through
`hotline.services.live`. Rebuilt at start from the store's rollups (`rebuild_plan` says which).

- The facts of each minute are counted in that minute's `Tally` (the whole line's, as
  `Buckets.by_interval` counts it: every contact figure once, every operator's time). The last
  `WINDOW_MINUTES` minutes, the current one included, are the sliding window `last_15m`; a minute
  that leaves it is folded into today's tally, so a fact is counted once, not once per figure.
- Today is the line's local day (`KpiRules.tz`); it starts again at local midnight.
- Each operator's state, since when, and how many answered contacts it holds, as the tracker
  keeps them (the state from the committed `OperatorChanged` events; since: the end of its last
  piece of time; holding: its answers less its handlings ended): the time in the current state
  up to `now` counts too (`KpiTracker.open_time`).
- Voicemail callbacks not yet answered, with their deadlines: those past it are overdue.
- What is waiting now, for how long, and the operators by state are the router's figures at the
  moment asked (`RouterStatistics`), handed in by the caller.

Pure: no clock, no I/O; `now` comes in with every call.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hotline.kpi.facts import Fact, HandleEnded, OpenContact, OpenOperator, OperatorTime, WaitEnded
from hotline.kpi.rules import KpiRules
from hotline.kpi.tally import CALLBACK, Buckets, Tally, figures
from hotline.routing.model import (
    Accepted,
    Channel,
    ContactState,
    Ended,
    Enqueued,
    Event,
    OperatorChanged,
    OperatorState,
    QueueFigures,
    RouterStatistics,
)

_CALLBACK = Channel.CALLBACK  # a global is cheaper to read than an enum's member (3.11)
_OFFLINE = OperatorState.OFFLINE
MINUTE_S = 60
WINDOW_MINUTES = 15  # `last_15m`: this many minutes, the current one included

__all__ = [
    "MINUTE_S",
    "WINDOW_MINUTES",
    "LiveView",
    "RebuildPlan",
    "local_day",
    "rebuild_plan",
    "window_start",
]


def local_day(at: float, tz: ZoneInfo) -> tuple[float, float]:
    """The local day holding the instant `at`: (its midnight, the next midnight), as instants."""
    day = datetime.fromtimestamp(at, tz).date()
    start = datetime.combine(day, time(), tz).timestamp()
    end = datetime.combine(day + timedelta(days=1), time(), tz).timestamp()
    return start, end


def window_start(now: float) -> float:
    """The first minute of the sliding window that holds `now`."""
    return now - now % MINUTE_S - (WINDOW_MINUTES - 1) * MINUTE_S


@dataclass(frozen=True, slots=True)
class RebuildPlan:
    """The rollups a restart reads: intervals starting in [`day_start`, `split`) (whole
    intervals of today before the window's), then minutes starting in [`minutes_from`, `now`].
    Where the local midnight is no interval boundary (the day a clock is put back), today is
    read by minutes alone."""

    day_start: float
    split: float
    minutes_from: float
    now: float


def rebuild_plan(rules: KpiRules, now: float) -> RebuildPlan:
    day_start, _ = local_day(now, rules.tz)
    first = window_start(now)
    split = day_start
    if rules.interval_of(day_start) == day_start:  # not on a day a clock was put back
        split = max(day_start, rules.interval_of(first))
    return RebuildPlan(day_start, split, min(split, first), now)


@dataclass(slots=True)
class _Open:
    """An operator's current piece of time, not a fact yet."""

    state: OperatorState
    since: float
    holding: int  # answered contacts not ended


class LiveView:
    """Today's and the last 15 minutes' tallies, operators' open time, overdue callbacks.

    `version` counts the batches fed: a reader that saw one version knows there is news when it
    moves. `snapshot(now, statistics)` is the JSON of `GET /v1/stats/live`."""

    __slots__ = (
        "_callbacks",
        "_day_end",
        "_day_start",
        "_folded",
        "_minute",
        "_minute_tally",
        "_minutes",
        "_n",
        "_operators",
        "_today",
        "rules",
        "version",
    )

    def __init__(
        self,
        rules: KpiRules,
        now: float,
        *,
        operators: Iterable[OpenOperator] = (),
        contacts: Iterable[OpenContact] = (),
    ) -> None:
        """An empty view at `now`, knowing the operators' states and the contacts not yet ended
        (the journal's tracker has them after a restart: `open_operators()`, `open_contacts()`)."""
        self.rules = rules
        self._n = len(rules.thresholds)
        self._day_start, self._day_end = local_day(now, rules.tz)
        self._today = Tally(self._n)  # today's minutes that left the window
        self._minutes: dict[float, Tally] = {}  # minute start -> the line's tally, in the window
        self._folded = window_start(now)  # minutes before this one are in `_today` (or gone)
        self._minute = -math.inf  # the minute last counted into, and its tally: facts come in
        self._minute_tally = Tally(self._n)  # order, so most find their minute here
        self._operators: dict[str, _Open] = {
            o.id: _Open(o.state, o.since, o.holding) for o in operators
        }
        self._callbacks: dict[str, float] = {
            c.id: c.deadline_at for c in contacts if c.channel == CALLBACK and c.answered_at is None
        }  # voicemail callbacks not answered yet -> their deadline
        self.version = 0

    @classmethod
    def rebuilt(
        cls,
        rules: KpiRules,
        plan: RebuildPlan,
        *,
        intervals: Buckets,
        minutes: Buckets,
        operators: Iterable[OpenOperator] = (),
        contacts: Iterable[OpenContact] = (),
    ) -> LiveView:
        """The view as it was before a restart, from the rollups `plan` names: `intervals` by
        `rules.interval_s`, `minutes` by the minute (what lies outside the plan's ranges is
        left out)."""
        view = cls(rules, plan.now, operators=operators, contacts=contacts)
        for start, t in intervals.by_interval().items():
            if plan.day_start <= start < plan.split:
                view._today.merge(t)
        for start, t in sorted(minutes.by_interval().items()):
            if start < plan.minutes_from or start > plan.now:
                continue
            if start >= view._folded:
                view._minutes[start] = t
            elif start >= view._day_start:
                view._today.merge(t)
        return view

    # -- fed by the journal, after each commit ----------------------------------------------------

    def feed(self, events: Sequence[Event], facts: Iterable[Fact]) -> None:
        """One committed batch: its events (in order) and the facts drawn from them."""
        if events:
            last = events[-1].at
            if last - self._folded >= WINDOW_MINUTES * MINUTE_S or last >= self._day_end:
                self._advance(last)
            self._follow(events)
        for fact in facts:
            if type(fact) is WaitEnded:
                self._tally_at(fact.at).count_wait(fact, self.rules)
                if fact.operator_id is not None:
                    self._hold(fact.operator_id, 1)
            elif type(fact) is HandleEnded:
                self._tally_at(fact.at).count_handle(fact)
                self._hold(fact.operator_id, -1)
            elif type(fact) is OperatorTime:
                self._count_time(fact.state, fact.start, fact.end, fact.holding)
                o = self._operators.get(fact.operator_id)
                if o is not None and fact.end > o.since:
                    o.since = fact.end  # the tracker's next piece starts where this one ended
        self.version += 1

    def _follow(self, events: Sequence[Event]) -> None:
        operators = self._operators
        callbacks = self._callbacks
        for e in events:
            if type(e) is OperatorChanged:
                known = operators.get(e.operator_id)
                if known is None:
                    operators[e.operator_id] = _Open(e.state, e.at, 0)
                elif known.state is not e.state:  # the same state again is one piece (tracker)
                    known.state, known.since = e.state, e.at
            elif type(e) is Enqueued:
                if e.channel is _CALLBACK:
                    callbacks[e.contact_id] = e.deadline_at
            elif callbacks and (type(e) is Accepted or type(e) is Ended):
                callbacks.pop(e.contact_id, None)

    def _hold(self, operator_id: str, change: int) -> None:
        o = self._operators.get(operator_id)
        if o is not None:
            o.holding += change

    def _tally_at(self, at: float) -> Tally:
        """The tally a fact at `at` is counted in: its minute's, or today's once the minute has
        left the window (a batch committed late), or a throwaway one for an earlier day."""
        minute = at - at % MINUTE_S
        if minute == self._minute:
            return self._minute_tally
        if minute < self._folded:
            return self._today if at >= self._day_start else Tally(self._n)
        t = self._minutes.get(minute)
        if t is None:
            t = self._minutes[minute] = Tally(self._n)
        self._minute, self._minute_tally = minute, t
        return t

    def _count_time(self, state: OperatorState, start: float, end: float, holding: bool) -> None:
        """An operator's piece of time, split at minute boundaries (and at the window's start:
        what lies before it goes to today whole)."""
        if state is _OFFLINE:
            return  # offline time counts in no figure
        if start < self._folded:
            first = max(start, self._day_start)
            last = min(end, self._folded)
            if last > first:
                self._today.count_time(state, last - first, holding)
            start = self._folded
        while start < end:
            stop = start - start % MINUTE_S + MINUTE_S
            if stop >= end:  # most pieces: the rest lies in one minute
                self._tally_at(start).count_time(state, end - start, holding)
                return
            self._tally_at(start).count_time(state, stop - start, holding)
            start = stop

    def _advance(self, now: float) -> None:
        """Fold the minutes that left the window into today; start a new day at midnight."""
        if now >= self._day_end:
            self._day_start, self._day_end = local_day(now, self.rules.tz)
            self._today = Tally(self._n)
        first = window_start(now)
        if first <= self._folded:
            return
        for minute in sorted(m for m in self._minutes if m < first):
            t = self._minutes.pop(minute)
            if minute >= self._day_start:
                self._today.merge(t)
        self._folded = first
        self._minute = -math.inf

    # -- read by the live endpoints -------------------------------------------------------------

    def tallies(self, now: float) -> tuple[Tally, Tally]:
        """(today, last 15 minutes) at `now`, each with the operators' time up to `now`."""
        if now >= self._day_end or window_start(now) > self._folded:
            self._advance(now)
        today = self._today.copy()
        window = Tally(self._n)
        for minute, t in self._minutes.items():
            window.merge(t)
            if minute >= self._day_start:
                today.merge(t)
        for o in self._operators.values():
            if o.state is _OFFLINE:
                continue
            holding = o.holding > 0  # on break with a call in hand: busy (the tracker's rule)
            if now > (start := max(o.since, self._day_start)):
                today.count_time(o.state, now - start, holding)
            if now > (start := max(o.since, self._folded)):
                window.count_time(o.state, now - start, holding)
        return today, window

    def voicemail_overdue(self, now: float) -> int:
        """Voicemail callbacks not answered whose deadline (one working hour) has passed."""
        return sum(1 for deadline in self._callbacks.values() if deadline <= now)

    def snapshot(self, now: float, statistics: RouterStatistics) -> dict[str, Any]:
        """The JSON of `GET /v1/stats/live` (`now` as an epoch: the edge formats it).

        `waiting`: contacts whose wait has not ended (queued or ringing at a desk, voicemail
        callbacks included); `oldest_wait_s`: the longest of those still queued, None when none
        is; `operators`: every state, zeros included; `queues`: the router's rows."""
        today, window = self.tallies(now)
        by_state = statistics.by_state
        queues = statistics.queues
        return {
            "now": now,
            "today": figures(today, self.rules),
            "last_15m": figures(window, self.rules),
            "waiting": by_state.get(ContactState.WAITING, 0)
            + by_state.get(ContactState.OFFERED, 0),
            "oldest_wait_s": max((q.longest_wait_s for q in queues if q.waiting), default=None),
            "operators": {s.value: statistics.operators.get(s, 0) for s in OperatorState},
            "queues": [_queue_row(q) for q in queues],
            "goals": dict(self.rules.goals),
            "voicemail_overdue": self.voicemail_overdue(now),
        }


def _queue_row(q: QueueFigures) -> dict[str, Any]:
    return {
        "topic": q.topic,
        "priority": q.priority,
        "waiting": q.waiting,
        "offered": q.offered,
        "longest_wait_s": round(q.longest_wait_s, 3),
        "breached_waiting": q.breached_waiting,
        "free_operators": q.free_operators,
        "eligible_operators": q.eligible_operators,
    }
