"""`Tx`: the trio-side face of one aiosqlite connection, handed to a caller's `work`.

The store actor creates it around its connection and passes it to each `work(tx)`; callers never
see asyncio or aiosqlite. Every method is one round trip to aiosqlite's thread through the
trio-asyncio bridge (unless the store runs the whole work on the asyncio side, see
`StoreHandle.transact`), so a batch belongs in `executemany`, not in a loop of `execute`.

Rules for `work`: no BEGIN, COMMIT, ROLLBACK or RELEASE of its own (the store owns the
transaction; a SAVEPOINT it opens and closes itself is fine), no call into the store (the actor
is busy running this very work: it would wait for itself), nothing slow that is not the database
(the group's lock is held meanwhile), and no use of the Tx after `work` returns. Rows are
`sqlite3.Row`: by index or by column name.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeAlias

import aiosqlite

from hotline.store.bridge import in_asyncio

Params: TypeAlias = Sequence[Any] | Mapping[str, Any]


class Tx:
    __slots__ = ("_conn", "_facts", "_on_asyncio")

    def __init__(self, conn: aiosqlite.Connection, *, on_asyncio: bool = False) -> None:
        self._conn = conn
        self._facts: list[object] | None = None
        # True for the Tx of works the store actor runs on the asyncio side of the bridge
        # (`transact(..., statements_only=True)`): statements then await aiosqlite directly.
        self._on_asyncio = on_asyncio

    def on_asyncio(self) -> Tx:
        """This connection's Tx for works running on the asyncio side of the bridge."""
        return Tx(self._conn, on_asyncio=True)

    def after_commit(self, fact: object) -> None:
        """Say that this work's writes call for something once they are on disk (say, an outbox
        message for the notifier to send now). The facts of a work that commits go to the
        post-commit hook of the store handle that ran it (`hotline.services.durable.
        CommittingStore`); those of a work that fails, or runs outside one, are dropped."""
        if self._facts is not None:
            self._facts.append(fact)

    def collect_facts(self, into: list[object] | None) -> None:
        """Where `after_commit` puts facts from now on (None: nowhere); for the handle that
        wraps a work, never for the work itself."""
        self._facts = into

    @property
    def in_transaction(self) -> bool:
        return self._conn.in_transaction

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement; the number of rows it changed (-1 for a query)."""
        if self._on_asyncio:
            return await _execute(self._conn, sql, params)
        return await in_asyncio(_execute, self._conn, sql, params)

    async def executemany(self, sql: str, rows: Iterable[Params]) -> int:
        """Run one statement once per parameter set; the number of rows changed in all."""
        # Materialised here: a generator would otherwise be advanced on aiosqlite's thread.
        if self._on_asyncio:
            return await _executemany(self._conn, sql, list(rows))
        return await in_asyncio(_executemany, self._conn, sql, list(rows))

    async def fetchall(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        if self._on_asyncio:
            return await _fetchall(self._conn, sql, params)
        return await in_asyncio(_fetchall, self._conn, sql, params)

    async def fetchone(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        """The first row, or None. Every row the statement yields is read (one round trip
        instead of three), so give it a statement that yields few: a key lookup, LIMIT 1."""
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None


# -- the asyncio side: each runs as an asyncio task on the trio-asyncio loop ---------------------


async def _execute(conn: aiosqlite.Connection, sql: str, params: Params) -> int:
    cursor = await conn.execute(sql, params)
    return cursor.rowcount


async def _executemany(conn: aiosqlite.Connection, sql: str, rows: list[Params]) -> int:
    cursor = await conn.executemany(sql, rows)
    return cursor.rowcount


async def _fetchall(conn: aiosqlite.Connection, sql: str, params: Params) -> list[sqlite3.Row]:
    return list(await conn.execute_fetchall(sql, params))
