"""Opening a store creates the schema once, in WAL mode, and refuses a schema it does not know."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
import trio

from hotline.store import SchemaTooNew, StoreHandle, Tx, open_store
from hotline.store.migrate import available_migrations, split_statements

TABLES = {
    "contacts",
    "contact_events",
    "operators",
    "operator_events",
    "api_tokens",
    "idempotency_keys",
    "schema_migrations",
}


def _tables(path: Path) -> set[str]:
    with closing(sqlite3.connect(path)) as conn:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {name for (name,) in rows}


def _applied(path: Path) -> list[tuple[int, str]]:
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute(
            "SELECT version, name FROM schema_migrations ORDER BY version"
        ).fetchall()


async def test_opening_a_new_file_creates_every_table(db_path: Path) -> None:
    async with open_store(db_path):
        pass
    assert _tables(db_path) >= TABLES
    assert _applied(db_path) == [(m.version, m.name) for m in available_migrations()]


async def test_reopening_applies_nothing_twice_and_keeps_the_data(db_path: Path) -> None:
    async def add_token(tx: Tx) -> None:
        await tx.execute(
            "INSERT INTO api_tokens (id, token_hash, role, name, created_at)"
            " VALUES ('t1', 'hash', 'supervisor', 'wallboard', 0)"
        )

    async with open_store(db_path) as store:
        await store.transact(add_token)
    first = _applied(db_path)
    for _ in range(2):
        async with open_store(db_path) as store:
            row = await store.read(lambda tx: tx.fetchone("SELECT name FROM api_tokens"))
            assert row is not None and row["name"] == "wallboard"
    assert _applied(db_path) == first


async def test_database_runs_in_wal_mode_with_full_sync_and_foreign_keys(
    store: StoreHandle,
) -> None:
    async def pragmas(tx: Tx) -> tuple[str, int, int]:
        mode = await tx.fetchone("PRAGMA journal_mode")
        sync = await tx.fetchone("PRAGMA synchronous")
        keys = await tx.fetchone("PRAGMA foreign_keys")
        assert mode is not None and sync is not None and keys is not None
        return mode[0], sync[0], keys[0]

    assert await store.transact(pragmas) == ("wal", 2, 1)  # 2 is FULL


async def test_a_schema_newer_than_this_release_is_refused(db_path: Path) -> None:
    async with open_store(db_path):
        pass
    with closing(sqlite3.connect(db_path)) as conn, conn:
        conn.execute("INSERT INTO schema_migrations (version, name) VALUES (9999, 'future')")
    with pytest.raises(SchemaTooNew), trio.fail_after(30):
        async with open_store(db_path):
            pass  # pragma: no cover - the store refuses to start


def test_scripts_split_into_statements_keeping_trigger_bodies_whole() -> None:
    script = """
    -- a comment; with a semicolon
    CREATE TABLE a (x INTEGER);
    CREATE TRIGGER a_log AFTER INSERT ON a BEGIN
        INSERT INTO a (x) VALUES (NEW.x + 1);
    END;
    -- trailing comment
    """
    statements = split_statements(script)
    assert len(statements) == 2
    assert statements[1].startswith("CREATE TRIGGER") and statements[1].endswith("END;")


def test_an_unfinished_statement_in_a_script_is_an_error() -> None:
    with pytest.raises(ValueError, match="incomplete"):
        split_statements("CREATE TABLE a (x INTEGER)")
