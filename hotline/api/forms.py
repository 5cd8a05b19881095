"""`POST /v1/forms/feedback`: the portal's feedback form (multipart) becomes a ticket.

Fields: `phone`, `full_name`, `email`, `type` (technical | information | recommendation),
`description`, and zero or more `attachments` files (PDF, PNG or JPEG by their content). The answer
is the new ticket (201) with its number; the citizen gets an SMS and a confirmation e-mail.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import EmailStr, Field, StringConstraints, ValidationError
from quart import Blueprint, request
from quart_schema import DataSource, document_request, validate_response
from quart_schema.pydantic import File
from quart_trio import QuartTrio

from hotline.api.errors import invalid_values
from hotline.api.schemas import Request, Text
from hotline.api.services import caller, current_services
from hotline.api.tickets import TicketOut
from hotline.api.uploads import allow_upload
from hotline.config import FormsSettings
from hotline.domain.errors import Invalid
from hotline.services import forms
from hotline.services.auth import Role

blueprint = Blueprint("forms", __name__, url_prefix="/v1/forms")

FEEDBACK_PATH = "/v1/forms/feedback"
_FORM_ALLOWANCE = 64 * 1024  # the text fields and multipart headers beside the files


class FeedbackFields(Request):
    phone: Annotated[Text, StringConstraints(min_length=1, max_length=32)]
    full_name: Annotated[
        Text, StringConstraints(min_length=1, max_length=300, strip_whitespace=True)
    ]
    email: EmailStr
    type: forms.FeedbackKind
    description: Annotated[
        Text, StringConstraints(min_length=1, max_length=4000, strip_whitespace=True)
    ]


class FeedbackForm(FeedbackFields):
    """`multipart/form-data` as documented; parsed by hand, the files are sniffed."""

    attachments: list[File] = Field(default_factory=list)


def allow_uploads(app: QuartTrio, settings: FormsSettings) -> None:
    limit = settings.max_attachments * settings.max_attachment_kib * 1024 + _FORM_ALLOWANCE
    allow_upload(app, FEEDBACK_PATH, limit)


blueprint.register_error_handler(ValidationError, invalid_values)


@blueprint.post("/feedback")
@document_request(FeedbackForm, source=DataSource.FORM_MULTIPART)
@validate_response(TicketOut, 201)
async def feedback() -> tuple[TicketOut, int]:
    who = await caller()
    who.require(Role.INTEGRATION)  # before the body is looked at
    if request.mimetype != "multipart/form-data":
        raise forms.UnsupportedAttachment("send the form as multipart/form-data")
    fields = await request.form
    files = await request.files
    unknown = (set(fields) | set(files)) - set(FeedbackForm.model_fields)
    if unknown:
        raise Invalid("unknown field", field=sorted(unknown)[0])
    data = FeedbackFields.model_validate({k: fields[k] for k in fields})
    attachments = [
        forms.Attachment(f.filename or "attachment", f.stream) for f in files.getlist("attachments")
    ]
    form = forms.FeedbackForm(
        phone=data.phone,
        full_name=data.full_name,
        email=str(data.email),
        kind=data.type,
        description=data.description,
        attachments=attachments,
    )
    view = await forms.submit_feedback(current_services(), who, form)
    return TicketOut.of(view.ticket, view), 201
