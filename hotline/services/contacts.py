"""Contacts: create (idempotently), look up, list, and the moves of their life over the API.

A contact is created by an integration (the switch, the chat widget): validated, given an id,
handed to the router, and answered only once its `Enqueued` is on disk (`DurableRouter`). The
answer says where the contact stands: its class, deadline, place in the queue and a wait estimate.
Operators accept, reject and complete through here too; every move returns once it is on disk.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from hotline.domain.errors import Conflict, Invalid, NotFound
from hotline.domain.phones import normalize_phone
from hotline.routing.model import (
    TERMINAL_STATES,
    Channel,
    ContactState,
    Event,
    NewContact,
    QueuePosition,
)
from hotline.schedule.rules import ScheduleChannel
from hotline.services import Services, audit
from hotline.services.auth import Principal, Role
from hotline.services.keylocks import idempotency_scope
from hotline.services.paging import read_page
from hotline.store.events import ContactNote, IdempotencyRecord, RepeatReply, new_contact_row
from hotline.store.queries import (
    find_idempotency_key,
    get_contact,
    get_repeat_of,
    list_contacts,
)
from hotline.store.rows import ContactRow


@dataclass(frozen=True, slots=True)
class ContactRequest:
    channel: Channel
    topic: str
    phone: str
    language: str | None = None


@dataclass(frozen=True, slots=True)
class ContactView:
    """A contact as stored, with its live place in the queue while it waits."""

    row: ContactRow
    position: int | None
    estimated_wait_s: float | None
    open_ticket: str | None = None  # on creation: the caller's most recent open ticket


@dataclass(frozen=True, slots=True)
class Page:
    contacts: list[ContactRow]
    next_cursor: str | None


async def create_contact(
    sv: Services, caller: Principal, req: ContactRequest, idempotency_key: str | None
) -> tuple[ContactView, bool]:
    """The new contact and True, or, for a repeated `Idempotency-Key` with the same request,
    the contact it created and False; either way with the caller's open ticket."""
    caller.require(Role.INTEGRATION)
    phone = normalize_phone(req.phone)
    _check_topic(sv, req.topic)
    _check_open(sv, req.channel)
    language = req.language or sv.settings.languages.default
    if language not in sv.settings.languages.accepted:
        raise Invalid(f"language {language!r} is not served", field="language")
    view, created = await _create_once(sv, caller, req, phone, language, idempotency_key)
    return dataclasses.replace(view, open_ticket=sv.open_tickets.of(phone)), created


async def _create_once(
    sv: Services,
    caller: Principal,
    req: ContactRequest,
    phone: str,
    language: str,
    idempotency_key: str | None,
) -> tuple[ContactView, bool]:
    if idempotency_key is None:
        return await _create(sv, req, phone, language, None), True
    scope = idempotency_scope(caller, "contacts", idempotency_key)
    digest = _request_hash(req.channel, req.topic, phone, language)
    async with sv.key_locks.hold(scope, idempotency_key):  # a retry waits for the first
        found = await sv.store.read(
            lambda tx: find_idempotency_key(tx, scope, idempotency_key), snapshot=False
        )
        if found is not None:
            request_hash, contact_id = found
            if request_hash != digest:
                raise Conflict(
                    "this Idempotency-Key was used with a different request",
                    field="Idempotency-Key",
                )
            return await get_contact_view(sv, caller, contact_id), False
        record = IdempotencyRecord(scope, idempotency_key, digest)
        return await _create(sv, req, phone, language, record), True


async def _create(
    sv: Services,
    req: ContactRequest,
    phone: str,
    language: str,
    idempotency: IdempotencyRecord | None,
) -> ContactView:
    contact_id = new_contact_id()
    spec = NewContact(id=contact_id, channel=req.channel, topic=req.topic, language=language)
    reply = RepeatReply()
    note = ContactNote(phone=phone, idempotency=idempotency, repeat=reply)
    admission = await sv.router.admit(spec, note=note)
    # The answer is the journal's own projection of the router's events, and the one column
    # the journal works out from other rows beside them: the contact it repeats, if any, which
    # the journal hands back with the commit (no read of the row); without a quality recorder
    # it leaves the reply unanswered, and the row says what it holds.
    row = new_contact_row(admission.events)
    if reply.answered:
        repeat_of = reply.repeat_of
    else:
        repeat_of = await sv.store.read(lambda tx: get_repeat_of(tx, contact_id))
    if repeat_of is not None:
        row = dataclasses.replace(row, repeat_of=repeat_of)
    if admission.position is None:
        return ContactView(row, None, None)
    return _placed_view(sv, row, admission.position)


async def get_contact_view(sv: Services, caller: Principal, contact_id: str) -> ContactView:
    caller.require(Role.INTEGRATION, Role.SUPERVISOR, Role.OPERATOR)
    view = await _view(sv, contact_id)
    if caller.role is Role.OPERATOR and view.row.operator_id != caller.operator_id:
        raise NotFound(f"no contact {contact_id}")  # an operator sees only what it holds
    return await audit.contact_shown(sv, caller, view)


async def list_contact_page(
    sv: Services,
    caller: Principal,
    *,
    state: ContactState | None,
    topic: str | None,
    limit: int,
    cursor: str | None,
) -> Page:
    caller.require(Role.INTEGRATION, Role.SUPERVISOR)
    if topic is not None:
        _check_topic(sv, topic)

    async def fetch(after: int, n: int) -> list[ContactRow]:
        return await sv.store.read(
            lambda tx: list_contacts(tx, state=state, topic=topic, after_seq=after, limit=n),
            snapshot=False,  # one statement
        )

    return Page(*await read_page("s", cursor, limit, fetch, key=lambda row: row.seq))


async def abandon(sv: Services, caller: Principal, contact_id: str) -> ContactView:
    """The citizen hung up or closed the chat, while waiting or being offered."""
    caller.require(Role.INTEGRATION)
    await _move(sv, contact_id, lambda: sv.router.abandon(contact_id))
    return await _view(sv, contact_id)


async def accept(
    sv: Services, caller: Principal, contact_id: str, operator_id: str | None
) -> ContactView:
    op = caller.acting_as(operator_id)
    await _move(sv, contact_id, lambda: sv.router.accept(contact_id, op))
    return await audit.contact_shown(sv, caller, await _view(sv, contact_id))


async def reject(
    sv: Services, caller: Principal, contact_id: str, operator_id: str | None
) -> ContactView:
    op = caller.acting_as(operator_id)
    await _move(sv, contact_id, lambda: sv.router.reject(contact_id, op))
    return await audit.contact_shown(sv, caller, await _view(sv, contact_id))


async def complete(
    sv: Services, caller: Principal, contact_id: str, operator_id: str | None, outcome: str
) -> ContactView:
    op = caller.acting_as(operator_id)
    note = ContactNote(outcome=outcome)
    await _move(sv, contact_id, lambda: sv.router.complete(contact_id, op, note=note))
    return await audit.contact_shown(sv, caller, await _view(sv, contact_id))


def estimate_wait_s(position: QueuePosition, handle_time_s: float) -> float | None:
    """Rough seconds until an operator answers a waiting contact: it and the contacts ahead
    share the eligible operators (none of them free, or it would not be waiting), each taking
    about `handle_time_s`. None when nobody on shift could take it."""
    if position.eligible_operators == 0:
        return None
    rounds = math.ceil((position.position + 1) / position.eligible_operators)
    return round(rounds * handle_time_s, 1)


def new_contact_id() -> str:
    return "c_" + secrets.token_hex(8)


async def _move(
    sv: Services, contact_id: str, command: Callable[[], Awaitable[list[Event]]]
) -> None:
    try:
        await command()
    except NotFound:
        row = await sv.store.read(lambda tx: get_contact(tx, contact_id), snapshot=False)
        if row is None:
            raise
        if row.state in TERMINAL_STATES:
            raise Conflict(f"contact {contact_id} has already ended ({row.state})") from None
        raise


async def _view(sv: Services, contact_id: str) -> ContactView:
    row = await sv.store.read(lambda tx: get_contact(tx, contact_id), snapshot=False)
    if row is None:
        raise NotFound(f"no contact {contact_id}")
    return await _live_view(sv, row)


async def _live_view(sv: Services, row: ContactRow) -> ContactView:
    contact_id = row.id
    if row.state is not ContactState.WAITING:
        return ContactView(row, None, None)
    try:
        position = await sv.router.queue_position(contact_id)
    except NotFound:  # ended between the two reads
        return ContactView(row, None, None)
    return _placed_view(sv, row, position)


def _placed_view(sv: Services, row: ContactRow, position: QueuePosition) -> ContactView:
    wait = estimate_wait_s(position, sv.settings.routing.handle_time_s)
    return ContactView(row, position.position, wait)


class LineClosed(Conflict):
    """The channel is outside its working hours: a voice call is offered voicemail instead."""

    code = "closed"


def _check_open(sv: Services, channel: Channel) -> None:
    hours = ScheduleChannel.VOICE if channel is Channel.VOICE else ScheduleChannel.CHAT
    now = sv.clock.now()
    if sv.calendar.is_open(hours, now):
        return
    opens = sv.calendar.next_opening(hours, now)
    opens_at = None if opens is None else datetime.fromtimestamp(opens, UTC)  # the API formats it
    raise LineClosed(
        f"the {channel} line is closed now",
        field="channel",
        extra={"voicemail": channel is Channel.VOICE, "opens_at": opens_at},
    )


def _check_topic(sv: Services, topic: str) -> None:
    if topic not in sv.settings.topics:
        raise Invalid(f"unknown topic {topic!r}", field="topic")


def _request_hash(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode()).hexdigest()
