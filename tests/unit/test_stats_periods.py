"""What a period report covers (`hotline.services.periods`): its intervals in the line's zone,
the rollup starts each one adds up, and which rollups answer it."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from hotline.domain.errors import Invalid
from hotline.kpi import KpiRules
from hotline.kpi.rules import MOSCOW
from hotline.services.periods import PeriodQuery, plan_period

RULES = KpiRules()
BERLIN = ZoneInfo("Europe/Berlin")  # clocks go forward on 2027-03-28: a 23-hour day


def at(text: str, tz: ZoneInfo = MOSCOW) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=tz).timestamp()


def test_a_month_by_day_is_answered_by_the_day_rollups() -> None:
    plan = plan_period(RULES, PeriodQuery("2027-03-01T00:00", "2027-04-01T00:00", "1d"))
    assert plan.grain == "day"
    assert len(plan.intervals) == 31
    assert plan.intervals[0] == (at("2027-03-01T00:00"), at("2027-03-02T00:00"))
    assert [r[0] for r in plan.ranges] == list(range(31))


def test_days_that_do_not_start_at_midnight_are_added_up_from_intervals() -> None:
    plan = plan_period(RULES, PeriodQuery("2027-03-01T08:00", "2027-03-03T12:00", "1d"))
    assert plan.grain == "interval"
    assert plan.intervals == [
        (at("2027-03-01T08:00"), at("2027-03-02T08:00")),
        (at("2027-03-02T08:00"), at("2027-03-03T08:00")),
        (at("2027-03-03T08:00"), at("2027-03-03T12:00")),  # the last one cut at `to`
    ]


def test_a_day_is_a_calendar_day_where_the_clocks_change() -> None:
    rules = KpiRules(tz=BERLIN)
    plan = plan_period(rules, PeriodQuery("2027-03-27T00:00", "2027-03-30T00:00", "1d"))
    assert [(e - s) / 3600 for s, e in plan.intervals] == [24, 23, 24]
    assert plan.grain == "day"


def test_hours_that_wrap_midnight_keep_the_night_intervals_of_each_day() -> None:
    query = PeriodQuery("2027-03-01T00:00", "2027-03-02T00:00", "1h", hours="20:00-08:00")
    plan = plan_period(RULES, query)
    hours = [datetime.fromtimestamp(s, MOSCOW).hour for s, _ in plan.intervals]
    assert hours == [0, 1, 2, 3, 4, 5, 6, 7, 20, 21, 22, 23]
    assert plan.grain == "interval"
    assert plan.interval_at(at("2027-03-01T07:45")) == 7
    assert plan.interval_at(at("2027-03-01T08:00")) is None
    assert plan.interval_at(at("2027-03-01T20:00")) == 8


def test_hours_count_the_intervals_whose_start_is_within_them() -> None:
    query = PeriodQuery("2027-03-01T00:00", "2027-03-03T00:00", "1d", hours="08:10-09:00")
    plan = plan_period(RULES, query)
    assert len(plan.intervals) == 2
    first_day = [r for r in plan.ranges if r[0] == 0]
    assert first_day == [(0, at("2027-03-01T08:10"), at("2027-03-01T09:00"))]
    assert plan.interval_at(at("2027-03-01T08:00")) is None  # started before 08:10
    assert plan.interval_at(at("2027-03-01T08:15")) == 0
    assert plan.interval_at(at("2027-03-01T08:45")) == 0


def test_a_report_interval_without_a_rollup_start_in_its_hours_is_left_out() -> None:
    query = PeriodQuery("2027-03-01T00:00", "2027-03-01T03:00", "15m", hours="01:05-01:14")
    assert plan_period(RULES, query).intervals == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        (PeriodQuery("2027-03-01T00:00", "2027-03-02T00:00", "2h"), "interval"),
        (PeriodQuery("2027-03-01T00:00", "2027-03-02T00:00", "1h", by="phone"), "by"),
        (PeriodQuery("2027-03-01T00:10", "2027-03-02T00:00", "1h"), "from"),
        (PeriodQuery("2027-03-01T00:00", "2027-03-01T00:00", "1h"), "to"),
        (PeriodQuery("2027-03-01T00:00", "2027-03-02T00:00", "1h", hours="23:00-23:00"), "hours"),
        (PeriodQuery("2027-03-01T00:00", "2027-03-02T00:00", "1h", hours="24:00-06:00"), "hours"),
    ],
)
def test_a_plan_it_cannot_make_names_the_field(query: PeriodQuery, field: str) -> None:
    with pytest.raises(Invalid) as refused:
        plan_period(RULES, query)
    assert refused.value.field == field


def test_an_interval_finer_than_the_lines_is_refused() -> None:
    hourly = KpiRules(interval_s=3600)
    with pytest.raises(Invalid) as refused:
        plan_period(hourly, PeriodQuery("2027-03-01T00:00", "2027-03-02T00:00", "30m"))
    assert refused.value.field == "interval"
    plan = plan_period(hourly, PeriodQuery("2027-03-01T00:00", "2027-03-02T00:00", "1h"))
    assert len(plan.intervals) == 24
