"""`/v1/tickets`: citizens' обращения through their five statuses, with full history.

Statuses are ASCII codes on the wire, each with its Russian label beside it. A move the lifecycle
does not allow is a 409 whose error lists the allowed moves. Listings show descriptions briefly
and phones masked (unless the list was asked for by phone); a single ticket is shown in full or
masked as `hotline.services.tickets` decides for the caller.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import EmailStr, Field, StringConstraints
from quart import Blueprint, request
from quart_schema import validate_querystring, validate_response

from hotline.api.openapi import idempotency_key, may_answer
from hotline.api.schemas import Code, Request, Response
from hotline.api.schemas import Text as PlainText
from hotline.api.services import caller, current_services
from hotline.api.validation import validate_request
from hotline.domain.identity import mask_name
from hotline.domain.masking import mask_phone
from hotline.services import tickets
from hotline.services.auth import Role
from hotline.store.tickets import TicketEventRow, TicketRow
from hotline.tickets.lifecycle import TicketStatus
from hotline.tickets.privacy import brief

blueprint = Blueprint("tickets", __name__, url_prefix="/v1/tickets")

Text = Annotated[PlainText, StringConstraints(min_length=1, max_length=4000, strip_whitespace=True)]
Comment = Annotated[PlainText, StringConstraints(max_length=2000, strip_whitespace=True)]


class NewTicketBody(Request):
    topic: Code
    phone: Annotated[PlainText, StringConstraints(min_length=1, max_length=32)]
    description: Text
    full_name: Annotated[PlainText, StringConstraints(min_length=1, max_length=300)] | None = None
    email: EmailStr | None = None
    contact_id: Annotated[PlainText, StringConstraints(max_length=64)] | None = None


class StatusBody(Request):
    to: TicketStatus
    comment: Comment | None = None


class EscalateBody(Request):
    department: Code
    comment: Comment | None = None


class LinkBody(Request):
    contact_id: Annotated[PlainText, StringConstraints(min_length=1, max_length=64)]


class TicketQuery(Request):
    phone: Annotated[PlainText, StringConstraints(max_length=32)] | None = Field(
        default=None, description="integrations and supervisors only (403 for an operator)"
    )
    status: TicketStatus | None = None
    limit: int = Field(default=50, ge=1, le=200)
    cursor: Annotated[PlainText, StringConstraints(max_length=40)] | None = None


# History details a masked view keeps: where a ticket went and what it links, never what a
# citizen sent (a form's attachments are named by the citizen).
_PLAIN = frozenset({"department", "from_department", "contact_id"})


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
    def of(cls, e: TicketEventRow, *, masked: bool = False) -> HistoryEntry:
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
            comment=brief(e.comment) if masked and e.comment else e.comment,
            details={k: v for k, v in e.data.items() if k in _PLAIN} if masked else e.data,
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
        cls,
        t: TicketRow,
        view: tickets.TicketView | None = None,
        *,
        masked: bool = False,
        listed: bool = False,
        phone_known: bool = False,
    ) -> TicketOut:
        """The ticket as the API shows it. `masked`: the phone, name, e-mail and free text
        hidden (`phone_known`: but the phone the caller asked by); `listed`: the description
        brief, as every listing shows it."""
        status = TicketStatus(t.status)
        return cls(
            number=t.number,
            status=status,
            status_label=status.label,
            topic=t.topic,
            phone=mask_phone(t.phone) if masked and not phone_known else t.phone,
            full_name=mask_name(t.full_name) if masked and t.full_name else t.full_name,
            email=t.email if not masked else None,
            description=brief(t.description) if masked or listed else t.description,
            department=t.department,
            source=t.source,
            created_at=datetime.fromtimestamp(t.created_at, UTC),
            updated_at=datetime.fromtimestamp(t.updated_at, UTC),
            contacts=view.contacts if view else None,
            history=[HistoryEntry.of(e, masked=masked) for e in view.history] if view else None,
        )


class TicketPageOut(Response):
    tickets: list[TicketOut]
    next_cursor: str | None


def _out(view: tickets.TicketView) -> TicketOut:
    return TicketOut.of(view.ticket, view, masked=not view.full)


@blueprint.post("")
@validate_request(NewTicketBody)
@validate_response(TicketOut, 201)
@validate_response(TicketOut, 200)
@idempotency_key
@may_answer(404, 409)
async def create(data: NewTicketBody) -> tuple[TicketOut, int]:
    """Open a ticket (status Принято), on its own or from a contact; the citizen gets an SMS.
    With an `Idempotency-Key` header a retry returns the ticket the first request created (200)
    and sends nothing again; the same key with another body is a 409."""
    req = tickets.TicketRequest(
        topic=data.topic,
        phone=data.phone,
        description=data.description,
        full_name=data.full_name,
        email=str(data.email) if data.email else None,
        contact_id=data.contact_id,
    )
    view, created = await tickets.create_ticket_once(
        current_services(), await caller(), req, request.headers.get("Idempotency-Key")
    )
    return _out(view), 201 if created else 200


@blueprint.get("")
@validate_querystring(TicketQuery)
@validate_response(TicketPageOut)
@may_answer(403, 503)  # 403: a lookup by phone from an operator; 503: its audit record
async def index(query_args: TicketQuery) -> TicketPageOut:
    """Tickets in creation order, by phone (a citizen's personal account, a supervisor) and
    status; descriptions brief, phones masked unless asked by phone, names masked but for the
    personal account."""
    principal = await caller()
    page = await tickets.list_ticket_page(
        current_services(),
        principal,
        phone=query_args.phone,
        status=query_args.status,
        limit=query_args.limit,
        cursor=query_args.cursor,
    )
    # Asked by phone, the caller already knows it; the personal account sees its citizen's own.
    by_phone = query_args.phone is not None
    masked = not (by_phone and principal.role is Role.INTEGRATION)
    return TicketPageOut(
        tickets=[
            TicketOut.of(t, masked=masked, listed=True, phone_known=by_phone) for t in page.tickets
        ],
        next_cursor=page.next_cursor,
    )


@blueprint.get("/<number>")
@validate_response(TicketOut)
@may_answer(422, 503)  # 422: a mistyped number; 503: the read's audit record
async def show(number: str) -> TicketOut:
    """The ticket with its full history (who, when, from, to, comment) and linked contacts.
    An operator sees it unmasked only while holding, or after accepting today, a contact linked
    to it; a person's unmasked read is recorded (`GET /v1/audit/reads`)."""
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
