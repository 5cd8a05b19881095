"""`hotline staff --scenario SCENARIO.toml`: Erlang per stream, the simulator's check, the
search (hotline.sim.plan, hotline.sim.plan_search), printed as tables (rich) or JSON.

Reads the scenario and a hotline config as `hotline simulate` does, writes only to stdout,
stderr and `--out`. Exit codes: 0 a plan meets every goal; 1 the search ran out of simulations
before one did, or `--out` cannot be written; 2 a scenario, config or flag that cannot be used.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hotline.config import ConfigError, load_settings
from hotline.sim.plan import (
    Check,
    ErlangCell,
    Goal,
    Plan,
    PlanError,
    Planner,
    Stream,
    erlang_cells,
    erlang_plan,
    goals_of,
    streams_of,
)
from hotline.sim.plan_search import DEFAULT_BUDGET, Search, search
from hotline.sim.scenario import HOURS, ScenarioError, load_scenario

EXIT_OK, EXIT_FAILED, EXIT_CONFIG = 0, 1, 2
DEFAULT_CONFIG = Path("config/hotline.toml")


def staff_scenario(args: argparse.Namespace) -> int:
    try:
        scenario = load_scenario(args.scenario)
        if args.days is not None:
            scenario = scenario.with_days(args.days)
        config = args.config or scenario.config or DEFAULT_CONFIG
        settings = load_settings(config)
        if not scenario.arrivals:
            raise ScenarioError([("arrivals", "at least one is needed to plan for")])
        goals = goals_of(settings.kpi_rules(), args.ignore_goal or ())
        streams = streams_of(scenario, settings)
    except ScenarioError as e:
        return _problems("scenario error", e)
    except ConfigError as e:
        return _problems("config error", e)
    except PlanError as e:
        print(f"hotline: staff: --{e.field}: {e.what}", file=sys.stderr)
        return EXIT_CONFIG
    cells = {s: erlang_cells(s, goals) for s in streams}
    planner = Planner(scenario, settings, goals, seed=args.seed, each_day=args.each_day)
    start = erlang_plan(scenario, cells)
    budget = args.max_simulations or DEFAULT_BUDGET
    try:
        with _status() as progress:
            found = search(planner, start, streams, budget, progress)
    except PlanError as e:
        print(f"hotline: staff: {e.field}: {e.what}", file=sys.stderr)
        return EXIT_CONFIG
    run = {"seed": args.seed, "config": str(config), "each_day": args.each_day}
    answer = staff_answer(goals, cells, found, planner, **run)
    answer["other_seeds"] = [
        _seed_json(planner.check(found.best.plan, seed), seed)
        for seed in range(args.seed + 1, args.seed + 1 + (args.check_seeds or 0))
    ]
    if args.out is not None:
        try:
            _write(answer, found, args.out, plot=args.plot, seed=args.seed, config=str(config))
        except OSError as e:
            print(f"hotline: cannot write to {args.out}: {e.strerror or e}", file=sys.stderr)
            return EXIT_FAILED
    if args.json:
        print(json.dumps(answer))
    else:
        print_tables(answer)
    if not found.met:
        why = (
            "adding operators stopped bringing the missed goals closer"
            if found.stalled
            else f"out of simulations (--max-simulations {budget})"
        )
        print(f"hotline: staff: no plan met every goal: {why}", file=sys.stderr)
        for hour, missed in sorted(found.best.misses.items()):
            goals_missed = ", ".join(f"{name} by {m:.0%}" for name, m in missed.items())
            print(f"hotline: staff: {hour:02d}:00 misses {goals_missed}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


_PHASES = {
    "erlang": "the Erlang plan",
    "add": "adding operators where goals miss",
    "batch": "removing operators, a batch of hours at a time",
    "one_by_one": "removing operators one at a time",
}


@contextmanager
def _status() -> Iterator[Callable[[str, int], None] | None]:
    """A status line on stderr (phase, simulations so far), if stderr is a terminal."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console

    with Console(stderr=True).status("simulating") as status:

        def show(phase: str, done: int) -> None:
            status.update(f"simulation {done + 1}: {_PHASES.get(phase, phase)}")

        yield show


def _problems(kind: str, e: ConfigError) -> int:
    for path, what in e.problems:
        print(f"hotline: {kind}: {path}: {what}", file=sys.stderr)
    return EXIT_CONFIG


def _write(
    answer: dict[str, Any], found: Search, folder: Path, *, plot: bool, seed: int, config: str
) -> None:
    from hotline.sim.plot import write_charts
    from hotline.sim.report import report

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "staff.json").write_text(json.dumps(answer, indent=1) + "\n")
    if found.best.result is not None:
        # The report's `required` (and the staffing chart's line): the Erlang plan's operators.
        erlang = found.start.plan
        required = [float(sum(counts[h] for counts in erlang.values())) for h in range(HOURS)]
        result = dataclasses.replace(found.best.result, required_hourly=required)
        simulation = report(result, seed=seed, config=config)
        (folder / "simulation.json").write_text(json.dumps(simulation, indent=1) + "\n")
        if plot:
            write_charts(simulation, folder)


# -- the answer ---------------------------------------------------------------------------------


def staff_answer(
    goals: tuple[Goal, ...],
    cells: dict[Stream, list[ErlangCell]],
    found: Search,
    planner: Planner,
    **run: Any,
) -> dict[str, Any]:
    """{"goals", "hours", "erlang": per stream and hour, "erlang_plan" and "plan": each
    {"operators": {group: [24 counts]}, "operator_hours", "meets", "rows"}, "search"}."""
    return {
        "goals": {g.name: g.value for g in goals},
        "hours": list(planner.hours),
        "erlang": [
            {
                "stream": s.label,
                "topic": s.topic,
                "channel": s.channel,
                "language": s.language,
                "home": s.home,
                "aht_s": s.aht_s,
                "patience_s": s.patience_s,
                "rows": [_erlang_row(c) for c in stream_cells],
            }
            for s, stream_cells in cells.items()
        ],
        "erlang_plan": _plan_json(found.start, planner, goals),
        "plan": _plan_json(found.best, planner, goals),
        "search": {
            "met": found.met,
            "minimal": found.minimal,
            "stalled": found.stalled,
            "simulations": sum(found.simulations.values()),
            "by_phase": dict(found.simulations),
        },
        "run": run,
    }


def _erlang_row(c: ErlangCell) -> dict[str, Any]:
    f = c.figures
    return {
        "hour": c.hour,
        "rate_per_hour": c.rate_per_hour,
        "agents": c.agents,
        "target": f"{c.target.service_level:g}/{c.target.threshold_s:g}",
        "service_level": {t: round(v, 6) for t, v in c.service_level.items()},
        "asa_s": round(f.asa_s, 6),
        "abandon_rate": round(f.abandon_rate, 6),
        "occupancy": round(f.occupancy, 6),
        "wait_probability": round(f.wait_probability, 6),
    }


def _plan_json(check: Check, planner: Planner, goals: tuple[Goal, ...]) -> dict[str, Any]:
    return {
        "operators": {group: list(counts) for group, counts in check.plan.items()},
        "operator_hours": operator_hours(check.plan, planner.hours),
        "meets": check.meets,
        "problem": check.problem,
        "rows": [
            {
                "hour": h,
                "operators": sum(counts[h] for counts in check.plan.values()),
                **check.hours.get(h, {}),
                "missed": check.misses.get(h, {}),
                "tightest": _tightest(goals, check.hours.get(h)),
            }
            for h in planner.hours
        ],
    }


def _seed_json(check: Check, seed: int) -> dict[str, Any]:
    return {
        "seed": seed,
        "meets": check.meets,
        "missed": {str(h): m for h, m in check.misses.items()},
    }


def _tightest(goals: tuple[Goal, ...], f: dict[str, Any] | None) -> str | None:
    """The goal nearest to missing (or missed most) in an hour, relative to its value. A goal of
    all contacts (a deadline) has no margin to compare: named only when missed."""
    misses = [
        (m, g.name)
        for g in goals
        if f is not None
        and (m := g.miss(f)) is not None
        and (m > 0 or not (g.at_least and g.value >= 1))
    ]
    return max(misses)[1] if misses else None


def operator_hours(plan: Plan, hours: tuple[int, ...]) -> int:
    """Over the measured hours: the others keep the Erlang plan (`hotline.sim.plan_search`)."""
    return sum(counts[h] for counts in plan.values() for h in hours)


# -- the tables ---------------------------------------------------------------------------------


def print_tables(answer: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=None if sys.stdout.isatty() else 200, highlight=False)
    # Hours without contacts nor operators (the night of a day line) are left out.
    hours = [
        row["hour"]
        for row, first in zip(answer["plan"]["rows"], answer["erlang_plan"]["rows"], strict=True)
        if row.get("offered") or row["operators"] or first["operators"]
    ]
    sl_goals = [name[3:] for name in answer["goals"] if name.startswith("sl_")]

    erlang = Table(title="Erlang, each stream alone: contacts at once on the line (agents)")
    erlang.add_column("hour")
    by_stream = {s["stream"]: {r["hour"]: r["agents"] for r in s["rows"]} for s in answer["erlang"]}
    for name in by_stream:
        erlang.add_column(name, justify="right")
    for h in hours:
        if any(h in rows for rows in by_stream.values()):
            erlang.add_row(f"{h:02d}", *(str(rows.get(h, "")) for rows in by_stream.values()))
    console.print(erlang)

    check = Table(title="The whole line in the simulation: the Erlang plan, then the searched one")
    check.add_column("hour")
    check.add_column("offered", justify="right")
    for who in ("Erlang", "plan"):
        check.add_column(f"{who} ops", justify="right")
        for t in sl_goals:
            check.add_column(f"SL{t}", justify="right")
        check.add_column("ASA", justify="right")
        check.add_column("aband", justify="right")
        check.add_column("max wait", justify="right")
        check.add_column("missed" if who == "Erlang" else "missed / tightest", justify="left")
    rows = zip(answer["erlang_plan"]["rows"], answer["plan"]["rows"], strict=True)
    for erlang_row, plan_row in rows:
        if erlang_row["hour"] not in hours:
            continue
        cells = [f"{erlang_row['hour']:02d}", str(plan_row.get("offered", 0))]
        for row in (erlang_row, plan_row):
            cells += [str(row["operators"])]
            cells += [_pct(row.get("service_level", {}).get(t)) for t in sl_goals]
            cells += [_num(row.get("asa_s")), _pct(row.get("abandon_rate"))]
            missed = ", ".join(row["missed"]) or (
                "-" if row is erlang_row else f"- / {row['tightest'] or '-'}"
            )
            cells += [_num(row.get("max_wait_s"), 0), missed]
        check.add_row(*cells)
    console.print(check)

    groups = Table(
        title="The searched plan: operators on the line per group (Erlang's in brackets)"
    )
    groups.add_column("hour")
    plan, start = answer["plan"]["operators"], answer["erlang_plan"]["operators"]
    used = [g for g in plan if any(plan[g][h] or start[g][h] for h in hours)]
    for g in used:
        groups.add_column(g, justify="right")
    for h in hours:
        if any(plan[g][h] or start[g][h] for g in used):
            groups.add_row(f"{h:02d}", *(f"{plan[g][h]} ({start[g][h]})" for g in used))
    console.print(groups)

    search_ = answer["search"]
    phases = ", ".join(f"{name} {n}" for name, n in search_["by_phase"].items())
    verdict = (
        "every goal met; removing any one operator-hour breaks one"
        if search_["minimal"]
        else "every goal met, not proven minimal (out of simulations)"
        if search_["met"]
        else "NOT every goal met: adding operators stopped helping"
        if search_["stalled"]
        else "NOT every goal met (out of simulations)"
    )
    for other in answer.get("other_seeds", ()):
        missed = "; ".join(
            f"{int(h):02d}:00 {', '.join(goals)}" for h, goals in other["missed"].items()
        )
        console.print(
            f"the plan with seed {other['seed']}: "
            + ("every goal met" if other["meets"] else f"missed {missed or '(cannot run)'}")
        )
    console.print(
        f"operator-hours: Erlang {answer['erlang_plan']['operator_hours']}, searched plan "
        f"{answer['plan']['operator_hours']}; {verdict}; "
        f"{search_['simulations']} simulations ({phases}), seed {answer['run']['seed']}"
    )


def _pct(share: float | None) -> str:
    return "-" if share is None else f"{100 * share:.1f}%"


def _num(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"
