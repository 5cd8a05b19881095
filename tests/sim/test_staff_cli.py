"""`hotline staff`: the fewest agents for a target, as a planner runs it, on the issue's reference
case (100 calls per 30 minutes, AHT 180 s, 20 s threshold), and its refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.cli import main
from hotline.sim.staffing import StaffRequest, Target, plan_staff

REFERENCE = ["staff", "--rate", "200", "--aht", "180"]
KEYS = {
    "agents",
    "agents_on_line",
    "service_level",
    "asa_s",
    "abandon_rate",
    "occupancy",
    "wait_probability",
}


def _plan(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, float]:
    assert main([*REFERENCE, *argv, "--json"]) == 0
    out: dict[str, float] = json.loads(capsys.readouterr().out)
    assert set(out) == KEYS
    return out


def test_erlang_c_staffs_the_reference_case_with_14_agents(
    capsys: pytest.CaptureFixture[str],
) -> None:
    plan = _plan(capsys, "--target", "0.85/20")
    assert (plan["agents"], plan["agents_on_line"]) == (14, 14)
    assert plan["wait_probability"] == pytest.approx(0.174132, abs=5e-5)
    assert plan["asa_s"] == pytest.approx(7.836, abs=5e-4)
    assert plan["service_level"] == pytest.approx(0.888350, abs=5e-5)
    assert plan["abandon_rate"] == 0.0
    assert plan["occupancy"] == pytest.approx(10 / 14, abs=1e-6)


def test_a_higher_target_takes_the_15th_agent(capsys: pytest.CaptureFixture[str]) -> None:
    plan = _plan(capsys, "--target", "0.9/20")
    assert plan["agents_on_line"] == 15
    assert plan["wait_probability"] == pytest.approx(0.102042, abs=5e-5)
    assert plan["asa_s"] == pytest.approx(3.674, abs=5e-4)
    assert plan["service_level"] == pytest.approx(0.941453, abs=5e-5)


def test_patience_switches_to_erlang_a_and_counts_abandons(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Erlang C needs 15 agents for 90 %; with 5 minutes' patience 14 answer 91.7 % of ALL arrivals.
    plan = _plan(capsys, "--target", "0.9/20", "--patience", "300")
    assert plan["agents_on_line"] == 14
    assert plan["abandon_rate"] == pytest.approx(0.013984, abs=5e-5)
    assert plan["service_level"] == pytest.approx(0.916792, abs=5e-5)


def test_shrinkage_grosses_up_the_agents_to_schedule(capsys: pytest.CaptureFixture[str]) -> None:
    # 14 / 0.7 is 20.000000000000004 in floats: 20 people cover 14 seats, not 21.
    plan = _plan(capsys, "--target", "0.85/20", "--shrinkage", "0.3")
    assert (plan["agents"], plan["agents_on_line"]) == (20, 14)
    plan = _plan(capsys, "--target", "0.85/20", "--shrinkage", "0.25")
    assert (plan["agents"], plan["agents_on_line"]) == (19, 14)


def test_the_occupancy_cap_adds_agents_the_target_alone_would_not(
    capsys: pytest.CaptureFixture[str],
) -> None:
    plan = _plan(capsys, "--target", "0.85/20", "--max-occupancy", "0.7")
    assert plan["agents_on_line"] == 15  # 10 Erlangs on 14 agents is 71 % busy
    assert plan["occupancy"] <= 0.7


def test_the_table_marks_the_answer_among_its_neighbours(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main([*REFERENCE, "--target", "0.85/20", "--shrinkage", "0.3"]) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0]: line for line in out.splitlines() if line[:7].strip().isdigit()}
    assert list(rows) == ["12", "13", "14", "15", "16"]
    assert "88.84%" in rows["14"] and "<-" in rows["14"]
    assert "<-" not in rows["13"] + rows["15"]
    assert "to schedule with 30% shrinkage: 20" in out


def test_staff_needs_no_config_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no config/hotline.toml here, no var/
    assert main([*REFERENCE, "--target", "0.85/20", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["agents"] == 14
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("argv", "flag"),
    [
        (["--rate", "-5"], "--rate"),
        (["--rate", "lots"], "--rate"),
        (["--aht", "0"], "--aht"),
        (["--aht", "nan"], "--aht"),
        (["--target", "85/20"], "--target"),
        (["--target", "0.85"], "--target"),
        (["--target", "0.85/-1"], "--target"),
        (["--patience", "0"], "--patience"),
        (["--max-occupancy", "0"], "--max-occupancy"),
        (["--max-occupancy", "1.2"], "--max-occupancy"),
        (["--shrinkage", "1"], "--shrinkage"),
        (["--rate", "1e12"], "--rate"),  # a load no centre has: refused, not searched
    ],
)
def test_a_bad_value_is_one_line_naming_its_flag_and_exit_2(
    argv: list[str], flag: str, capsys: pytest.CaptureFixture[str]
) -> None:
    base = {"--rate": "200", "--aht": "180", "--target": "0.85/20"}
    base.update(dict(zip(argv[::2], argv[1::2], strict=True)))
    args = ["staff", *(x for pair in base.items() for x in pair)]
    assert main(args) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert captured.err.startswith(f"hotline: staff: {flag}: ")


def test_a_missing_flag_is_refused_naming_it(capsys: pytest.CaptureFixture[str]) -> None:
    # Not argparse's `required`: with --scenario none of them is (tests/sim/test_staff_scenario.py).
    assert main(["staff", "--rate", "200", "--target", "0.85/20"]) == 2
    assert "hotline: staff: --aht: required" in capsys.readouterr().err


@settings(deadline=None, max_examples=40)
@given(
    st.floats(1.0, 5000.0),
    st.floats(10.0, 1800.0),
    st.floats(0.5, 0.98),
    st.floats(0.0, 120.0),
    st.none() | st.floats(10.0, 1800.0),
    st.sampled_from([1.0, 0.9, 0.8]),
)
def test_the_plan_is_the_fewest_agents_that_meet_the_target(
    rate: float, aht: float, level: float, t: float, patience: float | None, cap: float
) -> None:
    request = StaffRequest(rate, aht, Target(level, t), patience_s=patience, max_occupancy=cap)
    plan = plan_staff(request)
    assert request.meets(plan.figures)
    assert plan.figures.service_level >= level - 1e-9
    assert plan.figures.occupancy <= cap + 1e-9
    n = plan.agents_on_line
    assert n == 1 or not request.meets(request.figures(n - 1))
