"""The one injected clock: wall time (seconds since the epoch) that advances with trio's clock.

Actors read time only through a `WallClock`; under trio's `MockClock` it jumps with virtual time,
so every timer of the router can be tested without waiting. Created inside `trio.run`.
"""

from __future__ import annotations

import time

import trio


class WallClock:
    def __init__(self, epoch: float | None = None) -> None:
        self._epoch = time.time() if epoch is None else epoch
        self._t0 = trio.current_time()

    def now(self) -> float:
        return self._epoch + (trio.current_time() - self._t0)

    def trio_time(self, wall: float) -> float:
        """The trio clock reading at which wall time `wall` is reached."""
        return wall - self._epoch + self._t0
