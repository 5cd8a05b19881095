"""History for `scripts/bench stats`: a month of a busy line in a temporary database, and the
plain GROUP BY over its event table that the period report is measured against.

`build_month` draws contacts (arrivals shaped by the hour of the day, six topics, three
channels; answered, abandoned or expired; talk and wrap-up by operators taken in turn) and
turns them into router events in time order. The events go through the real `KpiTracker`,
`Buckets` and `hotline.store.rollups` (as `kpi_rebuild` replays history: minute rows only for
the last two days), and the `contacts` and `contact_events` rows the baseline reads are
bulk-inserted beside them. `copy_days_to_year` fills the other months' day rollups with the
month's days (what a year by month reads), cheaply.

`baseline_by_day(tx, rules, group, start, end)` is the straightforward query a reporting tool
would run without rollups: contact_events in the period joined to their contacts, grouped by
local day and group, giving the same counters the rollups hold, so `figures` of both can be
compared field by field. It counts what the contact events say: wrap-up and occupancy come
from operators' states, which it does not read, and are left out of the comparison.
"""

from __future__ import annotations

import heapq
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from hotline.kpi import KpiRules, KpiTracker, Tally
from hotline.kpi.facts import Fact
from hotline.routing import RoutingPolicy
from hotline.routing.model import (
    Accepted,
    Breached,
    Channel,
    ContactState,
    Ended,
    Enqueued,
    Event,
    OperatorChanged,
    OperatorState,
)
from hotline.store import StoreHandle, Tx
from hotline.store.rollups import (
    CountedWith,
    LocalDays,
    count_facts,
    counting_rules,
    rows_of,
    save_counted_with,
    write_rows,
)

TOPICS = ("payments", "applications", "documents", "registration", "technical", "emergency")
TOPIC_WEIGHTS = (30, 25, 15, 12, 10, 8)
CHANNELS = ((Channel.VOICE, 60), (Channel.CHAT, 30), (Channel.CALLBACK, 10))
HOUR_WEIGHTS = (1, 1, 1, 1, 1, 2, 4, 8, 12, 14, 14, 13, 12, 13, 14, 14, 13, 11, 9, 7, 5, 3, 2, 1)
ANSWERED, ABANDONED = 0.85, 0.97  # shares up to each outcome; the rest expire
WRAP_S = 20.0
CALLBACK_DEADLINE_S = 3600.0
FLUSH_EVENTS = 50_000  # events per transaction of the build, at most ...
FLUSH_S = 6 * 3600.0  # ... and six hours of them: the last two days alone are counted by minute
KEEP_MINUTES_S = 2 * 86_400.0


@dataclass(frozen=True, slots=True)
class Month:
    start: float  # local midnight of its first day
    end: float
    contacts: int
    events: int  # router events fed to the tracker
    rows: int  # contact_events rows


def month_bounds(first: date, tz: Any) -> tuple[float, float]:
    nxt = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    days = LocalDays(tz)
    return float(days.midnight(first)), float(days.midnight(nxt))


async def build_month(
    store: StoreHandle,
    rules: KpiRules,
    policy: RoutingPolicy,
    first: date,
    *,
    contacts: int,
    operators: int,
    seed: int,
) -> Month:
    start, end = month_bounds(first, rules.tz)
    writer = _Writer(store, rules, minute_since=end - KEEP_MINUTES_S)
    events = _Events(random.Random(seed), policy, start, end, contacts, operators, writer)
    for batch in events.batches():
        await writer.flush(batch)
    await store.transact(lambda tx: save_counted_with(tx, CountedWith.of(rules)))
    return Month(start, end, contacts, events.count, writer.event_rows)


async def copy_days_to_year(store: StoreHandle, month: Month, year: int, tz: Any) -> None:
    """Every other month of `year` gets the day rollups of `month`'s days (as many as it has;
    a constant shift: the line's zone does not change its clocks)."""

    async def work(tx: Tx) -> None:
        for m in range(1, 13):
            start, end = month_bounds(date(year, m, 1), tz)
            if start == month.start:
                continue
            length = min(end - start, month.end - month.start)
            for table in ("kpi_queue", "kpi_operator", "kpi_operator_deadline"):
                columns = [r[1] for r in await tx.fetchall(f"PRAGMA table_info({table})")]
                moved = ", ".join("start + :shift" if c == "start" else c for c in columns)
                await tx.execute(
                    f"INSERT INTO {table} ({', '.join(columns)}) SELECT {moved} FROM {table}"
                    " WHERE grain = 'day' AND start >= :lo AND start < :hi",
                    {"shift": start - month.start, "lo": month.start, "hi": month.start + length},
                )

    await store.transact(work)


class _Writer:
    """A batch of events: through the tracker into rollups, and their rows, in one transaction."""

    def __init__(self, store: StoreHandle, rules: KpiRules, *, minute_since: float) -> None:
        self._store = store
        self._rules = rules
        self._days = LocalDays(rules.tz)
        self._since = minute_since
        self.tracker = KpiTracker()
        self.contact_rows: list[tuple[Any, ...]] = []
        self.event_rows: int = 0
        self._pending_events: list[tuple[Any, ...]] = []

    def contact(self, row: tuple[Any, ...]) -> None:
        self.contact_rows.append(row)

    def event_row(self, row: tuple[Any, ...]) -> None:
        self._pending_events.append(row)

    async def flush(self, batch: list[Event]) -> None:
        facts: list[Fact] = []
        self.tracker.feed_all(batch, facts.append)
        recent = bool(batch) and batch[-1].at >= self._since
        counting = counting_rules(self._rules, facts, minutes=recent)
        counted = count_facts(counting, facts)
        rows = rows_of(counted, self._rules.interval_s, self._days, minute_since=self._since)
        contacts, self.contact_rows = self.contact_rows, []
        events, self._pending_events = self._pending_events, []
        self.event_rows += len(events)

        async def work(tx: Tx) -> None:
            await tx.executemany(_INSERT_CONTACT, contacts)
            await tx.executemany(_INSERT_EVENT, events)
            await write_rows(tx, rows)

        await self._store.transact(work)


_INSERT_CONTACT = (
    "INSERT INTO contacts (id, channel, topic, language, priority, state, operator_id,"
    " arrived_at, target_at, deadline_at, seq, breached, created_at, updated_at, ended_at,"
    " answered_at) VALUES (?, ?, ?, 'ru', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_EVENT = (
    "INSERT INTO contact_events (contact_id, at, kind, operator_id, data) VALUES (?, ?, ?, ?, ?)"
)


class _Events:
    """Contacts drawn in arrival order; each one's later events wait in a heap until their
    time, so the router events come out in time order, in batches."""

    def __init__(
        self,
        rng: random.Random,
        policy: RoutingPolicy,
        start: float,
        end: float,
        contacts: int,
        operators: int,
        writer: _Writer,
    ) -> None:
        self._rng = rng
        self._policy = policy
        self._start, self._end = start, end
        self._n = contacts
        self._writer = writer
        self._later: list[tuple[float, int, Event]] = []
        self._seq = 0
        self._free = [(start, f"op-{i:03d}") for i in range(operators)]
        self.count = 0

    def batches(self) -> Iterator[list[Event]]:
        batch: list[Event] = [
            OperatorChanged(op, self._start, OperatorState.READY, "requested")
            for _, op in self._free
        ]
        window_end = self._start + FLUSH_S
        for n, at in enumerate(self._arrivals(), start=1):
            while self._later and self._later[0][0] <= at:
                batch.append(heapq.heappop(self._later)[2])
            batch.extend(self._contact(n, at))
            if len(batch) >= FLUSH_EVENTS or at >= window_end:
                self.count += len(batch)
                yield batch
                batch = []
                window_end = at - (at - self._start) % FLUSH_S + FLUSH_S
        while self._later and self._later[0][0] < self._end:
            batch.append(heapq.heappop(self._later)[2])
        self.count += len(batch)
        yield batch

    def _arrivals(self) -> list[float]:
        rng = self._rng
        days = round((self._end - self._start) / 86_400)
        hours = rng.choices(range(24), weights=HOUR_WEIGHTS, k=self._n)
        return sorted(
            self._start + rng.randrange(days) * 86_400 + h * 3600 + rng.random() * 3600
            for h in hours
        )

    def _contact(self, n: int, at: float) -> list[Event]:
        rng = self._rng
        cid = f"c{n:07d}"
        topic = rng.choices(TOPICS, weights=TOPIC_WEIGHTS)[0]
        channel = rng.choices([c for c, _ in CHANNELS], weights=[w for _, w in CHANNELS])[0]
        priority = self._policy.topic_class.get(topic, self._policy.default_class)
        cls = self._policy.classes[priority]
        limit = CALLBACK_DEADLINE_S if channel is Channel.CALLBACK else cls.limit_s
        deadline = at + limit
        roll = rng.random()
        if roll < ANSWERED:
            wait, state = rng.expovariate(1 / 14), ContactState.COMPLETED
        elif roll < ABANDONED:
            wait, state = rng.expovariate(1 / 45), ContactState.ABANDONED
        else:
            wait, state = limit + 60, ContactState.EXPIRED
        done = at + wait
        w = self._writer
        first = Enqueued(cid, at, channel, topic, "ru", priority, at, at + cls.target_s, deadline)
        w.event_row((cid, at, "enqueued", None, _enqueued_data(first)))
        breached = done > deadline
        if breached:
            self._at(deadline, Breached(cid, deadline, priority, deadline))
            w.event_row((cid, deadline, "breached", None, json.dumps({"priority": priority})))
        op = answered_at = None
        ended = done
        if state is ContactState.COMPLETED:
            free_at, op = heapq.heappop(self._free)
            answered_at = done
            ended = done + 30 + rng.expovariate(1 / 240)
            heapq.heappush(self._free, (max(free_at, ended + WRAP_S), op))
            self._at(done, Accepted(cid, op, done, wait))
            self._at(done, OperatorChanged(op, done, OperatorState.BUSY, "offered"))
            self._at(ended, OperatorChanged(op, ended, OperatorState.WRAP_UP, "completed"))
            ready = ended + WRAP_S
            self._at(ready, OperatorChanged(op, ready, OperatorState.READY, "wrap_up_ended"))
            w.event_row((cid, done - 2.0, "offered", op, "{}"))
            w.event_row((cid, done, "accepted", op, json.dumps({"waited_s": wait})))
        self._at(ended, Ended(cid, ended, state, op))
        w.event_row((cid, ended, "ended", op, _ended_data(state)))
        where = (channel.value, topic, priority, state.value, op)
        times = (at, at + cls.target_s, deadline, n, int(breached), at, ended, ended, answered_at)
        w.contact((cid, *where, *times))
        return [first]

    def _at(self, at: float, event: Event) -> None:
        self._seq += 1
        heapq.heappush(self._later, (at, self._seq, event))


def _ended_data(state: ContactState) -> str:
    return json.dumps({"state": state.value, "transferred_to": None}, separators=(",", ":"))


def _enqueued_data(e: Enqueued) -> str:
    return json.dumps(
        {
            "arrived_at": e.arrived_at,
            "channel": e.channel.value,
            "deadline_at": e.deadline_at,
            "language": e.language,
            "priority": e.priority,
            "skills": [e.topic],
            "target_at": e.target_at,
            "topic": e.topic,
        },
        separators=(",", ":"),
    )


# -- the baseline -------------------------------------------------------------------------------


def _baseline_sql(rules: KpiRules, group: str) -> str:
    ans = "e.kind = 'accepted'"
    gone = "(e.kind = 'ended' AND c.answered_at IS NULL)"  # ended before anyone answered
    inbound = "c.channel != 'callback'"
    wait = "(e.at - c.arrived_at)"
    abandoned = f"({gone} AND c.state = 'abandoned' AND {inbound})"
    late = "(c.breached = 1 OR e.at > c.deadline_at)"
    met = f"({ans} AND e.at <= c.deadline_at AND c.breached = 0)"
    due = f"({ans} OR ({gone} AND {late}))"
    within = [
        f"sum({ans} AND {inbound} AND {wait} <= {t}) AS met_{i},"
        f" sum({abandoned} AND {wait} <= {t}) AS abw_{i}"
        for i, t in enumerate(rules.thresholds)
    ]
    return f"""
SELECT CAST((e.at + :offset) / 86400 AS INTEGER) * 86400 - :offset AS day,
       c.{group} AS grp, c.priority AS cls,
       sum(({ans} OR {gone}) AND {inbound}) AS offered,
       sum({ans} AND {inbound}) AS answered,
       sum({abandoned}) AS abandoned,
       sum({abandoned} AND {wait} <= :short) AS short_abandoned,
       sum({gone} AND {inbound} AND c.state != 'abandoned') AS expired,
       total(CASE WHEN {ans} AND {inbound} THEN {wait} END) AS wait_sum,
       max(CASE WHEN {inbound} AND ({ans} OR {abandoned}) THEN {wait} END) AS wait_max,
       {", ".join(within)},
       sum(e.kind = 'ended' AND c.answered_at IS NOT NULL) AS handled,
       total(CASE WHEN e.kind = 'ended' THEN e.at - c.answered_at END) AS talk_sum,
       sum({inbound} AND {met}) AS deadline_met,
       sum({inbound} AND {due}) AS deadline_due,
       sum(NOT {inbound} AND {met}) AS vm_met,
       sum(NOT {inbound} AND {due}) AS vm_due
  FROM contact_events AS e JOIN contacts AS c ON c.id = e.contact_id
 WHERE e.at >= :start AND e.at < :end AND e.kind IN ('accepted', 'ended')
 GROUP BY day, grp, cls
"""


async def baseline_by_day(
    tx: Tx, rules: KpiRules, group: str, start: float, end: float
) -> dict[tuple[float, str], Tally]:
    """Tallies per (local day, group) from the event table, as the rollups hold them (but for
    operators' time). The zone's offset at `start` is taken for the whole period."""
    offset = datetime.fromtimestamp(start, rules.tz).utcoffset()
    assert offset is not None
    params = {
        "offset": offset.total_seconds(),
        "short": rules.short_abandon_s,
        "start": start,
        "end": end,
    }
    n = len(rules.thresholds)
    tallies: dict[tuple[float, str], Tally] = {}
    for r in await tx.fetchall(_baseline_sql(rules, group), params):
        t = Tally(n)
        for name in ("offered", "answered", "abandoned", "short_abandoned", "expired"):
            setattr(t, name, r[name])
        t.wait_sum, t.wait_max = r["wait_sum"], r["wait_max"] or 0.0
        t.met = [r[f"met_{i}"] for i in range(n)]
        t.abandoned_within = [r[f"abw_{i}"] for i in range(n)]
        t.handled, t.talk_sum = r["handled"], r["talk_sum"]
        t.vm_met, t.vm_due = r["vm_met"], r["vm_due"]
        if r["deadline_due"]:
            t.deadline_due[r["cls"]] = r["deadline_due"]
            if r["deadline_met"]:
                t.deadline_met[r["cls"]] = r["deadline_met"]
        key = (float(r["day"]), r["grp"])
        if key in tallies:
            tallies[key].merge(t)
        else:
            tallies[key] = t
    return tallies
