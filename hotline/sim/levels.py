"""Counts that step up and down during a run (contacts waiting, operators at work), and their
time integral per reporting interval: the means a report shows beside FIGURES."""

from __future__ import annotations

from array import array

from hotline.kpi import KpiRules


class Levels:
    """A count that steps up and down (contacts waiting, operators at work), integrated per
    interval at the end. The hot path only logs each step: `up(t)` appends t, `down(t)`
    appends -t (times are seconds since the epoch: positive), in time order."""

    __slots__ = ("steps",)

    def __init__(self) -> None:
        self.steps = array("d")

    def up(self, at: float) -> None:
        self.steps.append(at)

    def down(self, at: float) -> None:
        self.steps.append(-at)

    def areas(self, rules: KpiRules, start: float, end: float) -> dict[float, float]:
        """The count's integral over each interval of [start, end) (count x seconds)."""
        areas: dict[float, float] = {}

        def spread(level: int, since: float, until: float) -> None:
            since = max(since, start)
            while since < until:
                interval = rules.interval_of(since)
                stop = min(until, interval + rules.interval_s)
                areas[interval] = areas.get(interval, 0.0) + level * (stop - since)
                since = stop

        level, since = 0, start
        for mark in self.steps:
            at = abs(mark)
            if at > since:
                if level:
                    spread(level, since, min(at, end))
                since = at
            level += 1 if mark > 0 else -1
        if level:
            spread(level, since, end)
        return areas
