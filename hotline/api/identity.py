"""`POST /v1/identity/check`: does the caller on a contact match the citizens' register?

The answer is `verified` true or false; a failure carries one generic reason whatever did not
match. An INN or SNILS that cannot be a real one is a 422 naming it (a typo the operator can fix
with the caller); too many failures from one phone is 423 until the lock window passes.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints
from quart import Blueprint
from quart_schema import validate_response

from hotline.api.openapi import may_answer
from hotline.api.schemas import Request, Response, Text
from hotline.api.services import caller, current_services
from hotline.api.validation import validate_request
from hotline.services import identity

blueprint = Blueprint("identity", __name__, url_prefix="/v1/identity")

Short = Annotated[Text, StringConstraints(min_length=1, max_length=40)]


class CheckBody(Request):
    contact_id: Annotated[Text, StringConstraints(min_length=1, max_length=64)]
    full_name: Annotated[Text, StringConstraints(min_length=1, max_length=300)]
    inn: Short | None = None
    snils: Short | None = None
    phone_last4: Annotated[Text, StringConstraints(min_length=1, max_length=8)]


class CheckOut(Response):
    verified: bool
    reason: str | None
    attempts_left: int


@blueprint.post("/check")
@validate_request(CheckBody)
@validate_response(CheckOut)
@may_answer(404, 423)
async def check(data: CheckBody) -> CheckOut:
    claim = identity.IdentityClaim(
        contact_id=data.contact_id,
        full_name=data.full_name,
        phone_last4=data.phone_last4,
        inn=data.inn,
        snils=data.snils,
    )
    answer = await identity.check_identity(current_services(), await caller(), claim)
    return CheckOut(
        verified=answer.verified, reason=answer.reason, attempts_left=answer.attempts_left
    )
