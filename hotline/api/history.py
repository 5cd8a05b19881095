"""A citizen's history over HTTP (issue 14): notes on contacts, the history of a phone, and a
chat switched to a call.

`POST /v1/contacts/{id}/notes` keeps a note with a contact; `GET /v1/citizens/history?phone=
&reason=` lists everything one phone did or was sent, oldest first, paged by `next_cursor`,
each read recorded with its reason; `POST /v1/contacts/{id}/switch {"channel": "voice"}` moves
a chat to a call. Handlers only translate: the rules are in `hotline.services.history` and
`hotline.services.switch`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints
from quart import Blueprint
from quart_schema import validate_querystring, validate_response

from hotline.api.openapi import may_answer
from hotline.api.schemas import ContactOut, OperatorChoice, Request, Response, Text, instant
from hotline.api.services import caller, current_services
from hotline.api.validation import validate_request
from hotline.domain.masking import mask_phone
from hotline.routing.model import Channel
from hotline.services import history, switch
from hotline.store.history import (
    ContactEntry,
    Keyed,
    NoteRow,
    SmsEntry,
    StatusChange,
    SurveyAnswer,
    TicketEntry,
    VoicemailEntry,
)

blueprint = Blueprint("history", __name__)


# -- notes -----------------------------------------------------------------------------------


class NoteBody(Request):
    text: Annotated[Text, StringConstraints(min_length=1, max_length=2000, strip_whitespace=True)]


class NoteOut(Response):
    id: int
    contact_id: str
    at: datetime
    role: str
    operator_id: str | None
    text: str

    @classmethod
    def of(cls, n: NoteRow) -> NoteOut:
        at = instant(n.at)
        assert at is not None
        return cls(
            id=n.id,
            contact_id=n.contact_id,
            at=at,
            role=n.role,
            operator_id=n.operator_id,
            text=n.text,
        )


@blueprint.post("/v1/contacts/<contact_id>/notes")
@validate_request(NoteBody)
@validate_response(NoteOut, 201)
@may_answer(404)
async def add_note(contact_id: str, data: NoteBody) -> tuple[NoteOut, int]:
    """Keep a note with a contact (the operator handling it, or finishing its wrap-up; a
    supervisor): on disk before the answer."""
    note = await history.add_note(current_services(), await caller(), contact_id, data.text)
    return NoteOut.of(note), 201


# -- a citizen's history ---------------------------------------------------------------------


class HistoryQuery(Request):
    phone: Annotated[Text, StringConstraints(min_length=1, max_length=32)]
    reason: Annotated[Text, StringConstraints(min_length=1, max_length=500)] = Field(
        description="why the history is read; recorded with the read"
    )
    limit: int = Field(default=50, ge=1, le=200)
    cursor: Annotated[Text, StringConstraints(max_length=48)] | None = None


class StatusOut(Response):
    at: datetime
    from_status: str | None
    to_status: str
    actor: str
    comment: str | None


class SurveyOut(Response):
    answered_at: datetime
    csat: int = Field(description="1-5")
    nps: int | None = Field(default=None, description="0-10, when the survey asked it")
    comment: str | None = Field(default=None, description="empty once retention took it")

    @classmethod
    def of(cls, a: SurveyAnswer | None) -> SurveyOut | None:
        if a is None:
            return None
        return cls(answered_at=_at(a.answered_at), csat=a.csat, nps=a.nps, comment=a.comment)


class HistoryEntryOut(Response):
    kind: Literal["contact", "ticket", "voicemail", "sms"]
    id: str = Field(description="the contact's or voicemail's id, ticket's number, message's id")
    at: datetime = Field(description="arrival, creation or enqueueing: the history's order")
    topic: str | None = None
    state: str = Field(description="the contact's, ticket's (status), voicemail's or SMS's")
    channel: str | None = None
    operator_id: str | None = Field(default=None, description="a contact's last operator")
    outcome: str | None = None
    ended_at: datetime | None = None
    transferred_to: str | None = Field(default=None, description="e.g. the call a chat became")
    notes: list[NoteOut] | None = None
    survey: SurveyOut | None = Field(default=None, description="a contact's survey answer")
    statuses: list[StatusOut] | None = Field(default=None, description="a ticket's, in order")
    transcript: str | None = None
    attempts: int | None = Field(default=None, description="a voicemail's callback attempts")
    callback_contact_id: str | None = None
    body: str | None = Field(default=None, description="an SMS's text")

    @classmethod
    def of(cls, keyed: Keyed) -> HistoryEntryOut:
        e = keyed.entry
        if isinstance(e, ContactEntry):
            return cls(
                kind="contact",
                id=e.id,
                at=_at(e.arrived_at),
                topic=e.topic,
                state=e.state,
                channel=e.channel,
                operator_id=e.operator_id,
                outcome=e.outcome,
                ended_at=instant(e.ended_at),
                transferred_to=e.transferred_to,
                notes=[NoteOut.of(n) for n in e.notes],
                survey=SurveyOut.of(e.survey),
            )
        if isinstance(e, TicketEntry):
            return cls(
                kind="ticket",
                id=e.number,
                at=_at(e.created_at),
                topic=e.topic,
                state=e.status,
                statuses=[_status(s) for s in e.statuses],
            )
        if isinstance(e, VoicemailEntry):
            return cls(
                kind="voicemail",
                id=e.id,
                at=_at(e.arrived_at),
                topic=e.topic,
                state=e.state,
                transcript=e.transcript,
                attempts=e.attempts,
                callback_contact_id=e.contact_id,
            )
        assert isinstance(e, SmsEntry)
        return cls(kind="sms", id=str(e.id), at=_at(e.created_at), state=e.state, body=e.body)


class HistoryOut(Response):
    phone: str = Field(description="the phone whose history this is, masked")
    entries: list[HistoryEntryOut]
    next_cursor: str | None


@blueprint.get("/v1/citizens/history")
@validate_querystring(HistoryQuery)
@validate_response(HistoryOut)
@may_answer(403)
async def citizen_history(query_args: HistoryQuery) -> HistoryOut:
    """Everything one phone did or was sent (contacts with their notes, outcome, operator and
    survey answer;
    tickets with their statuses; voicemails; SMS), oldest first (supervisor; the personal
    account; an operator while it handles a contact from that phone). Every read is recorded
    with who, when and `reason`."""
    page = await history.citizen_history(
        current_services(),
        await caller(),
        query_args.phone,
        reason=query_args.reason,
        limit=query_args.limit,
        cursor=query_args.cursor,
    )
    return HistoryOut(
        phone=mask_phone(page.phone),
        entries=[HistoryEntryOut.of(k) for k in page.entries],
        next_cursor=page.next_cursor,
    )


# -- a chat switched to a call ---------------------------------------------------------------


class SwitchBody(OperatorChoice):
    channel: Literal["voice"] = Field(description="what the chat becomes: a call")


class SwitchOut(Response):
    chat: ContactOut = Field(description="ended, transferred to the call")
    call: ContactOut = Field(description="the call, with the chat's arrival and deadlines")


@blueprint.post("/v1/contacts/<contact_id>/switch")
@validate_request(SwitchBody)
@validate_response(SwitchOut, 201)
@may_answer(404, 409)
async def switch_channel(contact_id: str, data: SwitchBody) -> tuple[SwitchOut, int]:
    """Move a chat the operator is handling to a call: the chat ends as `transferred`, and a
    voice contact keeping its arrival goes to the same operator if it has room for a call,
    else first among the later contacts of its class."""
    done = await switch.switch_channel(
        current_services(), await caller(), contact_id, Channel(data.channel), data.operator_id
    )
    return SwitchOut(chat=ContactOut.of(done.chat), call=ContactOut.of(done.call)), 201


def _at(epoch: float) -> datetime:
    moment = instant(epoch)
    assert moment is not None
    return moment


def _status(s: StatusChange) -> StatusOut:
    return StatusOut(
        at=_at(s.at),
        from_status=s.from_status,
        to_status=s.to_status,
        actor=s.actor,
        comment=s.comment,
    )
