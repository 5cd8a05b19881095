"""A chat switched to a call ("переключение на телефонный звонок"), by the operator handling it.

The router ends the chat as `transferred` and makes a linked voice contact (the chat's
`transferred_to`) that keeps the chat's arrival time and deadlines: it stays with the same
operator when that operator has room for a call, else it is routed ahead of every contact of
its class that came after the chat (`RoutingState.switch_to_voice`). The call is given the
chat's phone through the journal's note, so its row is complete when the answer comes, and
the answer comes once both are on disk.
"""

from __future__ import annotations

from dataclasses import dataclass

from hotline.domain.errors import Conflict, Invalid, NotFound
from hotline.routing.model import TERMINAL_STATES, Channel, ContactState
from hotline.services import Services, audit
from hotline.services.auth import Principal, Role
from hotline.services.contacts import (
    ContactView,
    estimate_wait_s,
    get_contact_view,
    new_contact_id,
)
from hotline.store.events import ContactNote
from hotline.store.queries import get_contact


@dataclass(frozen=True, slots=True)
class Switched:
    chat: ContactView  # ended, transferred to the call
    call: ContactView


async def switch_channel(
    sv: Services, caller: Principal, contact_id: str, channel: Channel, operator_id: str | None
) -> Switched:
    caller.require(Role.SUPERVISOR, Role.OPERATOR)
    op = caller.acting_as(operator_id)
    if channel is not Channel.VOICE:
        raise Invalid("a chat can be switched to a call (voice) only", field="channel")
    row = await sv.store.read(lambda tx: get_contact(tx, contact_id), snapshot=False)
    if row is None or (caller.role is Role.OPERATOR and row.operator_id != op):
        raise NotFound(f"no contact {contact_id}")  # an operator sees only what it holds
    if row.state in TERMINAL_STATES:
        raise Conflict(f"contact {contact_id} has already ended ({row.state})")
    if row.channel is not Channel.CHAT:
        raise Conflict(f"contact {contact_id} is a {row.channel} contact, not a chat")
    if row.state is not ContactState.ASSIGNED or row.operator_id != op:
        raise Conflict(f"contact {contact_id} is not being handled by operator {op}")
    call_id = new_contact_id()
    note = ContactNote(phone=row.phone)
    try:
        await sv.router.switch_to_voice(contact_id, op, call_id, note=note)
    except NotFound:
        raise Conflict(f"contact {contact_id} has just ended") from None
    # Both are shown with their phone, each read recorded. The chat stays its operator's
    # (its last holder); the call is shown to whoever switched it, wherever it went.
    chat = await get_contact_view(sv, caller, contact_id)
    return Switched(chat, await _call_view(sv, caller, call_id))


async def _call_view(sv: Services, caller: Principal, call_id: str) -> ContactView:
    row = await sv.store.read(lambda tx: get_contact(tx, call_id), snapshot=False)
    assert row is not None, "the call's row is written before the router answers"
    view = ContactView(row, None, None)
    if row.state is ContactState.WAITING:
        try:
            position = await sv.router.queue_position(call_id)
        except NotFound:  # taken or ended meanwhile: shown as stored
            pass
        else:
            wait = estimate_wait_s(position, sv.settings.routing.handle_time_s)
            view = ContactView(row, position.position, wait)
    return await audit.contact_shown(sv, caller, view)
