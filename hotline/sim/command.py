"""`hotline simulate SCENARIO.toml`: load, run, print, write (the parser is in hotline.cli).

It reads the scenario and a hotline config (and, with `--replay`, a database read-only), and
writes only to stdout, stderr and `--out`: nothing under var/. Exit codes as the other
commands: 2 for a scenario or config that cannot be used (one line per problem), 1 for an
output that cannot be written.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hotline.config import ConfigError, load_settings
from hotline.sim import replay as replayed
from hotline.sim.engine import Simulation
from hotline.sim.plot import PlotUnavailable, write_charts
from hotline.sim.report import report, table
from hotline.sim.scenario import ScenarioError, load_scenario

EXIT_OK, EXIT_FAILED, EXIT_CONFIG = 0, 1, 2
DEFAULT_CONFIG = Path("config/hotline.toml")
_QUIET_S = 1.0  # no progress bar for runs shorter than this


def simulate(args: argparse.Namespace) -> int:
    if args.plot and args.out is None:
        print("hotline: --plot needs --out DIR", file=sys.stderr)
        return EXIT_CONFIG
    try:
        scenario = load_scenario(args.scenario)
    except ScenarioError as e:
        return _problems("scenario error", e)
    if (args.replay is None) != (args.date is None):
        print("hotline: --replay DB and --date YYYY-MM-DD go together", file=sys.stderr)
        return EXIT_CONFIG
    replay = None
    if args.replay is not None:
        scenario = replayed.over(scenario, args.date, args.days or 1.0)
        replay = replayed.arrivals_from(args.replay, scenario)
    elif args.days is not None:
        scenario = scenario.with_days(args.days)
    config = args.config or scenario.config or DEFAULT_CONFIG
    try:
        settings = load_settings(config)
        sim = Simulation(scenario, settings, seed=args.seed, replay=replay)
    except ScenarioError as e:
        return _problems("scenario error", e)
    except ConfigError as e:
        return _problems("config error", e)
    with _progress_bar() as progress:
        result = sim.run(progress)
    run = {"seed": args.seed, "config": str(config)}
    if args.replay is not None:
        run.update(replay=str(args.replay), date=args.date.isoformat())
    answer = report(result, **run)
    if args.out is not None:
        try:
            _write(answer, args.out, plot=args.plot)
        except OSError as e:
            print(f"hotline: cannot write to {args.out}: {e.strerror or e}", file=sys.stderr)
            return EXIT_FAILED
        except PlotUnavailable as e:
            print(f"hotline: {e}", file=sys.stderr)
            return EXIT_FAILED
    if args.json:
        print(json.dumps({"total": answer["total"], "rows": answer["rows"]}))
    else:
        print(table(answer, result.rules))
    return EXIT_OK


def _problems(kind: str, e: ConfigError) -> int:
    for path, what in e.problems:
        print(f"hotline: {kind}: {path}: {what}", file=sys.stderr)
    return EXIT_CONFIG


def _write(answer: dict[str, Any], folder: Path, *, plot: bool) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "simulation.json").write_text(json.dumps(answer, indent=1) + "\n")
    if plot:
        write_charts(answer, folder)


@contextmanager
def _progress_bar() -> Iterator[Callable[[float], None] | None]:
    """A progress bar on stderr once a run has taken a second, if stderr is a terminal."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress

    began = time.monotonic()
    bar: Progress | None = None
    task = None

    def show(done: float) -> None:
        nonlocal bar, task
        if bar is None:
            if time.monotonic() - began < _QUIET_S:
                return
            bar = Progress(console=Console(stderr=True), transient=True)
            bar.start()
            task = bar.add_task("simulating", total=1.0)
        assert task is not None
        bar.update(task, completed=done)

    try:
        yield show
    finally:
        if bar is not None:
            bar.stop()
