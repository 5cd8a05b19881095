"""The counts `/metrics` exports (`hotline.kpi.totals`): by queue, waits in buckets that hold
every service-level threshold, handling split into talk and wrap-up."""

from __future__ import annotations

from hotline.kpi import KpiRules
from hotline.kpi.facts import HandleEnded, OperatorTime, Outcome, WaitEnded
from hotline.kpi.totals import Histogram, Totals, wait_bounds
from hotline.routing.model import OperatorState

AT = 1_800_000_000.0


def _wait(outcome: Outcome, wait_s: float, topic: str = "payments") -> WaitEnded:
    operator = "op-1" if outcome is Outcome.ANSWERED else None
    return WaitEnded(AT, topic, "normal", "voice", operator, outcome, wait_s, None)


def test_every_threshold_short_abandon_and_time_goal_is_a_bucket_bound() -> None:
    rules = KpiRules(thresholds=(17, 33), short_abandon_s=7, goals={"asa_s": 11, "max_wait_s": 44})
    bounds = wait_bounds(rules)
    assert {17, 33, 7, 11, 44} <= set(bounds)
    assert list(bounds) == sorted(set(bounds))


def test_waits_are_counted_by_queue_and_outcome() -> None:
    totals = Totals(KpiRules())
    totals.add(
        [
            _wait(Outcome.ANSWERED, 20),
            _wait(Outcome.ANSWERED, 21),
            _wait(Outcome.ABANDONED, 5),
            _wait(Outcome.ABANDONED, 50),
            _wait(Outcome.EXPIRED, 900),
            _wait(Outcome.ANSWERED, 3, topic="documents"),
        ]
    )
    payments = totals.queues[("payments", "normal", "voice")]
    assert (payments.offered, payments.answered, payments.expired) == (5, 2, 1)
    assert (payments.abandoned, payments.short_abandoned) == (2, 1)
    answered = dict(payments.waits[Outcome.ANSWERED].cumulative())
    assert (answered[20], answered[25], answered[float("inf")]) == (1, 2, 2)  # le: at most
    assert payments.waits[Outcome.ANSWERED].sum == 41
    assert totals.queues[("documents", "normal", "voice")].answered == 1


def test_talk_is_counted_per_contact_and_wrap_up_per_period() -> None:
    totals = Totals(KpiRules())
    totals.add(
        [
            HandleEnded(AT, "payments", "normal", "chat", "op-1", 125.0),
            OperatorTime("op-1", AT, AT + 40, OperatorState.WRAP_UP, "payments", "normal", "chat"),
            OperatorTime("op-1", AT + 40, AT + 90, OperatorState.READY),  # not handling
            OperatorTime("op-2", AT, AT + 10, OperatorState.WRAP_UP),  # after a restart
        ]
    )
    chat = totals.queues[("payments", "normal", "chat")]
    assert (chat.talk.count, chat.talk.sum, chat.wrap.count, chat.wrap.sum) == (1, 125, 1, 40)
    assert totals.queues[("", "", "")].wrap.sum == 10


def test_a_histogram_puts_a_value_on_a_bound_in_that_bound() -> None:
    h = Histogram((10, 20))
    for value in (10, 10.5, 20, 99):
        h.observe(value)
    assert h.cumulative() == [(10, 1), (20, 3), (float("inf"), 4)]
