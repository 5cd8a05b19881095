"""`scripts/bench stats`: what the line's figures cost.

(b) Period reports from the rollups. A temporary database gets a month of history
(`--contacts`, a million by default, built by `bench_stats_history`: synthetic router events
through the real tracker, `Buckets` and rollup writer, with the event rows beside them) and a
year of day rollups (the month's days copied to the other months). The real service is
started on it and asked, through the app's test client:
- `GET /v1/stats?interval=1d&by=topic` over the month (goal: 100 ms), against the same figures
  from a plain GROUP BY over `contact_events` joined to `contacts`, in the same run (the ratio
  is group-by time / report time); the two must give the same figures, field by field (wrap-up
  and occupancy aside: the event table of contacts does not say them), else the run is no
  measurement and exits 1;
- a year by month: twelve month reports with `interval=1d` (goal: 1 s for the twelve).
Each is timed `--repeat` times (the GROUP BY `--baseline-repeat` times) and the fastest kept,
as timeit does: on a shared machine noise only ever slows a run.

(a) The live figures' cost per routing event, as a share of a routing decision's cost in the same
run (`bench_stats_live`, run first: it needs a quiet process, before the month is built).

Last line: `stats: live +X% per event, month by topic Y ms (Zx group-by), year by month W ms`.
This is a benchmark, not a test: it reports, it asserts nothing about time.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import bench_stats_live
import trio
from bench_stats_history import (
    Month,
    baseline_by_day,
    build_month,
    copy_days_to_year,
    month_bounds,
)

from hotline.api import create_app
from hotline.app import start_services
from hotline.config import Settings, load_settings
from hotline.kpi import KpiRules, Tally, figures
from hotline.services.auth import Role, create_token
from hotline.store import open_store

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "config" / "hotline.toml"
GOAL_MONTH_MS = 100.0
GOAL_YEAR_MS = 1000.0
# What the GROUP BY over contact events cannot say: operators' time.
NOT_COMPARED = ("wrap_s", "aht_s", "occupancy")


@dataclass(slots=True)
class PeriodFigures:
    """Part (b)'s measurements."""

    month: Month
    build_s: float
    rows: int
    month_ms: float
    group_by_ms: float
    year_ms: float
    mismatches: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return self.group_by_ms / self.month_ms


def add_arguments(parser: argparse.ArgumentParser) -> None:
    bench_stats_live.add_arguments(parser)
    parser.add_argument("--contacts", type=int, default=1_000_000, help="in the month")
    parser.add_argument("--operators", type=int, default=300)
    parser.add_argument("--month", type=date.fromisoformat, default=date(2025, 3, 1))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=20, help="timings of each report")
    parser.add_argument("--baseline-repeat", type=int, default=3, help="timings of the GROUP BY")


def run(args: argparse.Namespace) -> int:
    print(f"stats benchmark: load average {_load()}", flush=True)
    print(
        f"(a) live figures: seed {args.seed}, {args.live_operators} operators, "
        f"{args.live_contacts} waiting, {args.live_events} router calls, "
        f"{args.live_repeat} interleaved runs",
        flush=True,
    )
    cost = bench_stats_live.measure_live(args)
    bench_stats_live.report_live(cost)
    live_share: float | None = cost.share
    print("(b) period reports", flush=True)
    periods = trio.run(measure_periods, args)
    report_periods(periods)
    print(f"load average {_load()}")
    print(summary(live_share, periods))
    return 1 if periods.mismatches else 0


def summary(live_share: float | None, periods: PeriodFigures) -> str:
    live = "n/a" if live_share is None else f"+{live_share * 100:.1f}%"
    return (
        f"stats: live {live} per event, month by topic {periods.month_ms:.1f} ms"
        f" ({periods.ratio:.0f}x group-by), year by month {periods.year_ms:.0f} ms"
    )


def report_periods(p: PeriodFigures) -> None:
    m = p.month
    print(
        f"(b) a month of {m.contacts:,} contacts ({m.events:,} router events, {m.rows:,} event"
        f" rows) and a year of day rollups, built in {p.build_s:.0f} s"
    )
    same = "same figures" if not p.mismatches else f"{len(p.mismatches)} DIFFERENT figures"
    print(f"  month by topic   {p.month_ms:9.1f} ms  ({p.rows} rows; goal {GOAL_MONTH_MS:.0f} ms)")
    print(
        f"  GROUP BY events  {p.group_by_ms:9.1f} ms  ({p.ratio:.0f}x the report; {same},"
        f" {', '.join(NOT_COMPARED)} aside)"
    )
    print(f"  year by month    {p.year_ms:9.1f} ms  (12 month reports; goal {GOAL_YEAR_MS:.0f} ms)")
    for line in p.mismatches[:10]:
        print(f"  DIFFERENT: {line}")


async def measure_periods(args: argparse.Namespace) -> PeriodFigures:
    with tempfile.TemporaryDirectory(prefix="hotline-bench-stats-") as tmp:
        settings = load_settings(CONFIG).with_db(Path(tmp) / "hotline.db")
        rules = settings.kpi_rules()
        started = time.perf_counter()
        async with open_store(settings.store.path) as store:
            month = await build_month(
                store,
                rules,
                settings.routing_policy(),
                args.month,
                contacts=args.contacts,
                operators=args.operators,
                seed=args.seed,
            )
            await copy_days_to_year(store, month, args.month.year, rules.tz)
        build_s = time.perf_counter() - started
        return await _time_reports(settings, rules, month, build_s, args)


async def _time_reports(
    settings: Settings, rules: KpiRules, month: Month, build_s: float, args: argparse.Namespace
) -> PeriodFigures:
    async with trio.open_nursery() as nursery:
        services = await start_services(nursery, settings)
        token = (await create_token(services.store, Role.SUPERVISOR))[1]
        client = create_app(services).test_client()
        headers = {"Authorization": f"Bearer {token}"}

        async def report(start: float, end: float, **query: str) -> tuple[float, Any]:
            span = {"from": _local(start, rules), "to": _local(end, rules), "interval": "1d"}
            t0 = time.perf_counter()
            response = await client.get(
                "/v1/stats", query_string={**span, **query}, headers=headers
            )
            data = await response.get_data()  # as a client receives it; reading it is its own
            elapsed = time.perf_counter() - t0
            assert response.status_code == 200, data
            return elapsed, json.loads(data)

        by_topic = [await report(month.start, month.end, by="topic") for _ in range(args.repeat)]
        baseline = []
        for _ in range(args.baseline_repeat):
            t0 = time.perf_counter()
            tallies = await services.store.read(
                lambda tx: baseline_by_day(tx, rules, "topic", month.start, month.end)
            )
            baseline.append((time.perf_counter() - t0, tallies))
        months = _months_of(args.month.year, rules)
        years = []
        for _ in range(args.repeat):
            years.append(sum([(await report(lo, hi))[0] for lo, hi in months]))
        body = by_topic[0][1]
        nursery.cancel_scope.cancel()
    return PeriodFigures(
        month=month,
        build_s=build_s,
        rows=len(body["rows"]),
        month_ms=min(t for t, _ in by_topic) * 1000,
        group_by_ms=min(t for t, _ in baseline) * 1000,
        year_ms=min(years) * 1000,
        mismatches=compare(rows_of_body(body), baseline[0][1], rules),
    )


def compare(
    rows: list[tuple[float, str, dict[str, Any]]],
    baseline: dict[tuple[float, str], Tally],
    rules: KpiRules,
) -> list[str]:
    """Where a report's rows, (day's start, topic, FIGURES), and the GROUP BY's figures differ
    (operators' time aside); an empty list when they agree."""
    empty = Tally(len(rules.thresholds))
    found: list[str] = []
    for day, group, row in rows:
        expected = figures(baseline.get((day, group), empty), rules)
        for name, value in expected.items():
            if name not in NOT_COMPARED and not _close(row[name], value):
                found.append(f"{_local(day, rules)} {group} {name}: {row[name]} != {value}")
    missing = set(baseline) - {(day, group) for day, group, _ in rows}
    found.extend(f"{_local(d, rules)} {g}: not in the report" for d, g in sorted(missing))
    return found


def rows_of_body(body: dict[str, Any]) -> list[tuple[float, str, dict[str, Any]]]:
    """(start, group, figures) of each row of a `GET /v1/stats` answer."""
    return [
        (datetime.fromisoformat(r["start"].replace("Z", "+00:00")).timestamp(), r["group"], r)
        for r in body["rows"]
    ]


def _close(a: Any, b: Any) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return bool(a == b)


def _months_of(year: int, rules: KpiRules) -> list[tuple[float, float]]:
    return [month_bounds(date(year, m, 1), rules.tz) for m in range(1, 13)]


def _local(epoch: float, rules: KpiRules) -> str:
    return datetime.fromtimestamp(epoch, UTC).astimezone(rules.tz).strftime("%Y-%m-%dT%H:%M")


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())
