"""Tickets (обращения): create, look up, list, move through their statuses, link, escalate.

Each change is one store transaction holding the ticket row, its history entry and, for a
status change, the SMS to the citizen and the personal-account event in the outbox, keyed by
(ticket, revision): a change notifies exactly once, whatever crashes around it. The allowed moves
are the pure lifecycle's (`hotline.tickets.lifecycle`); a refused move is a 409 listing them.

Creation honours an `Idempotency-Key` as contacts do: the key is recorded in the transaction that
creates the ticket, so a retry finds the ticket (and sends no second SMS) or finds nothing.

Who sees a ticket in full: integrations (the switch, the citizen's personal account),
supervisors and admins, and an operator that holds, or accepted since the local midnight, a
contact linked to the ticket; any other operator sees it masked (`TicketView.full`). A lookup by
phone is for integrations and supervisors. Every full view a person gets is recorded
(`hotline.services.audit`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from hotline.domain.errors import Conflict, Forbidden, Invalid, NotFound
from hotline.domain.phones import normalize_phone
from hotline.notify.templates import ticket_status_sms
from hotline.services import Services, audit
from hotline.services.auth import Principal, Role
from hotline.services.keylocks import idempotency_scope
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
    find_key,
    get_ticket,
    held_by,
    insert_ticket,
    link_contact,
    linked_contacts,
    list_tickets,
    remember_key,
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
    full: bool = True  # False: show the citizen's data masked (an operator not working on it)


@dataclass(frozen=True, slots=True)
class TicketPage:
    tickets: list[TicketRow]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class _Key:
    """The `Idempotency-Key` a ticket is being created with."""

    scope: str
    key: str
    request_hash: str


class _KeyTaken(Exception):
    """The key was recorded meanwhile (a first request whose caller gave up, committed after
    all): this creation is rolled back and the request answered as a retry."""


async def create_ticket_once(
    sv: Services, caller: Principal, req: TicketRequest, idempotency_key: str | None
) -> tuple[TicketView, bool]:
    """The new ticket and True, or, for a repeated `Idempotency-Key` with the same request, the
    ticket it created (as it is now) and False. The same key with another request is a 409."""
    if idempotency_key is None:
        return await create_ticket(sv, caller, req), True
    caller.require(Role.INTEGRATION, Role.OPERATOR, Role.SUPERVISOR)
    scope = idempotency_scope(caller, "tickets", idempotency_key)
    key = _Key(scope, idempotency_key, _request_hash(req))
    async with sv.key_locks.hold(scope, idempotency_key):  # a retry waits for the first
        replay = await _replay(sv, key)
        if replay is not None:
            return replay, False
        try:
            return await create_ticket(sv, caller, req, idempotency=key), True
        except _KeyTaken:
            replay = await _replay(sv, key)
            assert replay is not None  # the key is only ever recorded with its ticket
            return replay, False


async def _replay(sv: Services, key: _Key) -> TicketView | None:
    async def work(tx: Tx) -> tuple[str, TicketView] | None:
        found = await find_key(tx, key.scope, key.key)
        if found is None:
            return None
        request_hash, number = found
        return request_hash, await _view(tx, await _ticket(tx, number))

    found = await sv.store.read(work)
    if found is None:
        return None
    request_hash, view = found
    if request_hash != key.request_hash:
        raise Conflict(
            "this Idempotency-Key was used with a different request", field="Idempotency-Key"
        )
    return view


def _request_hash(req: TicketRequest) -> str:
    parts = (
        *(req.topic, normalize_phone(req.phone), req.description),
        *(req.full_name, req.email, req.contact_id),
    )
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode()).hexdigest()


async def create_ticket(
    sv: Services,
    caller: Principal,
    req: TicketRequest,
    *,
    source: str = "api",
    data: dict[str, Any] | None = None,
    also: Callable[[Tx, TicketRow], Awaitable[None]] | None = None,
    idempotency: _Key | None = None,
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
        if idempotency is not None:
            k = idempotency
            if not await remember_key(tx, k.scope, k.key, k.request_hash, row.number, at=at):
                raise _KeyTaken
        await _notify(sv, tx, row, at=at)
        if also is not None:
            await also(tx, row)
        return await _view(tx, row)

    view = await sv.store.transact(work)
    sv.notifier.notify_new()
    sv.open_tickets.opened(phone, view.ticket.number, at)
    return view


async def get_ticket_view(sv: Services, caller: Principal, number_text: str) -> TicketView:
    """The ticket with its history and links; masked for an operator not working on it. A full
    view shown to a person is recorded before this returns."""
    caller.require(Role.INTEGRATION, Role.OPERATOR, Role.SUPERVISOR)
    number = parse_number(number_text)
    since = _local_midnight(sv)

    async def work(tx: Tx) -> TicketView | None:
        ticket = await get_ticket(tx, number)
        return None if ticket is None else await _view(tx, ticket, caller, since)

    view = await sv.store.read(work)
    if view is None:
        raise NotFound(f"no ticket {number}", field="number")
    if view.full:
        await audit.record_read(sv, caller, "ticket", number, shown_fields(view.ticket))
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
    """A page of tickets. By phone only for integrations (the personal account) and supervisors:
    a person's lookup by phone is recorded, ticket by ticket, as a read of that phone."""
    caller.require(Role.INTEGRATION, Role.OPERATOR, Role.SUPERVISOR)
    if phone is not None and caller.role is Role.OPERATOR:
        raise Forbidden("a lookup by phone is for supervisors and integrations", field="phone")
    e164 = normalize_phone(phone) if phone is not None else None
    status_value = status.value if status is not None else None

    async def fetch(after: int, n: int) -> list[TicketRow]:
        return await sv.store.read(
            lambda tx: list_tickets(tx, phone=e164, status=status_value, after_row=after, limit=n)
        )

    page = TicketPage(*await read_page("t", cursor, limit, fetch, key=lambda row: row.row_id))
    if e164 is not None:
        await audit.record_reads(
            sv, caller, "ticket", ((t.number, ("phone",)) for t in page.tickets)
        )
    return page


async def move_ticket(
    sv: Services, caller: Principal, number_text: str, to: TicketStatus, comment: str | None
) -> TicketView:
    caller.require(Role.OPERATOR, Role.SUPERVISOR)
    number = parse_number(number_text)
    at = sv.clock.now()
    since = _local_midnight(sv)

    async def work(tx: Tx) -> TicketView:
        ticket = await _ticket(tx, number)
        transition(TicketStatus(ticket.status), to)  # raises the 409 naming the allowed moves
        moved = await change_status(
            tx, ticket, to.value, actor=_actor(caller), comment=comment, at=at
        )
        await _notify(sv, tx, moved, at=at, comment=comment)
        return await _recorded(tx, await _view(tx, moved, caller, since), caller, at)

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
    since = _local_midnight(sv)

    async def work(tx: Tx) -> TicketView:
        ticket = await _ticket(tx, number)
        if TicketStatus(ticket.status) is TicketStatus.COMPLETED:
            raise Conflict("a completed ticket is not escalated", field="number")
        if ticket.department == department:
            raise Conflict(f"already with {department}", field="department")
        moved = await escalate(tx, ticket, department, actor=_actor(caller), comment=comment, at=at)
        return await _recorded(tx, await _view(tx, moved, caller, since), caller, at)

    return await sv.store.transact(work)


async def link_ticket_contact(
    sv: Services, caller: Principal, number_text: str, contact_id: str
) -> TicketView:
    caller.require(Role.INTEGRATION, Role.OPERATOR, Role.SUPERVISOR)
    number = parse_number(number_text)
    at = sv.clock.now()
    since = _local_midnight(sv)

    async def work(tx: Tx) -> TicketView:
        ticket = await _ticket(tx, number)
        if await get_contact(tx, contact_id) is None:
            raise NotFound(f"no contact {contact_id}", field="contact_id")
        linked = await link_contact(tx, ticket, contact_id, actor=_actor(caller), at=at)
        view = await _view(tx, linked if linked is not None else ticket, caller, since)
        return await _recorded(tx, view, caller, at)

    return await sv.store.transact(work)


async def _notify(
    sv: Services, tx: Tx, ticket: TicketRow, *, at: float, comment: str | None = None
) -> None:
    """The SMS and the personal-account event for the ticket's current revision."""
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


async def _view(
    tx: Tx, ticket: TicketRow, caller: Principal | None = None, since: float = 0.0
) -> TicketView:
    """`ticket` as read in this transaction, with its history and linked contacts; `full`
    unless `caller` is an operator that has not held a linked contact since `since`."""
    number = ticket.number
    full = True
    if caller is not None and caller.role is Role.OPERATOR:
        assert caller.operator_id is not None
        full = await held_by(tx, number, caller.operator_id, since=since)
    history = await ticket_history(tx, number)
    return TicketView(ticket, history, await linked_contacts(tx, number), full)


async def _recorded(tx: Tx, view: TicketView, caller: Principal, at: float) -> TicketView:
    """`view`, its full view recorded as read by `caller` in the change's own transaction."""
    if view.full:
        await audit.record_read_in(
            tx, caller, "ticket", view.ticket.number, shown_fields(view.ticket), at=at
        )
    return view


def shown_fields(ticket: TicketRow) -> list[str]:
    """The personal fields a full view of `ticket` shows."""
    fields = ["phone", "description"]
    fields += [name for name in ("full_name", "email") if getattr(ticket, name) is not None]
    return fields


def _local_midnight(sv: Services) -> float:
    """The start of the line's local day: "held today" counts from here."""
    tz = sv.settings.timezone
    today = datetime.fromtimestamp(sv.clock.now(), tz).date()
    return datetime.combine(today, time(), tz).timestamp()


def _actor(caller: Principal) -> str:
    return caller.operator_id if caller.operator_id is not None else caller.name
