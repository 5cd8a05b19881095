"""How fast the senders go: a token bucket per provider, and the delay before a retry.

Used by `hotline.notify.sender` only. Both read trio's clock, so tests drive them on a MockClock.
"""

from __future__ import annotations

import random

import trio

_RANDOM = random.Random()


class TokenBucket:
    """At most `rate` takes a second on average and `burst` at once; takers are served in order
    of arrival (trio's lock is fair), so one message cannot be overtaken forever.

    Kept as the time the next take would be due if the bucket were empty (the "virtual
    scheduling" form of a token bucket): one comparison and at most one sleep per take, with no
    fractional tokens to round.
    """

    def __init__(self, rate: float, burst: int) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("a bucket needs a positive rate and a burst of at least 1")
        self._interval = 1.0 / rate
        self._tolerance = (burst - 1) * self._interval
        self._due = trio.current_time()
        self._lock = trio.Lock()

    async def take(self) -> None:
        async with self._lock:
            allowed = self._due - self._tolerance
            if allowed > trio.current_time():
                await trio.sleep_until(allowed)
            self._due = max(self._due, trio.current_time()) + self._interval


def backoff_s(
    attempt: int,
    *,
    base_s: float,
    cap_s: float,
    retry_after_s: float | None = None,
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait after failed attempt number `attempt` (1 for the first): "full jitter",
    uniform in [0, min(cap_s, base_s * 2**(attempt-1))], so senders that failed together do
    not retry together; never sooner than the provider asked (`retry_after_s`)."""
    ceiling = cap_s if attempt > 64 else min(cap_s, base_s * 2.0 ** (attempt - 1))
    delay = (rng or _RANDOM).uniform(0.0, ceiling)
    if retry_after_s is not None:
        delay = max(delay, retry_after_s)
    return delay
