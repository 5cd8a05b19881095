"""The `[schedule]` section of `config/hotline.toml`: frozen pydantic models, checked at start-up.

Meant to sit in `hotline.config.Settings` as its `schedule` key; the composition root then calls
`working_calendar()` once and hands the pure `WorkingCalendar` to whoever needs hours. Every key
has a default, the hours the issue ships: voice Mon-Fri 08:00-20:00, Sat 09:00-18:00,
Sun 10:00-16:00; chat and voicemail intake 24/7; Moscow time; holidays keep their usual hours.
Pydantic and the `holidays` package stay here at the edge; the calendar only sees plain rules.

A bad value raises a pydantic error whose message needs no prefix ("'8-20' is not HH:MM-HH:MM"),
located at the key at fault, so `hotline.config` can name its dotted path.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Annotated, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainValidator, model_validator
from pydantic_core import PydanticCustomError

from hotline.domain.errors import Invalid
from hotline.schedule.calendar import WorkingCalendar
from hotline.schedule.rules import (
    ALL_DAY,
    CLOSED,
    WEEKDAYS,
    ChannelHours,
    DayHours,
    MaintenanceWindow,
    ScheduleChannel,
    ScheduleRules,
)

ChannelName = Literal["voice", "chat", "voicemail"]
_CHANNEL_NAMES = tuple(c.value for c in ScheduleChannel)
HolidayRule = Literal["usual_hours", "closed"] | DayHours
TransferredDayRule = Literal["usual_hours", "weekday_hours"] | DayHours


def _problem(what: str) -> PydanticCustomError:
    # A custom error carries the message as is: no "Value error, " in front of it.
    return PydanticCustomError("schedule", "{what}", {"what": what})


def _day_hours(value: object) -> DayHours:
    if isinstance(value, DayHours):
        return value
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise _problem('must be a list of "HH:MM-HH:MM" spans ([] for closed)')
    try:
        return DayHours.of(value)
    except Invalid as e:
        raise _problem(e.message) from None


def _rule(*words: str) -> PlainValidator:
    def parse(value: object) -> str | DayHours:
        if isinstance(value, str):
            if value in words:
                return value
            choices = " or ".join(repr(w) for w in words)
            raise _problem(f"must be {choices}, or a list of spans (got {value!r})")
        return _day_hours(value)

    return PlainValidator(parse)


def _local_date(value: object) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and len(value) == len("YYYY-MM-DD"):
        with contextlib.suppress(ValueError):
            return date.fromisoformat(value)
    raise _problem(f"{value!r} is not a date (YYYY-MM-DD)")


def _dates(value: object) -> tuple[date, ...]:
    if not isinstance(value, list | tuple):
        raise _problem("must be a list of dates (YYYY-MM-DD)")
    days = tuple(_local_date(v) for v in value)
    for i, day in enumerate(days):
        if day in days[:i]:
            raise _problem(f"{day.isoformat()} is listed twice")
    return days


def _dated_hours(value: object) -> dict[date, DayHours]:
    if not isinstance(value, Mapping):
        raise _problem('must be a table of "YYYY-MM-DD" = ["HH:MM-HH:MM", ...]')
    hours: dict[date, DayHours] = {}
    for key, spans in value.items():
        day = _local_date(key)
        try:
            hours[day] = _day_hours(spans)
        except PydanticCustomError as e:
            raise _problem(f"{day.isoformat()}: {e.message()}") from None
    return hours


def _instant(value: object) -> datetime:
    # TOML gives datetimes: with an offset (an instant) or without (local to `timezone`).
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            return datetime.fromisoformat(value)
    raise _problem(f"{value!r} is not a date and time (YYYY-MM-DDTHH:MM:SS, offset optional)")


def _zone_name(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise _problem(f"{value!r} is not a known IANA time zone") from None
    return value


def _country_code(value: str) -> str:
    if value not in holidays.list_supported_countries():
        raise _problem(f"{value!r} has no production calendar in the holidays package")
    return value


Hours = Annotated[DayHours, PlainValidator(_day_hours)]
Dates = Annotated[tuple[date, ...], PlainValidator(_dates)]
Instant = Annotated[datetime, PlainValidator(_instant)]


class _Table(BaseModel):
    # As in `hotline.config`: strict, unknown keys refused, immutable once read.
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class ChannelSettings(_Table):
    """`[schedule.channels.<channel>]`: the whole week is spelled out; `[]` closes a day."""

    mon: Hours
    tue: Hours
    wed: Hours
    thu: Hours
    fri: Hours
    sat: Hours
    sun: Hours
    holidays: Annotated[HolidayRule, _rule("usual_hours", "closed")] = "usual_hours"
    transferred_working_days: Annotated[
        TransferredDayRule, _rule("usual_hours", "weekday_hours")
    ] = "usual_hours"
    closed_dates: Dates = ()
    dates: Annotated[dict[date, DayHours], PlainValidator(_dated_hours)] = Field(
        default_factory=dict
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.transferred_working_days == "weekday_hours":
            weekdays = {self.mon, self.tue, self.wed, self.thu, self.fri}
            if len(weekdays) != 1:
                raise _problem(
                    "transferred_working_days = 'weekday_hours' needs the same hours Monday to "
                    "Friday; list the hours for transferred days instead"
                )
        for day in self.closed_dates:
            if day in self.dates:
                raise _problem(f"{day.isoformat()} is both in closed_dates and in dates")
        return self

    def channel_hours(self) -> ChannelHours:
        weekly = tuple(getattr(self, name) for name in WEEKDAYS)
        holiday = self.holidays
        transferred = self.transferred_working_days
        dates = {day: CLOSED for day in self.closed_dates} | dict(self.dates)
        return ChannelHours(
            weekly=weekly,
            on_holidays=(
                None if holiday == "usual_hours" else CLOSED if holiday == "closed" else holiday
            ),
            on_transferred_workdays=(
                None
                if transferred == "usual_hours"
                else self.mon
                if transferred == "weekday_hours"
                else transferred
            ),
            dates=dates,
        )

    @classmethod
    def week(cls, *days: str | list[str]) -> ChannelSettings:
        """Seven days from Monday; each a span such as "08:00-20:00", or a list of them."""
        values = [[d] if isinstance(d, str) else d for d in days]
        return cls.model_validate(dict(zip(WEEKDAYS, values, strict=True)))


def _voice_default() -> ChannelSettings:
    weekday = "08:00-20:00"
    return ChannelSettings.week(*[weekday] * 5, "09:00-18:00", "10:00-16:00")


def _always_open() -> ChannelSettings:
    return ChannelSettings.week(*[str(ALL_DAY)] * len(WEEKDAYS))


class ChannelsSettings(_Table):
    """`[schedule.channels]`: a channel left out keeps its shipped hours."""

    voice: ChannelSettings = Field(default_factory=_voice_default)
    chat: ChannelSettings = Field(default_factory=_always_open)
    voicemail: ChannelSettings = Field(default_factory=_always_open)

    @model_validator(mode="before")
    @classmethod
    def _known_channels(cls, data: object) -> object:
        if isinstance(data, Mapping):
            for name in data:
                if name not in _CHANNEL_NAMES:
                    known = ", ".join(_CHANNEL_NAMES)
                    raise _problem(f"unknown channel {name!r} (known: {known})")
        return data


class MaintenanceSettings(_Table):
    """One `[[schedule.maintenance]]` window: the channels listed are closed over [start, end)."""

    start: Instant
    end: Instant
    channels: Annotated[tuple[ChannelName, ...], Field(strict=False, min_length=1)]
    reason: str = ""

    @model_validator(mode="after")
    def _end_after_start(self) -> Self:
        if (self.start.tzinfo is None) != (self.end.tzinfo is None):
            raise _problem("start and end must both have an offset or both be local times")
        if self.end <= self.start:
            raise _problem("end must be after start")
        if len(set(self.channels)) != len(self.channels):
            raise _problem("a channel is listed twice")
        return self

    def window(self, tz: ZoneInfo) -> MaintenanceWindow:
        return MaintenanceWindow(
            start=_epoch(self.start, tz),
            end=_epoch(self.end, tz),
            channels=frozenset(ScheduleChannel(c) for c in self.channels),
            reason=self.reason,
        )


class ScheduleSettings(_Table):
    """`[schedule]`: the line's time zone, the country's production calendar and corrections to
    it, each channel's hours and the maintenance windows."""

    timezone: Annotated[str, AfterValidator(_zone_name)] = "Europe/Moscow"
    # ISO 3166 code of the production calendar (public holidays, transferred working days).
    country: Annotated[str, AfterValidator(_country_code)] = "RU"
    extra_holidays: Dates = ()
    extra_working_days: Dates = ()
    channels: ChannelsSettings = Field(default_factory=ChannelsSettings)
    maintenance: Annotated[tuple[MaintenanceSettings, ...], Field(strict=False)] = ()

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        for day in self.extra_holidays:
            if day in self.extra_working_days:
                raise _problem(
                    f"{day.isoformat()} is both in extra_holidays and in extra_working_days"
                )
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def rules(self) -> ScheduleRules:
        """The pure calendar's view of these settings (instants in epoch seconds)."""
        tz = self.zone
        return ScheduleRules(
            timezone=tz,
            channels={
                ScheduleChannel(name): getattr(self.channels, name).channel_hours()
                for name in ScheduleChannel
            },
            maintenance=tuple(m.window(tz) for m in self.maintenance),
            extra_holidays=frozenset(self.extra_holidays),
            extra_working_days=frozenset(self.extra_working_days),
        )

    def country_holidays(self) -> holidays.HolidayBase:
        """The production calendar from the `holidays` package; it fills in a year when first
        asked about one of its dates."""
        return holidays.country_holidays(self.country)

    def working_calendar(self) -> WorkingCalendar:
        """Build once at start-up: the calendar caches each date's hours as it is asked."""
        return WorkingCalendar(self.rules(), self.country_holidays())


def _epoch(moment: datetime, tz: ZoneInfo) -> float:
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=tz)
    return aware.astimezone(UTC).timestamp()
