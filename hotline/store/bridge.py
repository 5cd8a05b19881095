"""The crossings from trio into aiosqlite, which is asyncio-only.

Only `hotline.store` talks to it. `asyncio_loop()` gives the store's own tasks a trio-asyncio loop
(unless the composition root already opened one around them), and `in_asyncio()` awaits an
asyncio coroutine function from a trio task inside that loop; `on_thread()` runs a function on
an aiosqlite connection's own thread and answers the trio task directly, asyncio not in the way.
Nothing outside this package ever sees asyncio: the store's callers hand in trio-side work and
get trio-side answers.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import ParamSpec, TypeVar

import aiosqlite
import outcome
import trio
import trio_asyncio

P = ParamSpec("P")
T = TypeVar("T")


@asynccontextmanager
async def asyncio_loop() -> AsyncIterator[None]:
    """Run the body inside a trio-asyncio loop, opening one only if this task has none.

    A loop opened here is closed when the body ends, so everything that uses it (the store's
    connections) must be closed inside the body.
    """
    if trio_asyncio.current_loop.get() is not None:
        yield
        return
    async with trio_asyncio.open_loop():
        yield


async def in_asyncio(fn: Callable[P, Awaitable[T]], *args: P.args, **kwargs: P.kwargs) -> T:
    """`await fn(*args, **kwargs)` as an asyncio task; cancelling the caller cancels that task."""
    result: T = await trio_asyncio.aio_as_trio(fn)(*args, **kwargs)
    return result


async def on_thread(conn: aiosqlite.Connection, fn: Callable[[sqlite3.Connection], T]) -> T:
    """`fn(db)` on the thread of aiosqlite's `conn`, `db` being its `sqlite3` connection, in
    order with the statements queued before it: one crossing, however many statements `fn`
    runs, and no asyncio on the way. The job goes straight onto the queue aiosqlite's thread
    serves (`Connection._tx`, whose entries are `(future, function)`; with no future the thread
    answers nobody, 0.22, the version pyproject allows, tested by tests/store), and its result
    comes back by trio's token: one pass of trio's scheduler, where the asyncio hop took three
    or four (a task on the trio-asyncio loop, the future's callback, the task's step), each of
    them running every request then in flight.

    The job cannot be taken back once queued, so a cancelled caller waits for it to finish
    (milliseconds: it is a group of statements) and gets its result; the cancellation reaches
    it at its next checkpoint."""
    await trio.lowlevel.checkpoint_if_cancelled()  # a caller cancelled already queues nothing
    if not conn._running or conn._connection is None:
        raise ValueError("Connection closed")  # as aiosqlite's own calls say it
    db = conn._connection
    token = trio.lowlevel.current_trio_token()
    task = trio.lowlevel.current_task()

    def job() -> None:
        token.run_sync_soon(trio.lowlevel.reschedule, task, outcome.capture(fn, db))

    conn._tx.put_nowait((None, job))
    result: T = await trio.lowlevel.wait_task_rescheduled(_until_done)
    return result


def _until_done(raise_cancel: object) -> trio.lowlevel.Abort:
    return trio.lowlevel.Abort.FAILED
