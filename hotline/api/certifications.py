"""The certification journal over HTTP: `POST|GET /v1/operators/{id}/certifications` (a
supervisor records; the operator may read its own) and `GET /v1/certifications/expiring`
(supervisor). The rules are `hotline.services.certifications`'; this only translates.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints
from quart import Blueprint
from quart_schema import validate_querystring, validate_response

from hotline.api.openapi import may_answer
from hotline.api.schemas import InstantIn, Request, Response, Text, instant, operator_id_of
from hotline.api.services import caller, current_services
from hotline.api.validation import validate_request
from hotline.services import certifications
from hotline.store.certifications import JournalRow

blueprint = Blueprint("certifications", __name__, url_prefix="/v1")

Score = Annotated[float, Field(ge=0, le=1_000_000, allow_inf_nan=False, strict=True)]


class ExamBody(Request):
    kind: Literal["theory", "practical"]
    score: Score
    max_score: Annotated[float, Field(gt=0, le=1_000_000, allow_inf_nan=False, strict=True)]
    examiner: Annotated[
        Text, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)
    ]
    taken_at: InstantIn = Field(description="when the test or exam was taken; not in the future")
    recommendations: Annotated[Text, StringConstraints(max_length=4000)] | None = None
    corrects: Annotated[int, Field(ge=1, le=2**62, strict=True)] | None = Field(
        default=None, description="the id of the entry this one corrects (entries are never edited)"
    )


class EntryOut(Response):
    id: int
    kind: Literal["theory", "practical", "imported"]
    score: float | None
    max_score: float | None
    passed: bool
    examiner: str | None
    taken_at: datetime
    valid_until: date | None = Field(description="an imported entry's typed date")
    recommendations: str | None
    corrects: int | None
    corrected_by: int | None = Field(
        description="the entry that corrects this one: it counts no more"
    )
    recorded_by: str
    recorded_at: datetime

    @classmethod
    def of(cls, row: JournalRow) -> EntryOut:
        return cls(
            id=row.id,
            kind=row.kind,
            score=row.score,
            max_score=row.max_score,
            passed=row.passed,
            examiner=row.examiner,
            taken_at=instant(row.taken_at),
            valid_until=row.valid_until,
            recommendations=row.recommendations,
            corrects=row.corrects,
            corrected_by=row.corrected_by,
            recorded_by=row.recorded_by,
            recorded_at=instant(row.recorded_at),
        )


class CertificationOut(Response):
    certified: bool
    certified_until: date | None = Field(description="the last day, in the line's time zone")
    lapses_at: datetime | None = Field(description="the instant routing to the operator stops")


class JournalOut(Response):
    operator_id: str
    certification: CertificationOut
    entries: list[EntryOut]

    @classmethod
    def of(cls, journal: certifications.Journal) -> JournalOut:
        return cls(
            operator_id=journal.operator_id,
            certification=CertificationOut(
                certified=journal.certified,
                certified_until=journal.certified_until,
                lapses_at=instant(journal.lapses_at),
            ),
            entries=[EntryOut.of(e) for e in journal.entries],
        )


class RecordedOut(Response):
    entry: EntryOut
    certification: CertificationOut


class ExpiringQuery(Request):
    within_days: int = Field(default=30, ge=0, le=certifications.MAX_WITHIN_DAYS)


class LapsingOut(Response):
    operator_id: str
    name: str
    certified_until: date
    lapses_at: datetime
    days_left: int


class ExpiringOut(Response):
    operators: list[LapsingOut]


@blueprint.post("/operators/<operator_id>/certifications")
@validate_request(ExamBody)
@validate_response(RecordedOut, 201)
@may_answer(409)
async def record(operator_id: str, data: ExamBody) -> tuple[RecordedOut, int]:
    """Record a theory test or a practical exam (supervisor): passed when score / max_score
    reaches `[certification] pass_share`. Never edited: a correction is a new entry naming the
    one it corrects (`corrects`; 409 if that one is corrected already). The router takes the
    operator's new certification at once."""
    sv = current_services()
    who = await caller()
    result = certifications.ExamResult(
        data.kind,
        data.score,
        data.max_score,
        data.examiner,
        data.taken_at.timestamp(),
        data.recommendations,
        data.corrects,
    )
    row = await certifications.record(sv, who, operator_id_of(operator_id), result)
    journal = await certifications.journal(sv, who, operator_id)
    out = JournalOut.of(journal)
    return RecordedOut(entry=EntryOut.of(row), certification=out.certification), 201


@blueprint.get("/operators/<operator_id>/certifications")
@validate_response(JournalOut)
async def journal(operator_id: str) -> JournalOut:
    """The operator's journal, oldest first, and the certification it gives (supervisor, or the
    operator itself)."""
    found = await certifications.journal(current_services(), await caller(), operator_id)
    return JournalOut.of(found)


@blueprint.get("/certifications/expiring")
@validate_querystring(ExpiringQuery)
@validate_response(ExpiringOut)
async def expiring(query_args: ExpiringQuery) -> ExpiringOut:
    """Operators still certified whose certification ends within `within_days` days, soonest
    first (supervisor)."""
    found = await certifications.expiring(
        current_services(), await caller(), query_args.within_days
    )
    return ExpiringOut(
        operators=[
            LapsingOut(
                operator_id=x.operator_id,
                name=x.name,
                certified_until=x.certified_until,
                lapses_at=instant(x.lapses_at),
                days_left=x.days_left,
            )
            for x in found
        ]
    )
