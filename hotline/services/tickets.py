"""Tickets (обращения): create, look up, list, move through their statuses, link, escalate.

Each change is one store transaction holding the ticket row, its history entry and, for a
status change, the SMS to the citizen and the personal-account event in the outbox, keyed by
(ticket, revision): a change notifies exactly once, whatever crashes around it. The allowed moves
are the pure lifecycle's (`hotline.tickets.lifecycle`); a refused move is a 409 listing them.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from hotline.domain.errors import Conflict, Invalid, NotFound
from hotline.domain.phones import normalize_phone
from hotline.notify.templates import ticket_status_sms
from hotline.services import Services
from hotline.services.auth import Principal, Role
from hotline.services.open_tickets import TicketRevised
from hotline.services.paging import read_page
from hotline.store import Tx
from hotline.store.outbox import MessageKind, NewMessage, enqueue_message
from hotline.store.queries import get_contact
from hotline.store.tickets import (
    NewTicket,
    TicketEventRow,
    TicketRow,
    change_status,
    escalate,
    get_ticket,
    insert_ticket,
    link_contact,
    linked_contacts,
    list_tickets,
    ticket_history,
)
from hotline.tickets.lifecycle import TicketStatus, transition
from hotline.tickets.numbers import new_number, parse_number

_NUMBER_TRIES = 8  # a 40-bit random number collides about never; the loop is for certainty


@dataclass(frozen=True, slots=True)
class TicketRequest:
    topic: str
    phone: str
    description: str
    full_name: str | None = None
    email: str | None = None
    contact_id: str | None = None


@dataclass(frozen=True, slots=True)
class TicketView:
    ticket: TicketRow
    history: list[TicketEventRow]
    contacts: list[str]


@dataclass(frozen=True, slots=True)
class TicketPage:
    tickets: list[TicketRow]
    next_cursor: str | None


async def create_ticket(
    sv: Services,
    caller: Principal,
    req: TicketRequest,
    *,
    source: str = "api",
    data: dict[str, Any] | None = None,
    also: Callable[[Tx, TicketRow], Awaitable[None]] | None = None,
) -> TicketView:
    """Open a ticket in status Принято and notify the citizen. `data` is kept with its creation
    (e.g. a form's attachments); `also` runs in the same transaction (e.g. a confirmation
    e-mail into the outbox). The answer is read in that transaction too: if this raises, nothing
    was committed (unless the caller was cancelled while the store committed)."""
    caller.require(Role.INTEGRATION, Role.OPERATOR, Role.SUPERVISOR)
    phone = normalize_phone(req.phone)
    if req.topic not in sv.settings.topics:
        raise Invalid(f"unknown topic {req.topic!r}", field="topic")
    at = sv.clock.now()
    actor = _actor(caller)

    async def work(tx: Tx) -> TicketView:
        if req.contact_id is not None and await get_contact(tx, req.contact_id) is None:
            raise NotFound(f"no contact {req.contact_id}", field="contact_id")
        row = await _insert_with_free_number(
            tx,
            NewTicket(
                number="",
                status=TicketStatus.ACCEPTED.value,
                topic=req.topic,
                phone=phone,
                full_name=req.full_name,
                email=req.email,
                description=req.description,
                source=source if req.contact_id is None else "contact",
            ),
            actor=actor,
            at=at,
            data=data,
        )
        if req.contact_id is not None:
            linked = await link_contact(tx, row, req.contact_id, actor=actor, at=at)
            assert linked is not None  # a new ticket has no links
            row = linked
        await _notify(sv, tx, row, at=at)
        if also is not None:
            await also(tx, row)
        return await _view(tx, row)

    view = await sv.store.transact(work)
    sv.notifier.notify_new()
    sv.open_tickets.opened(phone, view.ticket.number, at)
    return view


async def get_ticket_view(sv: Services, caller: Principal, number_text: str) -> TicketView:
    caller.require(Role.INTEGRATION, Role.OPERATOR, Role.SUPERVISOR)
    number = parse_number(number_text)

    async def work(tx: Tx) -> TicketView | None:
        ticket = await get_ticket(tx, number)
        return None if ticket is None else await _view(tx, ticket)

    view = await sv.store.read(work)
    if view is None:
        raise NotFound(f"no ticket {number}", field="number")
    return view


async def list_ticket_page(
    sv: Services,
    caller: Principal,
    *,
    phone: str | None,
    status: TicketStatus | None,
    limit: int,
    cursor: str | None,
) -> TicketPage:
    caller.require(Role.INTEGRATION, Role.OPERATOR, Role.SUPERVISOR)
    e164 = normalize_phone(phone) if phone is not None else None
    status_value = status.value if status is not None else None

    async def fetch(after: int, n: int) -> list[TicketRow]:
        return await sv.store.read(
            lambda tx: list_tickets(tx, phone=e164, status=status_value, after_row=after, limit=n)
        )

    return TicketPage(*await read_page("t", cursor, limit, fetch, key=lambda row: row.row_id))


async def move_ticket(
    sv: Services, caller: Principal, number_text: str, to: TicketStatus, comment: str | None
) -> TicketView:
    caller.require(Role.OPERATOR, Role.SUPERVISOR)
    number = parse_number(number_text)
    at = sv.clock.now()

    async def work(tx: Tx) -> TicketView:
        ticket = await _ticket(tx, number)
        transition(TicketStatus(ticket.status), to)  # raises the 409 naming the allowed moves
        moved = await change_status(
            tx, ticket, to.value, actor=_actor(caller), comment=comment, at=at
        )
        await _notify(sv, tx, moved, at=at, comment=comment)
        return await _view(tx, moved)

    view = await sv.store.transact(work)
    sv.notifier.notify_new()
    if to is TicketStatus.COMPLETED:
        await sv.open_tickets.completed(sv.store, view.ticket.phone, number)
    return view


async def escalate_ticket(
    sv: Services, caller: Principal, number_text: str, department: str, comment: str | None
) -> TicketView:
    caller.require(Role.OPERATOR, Role.SUPERVISOR)
    if department not in sv.settings.tickets.departments:
        raise Invalid(f"unknown department {department!r}", field="department")
    number = parse_number(number_text)
    at = sv.clock.now()

    async def work(tx: Tx) -> TicketView:
        ticket = await _ticket(tx, number)
        if TicketStatus(ticket.status) is TicketStatus.COMPLETED:
            raise Conflict("a completed ticket is not escalated", field="number")
        if ticket.department == department:
            raise Conflict(f"already with {department}", field="department")
        moved = await escalate(tx, ticket, department, actor=_actor(caller), comment=comment, at=at)
        return await _view(tx, moved)

    return await sv.store.transact(work)


async def link_ticket_contact(
    sv: Services, caller: Principal, number_text: str, contact_id: str
) -> TicketView:
    caller.require(Role.INTEGRATION, Role.OPERATOR, Role.SUPERVISOR)
    number = parse_number(number_text)
    at = sv.clock.now()

    async def work(tx: Tx) -> TicketView:
        ticket = await _ticket(tx, number)
        if await get_contact(tx, contact_id) is None:
            raise NotFound(f"no contact {contact_id}", field="contact_id")
        linked = await link_contact(tx, ticket, contact_id, actor=_actor(caller), at=at)
        return await _view(tx, linked if linked is not None else ticket)

    return await sv.store.transact(work)


async def _notify(
    sv: Services, tx: Tx, ticket: TicketRow, *, at: float, comment: str | None = None
) -> None:
    """The SMS and the personal-account event for the ticket's current revision."""
    tx.after_commit(TicketRevised(ticket.phone, ticket.number, ticket.status, ticket.created_at))
    status = TicketStatus(ticket.status)
    text = ticket_status_sms(
        sv.templates,
        number=ticket.number,
        status=status,
        comment=comment,
    )
    key = f"ticket:{ticket.number}:{ticket.revision}"
    await enqueue_message(
        tx,
        NewMessage(MessageKind.SMS, ticket.phone, text, dedupe_key=f"{key}:sms"),
        at=at,
    )
    event = {
        "type": "ticket_status",
        "number": ticket.number,
        "status": status.value,
        "status_label": status.label,
        "revision": ticket.revision,
        "at": at,
    }
    await enqueue_message(
        tx,
        NewMessage(
            MessageKind.ACCOUNT_EVENT,
            ticket.phone,
            json.dumps(event, ensure_ascii=False),
            dedupe_key=f"{key}:account",
        ),
        at=at,
    )


async def _ticket(tx: Tx, number: str) -> TicketRow:
    ticket = await get_ticket(tx, number)
    if ticket is None:
        raise NotFound(f"no ticket {number}", field="number")
    return ticket


async def _insert_with_free_number(
    tx: Tx, ticket: NewTicket, *, actor: str, at: float, data: dict[str, Any] | None
) -> TicketRow:
    """Insert `ticket` under a new random number (`ticket.number` is ignored)."""
    for _ in range(_NUMBER_TRIES):
        numbered = dataclasses.replace(ticket, number=new_number(secrets.randbits))
        row = await insert_ticket(tx, numbered, actor=actor, at=at, data=data)
        if row is not None:
            return row
    raise Conflict("no free ticket number; try again")


async def _view(tx: Tx, ticket: TicketRow) -> TicketView:
    """`ticket` as read in this transaction, with its history and linked contacts."""
    number = ticket.number
    return TicketView(ticket, await ticket_history(tx, number), await linked_contacts(tx, number))


def _actor(caller: Principal) -> str:
    return caller.operator_id if caller.operator_id is not None else caller.name
