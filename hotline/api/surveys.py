"""`/v1/surveys`: a citizen's rating of a completed contact, posted by the portal's page or the
switch's IVR (integration), and a phone's opt-out from surveys. The invitations are written by
the journal with the completion (hotline/store/quality.py); hotline/services/surveys.py says
who may answer what and how often.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import Field, StringConstraints
from quart import Blueprint
from quart_schema import validate_response

from hotline.api.openapi import may_answer
from hotline.api.schemas import Request, Response, Text
from hotline.api.services import caller, current_services
from hotline.api.validation import validate_request
from hotline.domain.masking import mask_phone
from hotline.services import surveys

blueprint = Blueprint("surveys", __name__, url_prefix="/v1/surveys")


class AnswerBody(Request):
    csat: int = Field(ge=1, le=5, description="satisfaction, 1 (worst) to 5 (best)")
    nps: int | None = Field(
        default=None,
        ge=0,
        le=10,
        description="how likely to recommend, 0 to 10; only where the survey asked it",
    )
    comment: Annotated[Text, StringConstraints(max_length=2000)] | None = None


class AnswerOut(Response):
    contact_id: str
    answered_at: datetime
    asked_nps: bool


class OptOutBody(Request):
    phone: Annotated[Text, StringConstraints(min_length=1, max_length=32)]


class OptOutOut(Response):
    phone: str = Field(description="masked")
    opted_out_at: datetime


@blueprint.post("/opt-out")
@validate_request(OptOutBody)
@validate_response(OptOutOut)
async def opt_out(data: OptOutBody) -> OptOutOut:
    """No more surveys to this phone (integration: the SMS's STOP reply, the portal's setting).
    Repeating it changes nothing."""
    phone, at = await surveys.record_opt_out(current_services(), await caller(), data.phone)
    return OptOutOut(phone=mask_phone(phone), opted_out_at=datetime.fromtimestamp(at, UTC))


@blueprint.post("/<code>")
@validate_request(AnswerBody)
@validate_response(AnswerOut)
@may_answer(404, 409, 410, 429)
async def answer(code: str, data: AnswerBody) -> AnswerOut:
    """Answer the survey of `code` (integration: the portal's page, the IVR's keys): once,
    before it expires. A wrong code is 404, a second answer 409, an expired code 410; too
    many answers from one caller 429 with Retry-After."""
    sv = current_services()
    given = surveys.SurveyAnswer(data.csat, data.nps, data.comment)
    result = await surveys.answer(sv, await caller(), code, given)
    assert result.survey is not None and result.at is not None
    return AnswerOut(
        contact_id=result.survey.contact_id,
        answered_at=datetime.fromtimestamp(result.at, UTC),
        asked_nps=result.survey.ask_nps,
    )
