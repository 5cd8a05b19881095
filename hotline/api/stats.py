"""`/v1/stats`: the line's service levels for supervisors, as FIGURES (`hotline.kpi.tally.figures`).

`GET /v1/stats?from=&to=&interval=&by=&hours=`: a period report from the KPI rollups
(`hotline.services.stats`). `Figures` is the one JSON shape of the figures, for every answer
that holds them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints
from quart import Blueprint
from quart_schema import validate_querystring, validate_response

from hotline.api.schemas import Request, Response
from hotline.api.services import caller, current_services
from hotline.services import stats
from hotline.services.periods import PeriodQuery

blueprint = Blueprint("stats", __name__, url_prefix="/v1/stats")

Ratio = float | None


class Figures(Response):
    """Counts of contacts whose wait ended, seconds, and ratios 0..1 (null: nothing to divide).
    README "Service levels, defined" says how each is counted."""

    offered: int
    answered: int
    abandoned: int
    short_abandoned: int
    expired: int
    asa_s: float | None
    max_wait_s: float | None
    service_level: dict[str, Ratio] = Field(description="by threshold in seconds")
    abandon_rate: Ratio
    aht_s: float | None
    talk_s: float | None
    wrap_s: float | None
    occupancy: Ratio
    deadline_met: dict[str, Ratio] = Field(description="by priority class")
    voicemail_within_hour: Ratio

    @classmethod
    def of(cls, values: dict[str, Any]) -> Figures:
        return cls.model_validate(values)


class _Interval(Response):
    start: datetime
    end: datetime


class _GroupInterval(_Interval):
    group: str = Field(description="the topic, priority class, channel or operator")


class PeriodRow(Figures, _Interval):
    """One interval of the report."""


class GroupRow(Figures, _GroupInterval):
    """One group in one interval of the report (with `by`)."""


class PeriodOut(Response):
    rows: list[GroupRow] | list[PeriodRow]
    total: Figures


LocalMinute = Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$")]


class PeriodQueryIn(Request):
    from_: LocalMinute = Field(
        alias="from",
        description="local time of the line's zone (2026-03-01T08:00), on an interval_min "
        "boundary; inclusive",
    )
    to: LocalMinute = Field(description="as `from`; exclusive")
    interval: Literal["15m", "30m", "1h", "1d"] = Field(
        description="a multiple of the line's interval_min; 1d is a local calendar day"
    )
    by: Literal["topic", "priority", "channel", "operator"] | None = None
    hours: Annotated[str, StringConstraints(pattern=r"^\d{2}:\d{2}-\d{2}:\d{2}$")] | None = Field(
        default=None,
        description="only the interval_min intervals whose local start is in this range "
        "(08:00-20:00; 20:00-08:00 wraps midnight)",
    )


@blueprint.get("")
@validate_querystring(PeriodQueryIn)
@validate_response(PeriodOut)
async def period(query_args: PeriodQueryIn) -> PeriodOut:
    """FIGURES per interval from `from` to `to`, per group with `by`, and their `total`
    (supervisor). Empty intervals are rows with zero counts and null ratios."""
    q = query_args
    query = PeriodQuery(q.from_, q.to, q.interval, q.by, q.hours)
    report = await stats.period_report(current_services(), await caller(), query)
    total = Figures.of(report.total)
    if q.by is None:
        plain = [PeriodRow(start=_at(r.start), end=_at(r.end), **r.figures) for r in report.rows]
        return PeriodOut(rows=plain, total=total)
    grouped = [
        GroupRow(start=_at(r.start), end=_at(r.end), group=r.group, **r.figures)
        for r in report.rows
    ]
    return PeriodOut(rows=grouped, total=total)


def _at(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)
