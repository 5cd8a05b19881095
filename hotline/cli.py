"""The `hotline` command (also `python -m hotline`): parses arguments, loads settings, runs.

`serve` hands the settings to the composition root (`hotline.app.serve`) under `trio.run`;
`check-config` only validates a file; `simulate` runs the capacity simulator
(`hotline.sim.command`) on a scenario and writes no database nor anything under var/. A
configuration that cannot be used stops the command before anything starts, with exit code 2
and one line per problem on stderr:
`hotline: config error: <key path>: <what is wrong>`.

Every command but `check-config` and `staff` (which reads no config and writes nothing) runs
under umask 077: the database, its lock, the outbox files, recordings and attachments hold
personal data, so whatever it creates is the deployer's alone.
A database held by a running server (`<db>.lock`) stops `serve` and `migrate` at once with exit
code 4 and one line naming the holder; a store that cannot be written at start-up (a full disk)
stops `serve` with exit code 3 and one line, not a traceback.
"""

from __future__ import annotations

import argparse
import errno
import os
import socket
import sys
from collections.abc import Sequence
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

import trio

from hotline.config import ConfigError, Settings, check_bind, load_settings

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_CONFIG = 2  # also what argparse uses for a bad command line: "you asked for something wrong"
EXIT_STORAGE = 3  # the database or its folder cannot be written (disk full, I/O error)
EXIT_LOCKED = 4  # another process holds the database (`hotline.store.lock`)
PRIVATE_UMASK = 0o077
# Errors that mean "this address cannot be listened on": a deployer's problem, worth one line
# rather than a traceback. Any other OSError is a fault and keeps its traceback.
_LISTEN_ERRNOS = frozenset({errno.EADDRINUSE, errno.EADDRNOTAVAIL, errno.EACCES})
DEFAULT_CONFIG = Path("config/hotline.toml")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "simulate":  # its own config and scenario; no database, no umask
        from hotline.sim.command import simulate

        return simulate(args)
    if args.command == "staff":  # pure arithmetic: no config, no database
        return _staff(args)
    try:
        settings = load_settings(args.config)
    except ConfigError as e:
        # check-config lists every problem; start-up stops at the first, in one line.
        problems = e.problems if args.command == "check-config" else e.problems[:1]
        for path, what in problems:
            print(f"hotline: config error: {path}: {what}", file=sys.stderr)
        return EXIT_CONFIG
    if args.command == "check-config":
        print(f"hotline: {args.config}: ok ({len(settings.topics)} topics)")
        return EXIT_OK
    settings = _with_db(settings, args.db)
    os.umask(PRIVATE_UMASK)
    if args.command == "migrate":
        return _migrate(settings)
    if args.command == "import-citizens":
        return _import_citizens(settings, args.file)
    if args.command == "create-token":
        return _create_token(settings, args.role, args.operator, args.name)
    if args.command == "import-kb":
        return _import_kb(settings, args.file)
    return _serve(settings, bind=args.bind)


def _with_db(settings: Settings, db: Path | None) -> Settings:
    return settings if db is None else settings.with_db(db)


def _migrate(settings: Settings) -> int:
    from hotline.store import open_store
    from hotline.store.lock import DatabaseLocked, hold_database_lock

    async def run() -> None:
        async with open_store(settings.store.path):
            pass  # opening the store applies the migrations it lacks

    settings.store.path.parent.mkdir(parents=True, exist_ok=True)
    # A running server has migrated at its start and its code expects that schema: refuse.
    try:
        with hold_database_lock(settings.store.path):
            trio.run(run)
    except DatabaseLocked as e:
        print(f"hotline: cannot migrate: {e}; stop it first", file=sys.stderr)
        return EXIT_LOCKED
    print(f"hotline: {settings.store.path}: schema up to date")
    return EXIT_OK


def _import_citizens(settings: Settings, file: Path) -> int:
    import time

    from hotline.citizens_import import CitizenFileError, read_citizens
    from hotline.store import Tx, open_store
    from hotline.store.citizens import import_citizens

    try:
        records = read_citizens(file)
    except OSError as e:
        print(f"hotline: cannot read {file}: {e.strerror}", file=sys.stderr)
        return EXIT_FAILED
    except CitizenFileError as e:
        print(f"hotline: {e}; nothing imported", file=sys.stderr)
        return EXIT_CONFIG

    async def run() -> int:
        settings.store.path.parent.mkdir(parents=True, exist_ok=True)
        async with open_store(settings.store.path) as store:

            async def work(tx: Tx) -> int:
                return await import_citizens(tx, records, at=time.time())

            return await store.transact(work)

    written = trio.run(run)
    print(f"hotline: {len(records)} citizens read, {written} written")
    return EXIT_OK


def _import_kb(settings: Settings, file: Path) -> int:
    import time

    from hotline.domain.errors import Invalid
    from hotline.kb.files import ArticleFileError, read_articles
    from hotline.services.kb import import_articles
    from hotline.store import open_store
    from hotline.store.kb import Editor

    try:
        articles = read_articles(file)
    except OSError as e:
        print(f"hotline: cannot read {file}: {e.strerror}", file=sys.stderr)
        return EXIT_FAILED
    except ArticleFileError as e:
        print(f"hotline: {e}; nothing imported", file=sys.stderr)
        return EXIT_CONFIG

    async def run() -> str:
        settings.store.path.parent.mkdir(parents=True, exist_ok=True)
        async with open_store(settings.store.path) as store:
            counts = await import_articles(
                store, settings, articles, editor=Editor("import-kb", "cli"), at=time.time()
            )
        return f"{counts.created} created, {counts.updated} updated, {counts.unchanged} unchanged"

    try:
        summary = trio.run(run)
    except Invalid as e:
        print(f"hotline: {file}: {e.field}: {e.message}; nothing imported", file=sys.stderr)
        return EXIT_CONFIG
    print(f"hotline: {len(articles)} articles read: {summary}")
    return EXIT_OK


def _create_token(settings: Settings, role: str, operator: str | None, name: str | None) -> int:
    from hotline.services.auth import Role, create_token
    from hotline.store import open_store

    if (role == Role.OPERATOR) != (operator is not None):
        print(
            "hotline: --operator is required with --role operator, and only then", file=sys.stderr
        )
        return EXIT_CONFIG

    async def run() -> str:
        settings.store.path.parent.mkdir(parents=True, exist_ok=True)
        async with open_store(settings.store.path) as store:
            stored, secret = await create_token(
                store, Role(role), operator_id=operator, name=name or ""
            )
        print(f"hotline: token {stored.id} ({stored.role}) created", file=sys.stderr)
        return secret

    print(trio.run(run))
    return EXIT_OK


def _serve(settings: Settings, *, bind: str | None) -> int:
    # Imported here so that `check-config` does not pay for the web stack.
    from hotline.app import serve
    from hotline.jsonlog import configure_logging

    configure_logging(settings.log.level)
    address = bind if bind is not None else settings.http.bind
    failed: tuple[str, int] | None = None
    try:
        trio.run(partial(serve, settings, bind=address))
    except* Exception as group:
        failed = _start_failure(group, settings.store.path, address)
    if failed is not None:
        print(f"hotline: {failed[0]}", file=sys.stderr)
        return failed[1]
    return EXIT_OK


def _start_failure(
    group: BaseExceptionGroup[Exception], database: Path, address: str
) -> tuple[str, int]:
    """The one line and the exit code for what stopped `serve`; anything unexpected is raised
    again with its traceback."""
    from hotline.store.errors import storage_fault
    from hotline.store.lock import DatabaseLocked

    locked, rest = group.split(DatabaseLocked)
    if locked is not None:
        return f"not started: {_first_leaf(locked)}", EXIT_LOCKED
    assert rest is not None
    full, rest = rest.split(lambda e: storage_fault(e) is not None)
    if full is not None:
        fault = storage_fault(_first_leaf(full))
        why = fault.strerror if isinstance(fault, OSError) and fault.strerror else str(fault)
        return f"cannot write to {database} or beside it: {why}", EXIT_STORAGE
    assert rest is not None
    listen, rest = rest.split(_is_listen_error)
    if rest is not None:
        raise rest from None
    assert listen is not None
    cannot_listen = _first_leaf(listen)
    assert isinstance(cannot_listen, OSError)
    why = cannot_listen.strerror or str(cannot_listen)
    return f"cannot listen on {address}: {why}", EXIT_FAILED


def _is_listen_error(error: BaseException) -> bool:
    return isinstance(error, socket.gaierror) or (
        isinstance(error, OSError) and error.errno in _LISTEN_ERRNOS
    )


def _first_leaf(group: BaseExceptionGroup[Exception]) -> Exception:
    first = group.exceptions[0]
    return _first_leaf(first) if isinstance(first, BaseExceptionGroup) else first


def _bind(value: str) -> str:
    try:
        return check_bind(value)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hotline", description="Back end of a government-services support line."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser(
        "serve",
        help="run the server until SIGTERM or SIGINT",
        description="Run the router and the HTTP API. SIGTERM or SIGINT stops it cleanly "
        "(requests in flight finish) with exit code 0.",
    )
    _config_flag(serve)
    _db_flag(serve)
    serve.add_argument(
        "--bind",
        type=_bind,
        metavar="HOST:PORT",
        help="address to listen on; port 0 picks a free one "
        "(default: http.bind of the config, 127.0.0.1:8080)",
    )

    check = commands.add_parser(
        "check-config",
        help="validate a configuration file and exit",
        description="Exit 0 if the file is usable, else 2 with one line per problem.",
    )
    _config_flag(check)

    migrate = commands.add_parser(
        "migrate",
        help="create the database or bring its schema up to date, and exit",
        description="Apply the schema migrations the database lacks (serve does this too). "
        "Refused (exit code 4) while a server holds the database: stop it first.",
    )
    _config_flag(migrate)
    _db_flag(migrate)

    citizens = commands.add_parser(
        "import-citizens",
        help="load the citizens' register from CSV or JSON lines",
        description="Columns/keys: full_name, phone, inn and/or snils. Every record is checked "
        "first; one bad record imports nothing. Existing citizens (same INN or SNILS) are updated.",
    )
    _config_flag(citizens)
    _db_flag(citizens)
    citizens.add_argument("file", type=Path, metavar="FILE", help=".csv, or .jsonl/.json lines")

    _import_kb_parser(commands)
    token = commands.add_parser(
        "create-token",
        help="create an API token and print it on stdout",
        description="Create a bearer token for the API. It is printed once; only its hash "
        "is stored.",
    )
    _config_flag(token)
    _db_flag(token)
    token.add_argument(
        "--role",
        required=True,
        choices=["admin", "supervisor", "operator", "integration", "editor"],
    )
    token.add_argument("--operator", metavar="ID", help="the operator an operator token acts as")
    token.add_argument("--name", metavar="NAME", help="who holds it (shown in logs)")
    _simulate_parser(commands)
    _staff_parser(commands)
    return parser


def _import_kb_parser(commands: Any) -> None:
    kb = commands.add_parser(
        "import-kb",
        help="load knowledge-base articles from JSON lines or a folder of Markdown files",
        description="A .jsonl file of objects (slug, title, body, topics, tags, language, status, "
        "review_by, kind, author), or a folder of .md files with that front matter between '---' "
        "lines (slug defaults to the file name). A slug seen before makes a new version of its "
        "article. Every record is checked first; one bad record imports nothing.",
    )
    _config_flag(kb)
    _db_flag(kb)
    kb.add_argument(
        "file", type=Path, metavar="FILE", help="a .jsonl file or a folder of .md files"
    )


def _simulate_parser(commands: Any) -> None:
    simulate = commands.add_parser(
        "simulate",
        help="simulate a scenario on the real router and print the KPIs per interval",
        description="Run the routing core on virtual time through the scenario (arrivals, "
        "handle times, patience, operators and shifts; config/scenario.example.toml) and print "
        "the same figures as GET /v1/stats, per interval and in total. Needs no database "
        "(--replay reads one, read-only).",
    )
    simulate.add_argument("scenario", type=Path, metavar="SCENARIO.toml")
    simulate.add_argument(
        "--config",
        type=Path,
        metavar="PATH",
        help="the hotline config whose routing and [kpi] are simulated (default: the "
        f"scenario's `config`, else {DEFAULT_CONFIG})",
    )
    simulate.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    simulate.add_argument(
        "--days", type=_positive, metavar="D", help="simulate D days (overrides hours/days)"
    )
    simulate.add_argument(
        "--out", type=Path, metavar="DIR", help="write simulation.json (and the charts) here"
    )
    simulate.add_argument(
        "--plot", action="store_true", help="with --out: PNG charts (needs hotline[plot])"
    )
    simulate.add_argument(
        "--json",
        action="store_true",
        help='print {"total": FIGURES, "rows": [...]} instead of the table',
    )
    simulate.add_argument(
        "--replay",
        type=Path,
        metavar="DB",
        help="the contacts of a past day in this hotline database (read-only), instead of "
        "the scenario's arrivals, with the scenario's operators",
    )
    simulate.add_argument(
        "--date", type=_date, metavar="YYYY-MM-DD", help="with --replay: the day to replay"
    )


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date YYYY-MM-DD") from None


def _positive(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if not number > 0:
        raise argparse.ArgumentTypeError(f"{value!r} is not > 0")
    return number


# `hotline staff`: operators needed by Erlang C/A (hotline/sim/staffing.py). Numbers are read
# here, not by argparse, so that every bad value is one line naming its flag.
def _staff_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    staff = commands.add_parser(
        "staff",
        help="agents needed for a service-level target, by Erlang C (or A with --patience); "
        "with --scenario, a whole line's plan per hour checked in the simulator",
        description="The fewest agents on one queue that answer LEVEL of the contacts within "
        "SECONDS (and keep occupancy under the cap), by Erlang C, or by Erlang A when a mean "
        "patience is given; then grossed up for shrinkage. Needs no config and no database. "
        "With --scenario instead: per hour of the day, Erlang for each arrival stream alone, the "
        "simulator's check of that plan on the whole line, and the smallest plan that meets "
        "every [kpi.goals] goal and class deadline in the simulation (README).",
    )
    staff.add_argument("--rate", metavar="PER_HOUR", help="arrivals per hour")
    staff.add_argument("--aht", metavar="SECONDS", help="mean handle time")
    staff.add_argument("--target", metavar="LEVEL/SECONDS", help="e.g. 0.85/20: 85%% in 20 s")
    staff.add_argument(
        "--patience", metavar="SECONDS", help="mean patience (exponential): Erlang A"
    )
    staff.add_argument("--max-occupancy", metavar="FRACTION", help="occupancy cap (default: none)")
    staff.add_argument(
        "--shrinkage", metavar="FRACTION", help="paid time off the line (default: 0)"
    )
    staff.add_argument("--json", action="store_true", help="print the plan as one JSON object")
    # A whole line: hotline/sim/plan.py, plan_search.py, staff_command.py.
    staff.add_argument(
        "--scenario",
        type=Path,
        metavar="SCENARIO.toml",
        help="plan a whole scenario per hour: Erlang per stream, the simulator's check, and "
        "the smallest plan meeting every goal in the simulation (instead of --rate/--aht/--target)",
    )
    staff.add_argument(
        "--config",
        type=Path,
        metavar="PATH",
        help="with --scenario: the hotline config (routing, [kpi] and its goals; default: the "
        f"scenario's `config`, else {DEFAULT_CONFIG})",
    )
    staff.add_argument("--seed", type=int, default=1, help="with --scenario: seed (default 1)")
    staff.add_argument(
        "--days", type=_positive, metavar="D", help="with --scenario: simulate D days"
    )
    staff.add_argument(
        "--ignore-goal",
        action="append",
        metavar="NAME",
        help="with --scenario: leave this goal out of the plan (e.g. max_wait_s); repeatable",
    )
    staff.add_argument(
        "--max-simulations",
        type=int,
        metavar="N",
        help="with --scenario: stop the search after N simulations (default 2000)",
    )
    staff.add_argument(
        "--each-day",
        action="store_true",
        help="with --scenario: every goal in each simulated day's hour, not only in the days' "
        "hours pooled (with --days)",
    )
    staff.add_argument(
        "--check-seeds",
        type=int,
        metavar="K",
        help="with --scenario: simulate the plan found again with the next K seeds, to see how "
        "much it owes to one seed's contacts",
    )
    staff.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="with --scenario: write staff.json and simulation.json (the plan's run) here",
    )
    staff.add_argument(
        "--plot", action="store_true", help="with --out: the plan's charts (needs hotline[plot])"
    )


_SCENARIO_ONLY = (
    "config",
    "days",
    "ignore_goal",
    "max_simulations",
    "each_day",
    "check_seeds",
    "out",
)
_RATE_ONLY = ("rate", "aht", "target", "patience", "max_occupancy", "shrinkage")


def _staff(args: argparse.Namespace) -> int:
    import json

    def refuse(flag: str, what: str) -> int:
        print(f"hotline: staff: --{flag.replace('_', '-')}: {what}", file=sys.stderr)
        return EXIT_CONFIG

    if args.scenario is not None:
        for name in _RATE_ONLY:
            if getattr(args, name) is not None:
                return refuse(name, "not with --scenario (the scenario gives the rates)")
        if args.plot and args.out is None:
            return refuse("plot", "needs --out DIR")
        if args.max_simulations is not None and args.max_simulations < 1:
            return refuse("max_simulations", "must be at least 1")
        if args.check_seeds is not None and args.check_seeds < 0:
            return refuse("check_seeds", "must be 0 or more")
        from hotline.sim.staff_command import staff_scenario

        return staff_scenario(args)
    for name in (*_SCENARIO_ONLY, "plot"):
        if getattr(args, name) not in (None, False):
            return refuse(name, "only with --scenario SCENARIO.toml")
    for name in ("rate", "aht", "target"):
        if getattr(args, name) is None:
            return refuse(name, "required (or --scenario SCENARIO.toml for a whole line)")

    from hotline.sim.staffing import (
        StaffingError,
        StaffRequest,
        parse_target,
        plan_staff,
        plan_table,
    )

    def number(flag: str, text: str) -> float:
        try:
            return float(text)
        except ValueError:
            raise StaffingError(flag, f"{text!r} is not a number") from None

    try:
        request = StaffRequest(
            rate_per_hour=number("rate", args.rate),
            aht_s=number("aht", args.aht),
            target=parse_target(args.target),
            patience_s=None if args.patience is None else number("patience", args.patience),
            max_occupancy=number("max-occupancy", args.max_occupancy or "1"),
            shrinkage=number("shrinkage", args.shrinkage or "0"),
        )
        plan = plan_staff(request)
    except StaffingError as e:
        print(f"hotline: staff: --{e.field}: {e.what}", file=sys.stderr)
        return EXIT_CONFIG
    print(json.dumps(plan.as_json()) if args.json else plan_table(plan))
    return EXIT_OK


def _db_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        type=Path,
        metavar="PATH",
        help="SQLite database file (default: store.path of the config, var/hotline.db)",
    )


def _config_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        type=Path,
        default=DEFAULT_CONFIG,
        metavar="PATH",
        help=f"TOML configuration file (default: {DEFAULT_CONFIG})",
    )
