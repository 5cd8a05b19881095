"""Period reports (`GET /v1/stats`): the line's FIGURES per interval of any period, from the KPI
rollups, with the same definitions as the live figures (`hotline.kpi.tally.figures`).

`period_report` checks the caller (supervisor, admin) and the query (`hotline.services.periods`),
reads the rollups of the report's ranges in one snapshot (`hotline.store.kpi.read_period`) and
adds each operator's current state from its last change up to `to` or now, whichever is first
(not a fact until the state changes), so a report that reaches now shows what the live view
shows. The tallies are then put together as `Buckets.total` does:
- without `by`, each row is the whole line: the queue side's contacts with the operator side's
  time (wrap-up, busy, open), so occupancy is the line's;
- `by=topic|priority|channel`: the queue side of each group; its wrap-up is that of the
  contacts of the group, and occupancy is null (time belongs to operators, not to topics);
- `by=operator`: the operator side: what each operator answered and handled (its offered is
  its answered) and its time;
- `total` is always the whole line over the rows' ranges.
The quality figures (csat, nps, survey_response_rate, repeat_rate, first_contact_resolution)
come from the `kpi_quality` rollup read in the same snapshot (`hotline.store.quality`): by
topic, class or channel its queue side, by operator its operator side, the line's otherwise.
With `by`, each group present anywhere in the period has a row in every interval (zeros and
null ratios where it had nothing).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from hotline.domain.errors import Invalid
from hotline.kpi import Buckets, KpiRules, Tally, figures
from hotline.kpi.quality import QualityTally
from hotline.routing.model import OperatorState
from hotline.services import Services
from hotline.services.auth import Principal, Role
from hotline.services.evaluations import operator_quality, quality_keys
from hotline.services.periods import MAX_ROWS, PeriodQuery, Plan, plan_period
from hotline.store import StoreHandle, Tx
from hotline.store.kpi import Key, PeriodTallies, QueueGroup, read_period
from hotline.store.quality import QualityGroup, read_quality
from hotline.store.rollups import LocalDays

Quality = dict[Key, QualityTally]  # by (report interval, group), as `read_quality` gives them

_QUEUE_GROUPS: dict[str, QueueGroup] = {
    "topic": "topic",
    "priority": "priority",
    "channel": "channel",
}


@dataclass(frozen=True, slots=True)
class ReportRow:
    start: float
    end: float
    group: str | None  # None without `by`
    figures: dict[str, Any]
    # Beside FIGURES, by operator: its quality evaluations and certification (`_with_quality`).
    beside: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PeriodReport:
    rows: list[ReportRow]
    total: dict[str, Any]


async def period_report(sv: Services, caller: Principal, query: PeriodQuery) -> PeriodReport:
    caller.require(Role.SUPERVISOR)
    return await period(sv.store.handle, sv.settings.kpi_rules(), query, now=sv.clock.now())


async def period(
    store: StoreHandle, rules: KpiRules, query: PeriodQuery, *, now: float
) -> PeriodReport:
    """The report of `query` as of `now` (see the module's docstring)."""
    plan = plan_period(rules, query)
    queue_group = _QUEUE_GROUPS.get(query.by or "")
    by_quality: QualityGroup | None = queue_group if query.by != "operator" else "operator"

    async def read(tx: Tx) -> tuple[PeriodTallies, Quality, Quality]:
        found = await read_period(
            tx,
            grain=plan.grain,
            ranges=plan.ranges,
            queue_group=queue_group,
            by_operator=query.by == "operator",
            thresholds=len(rules.thresholds),
            classes=rules.classes,
        )
        quality = await read_quality(tx, grain=plan.grain, ranges=plan.ranges, by=by_quality)
        line = quality
        if by_quality is not None:
            line = await read_quality(tx, grain=plan.grain, ranges=plan.ranges, by=None)
        return found, quality, line

    found, quality, line = await store.read(read)
    _add_open_time(found, plan, rules, query.by, now=now)
    report = _report(found, plan, rules, query.by, quality, line)
    if query.by == "operator":
        report = await _with_quality(store, plan, report)
    return report


async def _with_quality(store: StoreHandle, plan: Plan, report: PeriodReport) -> PeriodReport:
    """By operator: each row's evaluations (contacts handled in its interval) and the
    operator's certification, beside FIGURES (`hotline.services.evaluations`)."""
    quality = await operator_quality(store, plan.start, plan.end, plan.interval_at)
    starts = {s: i for i, (s, _) in enumerate(plan.intervals)}
    rows = [
        dataclasses.replace(
            r,
            beside=quality_keys(
                quality.by_interval.get((starts[r.start], r.group or "")),
                quality.certified_until.get(r.group or ""),
            ),
        )
        for r in report.rows
    ]
    return PeriodReport(rows, report.total)


def _add_open_time(
    found: PeriodTallies, plan: Plan, rules: KpiRules, by: str | None, *, now: float
) -> None:
    """Each operator's time in its current state, from its last change (or `from`) up to `to`
    or now, added where the rollups will have it once the state changes (the tracker's own
    `open_time`: a break with a call in hand is busy, a wrap-up is its contact's)."""
    end = min(now, plan.end)
    days = LocalDays(rules.tz)
    for piece in found.tracker.open_time(end):
        start = max(piece.start, plan.start)
        if start >= piece.end or piece.state is OperatorState.OFFLINE:
            continue  # before the period, or counted in no figure
        # A day's rollup holds the share of a piece in that local day: cut at local midnights.
        spans = days.split(start, piece.end) if plan.grain == "day" else [(start, piece.end)]
        for lo, hi in spans:
            part = Buckets(rules)
            part.add(dataclasses.replace(piece, start=lo, end=hi))
            for (interval, operator_id), t in part.operators.items():
                at = plan.interval_at(lo if plan.grain == "day" else interval)
                if at is not None:
                    _add(found.operators, (at, operator_id if by == "operator" else None), t)
            for (interval, topic, priority, channel), t in part.queues.items():
                at = plan.interval_at(lo if plan.grain == "day" else interval)
                if at is not None:
                    group = {"topic": topic, "priority": priority, "channel": channel}.get(by or "")
                    _add(found.queues, (at, group), t)


def _report(
    found: PeriodTallies,
    plan: Plan,
    rules: KpiRules,
    by: str | None,
    quality: Quality,
    line: Quality,
) -> PeriodReport:
    n = len(rules.thresholds)
    total = _line(_merged(found.queues.values(), n), _merged(found.operators.values(), n), n)
    line_quality = QualityTally()
    for counted_quality in line.values():
        line_quality.merge(counted_quality)
    rows: list[ReportRow] = []
    if by is None:
        for i, (s, e) in enumerate(plan.intervals):
            t = _line(found.queues.get((i, None)), found.operators.get((i, None)), n)
            rows.append(ReportRow(s, e, None, figures(t, rules, quality.get((i, None)))))
        return PeriodReport(rows, figures(total, rules, line_quality))
    side = found.operators if by == "operator" else found.queues
    groups = sorted({g for _, g in side if g is not None} | {g for _, g in quality if g})
    if len(plan.intervals) * len(groups) > MAX_ROWS:
        raise Invalid(
            f"{len(plan.intervals)} intervals of {len(groups)} groups are more than {MAX_ROWS}"
            " rows: a shorter period, a longer interval, or no `by`",
            field="by",
        )
    empty = figures(Tally(n), rules)
    for i, (s, e) in enumerate(plan.intervals):
        for g in groups:
            counted = side.get((i, g))
            q = quality.get((i, g))
            if counted is None and q is None:
                rows.append(ReportRow(s, e, g, empty))
                continue
            t = Tally(n) if counted is None else counted
            rows.append(ReportRow(s, e, g, figures(t, rules, q)))
    return PeriodReport(rows, figures(total, rules, line_quality))


def _line(queues: Tally | None, operators: Tally | None, n: int) -> Tally:
    """The whole line, as `Buckets.total` adds it up: every contact figure from the queue side,
    the operators' time (wrap-up included) from the operator side."""
    whole = queues.copy() if queues is not None else Tally(n)
    whole.wrap_sum = 0.0
    if operators is not None:
        whole.wrap_sum = operators.wrap_sum
        whole.busy_s += operators.busy_s
        whole.open_s += operators.open_s
    return whole


def _merged(tallies: Iterable[Tally], n: int) -> Tally:
    whole = Tally(n)
    for t in tallies:
        whole.merge(t)
    return whole


def _add(tallies: dict[Key, Tally], key: Key, t: Tally) -> None:
    had = tallies.get(key)
    if had is None:
        tallies[key] = t
    else:
        had.merge(t)
