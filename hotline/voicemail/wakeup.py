"""The voicemail watcher's doorbell: `callbacks` rings it after it schedules a retry, so that the
watcher re-reads when the next one is due instead of sleeping past it.

Held in `Services` (created before the watcher starts, so the services can exist first); only the
watcher sleeps on it.
"""

from __future__ import annotations

import trio


class Wakeup:
    def __init__(self) -> None:
        self._rung = trio.Event()

    def ring(self) -> None:
        self._rung.set()

    async def sleep_until(self, deadline: float) -> bool:
        """Sleep until trio time `deadline` or a ring, whichever comes first; True if the
        deadline came. A ring while nobody sleeps wakes the next sleep at once."""
        with trio.move_on_at(deadline) as scope:
            await self._rung.wait()
        if self._rung.is_set():
            self._rung = trio.Event()
        return scope.cancelled_caught
