"""The KPI rollups on disk are the core's own tallies of the facts: per minute and per interval
exactly `Buckets` of those facts, per local day their sum; however a stream is cut into batches;
a rebuild from the event tables writes the very rows the journal wrote; the tracker comes back
from the store as it was; and the minute rows go after their retention, the others stay."""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from typing import Any, TypeVar

import pytest

from hotline.kpi import Buckets, KpiRules, KpiTracker, Tally
from hotline.kpi.facts import Fact
from hotline.routing.model import Event
from hotline.store import StoreHandle, Tx
from hotline.store.events import append_router_events, save_operator
from hotline.store.kpi import load_buckets, read_period
from hotline.store.kpi_rebuild import open_kpi, rebuild_rollups
from hotline.store.rollups import KpiRecorder, load_tracker, minute_rules, purge_minutes
from hotline.store.rows import OperatorProfile
from tests.kpi_day import DAY, DAY_START, DrivenLine

RULES = KpiRules(classes=("urgent", "normal"))
K = TypeVar("K")
TABLES = ("kpi_queue", "kpi_operator", "kpi_operator_deadline")


def counted(tallies: dict[K, Tally]) -> dict[K, Tally]:
    """The tallies that count something: the core gives an operator's minutes offline empty
    ones, which the rollups leave out."""
    return {k: t for k, t in tallies.items() if t != Tally(len(t.met))}


def batches(events: Sequence[Event], seed: int) -> list[list[Event]]:
    """`events` cut at random places, as the journal's feed would hand them over."""
    rng = random.Random(seed)
    out, i = [], 0
    while i < len(events):
        n = rng.choice((1, 1, 2, 5, 17, 60))
        out.append(list(events[i : i + n]))
        i += n
    return out


async def journal(
    store: StoreHandle, events: Sequence[Event], recorder: KpiRecorder, *, seed: int = 1
) -> list[Fact]:
    """What the journal does with each batch: the events and their rollups in one transaction.
    The facts, in order."""
    facts: list[Fact] = []
    for batch in batches(events, seed):
        counted = recorder.count(batch)
        facts.extend(counted.facts)

        async def work(tx: Tx, batch: list[Event] = batch, counted: Any = counted) -> None:
            await append_router_events(tx, batch)
            await recorder.write(tx, counted)

        await store.transact(work)
    return facts


async def with_desks(store: StoreHandle, line: DrivenLine) -> None:
    async def work(tx: Tx) -> None:
        for op in line.operators:
            profile = OperatorProfile(op, op, {"payments": 3}, frozenset({"ru"}), {}, None)
            await save_operator(tx, profile, at=DAY_START)

    await store.transact(work)


async def all_rows(store: StoreHandle) -> dict[str, list[tuple[Any, ...]]]:
    async def work(tx: Tx) -> dict[str, list[tuple[Any, ...]]]:
        return {
            t: [tuple(r) for r in await tx.fetchall(f"SELECT * FROM {t} ORDER BY 1, 2, 3, 4")]
            for t in TABLES
        }

    return await store.read(work)


@pytest.fixture
def day() -> DrivenLine:
    line = DrivenLine(seed=3)
    line.run(DAY_START + DAY)
    return line


async def test_minute_and_interval_rollups_are_the_core_buckets_of_the_facts(
    store: StoreHandle, day: DrivenLine
) -> None:
    facts = await journal(store, day.events, KpiRecorder(KpiTracker(), RULES))
    by_interval, by_minute = Buckets(RULES), Buckets(minute_rules(RULES))
    by_interval.add_all(facts)
    by_minute.add_all(facts)

    span = (DAY_START - DAY, DAY_START + 2 * DAY)
    stored = await store.read(lambda tx: load_buckets(tx, RULES, "interval", *span))
    minutes = await store.read(lambda tx: load_buckets(tx, RULES, "minute", *span))

    assert len(by_interval.queues) > 100 and len(by_interval.operators) > 100
    assert stored.queues == by_interval.queues
    assert stored.operators == counted(by_interval.operators)
    assert minutes.queues == by_minute.queues
    assert minutes.operators == counted(by_minute.operators)


async def test_a_local_day_adds_up_its_intervals_by_every_group(
    store: StoreHandle, day: DrivenLine
) -> None:
    facts = await journal(store, day.events, KpiRecorder(KpiTracker(), RULES))
    core = Buckets(RULES)
    core.add_all(facts)
    the_day = [(0, float(DAY_START), float(DAY_START + DAY))]
    n = len(RULES.thresholds)

    for group, position in (("topic", 1), ("priority", 2), ("channel", 3)):

        async def work(tx: Tx, group: Any = group) -> Any:
            return await read_period(
                tx,
                grain="day",
                ranges=the_day,
                queue_group=group,
                by_operator=True,
                thresholds=n,
                classes=RULES.classes,
            )

        read = await store.read(work)
        expected: dict[str, Tally] = {}
        for key, t in core.queues.items():
            expected.setdefault(key[position], Tally(n)).merge(t)
        assert {g: t for (_, g), t in read.queues.items()} == expected
    by_operator: dict[str, Tally] = {}
    for (_, op), t in counted(core.operators).items():
        by_operator.setdefault(op, Tally(n)).merge(t)
    assert {g: t for (_, g), t in read.operators.items()} == by_operator


async def test_batches_cut_anywhere_count_the_same(store: StoreHandle, day: DrivenLine) -> None:
    await journal(store, day.events, KpiRecorder(KpiTracker(), RULES), seed=1)
    first = await all_rows(store)
    await store.transact(lambda tx: _clear(tx))
    await journal(store, day.events, KpiRecorder(KpiTracker(), RULES), seed=2)
    assert await all_rows(store) == first


async def _clear(tx: Tx) -> None:
    for table in (*TABLES, "contact_events", "operator_events", "contacts", "idempotency_keys"):
        await tx.execute(f"DELETE FROM {table}")


async def test_the_tracker_comes_back_from_the_store_as_the_last_commit_left_it(
    store: StoreHandle,
) -> None:
    line = DrivenLine(seed=5)
    await with_desks(store, line)
    recorder = KpiRecorder(KpiTracker(), RULES)
    await journal(store, line.run(DAY_START + 6 * 3600), recorder)

    back = await store.read(load_tracker)

    def contacts(t: KpiTracker) -> list[Any]:
        return sorted((vars_of(c) for c in t.open_contacts()), key=lambda c: c["id"])

    assert contacts(back) == contacts(recorder.tracker)
    assert any(c["answered_at"] is not None for c in contacts(back))
    kept = {o.id: vars_of(o) for o in recorder.tracker.open_operators()}
    assert {o.id: vars_of(o) for o in back.open_operators()} == kept
    # The next stretch goes on from either tracker alike.
    more = line.run(DAY_START + 7 * 3600)
    facts_of_restored: list[Fact] = []
    facts_of_running: list[Fact] = []
    back.feed_all(more, facts_of_restored.append)
    recorder.tracker.feed_all(more, facts_of_running.append)
    assert facts_of_restored == facts_of_running


def vars_of(value: Any) -> dict[str, Any]:
    return {name: getattr(value, name) for name in value.__slots__}


async def test_a_rebuild_from_the_event_tables_writes_the_rows_the_journal_wrote(
    store: StoreHandle, day: DrivenLine
) -> None:
    await with_desks(store, day)
    recorder = KpiRecorder(KpiTracker(), RULES)
    await journal(store, day.events, recorder)
    written = await all_rows(store)
    operators = await store.read(
        lambda tx: tx.fetchall("SELECT id, state_since, last_topic FROM operators ORDER BY id")
    )

    replayed = await rebuild_rollups(store, RULES, minute_since=0)

    assert replayed > 1000
    assert await all_rows(store) == written
    again = await store.read(
        lambda tx: tx.fetchall("SELECT id, state_since, last_topic FROM operators ORDER BY id")
    )
    assert [tuple(r) for r in again] == [tuple(r) for r in operators]


async def test_rollups_are_counted_again_at_start_when_the_thresholds_changed(
    store: StoreHandle, day: DrivenLine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="hotline.store.kpi_rebuild")
    now = float(DAY_START + DAY)
    await open_kpi(store, RULES, now=now, keep_minutes_s=2 * DAY)  # the first start: none yet
    recorder = KpiRecorder(KpiTracker(), RULES)
    facts = await journal(store, day.events, recorder)
    caplog.clear()

    await open_kpi(store, RULES, now=now, keep_minutes_s=2 * DAY)
    assert [r.message for r in caplog.records] == []  # the same rules: nothing to do

    stricter = KpiRules(thresholds=(10, 20), short_abandon_s=3, classes=RULES.classes)
    # Minute rows for the last six hours only: the older history is counted by interval.
    await open_kpi(store, stricter, now=now, keep_minutes_s=6 * 3600)

    assert [r.message for r in caplog.records] == ["kpi.rollups_rebuilding", "kpi.rollups_rebuilt"]
    core = Buckets(stricter)
    core.add_all(facts)
    stored = await store.read(lambda tx: load_buckets(tx, stricter, "interval", 0, 4e9))
    assert stored.queues == core.queues and stored.operators == counted(core.operators)
    minutes = await store.read(lambda tx: load_buckets(tx, stricter, "minute", 0, 4e9))
    assert min(start for start, *_ in minutes.queues) >= now - 6 * 3600
    by_minute = Buckets(minute_rules(stricter))
    by_minute.add_all(facts)
    recent = {k: t for k, t in by_minute.queues.items() if k[0] >= now - 6 * 3600}
    assert minutes.queues == recent


async def test_minute_rollups_go_after_their_retention_and_the_others_stay(
    store: StoreHandle, day: DrivenLine
) -> None:
    await journal(store, day.events, KpiRecorder(KpiTracker(), RULES))
    noon = DAY_START + DAY // 2

    async def count(tx: Tx) -> dict[str, int]:
        rows = await tx.fetchall(
            "SELECT grain, count(*) AS n FROM kpi_operator WHERE start < ? GROUP BY grain",
            (noon,),
        )
        return {r["grain"]: r["n"] for r in rows}

    before = await store.read(count)
    done = [
        await store.transact(lambda tx: purge_minutes(tx, before=noon, span_s=3600))
        for _ in range(14)
    ]

    assert done[-3:] == [True] * 3 and done[:10] == [False] * 10  # an hour at a time
    after = await store.read(count)
    assert before["minute"] > 0 and "minute" not in after
    assert after == {g: n for g, n in before.items() if g != "minute"}
    later = await store.read(lambda tx: load_buckets(tx, RULES, "minute", noon, 4e9))
    assert later.operators  # the younger minutes stay
