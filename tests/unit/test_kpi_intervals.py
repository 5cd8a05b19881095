"""Which interval a KPI fact counts in: intervals follow the line's wall clock (Moscow), so a
day's figures are Moscow's day, from midnight to midnight, as the period reports promise."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from hotline.kpi import Buckets, KpiRules, OperatorTime, Outcome, WaitEnded
from hotline.kpi.rules import MOSCOW
from hotline.routing.model import OperatorState

MIDNIGHT = datetime(2027, 1, 16, tzinfo=MOSCOW).timestamp()  # 21:00 UTC the day before
DAY = 86_400


def answered(at: float) -> WaitEnded:
    return WaitEnded(at, "a", "normal", "voice", "op1", Outcome.ANSWERED, 10.0, True)


def test_a_day_interval_runs_from_moscow_midnight_to_midnight() -> None:
    rules = KpiRules(interval_s=DAY)
    assert rules.interval_of(MIDNIGHT - 1) == MIDNIGHT - DAY
    assert rules.interval_of(MIDNIGHT) == MIDNIGHT
    assert rules.interval_of(MIDNIGHT + DAY - 1) == MIDNIGHT


def test_waits_half_an_hour_either_side_of_moscow_midnight_count_in_two_days() -> None:
    days = Buckets(KpiRules(interval_s=DAY))
    days.add(answered(MIDNIGHT - 1800))  # 23:30 in Moscow, 20:30 UTC: one UTC day
    days.add(answered(MIDNIGHT + 1800))
    assert {key[0]: t.answered for key, t in days.queues.items()} == {
        MIDNIGHT - DAY: 1,
        MIDNIGHT: 1,
    }


def test_an_operators_hours_across_moscow_midnight_split_at_it() -> None:
    days = Buckets(KpiRules(interval_s=DAY))
    days.add(OperatorTime("op1", MIDNIGHT - 3600, MIDNIGHT + 7200, OperatorState.BUSY))
    assert {key[0]: t.busy_s for key, t in days.operators.items()} == {
        MIDNIGHT - DAY: 3600.0,
        MIDNIGHT: 7200.0,
    }


def test_hours_follow_the_wall_clock_of_a_zone_half_an_hour_off_the_hour() -> None:
    kolkata = ZoneInfo("Asia/Kolkata")  # UTC+05:30
    rules = KpiRules(interval_s=3600, tz=kolkata)
    ten = datetime(2027, 1, 16, 10, tzinfo=kolkata).timestamp()
    assert rules.interval_of(ten + 1799) == ten
    assert rules.interval_of(ten + 3599) == ten


def test_short_intervals_start_on_the_minute_and_the_quarter_hour() -> None:
    at = MIDNIGHT + 3 * 900 + 7 * 60 + 13
    assert KpiRules(interval_s=60).interval_of(at) == at - 13
    assert KpiRules(interval_s=900).interval_of(at) == MIDNIGHT + 3 * 900
