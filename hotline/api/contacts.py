"""`/v1/contacts`: the switch and the chat widget create contacts and report hang-ups; operators
accept, reject and complete what they are offered. Each answer comes after the change is on disk.
"""

from __future__ import annotations

from quart import Blueprint, request
from quart_schema import validate_querystring, validate_response

from hotline.api.openapi import idempotency_key, may_answer
from hotline.api.schemas import (
    CompleteBody,
    ContactOut,
    ContactPage,
    ContactQuery,
    NewContactBody,
    NoBody,
    OperatorChoice,
)
from hotline.api.services import caller, current_services
from hotline.api.validation import validate_request
from hotline.routing.model import Channel
from hotline.services import contacts

blueprint = Blueprint("contacts", __name__, url_prefix="/v1/contacts")


@blueprint.post("")
@validate_request(NewContactBody)
@validate_response(ContactOut, 201)
@validate_response(ContactOut, 200)
@idempotency_key
@may_answer(409)
async def create(data: NewContactBody) -> tuple[ContactOut, int]:
    """Create a contact (integration). With an `Idempotency-Key` header a retry returns the
    contact the first request created (200); the same key with another body is a 409."""
    req = contacts.ContactRequest(Channel(data.channel), data.topic, data.phone, data.language)
    view, created = await contacts.create_contact(
        current_services(), await caller(), req, request.headers.get("Idempotency-Key")
    )
    return ContactOut.of(view), 201 if created else 200


@blueprint.get("")
@validate_querystring(ContactQuery)
@validate_response(ContactPage)
async def index(query_args: ContactQuery) -> ContactPage:
    """Contacts in arrival order, filtered by state and topic; phones masked."""
    page = await contacts.list_contact_page(
        current_services(),
        await caller(),
        state=query_args.state,
        topic=query_args.topic,
        limit=query_args.limit,
        cursor=query_args.cursor,
    )
    return ContactPage(
        contacts=[
            ContactOut.of(contacts.ContactView(r, None, None), masked=True) for r in page.contacts
        ],
        next_cursor=page.next_cursor,
    )


@blueprint.get("/<contact_id>")
@validate_response(ContactOut)
async def show(contact_id: str) -> ContactOut:
    return ContactOut.of(
        await contacts.get_contact_view(current_services(), await caller(), contact_id)
    )


@blueprint.post("/<contact_id>/abandon")
@validate_request(NoBody)
@validate_response(ContactOut)
@may_answer(409)
async def abandon(contact_id: str, data: NoBody) -> ContactOut:
    """The citizen hung up (integration): the contact leaves the queue or its offer."""
    return ContactOut.of(await contacts.abandon(current_services(), await caller(), contact_id))


@blueprint.post("/<contact_id>/accept")
@validate_request(OperatorChoice)
@validate_response(ContactOut)
@may_answer(409)
async def accept(contact_id: str, data: OperatorChoice) -> ContactOut:
    view = await contacts.accept(current_services(), await caller(), contact_id, data.operator_id)
    return ContactOut.of(view)


@blueprint.post("/<contact_id>/reject")
@validate_request(OperatorChoice)
@validate_response(ContactOut)
@may_answer(409)
async def reject(contact_id: str, data: OperatorChoice) -> ContactOut:
    """Decline an offer: the contact goes back to its place, the operator on break."""
    view = await contacts.reject(current_services(), await caller(), contact_id, data.operator_id)
    return ContactOut.of(view)


@blueprint.post("/<contact_id>/complete")
@validate_request(CompleteBody)
@validate_response(ContactOut)
@may_answer(409)
async def complete(contact_id: str, data: CompleteBody) -> ContactOut:
    """Finish a contact with its outcome; the operator goes into wrap-up."""
    view = await contacts.complete(
        current_services(), await caller(), contact_id, data.operator_id, data.outcome
    )
    return ContactOut.of(view)
