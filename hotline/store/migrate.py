"""Schema migrations: the numbered `migrations/NNNN_name.sql` files, applied once each, in order.

The store actor runs `migrate` in its first transaction, before it reports started; the `migrate`
CLI command does the same by opening the store. Each applied file is recorded in
`schema_migrations`, so running it again changes nothing. A file is never edited once released:
a change is a new file.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from importlib.resources import files

from hotline.store.errors import SchemaTooNew
from hotline.store.tx import Tx

_FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

_CREATE_LEDGER = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
)
"""


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


def available_migrations() -> list[Migration]:
    """Every migration shipped with this release, by version."""
    found: dict[int, Migration] = {}
    for entry in files("hotline.store").joinpath("migrations").iterdir():
        match = _FILE_NAME.match(entry.name)
        if match is None:
            continue
        version = int(match[1])
        if version in found:
            raise ValueError(f"two migrations numbered {version:04d}")
        found[version] = Migration(version, match[2], entry.read_text(encoding="utf-8"))
    return [found[v] for v in sorted(found)]


def split_statements(script: str) -> list[str]:
    """The statements of a script, one per line ending in `;` (a trigger body may span lines).

    Needed because sqlite3's `executescript` commits the open transaction first (Python 3.11),
    which would leave a half-applied migration behind a failure.
    """
    statements: list[str] = []
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            statements.append(pending.strip())
            pending = ""
    leftover = [ln for ln in pending.splitlines() if ln.strip() and not ln.strip().startswith("--")]
    if leftover:
        raise ValueError(f"incomplete statement at the end of a script: {leftover[0]!r}")
    return statements


async def migrate(tx: Tx) -> list[int]:
    """Apply the migrations this database lacks, inside the caller's transaction.

    Returns the versions applied now (empty when the schema was already current).
    """
    await tx.execute(_CREATE_LEDGER)
    done = {int(row[0]) for row in await tx.fetchall("SELECT version FROM schema_migrations")}
    shipped = available_migrations()
    newest = max((m.version for m in shipped), default=0)
    if done and max(done) > newest:
        raise SchemaTooNew(
            f"database schema is at {max(done):04d}, this release knows {newest:04d}"
        )
    applied: list[int] = []
    for migration in shipped:
        if migration.version in done:
            continue
        for statement in split_statements(migration.sql):
            await tx.execute(statement)
        await tx.execute(
            "INSERT INTO schema_migrations (version, name) VALUES (?, ?)",
            (migration.version, migration.name),
        )
        applied.append(migration.version)
    return applied
