"""`hotline staff --scenario`: Erlang per stream, the simulator's check and the searched plan, on
a small two-group line (two simulated hours), as a planner runs it; and its refusals."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Any

import pytest

from hotline.cli import main
from hotline.config import load_settings
from hotline.kpi import Tally, figures
from hotline.sim.plan import Plan, Planner, erlang_cells, goals_of, streams_of
from hotline.sim.plan_search import search
from hotline.sim.scenario import load_scenario

from .conftest import CONFIG

SMALL = f"""\
hours = 2
warmup_min = 20
config = "{CONFIG.as_posix()}"
[[arrivals]]
topic = "documents"
per_hour = 50
[[arrivals]]
topic = "payments"                 # urgent in the shipped config
per_hour = 25
[handle_time."*"]
dist = "exp"
mean_s = 200
[patience]
dist = "exp"
mean_s = 180
[[operators]]
name = "general"
count = 5
skills = {{ documents = 4, payments = 2 }}
[[operators]]
name = "payments"
count = 3
skills = {{ payments = 5 }}
"""


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("staff") / "small.toml"
    path.write_text(SMALL)
    return path


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("out")


@pytest.fixture(scope="module")
def answer(small: Path, out_dir: Path) -> dict[str, Any]:
    argv = ["--scenario", str(small), "--json", "--seed", "3", "--out", str(out_dir)]
    argv += ["--check-seeds", "2"]
    code, out, err = _run("staff", *argv)
    assert code == 0, err
    result: dict[str, Any] = json.loads(out)
    return result


@pytest.fixture(scope="module")
def planner(small: Path) -> Planner:
    settings = load_settings(CONFIG)
    return Planner(load_scenario(small), settings, goals_of(settings.kpi_rules()), seed=3)


def _plan(answer: dict[str, Any]) -> Plan:
    return {group: tuple(counts) for group, counts in answer["plan"]["operators"].items()}


def _holds(goal: str, value: float, row: dict[str, Any]) -> bool:
    if goal.startswith("sl_"):
        return bool(row["service_level"][goal[3:]] >= value)
    if goal.startswith("deadline_"):
        met = row["deadline_met"][goal[9:]]
        return met is None or bool(met >= value)
    return bool(row[goal] <= value)


def test_the_searched_plan_meets_every_goal_in_every_hour(
    answer: dict[str, Any], planner: Planner
) -> None:
    assert answer["search"]["met"] and answer["search"]["minimal"]
    assert answer["hours"] == [0, 1]
    goals = answer["goals"]
    assert set(goals) >= {"sl_20", "asa_s", "abandon_rate", "deadline_urgent"}
    for row in answer["plan"]["rows"]:
        assert row["offered"] > 30
        for goal, value in goals.items():
            assert _holds(goal, value, row), (row["hour"], goal, value)
    # The same plan simulated again with the same seed: the same verdict, the same figures.
    again = planner.check(_plan(answer))
    assert again.meets
    assert [again.hours[h]["service_level"] for h in (0, 1)] == [
        row["service_level"] for row in answer["plan"]["rows"]
    ]


def test_removing_any_one_operator_from_the_plan_breaks_a_goal(
    answer: dict[str, Any], planner: Planner
) -> None:
    plan = _plan(answer)
    tried = 0
    for group, counts in plan.items():
        for hour in answer["hours"]:
            if counts[hour] == 0:
                continue
            fewer = dict(plan)
            fewer[group] = tuple(n - (h == hour) for h, n in enumerate(counts))
            assert not planner.check(fewer).meets, (group, hour)
            tried += 1
    assert tried >= 3


def test_the_search_starts_from_erlang_and_counts_its_simulations(
    answer: dict[str, Any],
) -> None:
    erlang = answer["erlang_plan"]
    # Erlang's plan: each stream alone, in its home group.
    assert erlang["operators"]["general"][:2] == [
        row["agents"] for row in answer["erlang"][0]["rows"][:2]
    ]
    assert erlang["operators"]["payments"][:2] == [
        row["agents"] for row in answer["erlang"][1]["rows"][:2]
    ]
    assert answer["plan"]["operator_hours"] != erlang["operator_hours"]
    search = answer["search"]
    assert search["simulations"] == sum(search["by_phase"].values()) >= 2
    assert search["by_phase"]["erlang"] == 1


def test_the_plan_is_simulated_again_with_other_seeds_on_request(
    answer: dict[str, Any], planner: Planner
) -> None:
    others = answer["other_seeds"]
    assert [o["seed"] for o in others] == [4, 5]
    for other in others:
        again = planner.check(_plan(answer), seed=other["seed"])
        assert other["meets"] == again.meets == (not other["missed"])
        assert other["missed"] == {str(h): m for h, m in again.misses.items()}


def test_from_a_short_plan_the_search_adds_until_every_goal_holds(
    answer: dict[str, Any], planner: Planner
) -> None:
    # Erlang's plan with the measured hours cut short (the warm-up's hour 23 keeps its own).
    erlang = answer["erlang_plan"]["operators"]
    short = {"general": (3, 3, *erlang["general"][2:]), "payments": (1, 1, *erlang["payments"][2:])}
    streams = streams_of(planner.scenario, load_settings(CONFIG))
    found = search(planner, short, streams)
    assert not found.start.meets and found.simulations["add"] >= 2
    assert found.met and found.minimal and found.best.meets
    assert sum(map(sum, found.best.plan.values())) > 8


def test_erlang_per_stream_is_what_hotline_staff_rate_says(answer: dict[str, Any]) -> None:
    sl_goals = {k[3:]: v for k, v in answer["goals"].items() if k.startswith("sl_")}
    for stream in answer["erlang"]:
        row = stream["rows"][0]
        base = [
            "staff",
            "--rate",
            str(row["rate_per_hour"]),
            "--aht",
            str(stream["aht_s"]),
            "--patience",
            str(stream["patience_s"]),
            "--json",
        ]
        code, out, _ = _run(*base, "--target", row["target"])
        assert code == 0
        alone = json.loads(out)
        assert alone["agents_on_line"] == row["agents"]
        for key in ("asa_s", "abandon_rate", "occupancy", "wait_probability"):
            assert alone[key] == row[key]
        threshold = row["target"].split("/")[1]
        assert alone["service_level"] == row["service_level"][threshold]
        # Every other service-level goal needs no more agents than the binding one.
        for t, level in sl_goals.items():
            code, out, _ = _run(*base, "--target", f"{level}/{t}")
            assert json.loads(out)["agents_on_line"] <= row["agents"]


def test_the_table_says_when_the_search_ran_out_of_simulations(small: Path) -> None:
    # Two runs: the Erlang plan (it meets the goals here) and one batch; no proof of minimality.
    code, out, _ = _run("staff", "--scenario", str(small), "--seed", "3", "--max-simulations", "2")
    assert code == 0
    assert "Erlang, each stream alone" in out
    assert "documents/voice" in out and "payments/voice" in out
    assert "The searched plan" in out
    assert "every goal met, not proven minimal (out of simulations); 2 simulations" in out


def test_out_writes_the_plan_and_its_simulation(answer: dict[str, Any], out_dir: Path) -> None:
    assert json.loads((out_dir / "staff.json").read_text()) == answer
    simulation = json.loads((out_dir / "simulation.json").read_text())
    assert simulation["total"]["offered"] == sum(r["offered"] for r in answer["plan"]["rows"])
    # Each interval's `required` is the Erlang plan's operators in its hour.
    erlang = answer["erlang_plan"]["rows"]
    assert [row["required"] for row in simulation["rows"]] == [
        float(erlang[i // 4]["operators"]) for i in range(8)
    ]


def test_goals_no_number_of_operators_meets_stop_the_search_with_the_misses(
    tmp_path: Path,
) -> None:
    # Every offer rings 12 s: the citizens who give up within it (patience 180 s on average:
    # 6.5 %) abandon whatever the plan, so abandon_rate <= 5 % cannot hold.
    ringing = tmp_path / "ringing.toml"
    ringing.write_text(
        SMALL.replace(
            "warmup_min = 20", 'warmup_min = 20\noffer_delay = { dist = "fixed", mean_s = 12 }'
        )
    )
    code, out, err = _run("staff", "--scenario", str(ringing), "--seed", "3", "--json")
    assert code == 1
    answer = json.loads(out)
    assert answer["search"]["stalled"] and not answer["search"]["met"]
    assert answer["search"]["simulations"] < 20
    assert (
        "no plan met every goal: adding operators stopped bringing the missed goals closer" in err
    )
    assert "00:00 misses" in err and "abandon_rate by" in err


def test_a_scenario_nobody_can_answer_is_refused_naming_the_key(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(SMALL.replace('topic = "payments"  ', 'topic = "signature" '))
    code, _, err = _run("staff", "--scenario", str(bad))
    assert code == 2
    assert "arrivals[1].topic" in err and "signature" in err
    code, _, err = _run("staff", "--scenario", str(tmp_path / "missing.toml"))
    assert code == 2 and "no such file" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--scenario", "x.toml", "--rate", "100"], "--rate: not with --scenario"),
        (["--scenario", "x.toml", "--plot"], "--plot: needs --out"),
        (["--scenario", "x.toml", "--max-simulations", "0"], "--max-simulations: must be"),
        (["--scenario", "x.toml", "--check-seeds", "-1"], "--check-seeds: must be"),
        (["--aht", "180", "--target", "0.85/20"], "--rate: required (or --scenario"),
        (["--rate", "100", "--target", "0.85/20"], "--aht: required"),
        (["--rate", "100", "--aht", "180"], "--target: required"),
        (["--rate", "100", "--aht", "1", "--target", "0.8/20", "--days", "1"], "only with"),
    ],
)
def test_flags_that_do_not_go_together_are_refused(argv: list[str], message: str) -> None:
    code, out, err = _run("staff", *argv)
    assert code == 2
    assert message in err and out == ""


def test_an_unknown_goal_to_ignore_is_refused(small: Path) -> None:
    code, _, err = _run("staff", "--scenario", str(small), "--ignore-goal", "sl_99")
    assert code == 2
    assert "--ignore-goal: 'sl_99' is not a goal" in err


def test_the_readme_example_loads_and_erlang_staffs_it_as_shown() -> None:
    # docs/readme/staff.md's worked example: the first row of its Erlang table.
    scenario = load_scenario(CONFIG.parent / "staff.example.toml")
    settings = load_settings(CONFIG)
    goals = goals_of(settings.kpi_rules())
    streams = streams_of(scenario, settings)
    first = {s.label: erlang_cells(s, goals)[0] for s in streams}
    assert {label: (c.hour, c.agents) for label, c in first.items()} == {
        "documents/voice": (8, 13),
        "payments/voice": (8, 6),
        "applications/chat": (8, 7),
    }
    assert [s.home for s in streams] == ["general", "payments", "chat"]


def test_each_day_plans_for_every_simulated_day_not_their_pool(tmp_path: Path) -> None:
    night = [50, 50] + [0] * 22
    two = tmp_path / "two_nights.toml"
    two.write_text(
        SMALL.replace("hours = 2", "days = 2")
        .replace("per_hour = 50", f"per_hour = {night}")
        .replace("per_hour = 25", f"per_hour = {[n // 2 for n in night]}")
    )
    code, out, err = _run("staff", "--scenario", str(two), "--seed", "3", "--each-day", "--json")
    assert code == 0, err
    answer = json.loads(out)
    assert answer["run"]["each_day"] and answer["search"]["minimal"]
    settings = load_settings(CONFIG)
    planner = Planner(load_scenario(two), settings, goals_of(settings.kpi_rules()), seed=3)
    check = planner.check(_plan(answer))
    assert check.result is not None
    rules = check.result.rules
    days: dict[tuple[int, int], Tally] = {}
    for (start, *_), t in check.result.buckets.queues.items():
        hour = int((start - check.result.start) // 3600)
        days.setdefault((hour // 24, hour % 24), Tally(len(rules.thresholds))).merge(t)
    assert {key for key, t in days.items() if t.offered} == {(0, 0), (0, 1), (1, 0), (1, 1)}
    for key, t in days.items():
        for goal, value in answer["goals"].items():
            if t.offered:
                assert _holds(goal, value, figures(t, rules)), (key, goal)
