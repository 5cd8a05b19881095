"""Rendering an answer template for a contact or a ticket (`POST /v1/kb/templates/{id}/render`).

The values come from what the caller may see: the ticket through the ticket service's own read
(so its who-may-see rules apply, and a full view of a citizen's name is recorded in the audit of
personal-data reads), a contact's latest linked ticket when only a contact is named, the voice
line's next opening from the working calendar. A value the caller may not see unmasked is
missing, and a template that needs it is refused naming it (`hotline.kb.templates.render`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from hotline.domain.errors import Invalid, NotFound
from hotline.kb.articles import Kind, Status
from hotline.kb.templates import render
from hotline.schedule import ScheduleChannel
from hotline.services import Services
from hotline.services.auth import Principal, Role
from hotline.services.tickets import get_ticket_view
from hotline.store import Tx
from hotline.store import kb as kb_store
from hotline.store.kb_usage import contact_exists, operator_took
from hotline.tickets.lifecycle import TicketStatus

__all__ = ["Rendered", "render_template"]

OPENS_AT_FORMAT = "%d.%m.%Y %H:%M"


@dataclass(frozen=True, slots=True)
class Rendered:
    template_id: int
    version: int
    text: str
    ticket_number: str | None


async def _latest_ticket_of(tx: Tx, contact_id: str) -> str | None:
    row = await tx.fetchone(
        "SELECT number FROM ticket_contacts WHERE contact_id = ?"
        " ORDER BY linked_at DESC, number LIMIT 1",
        (contact_id,),
    )
    return None if row is None else str(row[0])


async def render_template(
    sv: Services,
    principal: Principal,
    template_id: int,
    *,
    contact_id: str | None,
    ticket_number: str | None,
) -> Rendered:
    principal.require(Role.SUPERVISOR, Role.OPERATOR)

    async def read(tx: Tx) -> tuple[kb_store.ArticleRow | None, str | None, str | None]:
        template = await kb_store.get_article(tx, template_id)
        topic = number = None
        if contact_id is not None:
            exists, _ = await contact_exists(tx, contact_id)
            if not exists or (
                principal.role is Role.OPERATOR
                and not await operator_took(tx, contact_id, principal.operator_id or "")
            ):
                raise NotFound("no such contact", field="contact_id")
            row = await tx.fetchone("SELECT topic FROM contacts WHERE id = ?", (contact_id,))
            topic = None if row is None else str(row[0])
            number = await _latest_ticket_of(tx, contact_id)
        return template, topic, number

    template, topic, linked = await sv.store.read(read)
    if (
        template is None
        or template.draft.kind is not Kind.TEMPLATE
        or template.draft.status is not Status.PUBLISHED
    ):
        raise NotFound("no published template with this id")
    values: dict[str, str | None] = {
        "ticket_number": None,
        "full_name": None,
        "ticket_status": None,
        "topic": _topic_label(sv, topic),
        "opens_at": _opens_at(sv),
    }
    number = ticket_number or linked
    if number is not None:
        view = await get_ticket_view(sv, principal, number)
        ticket = view.ticket
        values["ticket_number"] = ticket.number
        values["ticket_status"] = TicketStatus(ticket.status).label
        values["full_name"] = ticket.full_name if view.full else None
        if values["topic"] is None:
            values["topic"] = _topic_label(sv, ticket.topic)
    try:
        text = render(template.draft.body, values)
    except Invalid as e:
        if e.field == "full_name" and number is not None:
            raise Invalid(
                "the template needs {full_name}: the ticket has no name you may see",
                field="full_name",
            ) from None
        raise
    return Rendered(template.id, template.version, text.strip(), values["ticket_number"])


def _opens_at(sv: Services) -> str | None:
    opens = sv.calendar.next_opening(ScheduleChannel.VOICE, sv.clock.now())
    if opens is None:
        return None
    return datetime.fromtimestamp(opens, sv.settings.timezone).strftime(OPENS_AT_FORMAT)


def _topic_label(sv: Services, topic: str | None) -> str | None:
    """The topic's label; None for none, or for a topic since removed from the configuration."""
    known = None if topic is None else sv.settings.topics.get(topic)
    return None if known is None else known.label
