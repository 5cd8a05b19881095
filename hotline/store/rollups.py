"""KPI rollups: the facts of the router's events, counted into the tables of migration 0012.

The journal owns one `KpiRecorder`: for each batch it calls `count(events)` once (the tracker is
fed there, before any attempt to write, so a retried batch is never counted twice) and
`write(tx, counted)` in the transaction that writes the events, so a fact is on disk exactly when
its event is. Recovery's restart events go through the same recorder. Each batch's facts are
counted per minute by the core's own `Buckets`, and every minute's tally is added to its minute,
its `interval_min` interval and its local day (additive upserts), by queue and by operator.
Operators' `state_since` and last group are written from the tracker, which `load_tracker` gives
back at the next start.

The period reports (`hotline.store.kpi`) read these tables; `kpi_rebuild` refills them from the
event tables when the rules they were counted with change.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from hotline.kpi import Buckets, KpiRules, KpiTracker, OpenContact, OpenOperator, Tally
from hotline.kpi.facts import Fact, OperatorTime
from hotline.routing.model import Event, OperatorChanged, OperatorState
from hotline.store.tx import Rows, Tx

Grain = Literal["minute", "interval", "day"]
GRAINS: tuple[Grain, ...] = ("minute", "interval", "day")
MINUTE_S = 60
MAX_THRESHOLDS = 6  # columns met_0..met_5, abw_0..abw_5 ([kpi] service_level_s allows six)

_SLOTS = range(MAX_THRESHOLDS)
COUNTERS: tuple[str, ...] = (
    "offered",
    "answered",
    "abandoned",
    "short_abandoned",
    "expired",
    "wait_sum",
    "wait_max",
    *(f"met_{i}" for i in _SLOTS),
    *(f"abw_{i}" for i in _SLOTS),
    "handled",
    "talk_sum",
    "wrap_sum",
    "busy_s",
    "open_s",
    "vm_met",
    "vm_due",
)
QUEUE_KEY = ("grain", "start", "topic", "priority", "channel")
OPERATOR_KEY = ("grain", "start", "operator_id")
QUEUE_COLUMNS = (*QUEUE_KEY, *COUNTERS, "deadline_met", "deadline_due")
OPERATOR_COLUMNS = (*OPERATOR_KEY, *COUNTERS)


def _upsert(table: str, columns: Sequence[str], key: Sequence[str]) -> Rows:
    adds = ", ".join(
        f"{c} = max({c}, excluded.{c})" if c == "wait_max" else f"{c} = {c} + excluded.{c}"
        for c in columns
        if c not in key
    )
    return Rows(
        f"INSERT INTO {table} ({', '.join(columns)})",
        width=len(columns),
        tail=f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {adds}",
    )


_UPSERT_QUEUE = _upsert("kpi_queue", QUEUE_COLUMNS, QUEUE_KEY)
_UPSERT_OPERATOR = _upsert("kpi_operator", OPERATOR_COLUMNS, OPERATOR_KEY)
_UPSERT_DEADLINE = _upsert(
    "kpi_operator_deadline",
    (*OPERATOR_KEY, "class", "met", "due"),
    (*OPERATOR_KEY, "class"),
)
_OPERATOR_STATE = (
    "UPDATE operators SET state_since = ?, last_topic = ?, last_priority = ?, last_channel = ?"
    " WHERE id = ?"
)


def counters_of(t: Tally) -> tuple[Any, ...]:
    """A tally's counters in the order of `COUNTERS` (thresholds past the configured ones: 0)."""
    pad = (0,) * (MAX_THRESHOLDS - len(t.met))
    return (
        t.offered,
        t.answered,
        t.abandoned,
        t.short_abandoned,
        t.expired,
        t.wait_sum,
        t.wait_max,
        *t.met,
        *pad,
        *t.abandoned_within,
        *pad,
        t.handled,
        t.talk_sum,
        t.wrap_sum,
        t.busy_s,
        t.open_s,
        t.vm_met,
        t.vm_due,
    )


class LocalDays:
    """Local midnights of a zone (epoch seconds); the day last asked for is kept, since
    consecutive instants mostly fall in one day."""

    __slots__ = ("_hi", "_lo", "tz")

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz
        self._lo = self._hi = 0

    def start_of(self, at: float) -> int:
        if not self._lo <= at < self._hi:
            day = datetime.fromtimestamp(at, self.tz).date()
            self._lo, self._hi = self.midnight(day), self.midnight(day + timedelta(days=1))
        return self._lo

    def midnight(self, day: date) -> int:
        return int(datetime.combine(day, time(), self.tz).timestamp())

    def split(self, start: float, end: float) -> Iterator[tuple[float, float]]:
        """[start, end) cut at local midnights."""
        while start < end:
            self.start_of(start)
            cut = min(end, self._hi)
            yield start, cut
            start = cut


@dataclass(slots=True)
class RollupRows:
    """Parameter rows for the three upserts."""

    queue: list[tuple[Any, ...]] = dataclasses.field(default_factory=list)
    operator: list[tuple[Any, ...]] = dataclasses.field(default_factory=list)
    deadline: list[tuple[Any, ...]] = dataclasses.field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.queue or self.operator or self.deadline)


def minute_rules(rules: KpiRules) -> KpiRules:
    """The rules with minute intervals: what `Buckets` counts a batch into before it is rolled
    up (a minute is inside one interval and one local day, whatever the zone's offset)."""
    return dataclasses.replace(rules, interval_s=MINUTE_S)


def counting_rules(rules: KpiRules, facts: Sequence[Fact], *, minutes: bool) -> KpiRules:
    """The rules to count `facts` with before `rows_of`: by minute when the minute rows are
    wanted, or when a local midnight may fall inside an interval (a zone whose offset is no
    multiple of it, at the first or the last instant the facts cover); else by interval, which
    is all the interval and day rows need (history: a fifteenth of the tallies)."""
    if minutes or not facts:
        return minute_rules(rules)
    first = min(f.start if isinstance(f, OperatorTime) else f.at for f in facts)
    last = max(f.end if isinstance(f, OperatorTime) else f.at for f in facts)
    for instant in (first, last):
        offset = datetime.fromtimestamp(instant, rules.tz).utcoffset()
        if offset is None or offset.total_seconds() % rules.interval_s:
            return minute_rules(rules)
    return rules


def count_facts(rules: KpiRules, facts: Iterable[Fact]) -> Buckets:
    """`facts` in the core's `Buckets`, but for time offline: it counts in no figure, and the
    core would give each of its minutes an empty tally (a night offline: hundreds of rows)."""
    buckets = Buckets(rules)
    buckets.add_all(
        f for f in facts if not (isinstance(f, OperatorTime) and f.state is OperatorState.OFFLINE)
    )
    return buckets


def rows_of(
    counted: Buckets, interval_s: int, days: LocalDays, *, minute_since: float | None = None
) -> RollupRows:
    """The rows that add `counted` (a `Buckets` by minute, or by interval where no minute row is
    wanted) to the three grains: each minute to its minute (from `minute_since` on), the tallies
    of one interval or day added up here first (a batch's minutes are mostly of distinct groups,
    so most are not copied; a long stretch's are many to one)."""
    by_minute = counted.rules.interval_s == MINUTE_S
    since = -math.inf if minute_since is None else minute_since
    rows = RollupRows()
    for kind, tallies in (("queue", counted.queues), ("operator", counted.operators)):
        folded: dict[tuple[Any, ...], Tally] = {}
        copied: set[tuple[Any, ...]] = set()
        for (start, *group), t in tallies.items():
            start = int(start)
            if by_minute and start >= since:
                _row(rows, kind, ("minute", start, *group), t)
            for key in (
                ("interval", start - start % interval_s, *group),
                ("day", days.start_of(start), *group),
            ):
                had = folded.get(key)
                if had is None:
                    folded[key] = t  # copied only if another tally joins it
                else:
                    if key not in copied:
                        had = folded[key] = had.copy()
                        copied.add(key)
                    had.merge(t)
        for key, t in folded.items():
            _row(rows, kind, key, t)
    return rows


def _row(rows: RollupRows, kind: str, key: tuple[Any, ...], t: Tally) -> None:
    if kind == "queue":
        deadline = (sum(t.deadline_met.values()), sum(t.deadline_due.values()))
        rows.queue.append((*key, *counters_of(t), *deadline))
        return
    rows.operator.append((*key, *counters_of(t)))
    for name, due in t.deadline_due.items():
        rows.deadline.append((*key, name, t.deadline_met.get(name, 0), due))


async def write_rows(tx: Tx, rows: RollupRows) -> None:
    if rows.queue:
        await tx.insert_rows(_UPSERT_QUEUE, rows.queue)
    if rows.operator:
        await tx.insert_rows(_UPSERT_OPERATOR, rows.operator)
    if rows.deadline:
        await tx.insert_rows(_UPSERT_DEADLINE, rows.deadline)


def operator_state_rows(operators: Iterable[OpenOperator]) -> list[tuple[Any, ...]]:
    return [(o.since, o.last_topic, o.last_priority, o.last_channel, o.id) for o in operators]


async def write_operator_states(tx: Tx, rows: list[tuple[Any, ...]]) -> None:
    """Operators' `state_since` and last group, as `operator_state_rows` gives them."""
    if rows:
        await tx.executemany(_OPERATOR_STATE, rows)


@dataclass(frozen=True, slots=True)
class Counted:
    """What a batch of events adds: its facts, their rollup rows, and the tracker's view of
    the operators the batch changed."""

    facts: list[Fact]
    rows: RollupRows
    operators: list[tuple[Any, ...]]


_NOTHING = Counted([], RollupRows(), [])


class KpiRecorder:
    """The journal's tracker and the rules it counts with: events in, rows to write out."""

    __slots__ = ("_days", "_minutes", "rules", "tracker")

    def __init__(self, tracker: KpiTracker, rules: KpiRules) -> None:
        self.tracker = tracker
        self.rules = rules
        self._minutes = minute_rules(rules)
        self._days = LocalDays(rules.tz)

    def count(self, events: Sequence[Event]) -> Counted:
        """Feed `events` to the tracker (once per event: call this once per batch) and work out
        what to write for them."""
        facts: list[Fact] = []
        self.tracker.feed_all(events, facts.append)
        # Whose state since or last group may have moved: those the events changed, and those
        # of the facts (an answer, an end, a piece: holding a call on break, a chat's wrap-up).
        touched = {e.operator_id for e in events if isinstance(e, OperatorChanged)}
        touched.update(f.operator_id for f in facts if f.operator_id is not None)
        if not facts and not touched:
            return _NOTHING
        rows = rows_of(count_facts(self._minutes, facts), self.rules.interval_s, self._days)
        changed = [o for o in self.tracker.open_operators() if o.id in touched] if touched else []
        return Counted(facts, rows, operator_state_rows(changed))

    async def write(self, tx: Tx, counted: Counted) -> None:
        """Write what `count` worked out, in the caller's transaction (the events')."""
        if counted.rows:
            await write_rows(tx, counted.rows)
        await write_operator_states(tx, counted.operators)


async def load_tracker(tx: Tx) -> KpiTracker:
    """The tracker as the last commit left it: the contacts not ended, each operator's state
    since its last change and the group of the contact it ended last."""
    contacts = await tx.fetchall(
        "SELECT id, topic, priority, channel, arrived_at, deadline_at, breached, answered_at,"
        " operator_id FROM contacts WHERE ended_at IS NULL"
    )
    operators = await tx.fetchall(
        "SELECT id, state, coalesce(state_since, updated_at) AS since, last_topic, last_priority,"
        " last_channel FROM operators"
    )
    return KpiTracker(
        (
            OpenContact(
                r["id"],
                r["topic"],
                r["priority"],
                r["channel"],
                r["arrived_at"],
                r["deadline_at"],
                bool(r["breached"]),
                r["answered_at"],
                r["operator_id"] if r["answered_at"] is not None else None,
            )
            for r in contacts
        ),
        (
            OpenOperator(
                r["id"],
                OperatorState(r["state"]),
                r["since"],
                r["last_topic"],
                r["last_priority"],
                r["last_channel"],
            )
            for r in operators
        ),
    )


# -- the rules the rollups were counted with ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class CountedWith:
    """What the stored counters depend on; the basis, the goals and the classes do not (the
    figures are worked out from the counters when asked)."""

    thresholds: tuple[int, ...]
    short_abandon_s: float
    interval_s: int
    timezone: str

    @classmethod
    def of(cls, rules: KpiRules) -> CountedWith:
        return cls(rules.thresholds, rules.short_abandon_s, rules.interval_s, rules.tz.key)

    def differences(self, other: CountedWith | None) -> list[str]:
        """The names of what differs from `other` (every name when there is none)."""
        names = [f.name for f in dataclasses.fields(self)]
        if other is None:
            return names
        return [n for n in names if getattr(self, n) != getattr(other, n)]


async def read_counted_with(tx: Tx) -> CountedWith | None:
    r = await tx.fetchone(
        "SELECT thresholds, short_abandon_s, interval_s, timezone FROM kpi_counted_with"
    )
    if r is None:
        return None
    return CountedWith(
        tuple(json.loads(r["thresholds"])), r["short_abandon_s"], r["interval_s"], r["timezone"]
    )


async def save_counted_with(tx: Tx, counted_with: CountedWith) -> None:
    await tx.execute(
        "INSERT INTO kpi_counted_with (id, thresholds, short_abandon_s, interval_s, timezone)"
        " VALUES (1, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET thresholds = excluded.thresholds,"
        " short_abandon_s = excluded.short_abandon_s, interval_s = excluded.interval_s,"
        " timezone = excluded.timezone",
        (
            json.dumps(list(counted_with.thresholds)),
            counted_with.short_abandon_s,
            counted_with.interval_s,
            counted_with.timezone,
        ),
    )


async def clear_rollups(tx: Tx) -> None:
    """Every rollup row and the record of their rules (a rebuild's first step)."""
    tables = ("kpi_queue", "kpi_operator", "kpi_operator_deadline", "kpi_quality")
    for table in (*tables, "kpi_counted_with"):
        await tx.execute(f"DELETE FROM {table}")


# -- retention ---------------------------------------------------------------------------------


async def purge_minutes(tx: Tx, *, before: float, span_s: float) -> bool:
    """Delete the minute rows of the oldest `span_s` seconds of those before `before` (a short
    transaction however far behind the purge is); True once none before `before` is left."""
    oldest = await tx.fetchone(
        "SELECT min(start) AS start FROM ("
        " SELECT min(start) AS start FROM kpi_queue WHERE grain = 'minute'"
        " UNION ALL SELECT min(start) FROM kpi_operator WHERE grain = 'minute')"
    )
    if oldest is None or oldest["start"] is None or oldest["start"] >= before:
        return True
    cut = min(before, oldest["start"] + span_s)
    for table in ("kpi_queue", "kpi_operator", "kpi_operator_deadline", "kpi_quality"):
        await tx.execute(f"DELETE FROM {table} WHERE grain = 'minute' AND start < ?", (cut,))
    return bool(cut >= before)
