"""Rate limits per source for the API's public-facing writes (survey answers): a token bucket
per source, pure (time comes in as `now`), kept by the `Services` container."""

from __future__ import annotations

MAX_SOURCES = 10_000  # buckets kept at most; full ones are dropped first


class RateLimits:
    """One token bucket per source, kept as the instant its next take is due if it were
    empty (GCRA): `take` says how long to wait, or None when the take is allowed now."""

    __slots__ = ("_due",)

    def __init__(self) -> None:
        self._due: dict[str, float] = {}

    def take(self, source: str, *, now: float, per_s: float, burst: int) -> float | None:
        interval = 1.0 / per_s
        due = self._due.get(source, now)
        allowed_at = due - (burst - 1) * interval
        if allowed_at > now:
            return allowed_at - now
        if len(self._due) >= MAX_SOURCES and source not in self._due:
            self._forget_full(now)
        self._due[source] = max(due, now) + interval
        return None

    def _forget_full(self, now: float) -> None:
        # A source whose due instant has passed has its whole burst back: as if never seen.
        for source in [s for s, due in self._due.items() if due <= now]:
            del self._due[source]
