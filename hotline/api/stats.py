"""`/v1/stats`: the line's service levels for supervisors, as FIGURES (`hotline.kpi.tally.figures`).

`GET /v1/stats?from=&to=&interval=&by=&hours=`: a period report from the KPI rollups
(`hotline.services.stats`). `GET /v1/stats/live`: today's and the last 15 minutes' figures,
what waits now, operators by state and the queues, from memory (`hotline.services.live`: no
query to the store), and the same as a Server-Sent Events stream, `GET /v1/stats/live/stream`,
for wallboards. `Figures` is the one JSON shape of the figures, for every answer that holds them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

import trio
from pydantic import Field, StringConstraints
from quart import Blueprint, current_app, request
from quart import Response as HttpResponse
from quart_schema import validate_querystring, validate_response

from hotline.api.openapi import answers_with
from hotline.api.queues import QueueRow
from hotline.api.schemas import Request, Response, instant
from hotline.api.services import caller, current_services
from hotline.routing.model import OperatorState
from hotline.services import stats
from hotline.services.live import LiveFigures
from hotline.services.periods import PeriodQuery

blueprint = Blueprint("stats", __name__, url_prefix="/v1/stats")

Ratio = float | None

HEARTBEAT_S = 15.0  # a comment line this often keeps proxies from closing an idle stream
TICK_S = 1.0  # while anything changes, a stream sends at least this often ...
GAP_S = 0.25  # ... and never more often than this


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
    # The quality loop (README "Surveys and repeat contacts").
    csat: Ratio = Field(description="survey answers rating 4-5 / answers")
    nps: float | None = Field(description="% of NPS answers 9-10 minus % of 0-6, -100..100")
    survey_response_rate: Ratio = Field(description="answers / surveys sent in the period")
    repeat_rate: Ratio = Field(description="repeat contacts / contacts")
    first_contact_resolution: float | None = Field(
        description="1 - repeats / first contacts (below 0 when problems take 3+ contacts)"
    )

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


class OperatorRow(GroupRow):
    """One operator in one interval (`by=operator`): FIGURES, and beside them the quality
    evaluations of the contacts it handled in the interval and its certification."""

    evaluations: int = Field(description="evaluations of contacts it handled in the interval")
    evaluation_score: Ratio = Field(description="their mean score, 0..1")
    evaluations_failed: int = Field(description="of them, failed (a critical or the pass share)")
    failed_criticals: int = Field(description="critical questions not met, in all of them")
    certified_until: date | None = Field(description="its last certified day, as of now")


class PeriodOut(Response):
    rows: list[OperatorRow] | list[GroupRow] | list[PeriodRow]
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
    row_model = OperatorRow if q.by == "operator" else GroupRow
    grouped = [
        row_model(start=_at(r.start), end=_at(r.end), group=r.group, **r.figures, **r.beside)
        for r in report.rows
    ]
    return PeriodOut(rows=grouped, total=total)


def _at(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


class LiveOut(Response):
    """The line now. `today`: since local midnight ([kpi] the line's time zone); `last_15m`:
    the current minute and the 14 before it; both count operators' time up to `now`."""

    now: datetime
    today: Figures
    last_15m: Figures
    waiting: int = Field(description="contacts queued or ringing at a desk, callbacks included")
    oldest_wait_s: float | None = Field(description="the longest wait queued now; null if none")
    operators: dict[OperatorState, int] = Field(description="every state, zeros too")
    queues: list[QueueRow]
    goals: dict[str, float] = Field(description="[kpi.goals]: shown, never routed on")
    voicemail_overdue: int = Field(description="callbacks past their working hour, not taken")

    @classmethod
    def of(cls, snapshot: dict[str, Any]) -> LiveOut:
        return cls.model_validate({**snapshot, "now": instant(snapshot["now"])})


@blueprint.get("/live")
@validate_response(LiveOut)
async def live() -> LiveOut:
    """The live figures (supervisor): kept in memory from the router's committed events."""
    return LiveOut.of(await current_services().live.snapshot())


@blueprint.get("/live/stream")
@answers_with("text/event-stream", description="`live` events, each the JSON of /v1/stats/live")
async def live_stream() -> HttpResponse:
    """Server-Sent Events: an `event: live` whose `data` is the JSON of `GET /v1/stats/live`,
    at once, then whenever anything in it changes (at least once a second while something does,
    at most four times), and a comment line every 15 s while nothing does."""
    if request.method == "HEAD":
        # Quart answers HEAD with the GET handler: the headers alone are the answer, no stream.
        return _stream_headers(HttpResponse(b"", content_type="text/event-stream"))
    sv = current_services()
    dumps = current_app.json.dumps

    async def events() -> AsyncIterator[bytes]:
        yield b"retry: 2000\n\n"
        async for data in _changes(sv.live):
            yield f"event: live\ndata: {dumps(data)}\n\n".encode() if data else b": keep-alive\n\n"

    response = HttpResponse(events(), content_type="text/event-stream")
    response.timeout = None  # a stream lasts as long as the wallboard stays connected
    return _stream_headers(response)


async def _changes(live: LiveFigures) -> AsyncIterator[dict[str, Any] | None]:
    """The live JSON at once, then each time it differs from the last one sent (`now` aside);
    None when a heartbeat is due. Ends when the figures are closed (the server stops)."""
    last: dict[str, Any] | None = None
    sent_at = trio.current_time()
    while not live.closed:
        seen = live.version
        snapshot = LiveOut.of(await live.snapshot()).model_dump()
        compared = {**snapshot, "now": None}
        if compared != last:
            last = compared
            sent_at = trio.current_time()
            yield snapshot
        elif trio.current_time() - sent_at >= HEARTBEAT_S:
            sent_at = trio.current_time()
            yield None
        await trio.sleep(GAP_S)
        with trio.move_on_after(TICK_S - GAP_S):
            await live.wait_for_news(seen)


def _stream_headers(response: HttpResponse) -> HttpResponse:
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Accel-Buffering"] = "no"
    return response
