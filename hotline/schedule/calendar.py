"""The working calendar: is a channel open at an instant, when does it next open or close, and
which instant is N seconds of open time after another ("due one working hour after arrival").

Pure and synchronous: instants are float seconds since the Unix epoch (UTC), always passed in by
the caller, like the routing core's. Built once at start-up from `ScheduleRules` (see
`hotline.schedule.settings.ScheduleSettings.working_calendar`) plus the country's production
calendar; read by the voicemail service for callback deadlines, by `POST /v1/contacts` to refuse
a call while the voice line is closed, and by `GET /v1/schedule`.

Local dates are read in the rules' time zone with `zoneinfo`, so hours stay wall-clock hours
across a DST change. A date's open periods are computed once and cached. Every search gives up
after `horizon_days` local days: with no open time at all (`next_opening` -> None,
`add_working_time` -> `NoWorkingTime`), or open without a break (`next_closing` -> None).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Set
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol

from hotline.domain.errors import Conflict, Invalid
from hotline.schedule.rules import (
    MINUTES_PER_DAY,
    DayKind,
    MaintenanceWindow,
    ScheduleChannel,
    ScheduleRules,
)

Period = tuple[float, float]
"""An open stretch [start, end) in epoch seconds."""

_ONE_DAY = timedelta(days=1)
DEFAULT_HORIZON_DAYS = 366


class CountryCalendar(Protocol):
    """A country's production calendar as `holidays.HolidayBase` offers it: `day in calendar` is
    true on a public holiday or a day off moved onto a weekday, and, once a year has been looked
    at, `weekend_workdays` holds that year's weekend dates made working days."""

    def __contains__(self, key: object, /) -> bool: ...

    @property
    def weekend_workdays(self) -> Set[date]: ...


class NoWorkingTime(Conflict):
    """The channel has no open time left within the calendar's horizon."""

    code = "no_working_time"


@dataclass(frozen=True, slots=True)
class ChannelStatus:
    """What `GET /v1/schedule` says about a channel at an instant.

    Open: `closes_at` ends the current open stretch (None: not within the horizon, e.g. 24/7).
    Closed: `opens_at` is the next opening (None: not within the horizon) and `closes_at` the end
    of that coming stretch."""

    channel: ScheduleChannel
    open: bool
    opens_at: float | None
    closes_at: float | None


class WorkingCalendar:
    """Open periods of every channel, from `rules` and the country's production calendar.

    `country_holidays` is typically `holidays.country_holidays("RU")`; None means no public
    holidays nor transferred days at all (only the rules' own extra dates)."""

    def __init__(
        self,
        rules: ScheduleRules,
        country_holidays: CountryCalendar | None = None,
        *,
        horizon_days: int = DEFAULT_HORIZON_DAYS,
    ) -> None:
        if horizon_days < 1:
            raise Invalid("the search horizon is at least one day", field="horizon_days")
        self.rules = rules
        self.horizon_days = horizon_days
        self._tz = rules.timezone
        self._country = country_holidays
        self._maintenance: dict[ScheduleChannel, tuple[MaintenanceWindow, ...]] = {
            channel: tuple(
                sorted(
                    (w for w in rules.maintenance if channel in w.channels), key=lambda w: w.start
                )
            )
            for channel in ScheduleChannel
        }
        self._kinds: dict[date, DayKind] = {}
        self._periods: dict[tuple[ScheduleChannel, date], tuple[Period, ...]] = {}

    # -- dates ------------------------------------------------------------------------------------

    def local_date(self, at: float) -> date:
        """The date in the line's time zone at instant `at`."""
        return datetime.fromtimestamp(at, self._tz).date()

    def day_kind(self, day: date) -> DayKind:
        """Holiday, transferred working day or ordinary day, after the rules' corrections."""
        kind = self._kinds.get(day)
        if kind is None:
            kind = self._kinds[day] = self._classify(day)
        return kind

    def open_periods(self, channel: ScheduleChannel, day: date) -> tuple[Period, ...]:
        """Where `channel` is open on local date `day`: in order, disjoint, maintenance cut out,
        each within the day (the last may end at the next midnight)."""
        key = (channel, day)
        periods = self._periods.get(key)
        if periods is None:
            periods = self._periods[key] = self._compute_periods(channel, day)
        return periods

    # -- instants ---------------------------------------------------------------------------------

    def is_open(self, channel: ScheduleChannel, at: float) -> bool:
        return any(s <= at < e for s, e in self.open_periods(channel, self.local_date(at)))

    def next_opening(self, channel: ScheduleChannel, at: float) -> float | None:
        """`at` itself if the channel is open then, else the next instant it opens; None if it
        stays closed for `horizon_days` days."""
        for start, _end in self._periods_from(channel, at):
            return max(start, at)
        return None

    def next_closing(self, channel: ScheduleChannel, at: float) -> float | None:
        """`at` itself if the channel is closed then, else the end of the open stretch holding
        `at` (stretches that touch across midnight are one); None if it stays open beyond
        `horizon_days` days."""
        reached = at  # the stretch is known to last until here
        day = self.local_date(at)
        for _ in range(self.horizon_days + 1):
            continued = False
            for start, end in self.open_periods(channel, day):
                if end <= at:
                    continue
                if start > reached:
                    return reached
                reached, continued = end, True
            if not continued:
                return reached
            day += _ONE_DAY
        return None

    def add_working_time(self, channel: ScheduleChannel, at: float, seconds: float) -> float:
        """The instant at which `seconds` of the channel's open time have passed since `at`.

        Closed time does not count: 21:00 on a Friday plus one working hour of the voice line is
        10:00 on the Saturday. Zero seconds gives `at` itself; a result that falls on the end of
        an open stretch is that end, not the next opening. Raises `NoWorkingTime` if the channel
        stays closed for `horizon_days` days on the way."""
        if not math.isfinite(seconds) or seconds < 0:
            raise Invalid("working time to add must be a finite number >= 0", field="seconds")
        if seconds == 0:
            return at
        remaining = seconds
        for start, end in self._periods_from(channel, at):
            start = max(start, at)
            if remaining <= end - start:
                return start + remaining
            remaining -= end - start
        raise NoWorkingTime(
            f"the {channel.value} channel has no working time within {self.horizon_days} days"
        )

    def working_seconds(self, channel: ScheduleChannel, start: float, end: float) -> float:
        """Open time of the channel within [start, end); 0 if `end` is not after `start`."""
        total = 0.0
        if end <= start:
            return total
        day, last = self.local_date(start), self.local_date(end)
        while day <= last:
            for s, e in self.open_periods(channel, day):
                total += max(0.0, min(e, end) - max(s, start))
            day += _ONE_DAY
        return total

    def describe(self, channel: ScheduleChannel, at: float) -> ChannelStatus:
        """Open now or not, and when that changes; see `ChannelStatus`."""
        if self.is_open(channel, at):
            return ChannelStatus(channel, True, None, self.next_closing(channel, at))
        opens_at = self.next_opening(channel, at)
        closes_at = None if opens_at is None else self.next_closing(channel, opens_at)
        return ChannelStatus(channel, False, opens_at, closes_at)

    # -- internals --------------------------------------------------------------------------------

    def _periods_from(self, channel: ScheduleChannel, at: float) -> Iterator[Period]:
        """Open periods that end after `at`, in order; stops after `horizon_days` days in a row
        without one."""
        day = self.local_date(at)
        idle = 0
        while idle < self.horizon_days:
            found = False
            for period in self.open_periods(channel, day):
                if period[1] > at:
                    found = True
                    yield period
            idle = 0 if found else idle + 1
            day += _ONE_DAY

    def _classify(self, day: date) -> DayKind:
        rules = self.rules
        country = self._country
        # Membership first: it is what makes `holidays` fill in a year, workdays included. The
        # years either side too, as a decree may move a day off across New Year.
        in_country = False
        if country is not None:
            in_country = day in country
            _ = date(day.year - 1, 12, 31) in country, date(day.year + 1, 1, 1) in country
        if day in rules.extra_working_days:
            return DayKind.TRANSFERRED_WORKDAY
        if in_country or day in rules.extra_holidays:
            return DayKind.HOLIDAY
        if country is not None and day in country.weekend_workdays:
            return DayKind.TRANSFERRED_WORKDAY
        return DayKind.ORDINARY

    def _compute_periods(self, channel: ScheduleChannel, day: date) -> tuple[Period, ...]:
        hours = self.rules.channels[channel].hours_on(day, self.day_kind(day))
        day_start, day_end = self._wall(day, 0), self._wall(day, MINUTES_PER_DAY)
        periods: list[Period] = []
        for span in hours.spans:
            # Clamped to the day, so that a wall time a DST change skips never leaks into the
            # next date's periods.
            start = max(day_start, self._wall(day, span.start))
            end = min(day_end, self._wall(day, span.end))
            if end <= start:
                continue  # the whole span fell into a skipped hour
            if periods and start <= periods[-1][1]:
                periods[-1] = (periods[-1][0], max(end, periods[-1][1]))
            else:
                periods.append((start, end))
        for window in self._maintenance[channel]:
            if window.end > day_start and window.start < day_end:
                periods = _cut(periods, window.start, window.end)
        return tuple(periods)

    def _wall(self, day: date, minute: int) -> float:
        """The instant of a wall-clock time on `day`; minute 1440 is the next midnight. A time a
        DST change repeats is its first occurrence, one it skips maps past the gap."""
        if minute == MINUTES_PER_DAY:
            day, minute = day + _ONE_DAY, 0
        hour, minute = divmod(minute, 60)
        local = datetime(day.year, day.month, day.day, hour, minute, tzinfo=self._tz)
        return local.timestamp()


def _cut(periods: list[Period], start: float, end: float) -> list[Period]:
    """`periods` without [start, end)."""
    kept: list[Period] = []
    for s, e in periods:
        if e <= start or s >= end:
            kept.append((s, e))
            continue
        if s < start:
            kept.append((s, start))
        if e > end:
            kept.append((end, e))
    return kept
