"""The live figures as the API reads them: the pure `LiveView` and `Totals`, fed after every
journal commit, and the router's statistics of the moment.

The composition root builds one `LiveFigures` (rebuilt from the store: `load_live_figures`)
and gives its `after_commit` to the journal, which calls it with each committed batch's events
and facts. Readers: `GET /v1/stats/live` and its stream (`snapshot`, `wait_for_news`), and
`GET /metrics` (`totals`, `snapshot`). The quality figures (surveys, repeat contacts) come from
`quality` (hotline.kpi.quality.LiveQuality), fed after the journal's commits (`after_quality`)
and the survey answers' (`quality_counted`). A snapshot asks the router one question (its
statistics with the queue rows); readers that come while nothing was committed share it for up to
`FRESH_S`, so any number of wallboards cost the router a few questions a second at most.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import trio

from hotline.clock import WallClock
from hotline.kpi import Buckets
from hotline.kpi.facts import Fact, KpiTracker
from hotline.kpi.live import MINUTE_S, LiveView, rebuild_plan
from hotline.kpi.quality import LiveQuality, QualityTally, quality_figures
from hotline.kpi.rules import KpiRules
from hotline.kpi.totals import Totals
from hotline.routing.model import Event, RouterStatistics
from hotline.store import StoreHandle, Tx
from hotline.store.kpi import load_buckets
from hotline.store.quality import LineCount, QualityWritten, load_live_quality

FRESH_S = 1.0  # a snapshot is shared while no commit came and it is younger than this

Statistics = Callable[[], Awaitable[RouterStatistics]]


class LiveFigures:
    def __init__(
        self,
        view: LiveView,
        totals: Totals,
        clock: WallClock,
        statistics: Statistics,
        quality: LiveQuality | None = None,
    ) -> None:
        """`statistics`: the router's `statistics(queues=True)` (asked per snapshot)."""
        self.view = view
        self.quality = quality if quality is not None else LiveQuality(view.rules.tz)
        # Quality counts since start by (topic, priority, channel), as `totals` for the rest.
        self.quality_totals: dict[tuple[str, str, str], QualityTally] = {}
        self.totals = totals
        self._clock = clock
        self._statistics = statistics
        self._news = trio.Event()
        self._closed = False
        self._cached: tuple[float, int, dict[str, Any]] | None = None  # (taken, version, it)

    def after_commit(self, events: Sequence[Event], facts: Sequence[Fact]) -> None:
        """The journal's post-commit hook: one committed batch."""
        self.view.feed(events, facts)
        self.totals.add(facts)
        self._news.set()
        self._news = trio.Event()

    def after_quality(self, written: QualityWritten) -> None:
        """The journal's quality hook: what a committed batch counted (repeats, surveys)."""
        self.quality_counted(written.counts.line())

    def quality_counted(self, tallies: Sequence[LineCount]) -> None:
        """Committed quality counts of the line, each at its instant and queue (a survey
        answer's too): into the live view and the totals since start (`/metrics`)."""
        if not tallies:
            return
        for at, topic, priority, channel, t in tallies:
            self.quality.add(at, t)
            queue = (topic, priority, channel)
            self.quality_totals.setdefault(queue, QualityTally()).merge(t)
        self._news.set()
        self._news = trio.Event()

    @property
    def version(self) -> int:
        """Moves with every committed batch and every quality count."""
        return self.view.version + self.quality.version

    async def snapshot(self) -> dict[str, Any]:
        """`LiveView.snapshot` now (`now` an epoch)."""
        taken = trio.current_time()
        cached = self._cached
        if cached is not None and cached[1] == self.version and taken - cached[0] < FRESH_S:
            return cached[2]
        statistics = await self._statistics()
        version = self.version
        now = self._clock.now()
        snapshot = self.view.snapshot(now, statistics)
        today, window = self.quality.tallies(now)
        snapshot["today"].update(quality_figures(today))
        snapshot["last_15m"].update(quality_figures(window))
        self._cached = (taken, version, snapshot)
        return snapshot

    async def wait_for_news(self, seen: int) -> None:
        """Return once a batch past version `seen` is committed, or the figures are closed."""
        while self.version == seen and not self._closed:
            await self._news.wait()

    @property
    def closed(self) -> bool:
        return self._closed

    def close_listeners(self) -> None:
        """The server is stopping: every stream ends, so none holds the drain up."""
        self._closed = True
        self._news.set()


async def load_live_figures(
    store: StoreHandle,
    rules: KpiRules,
    tracker: KpiTracker,
    clock: WallClock,
    statistics: Statistics,
) -> LiveFigures:
    """The live figures as the store left them: today's and the window's rollups, and the
    operators and contacts the journal's `tracker` holds (after recovery's restart events)."""
    now = clock.now()
    plan = rebuild_plan(rules, now)

    quality = LiveQuality(rules.tz)

    async def read(tx: Tx) -> tuple[Buckets, Buckets]:
        intervals = await load_buckets(tx, rules, "interval", plan.day_start, plan.split)
        minutes = await load_buckets(tx, rules, "minute", plan.minutes_from, now + MINUTE_S)
        await load_live_quality(tx, quality, now=now)
        return intervals, minutes

    intervals, minutes = await store.read(read)
    view = LiveView.rebuilt(
        rules,
        plan,
        intervals=intervals,
        minutes=minutes,
        operators=tracker.open_operators(),
        contacts=tracker.open_contacts(),
    )
    return LiveFigures(view, Totals(rules), clock, statistics, quality)
