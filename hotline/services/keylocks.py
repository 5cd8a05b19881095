"""One lock per key in use (an idempotency key), so that two requests with one key take turns.

Locks exist only while a request holds or waits for them, so the table never grows with the
number of keys ever seen. One per process, held by `Services`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import trio


class KeyLocks:
    def __init__(self) -> None:
        self._locks: dict[tuple[str, str], trio.Lock] = {}

    @asynccontextmanager
    async def hold(self, scope: str, key: str) -> AsyncIterator[None]:
        lock = self._locks.setdefault((scope, key), trio.Lock())
        try:
            async with lock:
                yield
        finally:
            if not lock.locked() and lock.statistics().tasks_waiting == 0:
                self._locks.pop((scope, key), None)
