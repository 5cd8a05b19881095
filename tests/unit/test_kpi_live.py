"""The live view (`hotline.kpi.live`): today's and the last 15 minutes' figures from committed
facts, with the operators' time up to now, a new day at local midnight, and a restart that
gives back what was there."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from hotline.kpi import Buckets, KpiRules, KpiTracker, figures
from hotline.kpi.facts import Fact
from hotline.kpi.live import LiveView, rebuild_plan, window_start
from hotline.kpi.rules import MOSCOW
from hotline.routing.model import (
    Accepted,
    Channel,
    ContactState,
    Ended,
    Enqueued,
    Event,
    OperatorChanged,
    OperatorState,
    QueueFigures,
    RouterStatistics,
)

RULES = KpiRules(goals={"sl_20": 0.85})
NOON = datetime(2026, 3, 10, 12, 0, tzinfo=MOSCOW).timestamp()
MIDNIGHT = datetime(2026, 3, 11, 0, 0, tzinfo=MOSCOW).timestamp()
QUIET = RouterStatistics(0, {}, {}, 0, 0, 0, 0)


class Line:
    """Router events for a small line, fed as committed batches to a tracker and a live view
    (and, for comparison, to `Buckets` by the minute)."""

    def __init__(self, now: float, rules: KpiRules = RULES) -> None:
        self.rules = rules
        self.tracker = KpiTracker()
        self.view = LiveView(rules, now)
        self.facts: list[Fact] = []
        self.events: list[Event] = []

    def commit(self, *events: Event) -> list[Fact]:
        facts: list[Fact] = []
        self.tracker.feed_all(events, facts.append)
        self.view.feed(list(events), facts)
        self.facts += facts
        self.events += events
        return facts

    def call(
        self, cid: str, at: float, *, channel: Channel = Channel.VOICE, deadline_s: float = 600
    ) -> None:
        self.commit(
            Enqueued(cid, at, channel, "payments", "ru", "normal", at, at + 300, at + deadline_s)
        )

    def answer(self, cid: str, op: str, at: float, waited: float) -> None:
        self.commit(
            Accepted(cid, op, at, waited), OperatorChanged(op, at, OperatorState.BUSY, "accepted")
        )

    def hang_up(self, cid: str, op: str, at: float) -> None:
        self.commit(
            Ended(cid, at, ContactState.COMPLETED, op),
            OperatorChanged(op, at, OperatorState.WRAP_UP, "completed"),
        )

    def abandon(self, cid: str, at: float) -> None:
        self.commit(Ended(cid, at, ContactState.ABANDONED))

    def state(self, op: str, at: float, state: OperatorState) -> None:
        self.commit(OperatorChanged(op, at, state, "presence"))

    def today(self, now: float) -> dict[str, Any]:
        return self.view.snapshot(now, QUIET)["today"]  # type: ignore[no-any-return]

    def last_15m(self, now: float) -> dict[str, Any]:
        return self.view.snapshot(now, QUIET)["last_15m"]  # type: ignore[no-any-return]


def _same(a: dict[str, Any], b: dict[str, Any]) -> None:
    """FIGURES equal, sums compared to the last few bits (they add up in another order)."""
    assert a.keys() == b.keys()
    for key, value in a.items():
        if isinstance(value, dict):
            _same(value, b[key])
        elif isinstance(value, float):
            assert value == pytest.approx(b[key], rel=1e-12), key
        else:
            assert value == b[key], key


def _expected(line: Line, now: float, since: float) -> dict[str, Any]:
    """FIGURES of the facts from `since` on, by `Buckets` as the reports count them, with the
    operators' time up to `now`."""
    buckets = Buckets(KpiRules(interval_s=60, goals=RULES.goals))
    buckets.add_all(line.facts)
    buckets.add_all(line.tracker.open_time(now))
    kept = Buckets(buckets.rules)
    kept.queues = {k: t for k, t in buckets.queues.items() if k[0] >= since}
    kept.operators = {k: t for k, t in buckets.operators.items() if k[0] >= since}
    return figures(kept.total(), RULES)


def test_an_answered_and_an_abandoned_call_show_today_and_in_the_last_15_minutes() -> None:
    line = Line(NOON)
    line.state("op-1", NOON, OperatorState.READY)
    line.call("c1", NOON + 1)
    line.call("c2", NOON + 2)
    line.answer("c1", "op-1", NOON + 11, 10)
    line.abandon("c2", NOON + 40)
    line.hang_up("c1", "op-1", NOON + 100)
    now = NOON + 130
    for figures_now in (line.today(now), line.last_15m(now)):
        assert (figures_now["offered"], figures_now["answered"], figures_now["abandoned"]) == (
            2,
            1,
            1,
        )
        assert figures_now["asa_s"] == 10
        assert figures_now["max_wait_s"] == 38
        assert figures_now["service_level"]["20"] == 0.5
        assert figures_now["talk_s"] == 89
        assert figures_now["wrap_s"] == 30  # the wrap-up going on now counts up to now
        assert figures_now["occupancy"] == pytest.approx(119 / 130)
    _same(line.today(now), _expected(line, now, NOON))


def test_open_time_counts_up_to_now_and_from_the_windows_start() -> None:
    line = Line(NOON)
    line.state("op-1", NOON, OperatorState.READY)
    line.state("op-2", NOON, OperatorState.BREAK)
    now = NOON + 3600
    today, window = line.today(now), line.last_15m(now)
    assert today["occupancy"] == 0.0  # two hours not offline, none of it busy
    line.call("c1", now)
    line.answer("c1", "op-1", now + 5, 5)
    later = now + 65  # op-1 busy for a minute of the window's 15 (and 15 more of op-2)
    window = line.last_15m(later)
    busy, open_s = 60, (later - window_start(later)) * 2
    assert window["occupancy"] == pytest.approx(busy / open_s)
    _same(line.today(later), _expected(line, later, NOON))
    line.state("op-1", later, OperatorState.OFFLINE)
    line.state("op-2", later, OperatorState.OFFLINE)
    # Offline: the time stops counting; what was counted stays.
    assert line.today(later + 3600)["occupancy"] == pytest.approx(line.today(later)["occupancy"])


def test_an_operator_shown_in_the_same_state_again_keeps_counting_from_its_first_change() -> None:
    line = Line(NOON)
    line.state("op-1", NOON, OperatorState.READY)
    line.state("op-1", NOON + 600, OperatorState.READY)  # e.g. its profile was replaced
    line.state("op-2", NOON + 600, OperatorState.READY)
    now = NOON + 1200
    assert line.view.tallies(now)[0].open_s == 1200 + 600
    _same(line.today(now), _expected(line, now, NOON))


def test_an_operator_on_break_with_a_call_in_hand_is_busy_until_it_ends() -> None:
    line = Line(NOON)
    line.state("op-1", NOON, OperatorState.READY)
    line.call("c1", NOON + 10)
    line.answer("c1", "op-1", NOON + 20, 10)
    line.state("op-1", NOON + 50, OperatorState.BREAK)  # no next call, please
    now = NOON + 200
    assert line.view.tallies(now)[0].busy_s == 180  # on the call all along
    _same(line.today(now), _expected(line, now, NOON))
    line.commit(Ended("c1", NOON + 300, ContactState.COMPLETED, "op-1"))
    later = NOON + 400
    assert line.view.tallies(later)[0].busy_s == 280  # a break now
    _same(line.today(later), _expected(line, later, NOON))


def test_a_minute_stays_in_the_window_for_15_minutes_then_only_in_today() -> None:
    line = Line(NOON)
    line.call("c1", NOON + 70)
    line.abandon("c1", NOON + 80)  # in the minute starting NOON + 60
    last_in = NOON + 60 + 15 * 60 - 0.001
    assert line.last_15m(last_in)["abandoned"] == 1
    assert line.last_15m(NOON + 60 + 15 * 60)["abandoned"] == 0
    assert line.today(NOON + 60 + 15 * 60)["abandoned"] == 1
    # Fed long after: folded once, counted once.
    line.call("c2", NOON + 3 * 3600)
    assert line.today(NOON + 3 * 3600)["abandoned"] == 1


def test_a_batch_committed_after_its_minute_left_the_window_counts_today_only() -> None:
    line = Line(NOON)
    line.call("c1", NOON)
    assert line.last_15m(NOON + 20 * 60)["offered"] == 0  # the window has moved on
    line.abandon("c1", NOON + 60)  # its `at` is 19 minutes old when it comes
    assert line.last_15m(NOON + 20 * 60)["offered"] == 0
    assert line.today(NOON + 20 * 60)["abandoned"] == 1
    # One from before midnight that comes once the window is all today's: yesterday's, not today's.
    line.call("c2", MIDNIGHT - 60)
    assert line.today(MIDNIGHT + 20 * 60)["offered"] == 0
    line.abandon("c2", MIDNIGHT - 30)
    assert line.today(MIDNIGHT + 20 * 60)["offered"] == 0


def test_today_starts_again_at_local_midnight() -> None:
    before = MIDNIGHT - 120
    line = Line(before - 3600)
    line.call("c0", before - 3600)
    line.abandon("c0", before - 3590)  # folded into the day's tally long before midnight
    line.state("op-1", before, OperatorState.READY)
    line.call("c1", before)
    line.abandon("c1", before + 30)
    assert line.today(MIDNIGHT - 1)["abandoned"] == 2
    after = MIDNIGHT + 300
    today = line.today(after)
    assert (today["offered"], today["abandoned"]) == (0, 0)
    # The window still holds the last minutes of yesterday.
    assert line.last_15m(after)["abandoned"] == 1
    # An operator ready across midnight: only today's part counts today.
    assert line.view.tallies(after)[0].open_s == 300
    line.call("c2", after)
    line.answer("c2", "op-1", after + 10, 10)
    now = after + 70
    _same(line.today(now), _expected(line, now, MIDNIGHT))
    assert line.view.tallies(now)[0].open_s == pytest.approx(now - MIDNIGHT)


def test_a_new_day_seen_first_in_a_batch_is_a_new_day() -> None:
    line = Line(MIDNIGHT - 60)
    line.call("c1", MIDNIGHT - 60)
    line.abandon("c1", MIDNIGHT - 50)
    line.call("c2", MIDNIGHT + 86_400 + 10)  # a day and more later: both days are over
    line.abandon("c2", MIDNIGHT + 86_400 + 20)
    assert line.today(MIDNIGHT + 86_400 + 30)["abandoned"] == 1


def test_overdue_voicemail_callbacks_are_those_past_their_deadline_unanswered() -> None:
    line = Line(NOON)
    line.call("vm1", NOON, channel=Channel.CALLBACK, deadline_s=3600)
    line.call("vm2", NOON + 10, channel=Channel.CALLBACK, deadline_s=3600)
    line.call("c1", NOON, deadline_s=60)  # not a callback
    snapshot = line.view.snapshot(NOON + 3605, QUIET)
    assert snapshot["voicemail_overdue"] == 1
    line.answer("vm1", "op-1", NOON + 3606, 3606)
    assert line.view.snapshot(NOON + 3700, QUIET)["voicemail_overdue"] == 1  # vm2 now
    line.abandon("vm2", NOON + 3701)
    assert line.view.snapshot(NOON + 3702, QUIET)["voicemail_overdue"] == 0


def test_the_snapshot_takes_waiting_queues_and_operators_from_the_router() -> None:
    line = Line(NOON)
    statistics = RouterStatistics(
        5,
        {ContactState.WAITING: 3, ContactState.OFFERED: 1, ContactState.ASSIGNED: 1},
        {OperatorState.READY: 2, OperatorState.BUSY: 1},
        0,
        0,
        1,
        0,
        (
            QueueFigures("payments", "normal", 2, 1, 31.25, 0, 0, 3),
            QueueFigures("documents", "normal", 1, 0, 7.0, 0, 2, 2),
            QueueFigures("tax", "urgent", 0, 1, 0.0, 0, 0, 1),
        ),
    )
    snapshot = line.view.snapshot(NOON, statistics)
    assert snapshot["waiting"] == 4  # queued or ringing: their wait goes on
    assert snapshot["oldest_wait_s"] == 31.25
    assert snapshot["operators"] == {
        "offline": 0,
        "ready": 2,
        "busy": 1,
        "wrap_up": 0,
        "break": 0,
    }
    assert [q["topic"] for q in snapshot["queues"]] == ["payments", "documents", "tax"]
    assert snapshot["goals"] == {"sl_20": 0.85}
    assert line.view.snapshot(NOON, QUIET)["oldest_wait_s"] is None


@pytest.mark.parametrize("minutes_later", [3, 14, 15, 16, 40, 200])
def test_a_view_rebuilt_from_rollups_shows_what_the_live_one_did(minutes_later: int) -> None:
    start = NOON - 3 * 3600
    line = Line(start)
    line.state("op-1", start, OperatorState.READY)
    at = start
    for n in range(60):
        at += 200
        line.call(f"c{n}", at)
        if n % 4 == 3:
            line.abandon(f"c{n}", at + 3)
            continue
        line.answer(f"c{n}", "op-1", at + 15, 15)
        line.hang_up(f"c{n}", "op-1", at + 100)
        line.state("op-1", at + 130, OperatorState.READY)
    now = at + minutes_later * 60
    plan = rebuild_plan(RULES, now)
    intervals, minutes = Buckets(RULES), Buckets(KpiRules(interval_s=60, goals=RULES.goals))
    intervals.add_all(line.facts)  # the store's rollups: the plan says which rows are read
    minutes.add_all(line.facts)
    rebuilt = LiveView.rebuilt(
        RULES,
        plan,
        intervals=intervals,
        minutes=minutes,
        operators=line.tracker.open_operators(),
        contacts=line.tracker.open_contacts(),
    )
    for later in (now, now + 61, now + 16 * 60):
        _same(rebuilt.snapshot(later, QUIET), line.view.snapshot(later, QUIET))
