"""Reading the KPI rollups (written by `hotline.store.rollups`) back into the core's tallies.

`read_period` serves the period reports (`hotline.services.stats`): the rollups of one grain whose
start falls in given ranges, added up per range's report interval and group in SQL, in one read
snapshot with the tracker's state (operators' time that is not a fact yet). `load_buckets` gives a
stretch of one grain back as the core's `Buckets` (the live view's start, tests).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from hotline.kpi import Buckets, KpiRules, KpiTracker, Tally
from hotline.store.rollups import COUNTERS, Grain, load_tracker, minute_rules
from hotline.store.tx import Tx

QueueGroup = Literal["topic", "priority", "channel"]
Range = tuple[int, float, float]  # (report interval, first start counted, end), epoch seconds

_SUMS = ", ".join(
    "max(wait_max) AS wait_max" if c == "wait_max" else f"sum({c}) AS {c}" for c in COUNTERS
)
# The ranges arrive as one JSON array; CROSS JOIN keeps them the outer loop, so each is one
# seek on the primary key (grain, start, ...).
_RANGES = (
    "(SELECT value ->> 0 AS i, value ->> 1 AS lo, value ->> 2 AS hi FROM json_each(:ranges)) AS r"
)


def _queue_sql(group: QueueGroup | None, classes: int) -> str:
    # The deadline counts of each configured class in columns of their own (its rows are its
    # class's), so each (interval, group) is one row: no second pass to add classes up.
    grp = f"q.{group}" if group is not None else "NULL"
    deadlines = "".join(
        f", total(CASE WHEN q.priority = :class_{k} THEN q.deadline_met END) AS met_of_{k}"
        f", total(CASE WHEN q.priority = :class_{k} THEN q.deadline_due END) AS due_of_{k}"
        for k in range(classes)
    )
    return (
        f"SELECT r.i AS i, {grp} AS grp, {_SUMS}{deadlines}"
        f" FROM {_RANGES} CROSS JOIN kpi_queue AS q"
        " WHERE q.grain = :grain AND q.start >= r.lo AND q.start < r.hi"
        " GROUP BY r.i, grp"
    )


_QUEUE_SQL: dict[tuple[QueueGroup | None, int], str] = {}
_OPERATOR_SQL = (
    f"SELECT r.i AS i, o.operator_id AS grp, {_SUMS}"
    f" FROM {_RANGES} CROSS JOIN kpi_operator AS o"
    " WHERE o.grain = :grain AND o.start >= r.lo AND o.start < r.hi GROUP BY r.i, grp"
)
# Without `by=operator` the operator side gives the line its operators' time, and only that.
_OPERATOR_TIME_SQL = (
    "SELECT r.i AS i, sum(o.wrap_sum) AS wrap_sum, sum(o.busy_s) AS busy_s,"
    f" sum(o.open_s) AS open_s FROM {_RANGES} CROSS JOIN kpi_operator AS o"
    " WHERE o.grain = :grain AND o.start >= r.lo AND o.start < r.hi GROUP BY r.i"
)
_DEADLINE_SQL = (
    "SELECT r.i AS i, d.operator_id AS grp, d.class AS cls, sum(d.met) AS met, sum(d.due) AS due"
    f" FROM {_RANGES} CROSS JOIN kpi_operator_deadline AS d"
    " WHERE d.grain = :grain AND d.start >= r.lo AND d.start < r.hi GROUP BY r.i, grp, cls"
)

Key = tuple[int, str | None]  # (report interval, group; None: all groups)


@dataclass(frozen=True, slots=True)
class PeriodTallies:
    """Tallies per (report interval, group): the queue side's grouped by `by` (a queue column
    or None), the operator side's by operator (or, with None, only their time: wrap-up, busy,
    open); and the tracker as the same commit left it, for the operators' time that is no fact
    yet (`KpiTracker.open_time`)."""

    queues: dict[Key, Tally]
    operators: dict[Key, Tally]
    tracker: KpiTracker


async def read_period(
    tx: Tx,
    *,
    grain: Grain,
    ranges: Sequence[Range],
    queue_group: QueueGroup | None,
    by_operator: bool,
    thresholds: int,
    classes: Sequence[str],
) -> PeriodTallies:
    """The rollups of `grain` whose start lies in one of `ranges`, added up per range's report
    interval: run by `StoreHandle.read` (one snapshot). Deadlines are counted for `classes`
    (the configured ones: a class no longer configured is in no figure)."""
    params: dict[str, Any] = {"grain": grain, "ranges": json.dumps(ranges)}
    params.update((f"class_{k}", name) for k, name in enumerate(classes))
    sql = _QUEUE_SQL.get((queue_group, len(classes)))
    if sql is None:
        sql = _QUEUE_SQL[(queue_group, len(classes))] = _queue_sql(queue_group, len(classes))
    queues: dict[Key, Tally] = {}
    for r in await tx.fetchall(sql, params):
        t = queues[(r["i"], r["grp"])] = tally_of(r, thresholds)
        for k, name in enumerate(classes):
            if r[f"due_of_{k}"]:
                _set_deadline(t, name, int(r[f"met_of_{k}"]), int(r[f"due_of_{k}"]))
    operators: dict[Key, Tally] = {}
    if not by_operator:
        for r in await tx.fetchall(_OPERATOR_TIME_SQL, params):
            t = operators[(r["i"], None)] = Tally(thresholds)
            t.wrap_sum, t.busy_s, t.open_s = r["wrap_sum"], r["busy_s"], r["open_s"]
    else:
        for r in await tx.fetchall(_OPERATOR_SQL, params):
            operators[(r["i"], r["grp"])] = tally_of(r, thresholds)
        for r in await tx.fetchall(_DEADLINE_SQL, params):
            t = operators.setdefault((r["i"], r["grp"]), Tally(thresholds))
            _set_deadline(t, r["cls"], r["met"], r["due"])
    return PeriodTallies(queues, operators, await load_tracker(tx))


async def load_buckets(tx: Tx, rules: KpiRules, grain: Grain, start: float, end: float) -> Buckets:
    """The rollups of `grain` starting from `start` to `end` as the core's `Buckets`, keyed by
    the period's start as `Buckets` keys its intervals (a day's: its local midnight). Its rules
    count in that grain for a minute or an interval, so facts can be added to it; a day's
    `Buckets` is for reading (`total()`), its rules count by interval."""
    buckets = Buckets(minute_rules(rules) if grain == "minute" else rules)
    n = len(rules.thresholds)
    span = {"grain": grain, "start": start, "end": end}
    where = "WHERE grain = :grain AND start >= :start AND start < :end"
    for r in await tx.fetchall(f"SELECT * FROM kpi_queue {where}", span):
        t = tally_of(r, n)
        if r["deadline_due"]:
            _set_deadline(t, r["priority"], r["deadline_met"], r["deadline_due"])
        buckets.queues[(float(r["start"]), r["topic"], r["priority"], r["channel"])] = t
    for r in await tx.fetchall(f"SELECT * FROM kpi_operator {where}", span):
        buckets.operators[(float(r["start"]), r["operator_id"])] = tally_of(r, n)
    for r in await tx.fetchall(f"SELECT * FROM kpi_operator_deadline {where}", span):
        t = buckets.operators.setdefault((float(r["start"]), r["operator_id"]), Tally(n))
        _set_deadline(t, r["class"], r["met"], r["due"])
    return buckets


def tally_of(r: Any, thresholds: int) -> Tally:
    """A `Tally` from a row holding the `COUNTERS` columns (deadlines aside)."""
    t = Tally(thresholds)
    t.offered = r["offered"]
    t.answered = r["answered"]
    t.abandoned = r["abandoned"]
    t.short_abandoned = r["short_abandoned"]
    t.expired = r["expired"]
    t.wait_sum = r["wait_sum"]
    t.wait_max = r["wait_max"]
    t.met = [r[f"met_{i}"] for i in range(thresholds)]
    t.abandoned_within = [r[f"abw_{i}"] for i in range(thresholds)]
    t.handled = r["handled"]
    t.talk_sum = r["talk_sum"]
    t.wrap_sum = r["wrap_sum"]
    t.busy_s = r["busy_s"]
    t.open_s = r["open_s"]
    t.vm_met = r["vm_met"]
    t.vm_due = r["vm_due"]
    return t


def _set_deadline(t: Tally, name: str, met: int, due: int) -> None:
    # As the core counts them: a class appears once one of its contacts is due (met if > 0).
    t.deadline_due[name] = t.deadline_due.get(name, 0) + due
    if met:
        t.deadline_met[name] = t.deadline_met.get(name, 0) + met
