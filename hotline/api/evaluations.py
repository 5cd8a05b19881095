"""`/v1/contacts/{id}/evaluations`: a supervisor scores a handled contact on a scorecard of
`[scorecards]`, and reads the evaluations a contact has (`hotline.services.evaluations`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field, StrictBool, StringConstraints
from quart import Blueprint
from quart_schema import validate_response

from hotline.api.openapi import may_answer
from hotline.api.schemas import Code, Request, Response, Text, instant
from hotline.api.services import caller, current_services
from hotline.api.validation import validate_request
from hotline.services import evaluations
from hotline.store.evaluations import EvaluationRow

blueprint = Blueprint("evaluations", __name__, url_prefix="/v1/contacts")


class EvaluationBody(Request):
    scorecard: Code = Field(description="a scorecard of `[scorecards]` in the configuration")
    answers: dict[Code, StrictBool] = Field(
        description="every question of the scorecard by id: true when met", max_length=200
    )
    comment: Annotated[Text, StringConstraints(max_length=4000)] | None = None


class EvaluationOut(Response):
    id: int
    contact_id: str
    operator_id: str
    scorecard: str
    answers: dict[str, bool]
    score: float = Field(description="met weight over all weight, 0..1")
    passed: bool = Field(description="no critical question failed and the pass share reached")
    failed_criticals: list[str] = Field(description="critical questions not met")
    comment: str | None
    handled_at: datetime
    evaluated_by: str
    evaluated_at: datetime

    @classmethod
    def of(cls, row: EvaluationRow) -> EvaluationOut:
        return cls(
            id=row.id,
            contact_id=row.contact_id,
            operator_id=row.operator_id,
            scorecard=row.scorecard,
            answers=row.answers,
            score=row.score,
            passed=row.passed,
            failed_criticals=list(row.failed_criticals),
            comment=row.comment,
            handled_at=instant(row.handled_at),
            evaluated_by=row.evaluated_by,
            evaluated_at=instant(row.evaluated_at),
        )


class EvaluationList(Response):
    evaluations: list[EvaluationOut]


@blueprint.post("/<contact_id>/evaluations")
@validate_request(EvaluationBody)
@validate_response(EvaluationOut, 201)
@may_answer(409)
async def create(contact_id: str, data: EvaluationBody) -> tuple[EvaluationOut, int]:
    """Score a contact an operator handled (supervisor): every question of the scorecard
    answered; 409 for a contact not handled (yet)."""
    req = evaluations.EvaluationRequest(data.scorecard, dict(data.answers), data.comment)
    row = await evaluations.evaluate(current_services(), await caller(), contact_id, req)
    return EvaluationOut.of(row), 201


@blueprint.get("/<contact_id>/evaluations")
@validate_response(EvaluationList)
async def index(contact_id: str) -> EvaluationList:
    """The contact's evaluations, oldest first (supervisor)."""
    found = await evaluations.list_evaluations(current_services(), await caller(), contact_id)
    return EvaluationList(evaluations=[EvaluationOut.of(r) for r in found])
