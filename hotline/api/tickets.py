"""`/v1/tickets`: citizens' обращения through their five statuses, with full history.

Statuses are ASCII codes on the wire, each with its Russian label beside it. A move the lifecycle
does not allow is a 409 whose error lists the allowed moves.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import EmailStr, Field, StringConstraints
from quart import Blueprint
from quart_schema import validate_querystring, validate_request, validate_response

from hotline.api.openapi import may_answer
from hotline.api.schemas import Code, Request, Response
from hotline.api.services import caller, current_services
from hotline.domain.identity import mask_name
from hotline.domain.masking import mask_phone
from hotline.services import tickets
from hotline.store.tickets import TicketEventRow, TicketRow
from hotline.tickets.lifecycle import TicketStatus

blueprint = Blueprint("tickets", __name__, url_prefix="/v1/tickets")

Text = Annotated[str, StringConstraints(min_length=1, max_length=4000, strip_whitespace=True)]
Comment = Annotated[str, StringConstraints(max_length=2000, strip_whitespace=True)]


class NewTicketBody(Request):
    topic: Code
    phone: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    description: Text
    full_name: Annotated[str, StringConstraints(min_length=1, max_length=300)] | None = None
    email: EmailStr | None = None
    contact_id: Annotated[str, StringConstraints(max_length=64)] | None = None


class StatusBody(Request):
    to: TicketStatus
    comment: Comment | None = None


class EscalateBody(Request):
    department: Code
    comment: Comment | None = None


class LinkBody(Request):
    contact_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]


class TicketQuery(Request):
    phone: Annotated[str, StringConstraints(max_length=32)] | None = None
    status: TicketStatus | None = None
    limit: int = Field(default=50, ge=1, le=200)
    cursor: Annotated[str, StringConstraints(max_length=40)] | None = None


class HistoryEntry(Response):
    at: datetime
    kind: str
    who: str
    from_status: TicketStatus | None
    from_label: str | None
    to_status: TicketStatus | None
    to_label: str | None
    comment: str | None
    details: dict[str, object]

    @classmethod
    def of(cls, e: TicketEventRow) -> HistoryEntry:
        before = TicketStatus(e.from_status) if e.from_status else None
        after = TicketStatus(e.to_status) if e.to_status else None
        return cls(
            at=datetime.fromtimestamp(e.at, UTC),
            kind=e.kind,
            who=e.actor,
            from_status=before,
            from_label=before.label if before else None,
            to_status=after,
            to_label=after.label if after else None,
            comment=e.comment,
            details=e.data,
        )


class TicketOut(Response):
    number: str
    status: TicketStatus
    status_label: str
    topic: str
    phone: str
    full_name: str | None
    email: str | None
    description: str
    department: str | None
    source: str
    created_at: datetime
    updated_at: datetime
    contacts: list[str] | None = None
    history: list[HistoryEntry] | None = None

    @classmethod
    def of(
        cls, t: TicketRow, view: tickets.TicketView | None = None, *, masked: bool = False
    ) -> TicketOut:
        status = TicketStatus(t.status)
        return cls(
            number=t.number,
            status=status,
            status_label=status.label,
            topic=t.topic,
            phone=mask_phone(t.phone) if masked else t.phone,
            full_name=mask_name(t.full_name) if masked and t.full_name else t.full_name,
            email=t.email if not masked else None,
            description=t.description,
            department=t.department,
            source=t.source,
            created_at=datetime.fromtimestamp(t.created_at, UTC),
            updated_at=datetime.fromtimestamp(t.updated_at, UTC),
            contacts=view.contacts if view else None,
            history=[HistoryEntry.of(e) for e in view.history] if view else None,
        )


class TicketPageOut(Response):
    tickets: list[TicketOut]
    next_cursor: str | None


def _out(view: tickets.TicketView) -> TicketOut:
    return TicketOut.of(view.ticket, view)


@blueprint.post("")
@validate_request(NewTicketBody)
@validate_response(TicketOut, 201)
@may_answer(404, 409)
async def create(data: NewTicketBody) -> tuple[TicketOut, int]:
    """Open a ticket (status Принято), on its own or from a contact; the citizen gets an SMS."""
    req = tickets.TicketRequest(
        topic=data.topic,
        phone=data.phone,
        description=data.description,
        full_name=data.full_name,
        email=str(data.email) if data.email else None,
        contact_id=data.contact_id,
    )
    return _out(await tickets.create_ticket(current_services(), await caller(), req)), 201


@blueprint.get("")
@validate_querystring(TicketQuery)
@validate_response(TicketPageOut)
async def index(query_args: TicketQuery) -> TicketPageOut:
    """Tickets in creation order, by phone (a citizen's personal account) and status."""
    page = await tickets.list_ticket_page(
        current_services(),
        await caller(),
        phone=query_args.phone,
        status=query_args.status,
        limit=query_args.limit,
        cursor=query_args.cursor,
    )
    # Asked by phone, the caller already knows it: the rows are the citizen's own.
    masked = query_args.phone is None
    return TicketPageOut(
        tickets=[TicketOut.of(t, masked=masked) for t in page.tickets],
        next_cursor=page.next_cursor,
    )


@blueprint.get("/<number>")
@validate_response(TicketOut)
@may_answer(422)  # a malformed ticket number
async def show(number: str) -> TicketOut:
    """The ticket with its full history (who, when, from, to, comment) and linked contacts."""
    return _out(await tickets.get_ticket_view(current_services(), await caller(), number))


@blueprint.post("/<number>/status")
@validate_request(StatusBody)
@validate_response(TicketOut)
@may_answer(409, 422)  # a malformed ticket number
async def move(number: str, data: StatusBody) -> TicketOut:
    view = await tickets.move_ticket(
        current_services(), await caller(), number, data.to, data.comment
    )
    return _out(view)


@blueprint.post("/<number>/escalate")
@validate_request(EscalateBody)
@validate_response(TicketOut)
@may_answer(409, 422)  # a malformed ticket number
async def escalate(number: str, data: EscalateBody) -> TicketOut:
    """Hand the ticket to a department from `[tickets.departments]`."""
    view = await tickets.escalate_ticket(
        current_services(), await caller(), number, data.department, data.comment
    )
    return _out(view)


@blueprint.post("/<number>/contacts")
@validate_request(LinkBody)
@validate_response(TicketOut)
@may_answer(409, 422)  # a malformed ticket number
async def link(number: str, data: LinkBody) -> TicketOut:
    view = await tickets.link_ticket_contact(
        current_services(), await caller(), number, data.contact_id
    )
    return _out(view)
