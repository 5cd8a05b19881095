"""The one crossing from trio into asyncio, which aiosqlite needs: it is asyncio-only.

Only `hotline.store` talks to it. `asyncio_loop()` gives the store's own tasks a trio-asyncio loop
(unless the composition root already opened one around them), and `in_asyncio()` awaits an
asyncio coroutine function from a trio task inside that loop. Nothing outside this package ever
sees asyncio: the store's callers hand in trio-side work and get trio-side answers.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import ParamSpec, TypeVar

import aiosqlite
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
    runs. aiosqlite queues each of its own calls to that thread with `Connection._execute`
    (0.20-0.22, the versions pyproject allows, tested by tests/store); this queues one more."""
    result: T = await in_asyncio(conn._execute, lambda: fn(conn._conn))
    return result
