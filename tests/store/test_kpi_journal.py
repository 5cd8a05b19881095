"""The journal counts each batch once and writes its figures with its events: a batch whose
transaction fails leaves neither on disk, and its retry counts it once; `after_commit` hears
each batch once it is on disk. A driven day's period report equals the core's figures of the
same events, field by field, whatever rollups answer it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, TypeVar

import pytest
import trio

from hotline.journal import Journal
from hotline.kpi import Buckets, KpiRules, KpiTracker, Tally, figures
from hotline.kpi.facts import Fact
from hotline.kpi.rules import MOSCOW
from hotline.routing import Channel, NewContact, Presence
from hotline.routing.model import Event
from hotline.services.periods import PeriodQuery
from hotline.services.stats import period
from hotline.store import StoreHandle, StoreReadOnly, Tx
from hotline.store.kpi import load_buckets
from hotline.store.rollups import KpiRecorder
from tests.kpi_day import DAY, DAY_START, DrivenLine
from tests.store.test_kpi_rollups import TABLES, counted, with_desks

T = TypeVar("T")
RULES = KpiRules(classes=("urgent", "normal"))
GIVE_UP_AFTER = 60.0


class FailingOnce:
    """The store, but the first transaction fails after its work has written everything (as a
    COMMIT that fails would); what is on disk right after it is kept in `after_failure`."""

    def __init__(self, store: StoreHandle) -> None:
        self._store = store
        self.read = store.read
        self.after_failure: dict[str, int] | None = None

    async def transact(self, work: Callable[[Tx], Awaitable[T]], **how: bool) -> T:
        if self.after_failure is not None:
            return await self._store.transact(work, **how)

        async def then_fail(tx: Tx) -> T:
            await work(tx)
            raise StoreReadOnly("the disk is full")

        try:
            return await self._store.transact(then_fail, **how)
        finally:
            self.after_failure = await self._store.read(counts)


async def counts(tx: Tx) -> dict[str, int]:
    tables = ("contact_events", "operator_events", *TABLES)
    return {t: (await tx.fetchall(f"SELECT count(*) FROM {t}"))[0][0] for t in tables}


Publish = Callable[[Sequence[Event]], None]


@asynccontextmanager
async def running_journal(
    store: Any, heard: list[tuple[Sequence[Event], Sequence[Fact]]], first: Sequence[Event] = ()
) -> AsyncIterator[tuple[Journal, Publish]]:
    """A journal fed by hand: `publish(events)` hands events to it as the router would; `first`
    are in its feed before it starts (its first batch)."""
    send, feed = trio.open_memory_channel[Event](100_000)
    published = 0

    def publish(events: Sequence[Event]) -> None:
        nonlocal published
        for e in events:
            send.send_nowait(e)
        published += len(events)

    journal = Journal(
        feed,
        store,
        published=lambda: published,
        kpi=KpiRecorder(KpiTracker(), RULES),
        after_commit=lambda events, facts: heard.append((list(events), list(facts))),
    )
    publish(first)
    with trio.fail_after(GIVE_UP_AFTER):
        async with trio.open_nursery() as nursery:
            await nursery.start(journal.run)
            yield journal, publish
            nursery.cancel_scope.cancel()


async def synced(journal: Journal) -> None:
    """`sync()` until it succeeds: while the batch is being retried it refuses at once."""
    while True:
        try:
            return await journal.sync()
        except StoreReadOnly:
            await trio.sleep(0.01)


async def test_a_batch_that_fails_leaves_neither_events_nor_figures_and_is_counted_once(
    store: StoreHandle,
) -> None:
    line = DrivenLine(seed=7)
    events = line.run(DAY_START + 3 * 3600)
    failing = FailingOnce(store)
    heard: list[tuple[Sequence[Event], Sequence[Fact]]] = []
    async with running_journal(failing, heard, events) as (journal, _):
        await synced(journal)

    assert failing.after_failure == {t: 0 for t in failing.after_failure}
    on_disk = await store.read(counts)
    assert on_disk["contact_events"] + on_disk["operator_events"] == len(events)
    facts = [f for _, batch_facts in heard for f in batch_facts]
    expected: list[Fact] = []
    KpiTracker().feed_all(events, expected.append)
    assert facts == expected  # heard once, after the commit that held them
    assert [e for batch, _ in heard for e in batch] == events
    core = Buckets(RULES)
    core.add_all(expected)
    stored = await store.read(lambda tx: load_buckets(tx, RULES, "interval", 0, 4e9))
    assert stored.queues == core.queues and stored.operators == counted(core.operators)


def local(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, MOSCOW).strftime("%Y-%m-%dT%H:%M")


def line_of(core: Buckets, starts: set[float]) -> Tally:
    """The whole line over the intervals starting at `starts`, as `Buckets.total` adds it."""
    part = Buckets(core.rules)
    part.queues = {k: t for k, t in core.queues.items() if k[0] in starts}
    part.operators = {k: t for k, t in core.operators.items() if k[0] in starts}
    return part.total()


async def test_a_driven_days_report_equals_the_core_figures_of_its_events(
    store: StoreHandle,
) -> None:
    line = DrivenLine(seed=11)
    await with_desks(store, line)
    heard: list[tuple[Sequence[Event], Sequence[Fact]]] = []
    async with running_journal(store, heard) as (journal, publish):
        for hour in range(1, 25):  # an hour's events at a time, in the journal's own batches
            publish(line.run(DAY_START + hour * 3600))
            await journal.sync()
    end = float(DAY_START + DAY)
    tracker = KpiTracker()
    facts: list[Fact] = []
    tracker.feed_all(line.events, facts.append)
    assert facts == [f for _, batch in heard for f in batch]
    open_time = list(tracker.open_time(end))
    assert open_time  # operators still at work at midnight: their time is not a fact yet
    core = Buckets(RULES)
    core.add_all([*facts, *open_time])
    day = {"start": local(DAY_START), "end": local(end)}

    async def report(**query: str) -> Any:
        return await period(store, RULES, PeriodQuery(**{**day, **query}), now=end + 600)

    by_day = await report(interval="1d")  # the day's rollups
    by_quarter = await report(interval="15m")  # the intervals'
    whole = figures(core.total(), RULES)
    assert by_day.total == whole and by_quarter.total == whole
    assert [r.figures for r in by_day.rows] == [whole]
    assert len(by_quarter.rows) == 96
    for row in by_quarter.rows:
        assert row.figures == figures(line_of(core, {row.start}), RULES)

    office = await report(interval="1d", hours="08:00-20:00")
    office_starts = {DAY_START + 8 * 3600 + 900.0 * i for i in range(48)}
    assert office.total == figures(line_of(core, office_starts), RULES)

    by_topic = await report(interval="1d", by="topic")
    for row in by_topic.rows:
        topic = Tally(len(RULES.thresholds))
        for key, t in core.queues.items():
            if key[1] == row.group:
                topic.merge(t)
        assert row.figures == figures(topic, RULES)
    by_operator = await report(interval="1h", by="operator")
    for row in by_operator.rows:
        mine = Tally(len(RULES.thresholds))
        for (start, op), t in core.operators.items():
            if op == row.group and row.start <= start < row.end:
                mine.merge(t)
        assert row.figures == figures(mine, RULES)
    assert by_topic.total == by_operator.total == whole


async def test_a_break_with_a_call_in_hand_reaching_now_is_busy_as_the_live_view_counts_it(
    store: StoreHandle,
) -> None:
    line = DrivenLine(seed=2, operators=1)
    await with_desks(store, line)
    state, op, start = line.state, "op-0", DAY_START + 3600
    events = [*line.events]
    events += state.set_presence(op, Presence.READY, start)
    events += state.enqueue(NewContact("c1", Channel.VOICE, "payments"), start + 10)
    events += state.accept("c1", op, start + 12)
    events += state.set_presence(op, Presence.BREAK, start + 60)  # the call goes on
    heard: list[tuple[Sequence[Event], Sequence[Fact]]] = []
    async with running_journal(store, heard, events) as (journal, _):
        await journal.sync()
    now = start + 600
    tracker = KpiTracker()
    facts: list[Fact] = []
    tracker.feed_all(events, facts.append)
    core = Buckets(RULES)
    core.add_all([*facts, *tracker.open_time(now)])
    hour = PeriodQuery(local(start), local(start + 3600), "1h")

    report = await period(store, RULES, hour, now=now)

    assert report.total == figures(core.total(), RULES)
    # Busy from the offer on (start + 10), the break included: only the first ten seconds idle.
    assert report.total["occupancy"] == pytest.approx((now - start - 10) / (now - start))
