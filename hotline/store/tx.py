"""`Tx`: the trio-side face of one aiosqlite connection, handed to a caller's `work`.

The store actor creates it around its connection and passes it to each `work(tx)`; callers never
see asyncio or aiosqlite. Every method is one round trip to aiosqlite's thread through the
trio-asyncio bridge (unless the store runs the whole work on that thread, see
`StoreHandle.transact` and `ThreadTx`), so a batch belongs in `executemany` (or, for an
INSERT, `insert_rows`), not in a loop of `execute`.

Rules for `work`: no BEGIN, COMMIT, ROLLBACK or RELEASE of its own (the store owns the
transaction; a SAVEPOINT it opens and closes itself is fine), no call into the store (the actor
is busy running this very work: it would wait for itself), nothing slow that is not the database
(the group's lock is held meanwhile), and no use of the Tx after `work` returns. Rows are
`sqlite3.Row`: by index or by column name.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Coroutine, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeAlias, TypeVar

import aiosqlite

from hotline.store.bridge import in_asyncio

Params: TypeAlias = Sequence[Any] | Mapping[str, Any]
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Rows:
    """An INSERT of many rows as a few statements of many rows each: `head VALUES row, row, ...
    tail`, where `row` is the parenthesised tuple of one row's values (plain `?` by default:
    `width` of them). For the journal's batches, whose statements run on SQLite's thread:
    each step of a statement there gives the GIL away and waits to take it back from the busy
    trio thread (traced: an `executemany` of 10 rows 4.4 ms with that thread busy, 0.4 ms with
    it idle), and a statement of many rows is one step where `executemany` takes one per row.
    A row's values may not refer to the rows of the same statement (each statement sees the
    table as it was before it ran)."""

    head: str
    width: int
    tail: str = ""
    row: str = ""

    def statements(self, rows: Sequence[Sequence[Any]]) -> Iterator[tuple[str, list[Any]]]:
        """(sql, parameters) for `rows`, in order: one statement for up to `EXACT_ROWS` rows (a
        batch's usual size: its texts stay in the writer's statement cache); above, chunks of
        a power of two rows, largest first, then the rest of `EXACT_ROWS` or fewer."""
        i = 0
        while i < len(rows):
            left = len(rows) - i
            k = left if left <= EXACT_ROWS else min(MAX_ROWS, 1 << left.bit_length() - 1)
            chunk = rows[i : i + k]
            if any(len(row) != self.width for row in chunk):  # else the columns would shift
                raise ValueError(f"a row of other than {self.width} values: {self.head}")
            yield self._sql(k), [value for row in chunk for value in row]
            i += k

    def _sql(self, k: int) -> str:
        return _rows_sql(self.head, self.row, self.width, self.tail, k)


MAX_ROWS = 256  # rows per statement: x the widest row's 33 values, below SQLite's 32,766
EXACT_ROWS = 64  # up to this many rows, a statement of exactly as many (see `Rows.statements`)


@cache
def _rows_sql(head: str, row: str, width: int, tail: str, k: int) -> str:
    one = row or f"({', '.join(['?'] * width)})"
    return f"{head} VALUES {', '.join([one] * k)} {tail}"


class Tx:
    __slots__ = ("_conn", "_facts")

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn
        self._facts: list[object] | None = None

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
        return await in_asyncio(_execute, self._conn, sql, params)

    async def executemany(self, sql: str, rows: Iterable[Params]) -> int:
        """Run one statement once per parameter set; the number of rows changed in all."""
        # Materialised here: a generator would otherwise be advanced on aiosqlite's thread.
        return await in_asyncio(_executemany, self._conn, sql, list(rows))

    async def insert_rows(self, insert: Rows, rows: Sequence[Sequence[Any]]) -> int:
        """`insert` of `rows`, in order, a few statements of many rows each (`Rows`); the
        number of rows changed in all."""
        changed = 0
        for sql, params in insert.statements(rows):
            changed += await self.execute(sql, params)
        return changed

    async def fetchall(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        return await in_asyncio(_fetchall, self._conn, sql, params)

    async def fetchone(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        """The first row, or None. Every row the statement yields is read (one round trip
        instead of three), so give it a statement that yields few: a key lookup, LIMIT 1."""
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None


# -- the asyncio side: each runs as an asyncio task on the trio-asyncio loop -------------------


async def _execute(conn: aiosqlite.Connection, sql: str, params: Params) -> int:
    cursor = await conn.execute(sql, params)
    return cursor.rowcount


async def _executemany(conn: aiosqlite.Connection, sql: str, rows: list[Params]) -> int:
    cursor = await conn.executemany(sql, rows)
    return cursor.rowcount


async def _fetchall(conn: aiosqlite.Connection, sql: str, params: Params) -> list[sqlite3.Row]:
    return list(await conn.execute_fetchall(sql, params))


class ThreadTx(Tx):
    """The Tx of a group of statements-only works that the store runs whole on aiosqlite's own
    thread (`StoreHandle.transact(..., statements_only=True)`): each statement is a plain call
    on that thread's `sqlite3` connection, and a work's coroutine is driven to its end there
    by `run_now`, since it awaits nothing else.

    Why: a statement through the bridge is three passes of trio's scheduler (aiosqlite's
    answer, the future's callback, the task's next step), each running every request then in
    flight. On the thread the group is one crossing: 0.11 ms less CPU a create under load.
    There every step of a statement gives the GIL away and waits to take it back from the busy
    trio thread: hence the journal's few statements of many rows (`Rows`)."""

    __slots__ = ("_db",)

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db
        self._facts = None

    @property
    def in_transaction(self) -> bool:
        return self._db.in_transaction

    async def execute(self, sql: str, params: Params = ()) -> int:
        return self._db.execute(sql, params).rowcount

    async def executemany(self, sql: str, rows: Iterable[Params]) -> int:
        return self._db.executemany(sql, rows).rowcount

    async def fetchall(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        return self._db.execute(sql, params).fetchall()


def run_now(work: Coroutine[Any, Any, T]) -> T:
    """Run to its end, here and now, a coroutine that awaits nothing but a `ThreadTx`. An await
    of anything else (a trio or asyncio call: there is no event loop on this thread) fails
    inside it, where the work that made it sees the error as its own."""
    try:
        work.send(None)
        while True:  # it suspended after all: that await fails
            work.throw(RuntimeError("a statements-only work awaited something other than its Tx"))
    except StopIteration as done:
        result: T = done.value
        return result
