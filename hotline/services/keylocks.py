"""One lock per key in use (an idempotency key), so that two requests with one key take turns.

Locks exist only while a request holds or waits for them, so the table never grows with the
number of keys ever seen. One per process, held by `Services`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import trio

from hotline.domain.errors import Invalid
from hotline.services.auth import Principal

MAX_KEY_CHARS = 200


def idempotency_scope(caller: Principal, what: str, key: str) -> str:
    """Where a client's `Idempotency-Key` must be unique: its token, and the kind of thing it
    creates (`contacts`, `voicemails`). Refuses a key of the wrong length."""
    if not 1 <= len(key) <= MAX_KEY_CHARS:
        raise Invalid(
            f"an idempotency key is 1 to {MAX_KEY_CHARS} characters", field="Idempotency-Key"
        )
    return f"{caller.token_id}:{what}"


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
