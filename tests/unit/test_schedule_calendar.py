"""The working calendar answers as the spec says: when a callback is due, when a channel opens.

Real Russian production-calendar dates from the `holidays` package (RU); the first test checks
that the package still says what the others rely on:
- ordinary days: Fri 13, Sat 14, Sun 15, Mon 16 March 2026; Thu 11 and Sat 13 June 2026;
  Sat 10 January 2026; Sun 21 and Wed 24 February 2027;
- holidays: Fri 12 June 2026 (Russia Day); Sun 8 March 2026 and Mon 9 March (its day off);
  Wed 31 December 2025 and 1-9 January 2026 (New Year holidays and their substituted days off);
  Mon 22 February 2027 (a day off moved from Saturday 20 February) and Tue 23 February 2027;
- transferred working day: Sat 20 February 2027.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import pytest

from hotline.domain.errors import Invalid
from hotline.schedule import (
    ChannelHours,
    DayHours,
    DayKind,
    NoWorkingTime,
    ScheduleRules,
    WorkingCalendar,
)
from hotline.schedule import ScheduleChannel as C
from hotline.schedule.rules import CLOSED
from hotline.schedule.settings import ScheduleSettings

MSK = ZoneInfo("Europe/Moscow")
HOUR = 3600.0
VOICE_WEEK = {
    "mon": ["08:00-20:00"],
    "tue": ["08:00-20:00"],
    "wed": ["08:00-20:00"],
    "thu": ["08:00-20:00"],
    "fri": ["08:00-20:00"],
    "sat": ["09:00-18:00"],
    "sun": ["10:00-16:00"],
}
RU = holidays.country_holidays("RU")


def msk(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> float:
    return datetime(year, month, day, hour, minute, tzinfo=MSK).timestamp()


def local(at: float | None) -> datetime | None:
    return None if at is None else datetime.fromtimestamp(at, MSK)


def calendar(voice: dict[str, Any] | None = None, **schedule: Any) -> WorkingCalendar:
    """The shipped schedule, with the voice channel's rules and the section's keys changed."""
    doc: dict[str, Any] = dict(schedule)
    if voice is not None:
        doc["channels"] = {"voice": VOICE_WEEK | voice}
    return ScheduleSettings.model_validate(doc).working_calendar()


def due(cal: WorkingCalendar, year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    """When a voicemail left then (Moscow time) is due: after one working hour of the voice line."""
    return datetime.fromtimestamp(
        cal.add_working_time(C.VOICE, msk(year, month, day, hour, minute), HOUR), MSK
    )


def test_the_dates_these_tests_rely_on_are_what_the_holidays_package_says() -> None:
    for day in [date(2026, 6, 12), date(2026, 3, 8), date(2026, 3, 9), date(2025, 12, 31)]:
        assert day in RU, day
    assert all(date(2026, 1, d) in RU for d in range(1, 10))
    assert date(2027, 2, 22) in RU and date(2027, 2, 23) in RU
    for day in [date(2026, 3, 13), date(2026, 3, 16), date(2026, 6, 11), date(2026, 1, 10)]:
        assert day not in RU, day
    assert date(2027, 2, 24) not in RU
    assert date(2027, 2, 20) in RU.weekend_workdays


# -- the deadlines ------------------------------------------------------------------------


def test_voicemail_on_friday_at_21_is_due_saturday_at_10() -> None:
    assert due(calendar(), 2026, 3, 13, 21, 0) == datetime(2026, 3, 14, 10, 0, tzinfo=MSK)


def test_voicemail_on_sunday_at_15_30_is_due_monday_at_8_30() -> None:
    assert due(calendar(), 2026, 3, 15, 15, 30) == datetime(2026, 3, 16, 8, 30, tzinfo=MSK)


def test_by_default_a_holiday_keeps_its_usual_hours_so_the_deadline_does_not_move() -> None:
    # Thursday 19:30 on the eve of Russia Day: half an hour that evening, half on the holiday.
    assert due(calendar(), 2026, 6, 11, 19, 30) == datetime(2026, 6, 12, 8, 30, tzinfo=MSK)


def test_a_holiday_configured_as_closed_moves_the_deadline_past_it() -> None:
    cal = calendar({"holidays": "closed"})
    assert due(cal, 2026, 6, 11, 19, 30) == datetime(2026, 6, 13, 9, 30, tzinfo=MSK)


def test_closed_on_holidays_skips_the_whole_new_year_break() -> None:
    cal = calendar({"holidays": "closed"})
    assert due(cal, 2025, 12, 30, 19, 30) == datetime(2026, 1, 10, 9, 30, tzinfo=MSK)


def test_closed_on_holidays_also_closes_the_day_off_given_for_a_sunday_holiday() -> None:
    # 8 March 2026 is a Sunday; Monday 9 March is its day off.
    cal = calendar({"holidays": "closed"})
    assert due(cal, 2026, 3, 7, 17, 30) == datetime(2026, 3, 10, 8, 30, tzinfo=MSK)


def test_a_holiday_can_have_hours_of_its_own() -> None:
    cal = calendar({"holidays": ["10:00-14:00"]})
    assert due(cal, 2026, 6, 11, 19, 30) == datetime(2026, 6, 12, 10, 30, tzinfo=MSK)


def test_by_default_a_transferred_working_saturday_keeps_saturday_hours() -> None:
    cal = calendar()
    assert due(cal, 2027, 2, 19, 21, 0) == datetime(2027, 2, 20, 10, 0, tzinfo=MSK)
    assert due(cal, 2027, 2, 20, 17, 30) == datetime(2027, 2, 21, 10, 30, tzinfo=MSK)


def test_a_transferred_working_saturday_with_weekday_hours_opens_earlier_and_closes_later() -> None:
    cal = calendar({"transferred_working_days": "weekday_hours"})
    assert due(cal, 2027, 2, 19, 21, 0) == datetime(2027, 2, 20, 9, 0, tzinfo=MSK)
    assert due(cal, 2027, 2, 20, 17, 30) == datetime(2027, 2, 20, 18, 30, tzinfo=MSK)
    # An ordinary Saturday keeps Saturday hours.
    assert due(cal, 2026, 3, 13, 21, 0) == datetime(2026, 3, 14, 10, 0, tzinfo=MSK)


def test_transferred_working_days_and_closed_holidays_together() -> None:
    # Sunday 21 Feb 2027 15:30: 30 min, then Mon 22 (day off) and Tue 23 (holiday) are closed.
    cal = calendar({"holidays": "closed", "transferred_working_days": "weekday_hours"})
    assert due(cal, 2027, 2, 21, 15, 30) == datetime(2027, 2, 24, 8, 30, tzinfo=MSK)
    assert due(cal, 2027, 2, 19, 21, 0) == datetime(2027, 2, 20, 9, 0, tzinfo=MSK)


def test_a_maintenance_window_on_the_voice_line_moves_the_deadline() -> None:
    window = {
        "start": datetime(2026, 3, 14, 8, 30),  # local (Moscow) time, as TOML gives it
        "end": datetime(2026, 3, 14, 9, 45),
        "channels": ["voice"],
    }
    cal = calendar(maintenance=[window])
    assert due(cal, 2026, 3, 13, 21, 0) == datetime(2026, 3, 14, 10, 45, tzinfo=MSK)


def test_a_maintenance_window_of_another_channel_leaves_the_voice_line_alone() -> None:
    window = {"start": "2026-03-14T09:00+03:00", "end": "2026-03-14T12:00+03:00"}
    cal = calendar(maintenance=[window | {"channels": ["chat"]}])
    assert due(cal, 2026, 3, 13, 21, 0) == datetime(2026, 3, 14, 10, 0, tzinfo=MSK)
    assert not cal.is_open(C.CHAT, msk(2026, 3, 14, 10, 0))
    assert cal.next_opening(C.CHAT, msk(2026, 3, 14, 10, 0)) == msk(2026, 3, 14, 12, 0)


# -- overrides ------------------------------------------------------------------------------------


def test_a_closed_date_closes_the_channel_whatever_the_rules() -> None:
    cal = calendar({"closed_dates": ["2026-03-14"]})
    assert due(cal, 2026, 3, 13, 21, 0) == datetime(2026, 3, 15, 11, 0, tzinfo=MSK)


def test_explicit_hours_for_a_date_beat_the_holiday_rule() -> None:
    cal = calendar({"holidays": "closed", "dates": {"2026-06-12": ["12:00-13:00", "15:00-16:00"]}})
    assert due(cal, 2026, 6, 11, 19, 30) == datetime(2026, 6, 12, 12, 30, tzinfo=MSK)
    assert due(cal, 2026, 6, 12, 12, 30) == datetime(2026, 6, 12, 15, 30, tzinfo=MSK)


def test_an_extra_holiday_follows_the_holiday_rule() -> None:
    cal = calendar({"holidays": "closed"}, extra_holidays=["2026-03-14"])
    assert cal.day_kind(date(2026, 3, 14)) is DayKind.HOLIDAY
    assert due(cal, 2026, 3, 13, 21, 0) == datetime(2026, 3, 15, 11, 0, tzinfo=MSK)


def test_an_extra_working_day_is_a_transferred_working_day() -> None:
    cal = calendar({"transferred_working_days": "weekday_hours"}, extra_working_days=["2026-03-14"])
    assert cal.day_kind(date(2026, 3, 14)) is DayKind.TRANSFERRED_WORKDAY
    assert due(cal, 2026, 3, 13, 21, 0) == datetime(2026, 3, 14, 9, 0, tzinfo=MSK)


def test_an_extra_working_day_on_a_holiday_cancels_the_holiday() -> None:
    cal = calendar({"holidays": "closed"}, extra_working_days=["2026-06-12"])
    assert due(cal, 2026, 6, 11, 19, 30) == datetime(2026, 6, 12, 8, 30, tzinfo=MSK)


# -- open, next opening, next closing -------------------------------------------------------------


def test_the_voice_line_is_closed_on_friday_night_and_opens_saturday_at_9() -> None:
    cal = calendar()
    at = msk(2026, 3, 13, 21, 0)
    assert not cal.is_open(C.VOICE, at)
    assert local(cal.next_opening(C.VOICE, at)) == datetime(2026, 3, 14, 9, 0, tzinfo=MSK)
    assert cal.next_closing(C.VOICE, at) == at
    status = cal.describe(C.VOICE, at)
    assert not status.open
    assert local(status.opens_at) == datetime(2026, 3, 14, 9, 0, tzinfo=MSK)
    assert local(status.closes_at) == datetime(2026, 3, 14, 18, 0, tzinfo=MSK)


def test_opening_and_closing_instants_belong_to_the_open_and_closed_sides() -> None:
    cal = calendar()
    opens, closes = msk(2026, 3, 16, 8, 0), msk(2026, 3, 16, 20, 0)
    assert cal.is_open(C.VOICE, opens) and cal.next_opening(C.VOICE, opens) == opens
    assert not cal.is_open(C.VOICE, closes) and cal.next_closing(C.VOICE, closes) == closes
    assert cal.describe(C.VOICE, msk(2026, 3, 16, 12, 0)).closes_at == closes


def test_chat_and_voicemail_intake_are_open_around_the_clock() -> None:
    cal = calendar()
    at = msk(2026, 1, 1, 3, 0)
    for channel in (C.CHAT, C.VOICEMAIL):
        status = cal.describe(channel, at)
        assert status.open and status.opens_at is None and status.closes_at is None
        assert cal.add_working_time(channel, at, HOUR) == at + HOUR


def test_chat_closes_for_maintenance_across_midnight() -> None:
    window = {"start": "2026-03-14T23:00", "end": "2026-03-15T01:30", "channels": ["chat"]}
    cal = calendar(maintenance=[window])
    status = cal.describe(C.CHAT, msk(2026, 3, 14, 12, 0))
    assert status.open and status.closes_at == msk(2026, 3, 14, 23, 0)
    status = cal.describe(C.CHAT, msk(2026, 3, 15, 0, 0))
    assert not status.open and status.opens_at == msk(2026, 3, 15, 1, 30)
    assert status.closes_at is None
    assert cal.add_working_time(C.CHAT, msk(2026, 3, 14, 22, 30), HOUR) == msk(2026, 3, 15, 2, 0)


def test_several_spans_a_day_close_over_lunch() -> None:
    cal = calendar({"mon": ["08:00-12:00", "13:00-20:00"]})
    assert not cal.is_open(C.VOICE, msk(2026, 3, 16, 12, 30))
    assert cal.next_closing(C.VOICE, msk(2026, 3, 16, 9, 0)) == msk(2026, 3, 16, 12, 0)
    assert due(cal, 2026, 3, 16, 11, 30) == datetime(2026, 3, 16, 13, 30, tzinfo=MSK)


def test_spans_that_touch_at_midnight_make_one_open_stretch() -> None:
    cal = calendar({"fri": ["20:00-24:00"], "sat": ["00:00-02:00"]})
    assert cal.next_closing(C.VOICE, msk(2026, 3, 13, 21, 0)) == msk(2026, 3, 14, 2, 0)


def test_a_channel_that_never_opens_has_no_opening_and_no_deadline() -> None:
    closed = {day: [] for day in VOICE_WEEK}
    cal = calendar(closed)
    at = msk(2026, 3, 13, 21, 0)
    assert cal.next_opening(C.VOICE, at) is None
    assert cal.describe(C.VOICE, at).opens_at is None
    with pytest.raises(NoWorkingTime):
        cal.add_working_time(C.VOICE, at, HOUR)


def test_the_search_gives_up_after_the_horizon() -> None:
    hours = ChannelHours(
        weekly=(CLOSED,) * 7, dates={date(2026, 12, 1): DayHours.of(["10:00-11:00"])}
    )
    rules = ScheduleRules(
        timezone=MSK, channels={C.VOICE: hours, C.CHAT: hours, C.VOICEMAIL: hours}
    )
    at = msk(2026, 3, 13, 21, 0)
    assert WorkingCalendar(rules).next_opening(C.VOICE, at) == msk(2026, 12, 1, 10, 0)
    assert WorkingCalendar(rules, horizon_days=200).next_opening(C.VOICE, at) is None


def test_adding_no_time_is_the_same_instant_and_negative_time_is_refused() -> None:
    cal = calendar()
    at = msk(2026, 3, 13, 21, 0)
    assert cal.add_working_time(C.VOICE, at, 0) == at
    with pytest.raises(Invalid):
        cal.add_working_time(C.VOICE, at, -1)
    with pytest.raises(Invalid):
        cal.add_working_time(C.VOICE, at, float("nan"))


def test_working_seconds_counts_only_open_time() -> None:
    cal = calendar()
    friday_noon, monday_noon = msk(2026, 3, 13, 12, 0), msk(2026, 3, 16, 12, 0)
    # Fri 12-20, Sat 9-18, Sun 10-16, Mon 8-12.
    assert cal.working_seconds(C.VOICE, friday_noon, monday_noon) == (8 + 9 + 6 + 4) * HOUR
    assert cal.working_seconds(C.VOICE, monday_noon, friday_noon) == 0


def test_a_dates_hours_are_computed_once() -> None:
    cal = calendar()
    day = date(2026, 3, 16)
    assert cal.open_periods(C.VOICE, day) is cal.open_periods(C.VOICE, day)


# -- wall-clock hours across a DST change (Moscow has none now; the calendar must not care) -----


BERLIN = ZoneInfo("Europe/Berlin")


def berlin_calendar() -> WorkingCalendar:
    week = {day: ["01:00-04:00"] for day in VOICE_WEEK}
    doc = {"timezone": "Europe/Berlin", "channels": {"voice": week}}
    return WorkingCalendar(ScheduleSettings.model_validate(doc).rules())


def berlin(year: int, month: int, day: int, hour: int = 0) -> float:
    return datetime(year, month, day, hour, tzinfo=BERLIN).timestamp()


def test_hours_stay_wall_clock_hours_when_the_clocks_go_forward() -> None:
    cal = berlin_calendar()  # 29 March 2026: 02:00 jumps to 03:00, so 01:00-04:00 lasts 2 hours
    day = date(2026, 3, 29)
    assert cal.working_seconds(C.VOICE, berlin(2026, 3, 29, 0), berlin(2026, 3, 30, 0)) == 2 * HOUR
    assert cal.open_periods(C.VOICE, day) == ((berlin(2026, 3, 29, 1), berlin(2026, 3, 29, 4)),)
    assert cal.add_working_time(C.VOICE, berlin(2026, 3, 29, 1), 2 * HOUR) == berlin(2026, 3, 29, 4)


def test_hours_stay_wall_clock_hours_when_the_clocks_go_back() -> None:
    cal = berlin_calendar()  # 25 October 2026: 03:00 goes back to 02:00, so 01:00-04:00 is 4 hours
    start = berlin(2026, 10, 25, 1)
    assert cal.working_seconds(C.VOICE, start, berlin(2026, 10, 26, 0)) == 4 * HOUR
    assert cal.add_working_time(C.VOICE, start, 4 * HOUR) == berlin(2026, 10, 25, 4)
    assert cal.next_closing(C.VOICE, start) == berlin(2026, 10, 25, 4)


# -- the pure part stays pure ---------------------------------------------------------------------


def test_importing_the_calendar_loads_no_io_framework_nor_pydantic_nor_holidays() -> None:
    banned = ["trio", "quart", "hypercorn", "aiosqlite", "asyncio", "pydantic", "holidays"]
    code = (
        "import sys, hotline.schedule\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {banned!r}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
