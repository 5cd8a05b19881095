"""The KPI rollups on disk are the core's own tallies of the facts: per minute and per interval
exactly `Buckets` of those facts, per local day their sum; however a stream is cut into batches;
a rebuild from the event tables writes the very rows the journal wrote (the quality rollup's too,
from the contacts and the surveys); the tracker comes back from the store as it was; and the
minute rows go after their retention, the others stay."""

from __future__ import annotations

import dataclasses
import logging
import random
from collections.abc import Sequence
from typing import Any, TypeVar

import pytest

from hotline.config import load_settings
from hotline.kpi import Buckets, KpiRules, KpiTracker, Tally
from hotline.kpi.facts import Fact
from hotline.routing.model import Enqueued, Event
from hotline.services.surveys import quality_rules
from hotline.store import StoreHandle, Tx
from hotline.store.events import ContactNote, append_router_events, save_operator
from hotline.store.kpi import load_buckets, read_period
from hotline.store.kpi_rebuild import open_kpi, rebuild_rollups
from hotline.store.quality import QualityRecorder, answer_survey
from hotline.store.rollups import (
    KpiRecorder,
    LocalDays,
    load_tracker,
    minute_rules,
    purge_minutes,
)
from hotline.store.rows import OperatorProfile
from tests.api.conftest import SHIPPED
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
    days = await store.read(lambda tx: load_buckets(tx, RULES, "day", DAY_START, DAY_START + 1))
    assert {k[0] for k in days.queues} == {DAY_START}
    assert days.total() == core.total()


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


# -- the quality rollup --------------------------------------------------------------------------

PHONES = [f"+7912{n:07d}" for n in range(40)]  # few callers: many repeat contacts


async def journal_with_quality(
    store: StoreHandle, events: Sequence[Event], rules: KpiRules
) -> None:
    """The journal's batches with its quality recorder (repeats, surveys, their counts), every
    caller's phone one of `PHONES`, and then about two surveys in three answered, up to three
    days later."""
    rng = random.Random(7)
    events = [
        dataclasses.replace(e, note=ContactNote(phone=rng.choice(PHONES)))
        if isinstance(e, Enqueued)
        else e
        for e in events
    ]
    quality_of = dataclasses.replace(
        quality_rules(load_settings(SHIPPED)), interval_s=rules.interval_s, days=LocalDays(rules.tz)
    )
    recorder, quality = KpiRecorder(KpiTracker(), rules), QualityRecorder(quality_of)
    for batch in batches(events, seed=1):
        counted = recorder.count(batch)

        async def work(tx: Tx, batch: list[Event] = batch, counted: Any = counted) -> None:
            new = await quality.new_contacts(tx, batch)
            await append_router_events(tx, batch)
            await recorder.write(tx, counted)
            await quality.write(tx, batch, new)

        await store.transact(work)

    async def answer(tx: Tx) -> None:
        for r in await tx.fetchall("SELECT code, ask_nps, created_at FROM surveys ORDER BY id"):
            if rng.random() < 0.66:
                nps = rng.randint(0, 10) if r["ask_nps"] else None
                at = r["created_at"] + rng.randint(30, 3 * DAY)
                await answer_survey(tx, r["code"], csat=rng.randint(1, 5), nps=nps, comment=None,
                                    source="test", at=at, interval_s=quality_of.interval_s,
                                    days=quality_of.days)  # fmt: skip

    await store.transact(answer)


async def quality_rows(store: StoreHandle, grain: str) -> list[tuple[Any, ...]]:
    async def work(tx: Tx) -> list[tuple[Any, ...]]:
        sql = "SELECT * FROM kpi_quality WHERE grain = ? ORDER BY 1, 2, 3, 4, 5, 6"
        return [tuple(r) for r in await tx.fetchall(sql, (grain,))]

    return await store.read(work)


@pytest.fixture
def morning() -> DrivenLine:
    """A third of the day: enough repeats and answers, and a quicker journal."""
    line = DrivenLine(seed=3)
    line.run(DAY_START + DAY // 3)
    return line


async def test_a_rebuild_writes_the_quality_rows_the_journal_and_the_answers_wrote(
    store: StoreHandle, morning: DrivenLine
) -> None:
    await journal_with_quality(store, morning.events, RULES)
    written = {g: await quality_rows(store, g) for g in ("minute", "interval", "day")}

    await rebuild_rollups(store, RULES, minute_since=0)

    assert {g: await quality_rows(store, g) for g in written} == written
    # ... and they count what the figures need, on both sides.
    firsts, repeats, sent, answers, _, nps, *_ = (
        sum(c) for c in zip(*(r[6:] for r in written["day"]), strict=True)
    )
    assert min(firsts, repeats, sent, answers, nps) > 20
    operator_repeats = [r for r in written["day"] if r[5] != "" and r[7] > 0]
    assert len(operator_repeats) >= len(morning.operators) // 2


async def test_the_quality_rollup_is_counted_again_at_start_when_the_interval_changed(
    store: StoreHandle, morning: DrivenLine
) -> None:
    now = float(DAY_START + DAY)
    await open_kpi(store, RULES, now=now, keep_minutes_s=2 * DAY)  # the first start: none yet
    await journal_with_quality(store, morning.events, RULES)
    before = {g: await quality_rows(store, g) for g in ("minute", "interval", "day")}

    half_hours = KpiRules(interval_s=1800, classes=RULES.classes)
    await open_kpi(store, half_hours, now=now + 4 * DAY, keep_minutes_s=10 * DAY)

    minutes, intervals = await quality_rows(store, "minute"), await quality_rows(store, "interval")
    assert minutes == before["minute"] and await quality_rows(store, "day") == before["day"]
    assert intervals != before["interval"]
    folded: dict[tuple[Any, ...], list[int]] = {}
    for _, start, *group_and_counters in minutes:
        key = ("interval", start - start % 1800, *group_and_counters[:4])
        sums = folded.setdefault(key, [0] * len(group_and_counters[4:]))
        folded[key] = [a + b for a, b in zip(sums, group_and_counters[4:], strict=True)]
    assert intervals == sorted((*k, *v) for k, v in folded.items())

    await open_kpi(store, RULES, now=now + 4 * DAY, keep_minutes_s=4 * DAY)  # and back
    assert await quality_rows(store, "interval") == before["interval"]
    kept = await quality_rows(store, "minute")
    assert kept == [r for r in before["minute"] if r[1] >= now]
