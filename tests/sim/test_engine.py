"""The simulator drives the real router on virtual time: the same seed gives the same answer,
the warm-up is left out, shifts and breaks put operators where the plan says, an offer delay
is waited through, and the interval rows add up to the total."""

from __future__ import annotations

import json
import tomllib
from typing import Any

import pytest

from hotline.config import Settings
from hotline.kpi import Tally, figures
from hotline.sim.engine import SimResult, Simulation
from hotline.sim.report import interval_tallies, report
from hotline.sim.scenario import Scenario, ScenarioError, load_scenario, parse_scenario
from tests.sim.conftest import EXAMPLE, MINIMAL

HOUR = 3600.0


def scenario(**changes: Any) -> Scenario:
    data = tomllib.loads(MINIMAL)
    data.update(changes)
    return parse_scenario(data)


def run(s: Scenario, settings: Settings, seed: int = 1) -> SimResult:
    return Simulation(s, settings, seed=seed).run()


def total(result: SimResult) -> dict[str, Any]:
    return figures(result.buckets.total(), result.rules)


def test_the_same_seed_gives_the_same_answer(settings: Settings) -> None:
    # Shifts, breaks, chats, ring time, two classes: the example's day up to 14:24 has them all.
    example = load_scenario(EXAMPLE).with_days(0.6)
    first = json.dumps(report(run(example, settings, seed=7)))
    again = json.dumps(report(run(example, settings, seed=7)))
    assert first == again
    small = scenario(hours=2)
    assert json.dumps(report(run(small, settings, seed=1))) != json.dumps(
        report(run(small, settings, seed=2))
    )


def test_the_issues_minimal_scenario_runs(settings: Settings) -> None:
    result = run(scenario(hours=2), settings)  # as written but shorter
    f = total(result)
    assert 500 < f["offered"] < 950  # 360 an hour for two hours
    assert f["answered"] + f["abandoned"] == f["offered"]
    assert f["abandoned"] > 0  # 27 operators for ~30 erlangs with wrap-up: some give up
    assert f["wrap_s"] == pytest.approx(60.0, abs=1.0)  # the config's wrap-up
    assert 0.9 < f["occupancy"] <= 1.0


def test_the_warm_up_is_left_out(settings: Settings) -> None:
    # Contacts arrive only from 23:00 to 24:00, that is only in the warm-up before the day.
    quiet = [0.0] * 23 + [600.0]
    s = scenario(
        hours=1,
        warmup_min=60,
        patience=None,
        arrivals=[{"topic": "documents", "per_hour": quiet}],
        operators=[{"count": 80, "skills": {"documents": 3}}],
    )
    result = run(s, settings)
    whole = result.buckets.total()
    assert result.contacts > 400  # they came, in the warm-up
    assert whole.offered == 0  # and none counts: all were answered before the start
    assert whole.handled > 0  # talks begun before the start and ended after it do count
    # Operators' time is cut at the start: 80 of them signed in for exactly the hour.
    assert whole.open_s == pytest.approx(80 * HOUR)
    assert 0 < whole.busy_s < whole.open_s


def test_rows_add_up_to_the_total(settings: Settings) -> None:
    result = run(load_scenario(EXAMPLE), settings)
    rows = Tally(len(result.rules.thresholds))
    for t in interval_tallies(result.buckets).values():
        rows.merge(t)
    assert figures(rows, result.rules) == total(result)
    answer = report(result)
    assert len(answer["rows"]) == 96  # a day of 15-minute intervals
    assert sum(r["offered"] for r in answer["rows"]) == answer["total"]["offered"]


def _shifted(settings: Settings, group: dict[str, Any], hours: float = 16) -> SimResult:
    s = scenario(
        hours=hours,
        warmup_min=0,
        patience=None,
        arrivals=[{"topic": "documents", "per_hour": 40}],
        handle_time={"documents": {"dist": "fixed", "mean_s": 600}},
        operators=[{"name": "always", "count": 10, "skills": {"documents": 1}}, group],
    )
    return run(s, settings)


def _row_at(result: SimResult, clock: str) -> dict[str, Any]:
    (row,) = [r for r in report(result)["rows"] if r["start"][11:16] == clock]
    return row


def test_a_shift_signs_operators_in_and_out(settings: Settings) -> None:
    # The shift's operators are the more proficient: they take every contact they can.
    shift = {"start": "08:00", "end": "12:00"}
    group = {"name": "day", "count": 5, "skills": {"documents": 5}, "shifts": [shift]}
    result = _shifted(settings, group)
    assert _row_at(result, "07:45")["staffed"] == 10
    assert _row_at(result, "08:00")["staffed"] == 15
    assert _row_at(result, "12:00")["staffed"] == 10
    day = {  # their time signed in, per interval
        start: t
        for (start, op), t in result.buckets.operators.items()
        if op.startswith("day-") and t.open_s
    }
    midnight = result.start
    assert min(day) == midnight + 8 * HOUR  # nothing of theirs before their shift
    answered = {start for start, t in day.items() if t.answered}
    assert answered and max(answered) < midnight + 12 * HOUR  # nothing new after it
    # Busy at the end of the shift, they finished their contact (10 min) and signed off.
    assert max(day) == midnight + 12 * HOUR


def test_a_staggered_break_takes_the_group_off_one_after_another(settings: Settings) -> None:
    shift = {
        "start": "08:00",
        "end": "16:00",
        "breaks": [{"start": "10:00", "minutes": 30, "stagger_min": 60}],
    }
    group = {"name": "day", "count": 4, "skills": {"documents": 3}, "shifts": [shift]}
    result = _shifted(settings, group)
    # Breaks at 10:00, 10:15, 10:30 and 10:45, half an hour each.
    staffed = [_row_at(result, c)["staffed"] - 10 for c in ("09:45", "10:00", "10:15")]
    staffed += [_row_at(result, c)["staffed"] - 10 for c in ("10:30", "10:45", "11:00", "11:15")]
    assert staffed == [4, 3, 2, 2, 2, 3, 4]


def test_an_offer_is_answered_after_the_offer_delay(settings: Settings) -> None:
    s = scenario(hours=4, patience=None, offer_delay={"dist": "fixed", "mean_s": 4})
    f = total(run(s, settings))
    assert f["answered"] > 0
    assert f["asa_s"] >= 4.0  # ringing counts in the wait
    assert f["service_level"]["20"] < 1.0


def test_an_operator_slower_than_the_offer_timeout_misses_and_comes_back(
    settings: Settings,
) -> None:
    s = scenario(
        hours=1,
        patience=None,
        offer_delay={"dist": "fixed", "mean_s": 20},  # the config's timeout is 15 s
        operators=[{"count": 2, "skills": {"documents": 3}}],
    )
    sim = Simulation(s, settings)
    f = total(sim.run())
    assert f["answered"] == 0
    # Back ready 30 s after each miss: about one miss per operator every 45 s.
    assert sim.state.missed_offers > 2 * (2 * HOUR) / 45 * 0.9


def test_the_scenario_overrides_the_configs_basis_and_wrap_up(settings: Settings) -> None:
    result = run(scenario(hours=1, service_level_basis="sl2", wrap_up_s=0), settings)
    assert result.rules.basis == "sl2"
    assert settings.kpi_rules().basis == "offered_minus_short"
    assert total(result)["wrap_s"] == 0


def test_a_stream_nobody_can_take_is_refused_before_the_run(settings: Settings) -> None:
    s = scenario(arrivals=[{"topic": "documents", "per_hour": 10, "language": "en"}])
    with pytest.raises(ScenarioError) as e:
        Simulation(s, settings)
    where, what = e.value.problems[0]
    assert where == "arrivals[0]"
    assert "'en'" in what


def test_each_hour_carries_the_operators_erlang_requires(settings: Settings) -> None:
    # The M/M/14 reference case: 200 calls an hour of 180 s, 85 % within 20 s (the config's
    # goal): Erlang C asks for 14 operators; nothing arrives at night, nobody is required.
    rates = [0.0] * 8 + [200.0] * 12 + [0.0] * 4
    s = scenario(
        hours=24,
        wrap_up_s=0,
        patience=None,
        arrivals=[{"topic": "documents", "per_hour": rates}],
        handle_time={"documents": {"dist": "exp", "mean_s": 180}},
    )
    answer = report(run(s, settings))
    required = {row["start"][11:16]: row["required"] for row in answer["rows"]}
    assert required["07:45"] == 0
    assert required["08:00"] == required["19:45"] == 14
    assert answer["total"]["required"] == pytest.approx(14 * 12 / 24)
