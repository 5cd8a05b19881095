"""Feedback sorted by theme (`hotline.services.feedback`):

- `POST /v1/contacts/{id}/complaints`: a complaint an operator records about the contact it holds
  (a supervisor: about any contact); 201 when new, 200 for the same text again;
- `GET /v1/feedback`: comments in the order written, filtered by category, topic and time,
  paged (supervisor);
- `GET /v1/feedback/{id}` and `PUT /v1/feedback/{id}/category`: one comment with its label's
  corrections, and a correction (supervisor);
- `GET /v1/quality/trends`: counts per category and the terms that rose against the period of the
  same length before (supervisor).

Texts are shown with phone numbers, INN and SNILS masked.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints
from quart import Blueprint
from quart_schema import validate_querystring, validate_response

from hotline.api.schemas import InstantIn, Request, Response, Text, instant
from hotline.api.services import caller, current_services
from hotline.api.validation import validate_request
from hotline.domain.masking import mask_personal_numbers
from hotline.quality.themes import Theme
from hotline.quality.trends import Trend
from hotline.services import feedback
from hotline.services.paging import MAX_KEY
from hotline.store.feedback import CorrectionRow, FeedbackRow, FeedbackSource

blueprint = Blueprint("feedback", __name__, url_prefix="/v1")

MAX_TEXT = 4000  # characters of a complaint: a paragraph or two, as an operator types it


class ComplaintBody(Request):
    text: Annotated[Text, StringConstraints(min_length=1, max_length=MAX_TEXT)] = Field(
        description="the citizen's complaint in their words (a repeat of the same text about "
        "the same contact is the same complaint)"
    )


class FeedbackQuery(Request):
    category: Theme | None = Field(default=None, description="a theme of the current label")
    topic: Annotated[Text, StringConstraints(max_length=64)] | None = None
    from_: InstantIn | None = Field(
        default=None, alias="from", description="written at or after (RFC 3339 with offset)"
    )
    to: InstantIn | None = Field(default=None, description="written before (RFC 3339)")
    limit: int = Field(default=50, ge=1, le=200)
    cursor: Annotated[Text, StringConstraints(max_length=40)] | None = None


class CorrectionBody(Request):
    categories: list[Theme] = Field(
        min_length=1,
        max_length=len(Theme),
        description="the comment's themes, each once; `other` only alone",
    )


class TrendQuery(Request):
    from_: InstantIn = Field(alias="from", description="the period's start (RFC 3339); inclusive")
    to: InstantIn = Field(description="the period's end (RFC 3339); exclusive")
    by: Literal["topic"] | None = Field(default=None, description="also per topic")


class CorrectionOut(Response):
    at: datetime
    token_id: str = Field(description="who corrected it")
    previous: list[Theme]
    categories: list[Theme]

    @classmethod
    def of(cls, c: CorrectionRow) -> CorrectionOut:
        return cls(
            at=_at(c.at),
            token_id=c.token_id,
            previous=list(c.previous),
            categories=list(c.categories),
        )


class FeedbackOut(Response):
    id: int
    at: datetime
    source: FeedbackSource
    source_id: str = Field(description="the survey, the ticket's number, or `<contact id>:…`")
    text: str = Field(description="phone numbers, INN and SNILS masked")
    topic: str | None
    operator_id: str | None
    categories: list[Theme] = Field(description="the current label: the latest correction")
    auto_categories: list[Theme] = Field(description="the classifier's label when written")
    corrected_at: datetime | None

    @classmethod
    def of(cls, f: FeedbackRow) -> FeedbackOut:
        return cls(
            id=f.id,
            at=_at(f.at),
            source=f.source,
            source_id=f.source_id,
            text=mask_personal_numbers(f.text),
            topic=f.topic,
            operator_id=f.operator_id,
            categories=list(f.categories),
            auto_categories=list(f.auto_categories),
            corrected_at=instant(f.corrected_at),
        )


class FeedbackDetail(FeedbackOut):
    corrections: list[CorrectionOut] = Field(description="oldest first")

    @classmethod
    def of_view(cls, view: feedback.FeedbackView) -> FeedbackDetail:
        return cls(
            **FeedbackOut.of(view.item).model_dump(),
            corrections=[CorrectionOut.of(c) for c in view.corrections],
        )


class FeedbackPageOut(Response):
    """One page; pass `next_cursor` as `cursor` for the next (null: this was the last)."""

    feedback: list[FeedbackOut]
    next_cursor: str | None


class RiseOut(Response):
    term: str = Field(description="a stem: ожидан is ожидание, ожидания …")
    count: int = Field(description="comments using it in the period")
    previous: int = Field(description="... in the period before")
    rise: int


class TrendOut(Response):
    total: int = Field(description="comments in the period")
    categories: dict[Theme, int] = Field(
        description="comments per theme; a comment with several themes counts in each"
    )
    rising_terms: list[RiseOut] = Field(description="the terms that rose most, most first")

    @classmethod
    def of(cls, t: Trend) -> TrendOut:
        return cls(
            total=t.total,
            categories=dict(t.categories),
            rising_terms=[
                RiseOut(term=r.term, count=r.count, previous=r.previous, rise=r.rise)
                for r in t.rising
            ],
        )


class GroupTrendOut(TrendOut):
    group: str | None = Field(description="the topic; null: comments without one")


class TrendsOut(Response):
    start: datetime
    end: datetime
    previous_start: datetime = Field(description="compared with [previous_start, start)")
    total: TrendOut
    groups: list[GroupTrendOut] = Field(description="with `by`: per group, most comments first")


@blueprint.post("/contacts/<contact_id>/complaints")
@validate_request(ComplaintBody)
@validate_response(FeedbackDetail, 201)
@validate_response(FeedbackDetail, 200)
async def complain(contact_id: str, data: ComplaintBody) -> tuple[FeedbackDetail, int]:
    """Record a citizen's complaint about a contact (the operator holding it, or a supervisor);
    it is classified by theme at once."""
    view, created = await feedback.record_complaint(
        current_services(), await caller(), contact_id, data.text
    )
    return FeedbackDetail.of_view(view), 201 if created else 200


@blueprint.get("/feedback")
@validate_querystring(FeedbackQuery)
@validate_response(FeedbackPageOut)
async def index(query_args: FeedbackQuery) -> FeedbackPageOut:
    """Comments from surveys, feedback forms and complaints, in the order written (supervisor)."""
    q = query_args
    page = await feedback.list_feedback_page(
        current_services(),
        await caller(),
        category=q.category,
        topic=q.topic,
        since=None if q.from_ is None else q.from_.timestamp(),
        until=None if q.to is None else q.to.timestamp(),
        limit=q.limit,
        cursor=q.cursor,
    )
    return FeedbackPageOut(
        feedback=[FeedbackOut.of(f) for f in page.items], next_cursor=page.next_cursor
    )


@blueprint.get(f"/feedback/<int(max={MAX_KEY}):feedback_id>")  # larger: 404, not a driver error
@validate_response(FeedbackDetail)
async def show(feedback_id: int) -> FeedbackDetail:
    """One comment with every correction of its label (supervisor)."""
    view = await feedback.get_feedback_view(current_services(), await caller(), feedback_id)
    return FeedbackDetail.of_view(view)


@blueprint.put(f"/feedback/<int(max={MAX_KEY}):feedback_id>/category")
@validate_request(CorrectionBody)
@validate_response(FeedbackDetail)
async def correct(feedback_id: int, data: CorrectionBody) -> FeedbackDetail:
    """Correct a comment's label (supervisor). Every correction is kept; the latest is the
    label the list, its filter and the trends go by."""
    view = await feedback.correct_label(
        current_services(), await caller(), feedback_id, data.categories
    )
    return FeedbackDetail.of_view(view)


@blueprint.get("/quality/trends")
@validate_querystring(TrendQuery)
@validate_response(TrendsOut)
async def trends(query_args: TrendQuery) -> TrendsOut:
    """Comments per category from `from` to `to`, and the terms used by more comments than in
    the period of the same length just before: the recurring problems (supervisor)."""
    q = query_args
    report = await feedback.trends(
        current_services(),
        await caller(),
        start=q.from_.timestamp(),
        end=q.to.timestamp(),
        by=q.by,
    )
    groups = sorted(report.groups.items(), key=lambda kv: (-kv[1].total, kv[0] or ""))
    return TrendsOut(
        start=_at(report.start),
        end=_at(report.end),
        previous_start=_at(report.previous_start),
        total=TrendOut.of(report.total),
        groups=[GroupTrendOut(group=g, **TrendOut.of(t).model_dump()) for g, t in groups],
    )


def _at(epoch: float) -> datetime:
    moment = instant(epoch)
    assert moment is not None
    return moment
