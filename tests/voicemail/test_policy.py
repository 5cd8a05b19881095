"""The callback rules, pure: the one-working-hour deadline, what follows an attempt, and the
one-hour compliance per local day."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from hotline.domain.errors import Invalid
from hotline.schedule.settings import ScheduleSettings
from hotline.voicemail.policy import (
    AttemptOutcome,
    CallbackPolicy,
    Closed,
    Completed,
    FirstCallback,
    Retry,
    after_attempt,
    callback_times,
    compliance_by_day,
    compliance_period,
)

MSK = ZoneInfo("Europe/Moscow")
POLICY = CallbackPolicy(
    callback_within_s=3600, overflow_after_s=1800, retry_delay_s=1800, max_attempts=3
)
CALENDAR = ScheduleSettings().working_calendar()  # the shipped voice hours


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=MSK).timestamp()


def local(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, MSK).strftime("%a %H:%M")


@pytest.mark.parametrize(
    ("left", "due", "overflows"),
    [
        ("2026-03-13 21:00", "Sat 10:00", "Sat 09:30"),  # Friday night: Saturday opens at 9
        ("2026-03-15 15:30", "Mon 08:30", "Sun 16:00"),  # half an hour left on Sunday
        ("2026-03-16 12:10", "Mon 13:10", "Mon 12:40"),  # inside working hours: an hour on
        ("2026-03-16 07:59", "Mon 09:00", "Mon 08:30"),  # just before opening
    ],
)
def test_a_callback_is_due_one_working_hour_of_the_voice_line_after_arrival(
    left: str, due: str, overflows: str
) -> None:
    times = callback_times(POLICY, CALENDAR, at(left))
    assert (local(times.deadline_at), local(times.target_at)) == (due, overflows)
    assert times.arrived_at == at(left)


def test_reaching_the_citizen_completes_the_voicemail_at_any_attempt() -> None:
    assert after_attempt(POLICY, 1, AttemptOutcome.REACHED, 100.0) == Completed()
    assert after_attempt(POLICY, 3, AttemptOutcome.REACHED, 100.0) == Completed()


def test_an_attempt_that_does_not_reach_is_retried_after_the_delay() -> None:
    assert after_attempt(POLICY, 1, AttemptOutcome.NOT_REACHED, 100.0) == Retry(2, 1900.0)
    assert after_attempt(POLICY, 2, AttemptOutcome.NOT_REACHED, 100.0) == Retry(3, 1900.0)


def test_the_last_attempt_that_does_not_reach_closes_the_voicemail() -> None:
    assert after_attempt(POLICY, 3, AttemptOutcome.NOT_REACHED, 100.0) == Closed()
    single = CallbackPolicy(3600, 1800, 1800, max_attempts=1)
    assert after_attempt(single, 1, AttemptOutcome.NOT_REACHED, 100.0) == Closed()


def test_a_policy_that_overflows_after_its_deadline_is_refused() -> None:
    with pytest.raises(Invalid):
        CallbackPolicy(
            callback_within_s=600, overflow_after_s=1200, retry_delay_s=0, max_attempts=1
        )


def test_compliance_counts_each_voicemail_on_its_local_day_of_arrival() -> None:
    late_evening = at("2026-03-16 23:30")  # Monday in Moscow (20:30 UTC)
    after_midnight = at("2026-03-17 00:30")  # Tuesday in Moscow, Monday 21:30 in UTC
    callbacks = [
        FirstCallback(late_evening, late_evening + 3600, late_evening + 60),  # within
        FirstCallback(after_midnight, after_midnight + 3600, after_midnight + 3600),  # on the dot
        FirstCallback(after_midnight, after_midnight + 3600, after_midnight + 3601),  # late
        FirstCallback(after_midnight, after_midnight + 3600, None),  # never taken: late
    ]
    days = compliance_by_day(
        callbacks, MSK, date(2026, 3, 16), date(2026, 3, 18), now=after_midnight + 7200
    )

    assert [(d.day.day, d.voicemails, d.within_hour, d.late, d.pending) for d in days] == [
        (16, 1, 1, 0, 0),
        (17, 3, 1, 2, 0),
        (18, 0, 0, 0, 0),  # every day is listed, zeros too
    ]
    assert [d.share for d in days] == [1.0, pytest.approx(1 / 3), None]


def test_a_callback_not_taken_yet_within_its_hour_is_pending_not_late() -> None:
    arrived = at("2026-03-16 10:00")
    days = compliance_by_day(
        [FirstCallback(arrived, arrived + 3600, None)],
        MSK,
        date(2026, 3, 16),
        date(2026, 3, 16),
        now=arrived + 600,
    )
    assert (days[0].pending, days[0].late, days[0].share) == (1, 0, None)


def test_a_compliance_period_covers_whole_local_days_and_is_bounded() -> None:
    start, end = compliance_period(MSK, date(2026, 3, 16), date(2026, 3, 17))
    assert (start, end) == (at("2026-03-16 00:00"), at("2026-03-18 00:00"))
    with pytest.raises(Invalid) as backwards:
        compliance_period(MSK, date(2026, 3, 17), date(2026, 3, 16))
    assert backwards.value.field == "to"
    with pytest.raises(Invalid):
        compliance_period(MSK, date(2024, 1, 1), date(2025, 1, 1))  # 367 days
