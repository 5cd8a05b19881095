"""When each channel of the line is meant to be open, as plain frozen data.

Weekly hours per channel, what public holidays and transferred working days do to them, dated
overrides, and maintenance windows. `hotline.schedule.settings` builds a `ScheduleRules` from the
`[schedule]` section of `config/hotline.toml` (tests build one directly);
`hotline.schedule.calendar.WorkingCalendar` turns it into open periods. Pure: no pydantic, no I/O.
A value that breaks a rule raises `Invalid`, whose message the settings layer passes on as is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, tzinfo
from enum import StrEnum
from itertools import pairwise

from hotline.domain.errors import Invalid

MINUTES_PER_DAY = 24 * 60
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_SPAN = re.compile(r"(\d\d):(\d\d)-(\d\d):(\d\d)")


class ScheduleChannel(StrEnum):
    """What has working hours. Voicemail is the intake of recordings, not the callbacks, which
    are due in the voice line's working time."""

    VOICE = "voice"
    CHAT = "chat"
    VOICEMAIL = "voicemail"


class DayKind(StrEnum):
    """What the production calendar makes of a date, before any channel's rules apply."""

    ORDINARY = "ordinary"
    # A public holiday, or a day off the calendar moved onto a weekday (8 March observed on a
    # Monday, 9 January 2026 substituted for 3 January).
    HOLIDAY = "holiday"
    # A weekend date made a working day, e.g. Saturday 20 February 2027.
    TRANSFERRED_WORKDAY = "transferred_workday"


@dataclass(frozen=True, slots=True, order=True)
class Span:
    """A stretch of a local day, [start, end) in minutes since midnight; end 1440 is 24:00."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if not 0 <= self.start < MINUTES_PER_DAY or not 0 < self.end <= MINUTES_PER_DAY:
            raise Invalid(f"{self} is outside 00:00-24:00", field="hours")
        if self.end <= self.start:
            raise Invalid(
                f"{self}: the end must be after the start (split a shift past midnight at 24:00)",
                field="hours",
            )

    @classmethod
    def parse(cls, text: str) -> Span:
        """`"HH:MM-HH:MM"`, e.g. `"08:00-20:00"`; `"00:00-24:00"` is the whole day."""
        m = _SPAN.fullmatch(text)
        if m is None:
            raise Invalid(f"{text!r} is not HH:MM-HH:MM", field="hours")
        h1, m1, h2, m2 = (int(g) for g in m.groups())
        if h1 > 23 or m1 > 59 or h2 > 24 or m2 > 59 or (h2 == 24 and m2 != 0):
            raise Invalid(f"{text!r} is not a time of day between 00:00 and 24:00", field="hours")
        return cls(h1 * 60 + m1, h2 * 60 + m2)

    def __str__(self) -> str:
        return f"{_hhmm(self.start)}-{_hhmm(self.end)}"


@dataclass(frozen=True, slots=True)
class DayHours:
    """The open spans of one day, in order and not overlapping (touching is fine); none: closed."""

    spans: tuple[Span, ...] = ()

    def __post_init__(self) -> None:
        for before, after in pairwise(self.spans):
            if after.start < before.end:
                raise Invalid(f"{before} and {after} overlap or are out of order", field="hours")

    @classmethod
    def of(cls, spans: Iterable[str | Span]) -> DayHours:
        """Spans in any order, as text or `Span`."""
        parsed = sorted(s if isinstance(s, Span) else Span.parse(s) for s in spans)
        return cls(tuple(parsed))

    @property
    def closed(self) -> bool:
        return not self.spans

    def __str__(self) -> str:
        return ", ".join(map(str, self.spans)) or "closed"


CLOSED = DayHours()
ALL_DAY = DayHours((Span(0, MINUTES_PER_DAY),))


@dataclass(frozen=True, slots=True)
class ChannelHours:
    """One channel's hours. Which rule decides a date, first match wins: its explicit `dates`
    entry, then (on a holiday) `on_holidays`, then (on a transferred working day)
    `on_transferred_workdays`, then the usual hours of its weekday. `None` for either rule means
    the usual hours of the weekday: the seed's rule for holidays."""

    weekly: tuple[DayHours, ...]  # Monday first, seven days
    on_holidays: DayHours | None = None
    on_transferred_workdays: DayHours | None = None
    # Explicit hours for a date (`CLOSED` for a date the channel is shut), beating every rule.
    dates: Mapping[date, DayHours] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.weekly) != len(WEEKDAYS):
            raise Invalid("weekly hours need exactly seven days, Monday first", field="weekly")

    def hours_on(self, day: date, kind: DayKind) -> DayHours:
        """The hours this channel keeps on `day`, which the production calendar calls `kind`."""
        explicit = self.dates.get(day)
        if explicit is not None:
            return explicit
        if kind is DayKind.HOLIDAY and self.on_holidays is not None:
            return self.on_holidays
        if kind is DayKind.TRANSFERRED_WORKDAY and self.on_transferred_workdays is not None:
            return self.on_transferred_workdays
        return self.weekly[day.weekday()]


@dataclass(frozen=True, slots=True)
class MaintenanceWindow:
    """The listed channels are closed over [start, end), in seconds since the epoch (UTC)."""

    start: float
    end: float
    channels: frozenset[ScheduleChannel]
    reason: str = ""

    def __post_init__(self) -> None:
        if not self.end > self.start:
            raise Invalid("a maintenance window must end after it starts", field="maintenance")
        if not self.channels:
            raise Invalid("a maintenance window names at least one channel", field="maintenance")


@dataclass(frozen=True, slots=True)
class ScheduleRules:
    """Everything the working calendar needs besides the country's production calendar.

    `extra_holidays` and `extra_working_days` correct that calendar (a decree the `holidays`
    package does not know yet): an extra working day on a weekend counts as a transferred working
    day, on a weekday it simply is not a holiday."""

    timezone: tzinfo
    channels: Mapping[ScheduleChannel, ChannelHours]
    maintenance: tuple[MaintenanceWindow, ...] = ()
    extra_holidays: frozenset[date] = frozenset()
    extra_working_days: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        missing = [c.value for c in ScheduleChannel if c not in self.channels]
        if missing:
            raise Invalid(f"no hours for channel(s) {', '.join(missing)}", field="channels")
        both = self.extra_holidays & self.extra_working_days
        if both:
            first = min(both).isoformat()
            raise Invalid(f"{first} is both an extra holiday and an extra working day")


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"
