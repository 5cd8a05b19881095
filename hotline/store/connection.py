"""Opening and closing the store's SQLite connections, with the settings durability rests on.

Only the store actor calls it. The writer runs in WAL mode with synchronous=FULL, so a COMMIT
returns only after the log is fsynced (an answered request survives power loss, not just a
crash), with foreign keys enforced and a busy timeout for a second process (a migration, a
backup) holding the lock. The reader is query-only: WAL lets it read the last commit while the
writer is in the middle of a group. Neither copies the log into the database file (SQLite's
automatic checkpoint, which a COMMIT runs once the log passes 1,000 pages): a third connection,
the store's checkpointer, does it beside them.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiosqlite
import trio

from hotline.store.bridge import in_asyncio
from hotline.store.errors import StoreError

# aiosqlite logs every statement with its parameters at DEBUG: phones, INN, SNILS, names. Its
# logger is held at WARNING whatever level the deployer picks, so that none of it is ever written.
logging.getLogger("aiosqlite").setLevel(logging.WARNING)

# The reader's page cache, in KiB (SQLite's default is 2,000). A knowledge-base search reads the
# whole list of documents of each of its words from the FTS5 index; an everyday word's list in a
# base of 10,000 articles is larger than the default cache, so every search read it again from the
# file (a system call and a copy per page). One reader, so this bounds the memory it may take.
READER_CACHE_KIB = 32 * 1024


STATEMENT_CACHE = 1024  # prepared statements kept per connection (sqlite3's default: 128)


@asynccontextmanager
async def open_connection(
    path: Path, *, read_only: bool, busy_timeout_ms: int
) -> AsyncIterator[aiosqlite.Connection]:
    if not read_only:
        # Created 0600 before SQLite sees it: it holds personal data, and SQLite gives the -wal
        # and -shm files the database file's permissions.
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    # isolation_level=None: sqlite3 opens no transaction behind our back; the actor issues
    # BEGIN IMMEDIATE / SAVEPOINT / COMMIT itself. The statement cache holds the texts of the
    # journal's inserts of many rows (`hotline.store.tx.Rows`: one per size up to 64 rows).
    conn = await in_asyncio(
        aiosqlite.connect, str(path), isolation_level=None, cached_statements=STATEMENT_CACHE
    )
    try:
        conn.row_factory = sqlite3.Row
        pragmas = [f"PRAGMA busy_timeout = {int(busy_timeout_ms)}"]
        if read_only:
            pragmas.append("PRAGMA query_only = ON")
            pragmas.append(f"PRAGMA cache_size = -{READER_CACHE_KIB}")
        else:
            pragmas += ["PRAGMA journal_mode = WAL", "PRAGMA synchronous = FULL"]
            pragmas.append("PRAGMA foreign_keys = ON")
            # No COMMIT copies the log into the database: the store's checkpointer does, beside
            # the writer (`hotline.store.actor.Store._checkpoint`).
            pragmas.append("PRAGMA wal_autocheckpoint = 0")
        mode = await in_asyncio(_configure, conn, pragmas)
        if mode != "wal":
            # e.g. ':memory:' or a file system without shared memory: no concurrent reader.
            raise StoreError(f"the database must run in WAL mode, not {mode!r}")
        yield conn
    finally:
        # Shielded: the store is usually being cancelled here, and an unclosed connection leaves
        # aiosqlite's thread running. Closing waits for the statement in flight, then rolls back
        # an unfinished transaction.
        with trio.CancelScope(shield=True):
            await in_asyncio(conn.close)


async def _configure(conn: aiosqlite.Connection, pragmas: list[str]) -> str:
    for pragma in pragmas:
        await conn.execute(pragma)
    rows = list(await conn.execute_fetchall("PRAGMA journal_mode"))
    return str(rows[0][0])
