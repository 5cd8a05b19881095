"""The `hotline` command (also `python -m hotline`): parses arguments, loads settings, runs.

`serve` hands the settings to the composition root (`hotline.app.serve`) under `trio.run`;
`check-config` only validates a file. A configuration that cannot be used stops the command
before anything starts, with exit code 2 and one line per problem on stderr:
`hotline: config error: <key path>: <what is wrong>`.
"""

from __future__ import annotations

import argparse
import errno
import socket
import sys
from collections.abc import Sequence
from functools import partial
from pathlib import Path

import trio

from hotline.config import ConfigError, Settings, check_bind, load_settings

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_CONFIG = 2  # also what argparse uses for a bad command line: "you asked for something wrong"
# Errors that mean "this address cannot be listened on": a deployer's problem, worth one line
# rather than a traceback. Any other OSError is a fault and keeps its traceback.
_LISTEN_ERRNOS = frozenset({errno.EADDRINUSE, errno.EADDRNOTAVAIL, errno.EACCES})
DEFAULT_CONFIG = Path("config/hotline.toml")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
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
    if args.command == "migrate":
        return _migrate(settings)
    if args.command == "import-citizens":
        return _import_citizens(settings, args.file)
    if args.command == "create-token":
        return _create_token(settings, args.role, args.operator, args.name)
    return _serve(settings, bind=args.bind)


def _with_db(settings: Settings, db: Path | None) -> Settings:
    if db is None:
        return settings
    store = settings.store.model_copy(update={"path": db})
    return settings.model_copy(update={"store": store})


def _migrate(settings: Settings) -> int:
    from hotline.store import open_store

    async def run() -> None:
        settings.store.path.parent.mkdir(parents=True, exist_ok=True)
        async with open_store(settings.store.path):
            pass  # opening the store applies the migrations it lacks

    trio.run(run)
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

    settings.store.path.parent.mkdir(parents=True, exist_ok=True)
    configure_logging(settings.log.level)
    address = bind if bind is not None else settings.http.bind
    cannot_listen: OSError | None = None
    try:
        trio.run(partial(serve, settings, bind=address))
    except* OSError as group:
        listen_errors, others = group.split(_is_listen_error)
        if others is not None:
            raise others from None
        assert listen_errors is not None
        cannot_listen = _first_leaf(listen_errors)
    if cannot_listen is not None:
        why = cannot_listen.strerror or str(cannot_listen)
        print(f"hotline: cannot listen on {address}: {why}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def _is_listen_error(error: BaseException) -> bool:
    return isinstance(error, socket.gaierror) or (
        isinstance(error, OSError) and error.errno in _LISTEN_ERRNOS
    )


def _first_leaf(group: BaseExceptionGroup[OSError]) -> OSError:
    first = group.exceptions[0]
    return first if isinstance(first, OSError) else _first_leaf(first)


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
        description="Apply the schema migrations the database lacks (serve does this too).",
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

    token = commands.add_parser(
        "create-token",
        help="create an API token and print it on stdout",
        description="Create a bearer token for the API. It is printed once; only its hash "
        "is stored.",
    )
    _config_flag(token)
    _db_flag(token)
    token.add_argument(
        "--role", required=True, choices=["admin", "supervisor", "operator", "integration"]
    )
    token.add_argument("--operator", metavar="ID", help="the operator an operator token acts as")
    token.add_argument("--name", metavar="NAME", help="who holds it (shown in logs)")
    return parser


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
