"""Properties of the working calendar over random weekly hours, holiday rules, dated overrides and
maintenance windows, in Moscow time, in a zone with DST (Berlin) and in one whose DST change
happens at midnight (Santiago), over the real Russian production calendar of 2026-2027.

Instants and seconds are whole numbers, so sums of epoch seconds are exact and equalities hold
without tolerance.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import holidays
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from hotline.schedule import (
    ChannelHours,
    DayHours,
    MaintenanceWindow,
    ScheduleChannel,
    ScheduleRules,
    Span,
    WorkingCalendar,
)
from hotline.schedule.rules import CLOSED, MINUTES_PER_DAY

RU = holidays.country_holidays("RU")
MOSCOW = ZoneInfo("Europe/Moscow")
ZONES = [MOSCOW, ZoneInfo("Europe/Berlin"), ZoneInfo("America/Santiago")]
START = int(datetime(2026, 1, 1, tzinfo=MOSCOW).timestamp())
END = int(datetime(2027, 12, 31, tzinfo=MOSCOW).timestamp())
WEEK = 7 * 86400
V = ScheduleChannel.VOICE

instants = st.integers(START, END)
durations = st.integers(0, WEEK)


@st.composite
def day_hours(draw: st.DrawFn) -> DayHours:
    """0-3 spans on a 15-minute grid, touching allowed (00:00-24:00 included)."""
    cuts = sorted(draw(st.sets(st.integers(0, MINUTES_PER_DAY // 15), max_size=6)))
    cuts = [c * 15 for c in cuts[: len(cuts) // 2 * 2]]
    return DayHours(tuple(Span(a, b) for a, b in zip(cuts[::2], cuts[1::2], strict=True)))


rules_for_a_day = st.one_of(st.none(), st.just(CLOSED), day_hours())


@st.composite
def channel_hours(draw: st.DrawFn) -> ChannelHours:
    weekly = tuple(draw(day_hours()) for _ in range(7))
    if all(day.closed for day in weekly):
        weekly = (DayHours.of(["09:00-10:00"]), *weekly[1:])
    some_days = st.dates(date(2026, 1, 1), date(2027, 12, 31))
    return ChannelHours(
        weekly=weekly,
        on_holidays=draw(rules_for_a_day),
        on_transferred_workdays=draw(rules_for_a_day),
        dates=draw(st.dictionaries(some_days, day_hours(), max_size=5)),
    )


@st.composite
def maintenance(draw: st.DrawFn) -> MaintenanceWindow:
    start = draw(instants)
    length = draw(st.integers(1, 3 * 86400))
    channels = draw(st.sets(st.sampled_from(ScheduleChannel), min_size=1))
    return MaintenanceWindow(start, start + length, frozenset(channels))


@st.composite
def calendars(draw: st.DrawFn, zones: list[ZoneInfo] = ZONES) -> WorkingCalendar:
    voice = draw(channel_hours())
    rules = ScheduleRules(
        timezone=draw(st.sampled_from(zones)),
        channels={V: voice, ScheduleChannel.CHAT: voice, ScheduleChannel.VOICEMAIL: voice},
        maintenance=tuple(draw(st.lists(maintenance(), max_size=4))),
    )
    note(repr(rules))
    return WorkingCalendar(rules, RU)


common = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


@common
@given(calendars(), instants, durations, durations)
def test_adding_working_time_in_two_steps_is_adding_it_at_once(
    cal: WorkingCalendar, at: int, s1: int, s2: int
) -> None:
    once = cal.add_working_time(V, at, s1 + s2)
    assert once == cal.add_working_time(V, cal.add_working_time(V, at, s1), s2)


@common
@given(calendars(), instants, durations)
def test_the_due_instant_is_exactly_that_much_open_time_later(
    cal: WorkingCalendar, at: int, seconds: int
) -> None:
    due = cal.add_working_time(V, at, seconds)
    assert due >= at
    assert cal.working_seconds(V, at, due) == seconds
    if seconds > 0:
        # The last second counted is open time: the deadline never sits after a closed gap.
        assert cal.working_seconds(V, due - 1, due) == 1


@common
@given(calendars(), instants, durations, durations)
def test_more_working_time_is_never_due_earlier(
    cal: WorkingCalendar, at: int, s1: int, s2: int
) -> None:
    low, high = sorted((s1, s2))
    assert cal.add_working_time(V, at, low) <= cal.add_working_time(V, at, high)


@common
@given(calendars(), instants)
def test_the_next_opening_is_open_and_nothing_before_it_is(cal: WorkingCalendar, at: int) -> None:
    opening = cal.next_opening(V, at)
    assert opening is not None  # every drawn week opens at least once
    assert opening >= at
    assert cal.is_open(V, opening)
    assert cal.working_seconds(V, at, opening) == 0
    assert (opening == at) == cal.is_open(V, at)


@common
@given(calendars(), instants)
def test_the_next_closing_ends_an_unbroken_open_stretch(cal: WorkingCalendar, at: int) -> None:
    closing = cal.next_closing(V, at)
    if closing is None:  # open without a break for the whole horizon
        assert cal.is_open(V, at)
        return
    assert closing >= at
    assert not cal.is_open(V, closing)
    assert cal.working_seconds(V, at, closing) == closing - at
    assert (closing == at) == (not cal.is_open(V, at))


@common
@given(calendars(), instants)
def test_describe_agrees_with_the_other_answers(cal: WorkingCalendar, at: int) -> None:
    status = cal.describe(V, at)
    assert status.open == cal.is_open(V, at)
    if status.open:
        assert status.opens_at is None
        assert status.closes_at == cal.next_closing(V, at)
    else:
        assert status.opens_at == cal.next_opening(V, at)
        assert status.opens_at is not None and status.closes_at != status.opens_at


@common
@given(calendars(), st.dates(date(2026, 1, 1), date(2027, 12, 31)))
def test_a_dates_open_periods_are_ordered_disjoint_and_within_the_day(
    cal: WorkingCalendar, day: date
) -> None:
    tz = cal.rules.timezone
    day_start = datetime(day.year, day.month, day.day, tzinfo=tz).timestamp()
    after = day + timedelta(days=1)
    day_end = datetime(after.year, after.month, after.day, tzinfo=tz).timestamp()
    periods = cal.open_periods(V, day)
    for start, end in periods:
        assert day_start <= start < end <= day_end
    for (_, end), (start, _) in pairwise(periods):
        assert end < start  # touching spans are merged


@common
@given(calendars(zones=[MOSCOW]), instants)
def test_open_means_within_the_hours_the_rules_give_that_wall_clock_time(
    cal: WorkingCalendar, at: int
) -> None:
    # Moscow keeps one offset all year, so every wall-clock time happens exactly once.
    wall = datetime.fromtimestamp(at, MOSCOW)
    hours = cal.rules.channels[V].hours_on(wall.date(), cal.day_kind(wall.date()))
    minute = wall.hour * 60 + wall.minute + wall.second / 60
    in_hours = any(span.start <= minute < span.end for span in hours.spans)
    in_maintenance = any(w.start <= at < w.end for w in cal.rules.maintenance if V in w.channels)
    assert cal.is_open(V, at) == (in_hours and not in_maintenance)
