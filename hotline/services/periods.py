"""What a period report covers: its intervals and the rollup periods each one adds up.

Pure (no store, no clock): `plan_period(rules, query)` checks a `GET /v1/stats` query against
the rules (each refusal names its field) and gives the report's `Plan`, which
`hotline.services.stats` runs against the rollups.

- `from` and `to` are local times of the line's zone, on the boundary of an `interval_min`
  interval; the report's intervals run from `from` by `interval` (a local day for `1d`, so a day
  is a calendar day even where clocks change), the last one cut at `to`.
- `hours` (`HH:MM-HH:MM`, `20:00-08:00` wraps midnight) keeps the rollup intervals whose local
  start is in that range; a report interval with none of them is left out.
- The day rollups answer `interval=1d` from midnight to midnight without `hours`; anything else
  is added up from the `interval_min` rollups.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from hotline.domain.errors import Invalid
from hotline.kpi import KpiRules
from hotline.store.kpi import Range
from hotline.store.rollups import LocalDays

INTERVALS: dict[str, int] = {"15m": 900, "30m": 1800, "1h": 3600, "1d": 86_400}
GROUPS = ("topic", "priority", "channel", "operator")
MAX_ROWS = 10_000  # rows of one report (intervals, times groups with `by`)
LOCAL_FORMAT = "%Y-%m-%dT%H:%M"
_FIRST_YEAR, _LAST_YEAR = 1970, 9998
_HOURS = re.compile(r"(\d{2}):(\d{2})-(\d{2}):(\d{2})")
_DAY_MIN = 1440


@dataclass(frozen=True, slots=True)
class PeriodQuery:
    """A report asked for: local times `start` (from) and `end` (to) as `2026-03-01T08:00`,
    `interval` one of `INTERVALS`, `by` one of `GROUPS` or None, `hours` like `08:00-20:00`."""

    start: str
    end: str
    interval: str
    by: str | None = None
    hours: str | None = None


@dataclass(slots=True)
class Plan:
    """`intervals`: the report's rows' [start, end) in epoch seconds, in order; `ranges`: for
    each, the spans of rollup starts it adds up (index into `intervals`, lo, hi), by lo;
    `grain`: the rollups that answer; `start`/`end`: the whole period."""

    grain: Literal["interval", "day"]
    intervals: list[tuple[float, float]]
    ranges: list[Range]
    start: float
    end: float
    _los: list[float] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._los = [r[1] for r in self.ranges]

    def interval_at(self, instant: float) -> int | None:
        """The report interval whose ranges hold `instant` (a rollup's start), if any."""
        at = bisect_right(self._los, instant) - 1
        if at < 0 or instant >= self.ranges[at][2]:
            return None
        return self.ranges[at][0]


def plan_period(rules: KpiRules, query: PeriodQuery) -> Plan:
    step = INTERVALS.get(query.interval)
    if step is None:
        raise Invalid(f"one of {', '.join(INTERVALS)}", field="interval")
    minutes = rules.interval_s // 60
    if step % rules.interval_s:
        raise Invalid(f"a multiple of the line's {minutes}-minute interval", field="interval")
    if query.by is not None and query.by not in GROUPS:
        raise Invalid(f"one of {', '.join(GROUPS)}", field="by")
    tz = rules.tz
    first = _local(query.start, "from")
    start, end = _epoch(first, tz), _epoch(_local(query.end, "to"), tz)
    for name, instant in (("from", start), ("to", end)):
        if instant % rules.interval_s:
            raise Invalid(f"on a {minutes}-minute boundary (the line's interval)", field=name)
    if end <= start:
        raise Invalid("after `from`", field="to")
    if math.ceil((end - start) / step) > MAX_ROWS:
        raise Invalid(
            f"at most {MAX_ROWS} intervals in a report: a shorter period or a longer interval",
            field="to",
        )
    intervals = list(_intervals(first, start, end, query.interval, tz))
    if query.hours is None:
        ranges: list[Range] = [(i, s, e) for i, (s, e) in enumerate(intervals)]
    else:
        windows = list(_hour_windows(_hours(query.hours), first.date(), end, tz))
        intervals, ranges = _within(intervals, windows, rules.interval_s)
    days = LocalDays(tz)
    whole_days = days.start_of(start) == start and days.start_of(end) == end
    grain: Literal["interval", "day"] = "interval"
    if query.interval == "1d" and query.hours is None and whole_days:
        grain = "day"
    return Plan(grain, intervals, ranges, start, end)


def _local(text: str, field: str) -> datetime:
    try:
        moment = datetime.strptime(text, LOCAL_FORMAT)
    except ValueError:
        raise Invalid("a local time like 2026-03-01T08:00", field=field) from None
    if not _FIRST_YEAR <= moment.year <= _LAST_YEAR:
        raise Invalid(f"a time from {_FIRST_YEAR} to {_LAST_YEAR}", field=field)
    return moment


def _epoch(local: datetime, tz: ZoneInfo) -> float:
    return local.replace(tzinfo=tz).timestamp()


def _intervals(
    first: datetime, start: float, end: float, name: str, tz: ZoneInfo
) -> Iterator[tuple[float, float]]:
    if name == "1d":  # calendar days: 23 or 25 hours where the clocks change
        k = 0
        while (s := _epoch(first + timedelta(days=k), tz)) < end:
            k += 1
            yield s, min(_epoch(first + timedelta(days=k), tz), end)
        return
    step = INTERVALS[name]
    s = start
    while s < end:
        yield s, min(s + step, end)
        s += step


def _hours(text: str) -> tuple[int, int]:
    """`HH:MM-HH:MM` as minutes of the day; the end may be 24:00; equal ends are refused."""
    match = _HOURS.fullmatch(text)
    if match is None:
        raise Invalid("local hours like 08:00-20:00", field="hours")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    lo, hi = h1 * 60 + m1, h2 * 60 + m2
    if m1 > 59 or m2 > 59 or lo >= _DAY_MIN or hi > _DAY_MIN:
        raise Invalid("hours from 00:00 to 24:00", field="hours")
    if lo == hi:
        raise Invalid("an empty range of hours", field="hours")
    return lo, hi


def _hour_windows(
    hours: tuple[int, int], first_day: date, end: float, tz: ZoneInfo
) -> Iterator[tuple[float, float]]:
    """The spans of each local day from the day before `first_day` to the day of `end` whose
    local time is within `hours`, in order (a wrapping range gives two a day)."""
    lo, hi = hours
    spans = [(lo, hi)] if lo < hi else [(0, hi), (lo, _DAY_MIN)]
    day = first_day - timedelta(days=1)
    while True:
        midnight = datetime.combine(day, datetime.min.time())
        if _epoch(midnight, tz) >= end:
            return
        for a, b in spans:
            yield (
                _epoch(midnight + timedelta(minutes=a), tz),
                _epoch(midnight + timedelta(minutes=b), tz),
            )
        day += timedelta(days=1)


def _within(
    intervals: list[tuple[float, float]], windows: list[tuple[float, float]], interval_s: int
) -> tuple[list[tuple[float, float]], list[Range]]:
    """The intervals that hold a rollup start inside a window, and those spans of each."""
    kept: list[tuple[float, float]] = []
    ranges: list[Range] = []
    w = 0
    for s, e in intervals:
        while w < len(windows) and windows[w][1] <= s:
            w += 1
        spans = []
        for lo, hi in windows[w:]:
            if lo >= e:
                break
            lo, hi = max(lo, s), min(hi, e)
            if math.ceil(lo / interval_s) * interval_s < hi:  # a rollup starts in it
                spans.append((lo, hi))
        if spans:
            ranges.extend((len(kept), lo, hi) for lo, hi in spans)
            kept.append((s, e))
    return kept, ranges
