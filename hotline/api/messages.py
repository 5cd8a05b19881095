"""`/v1/sms/receipts` and `/v1/messages`: the SMS provider reports delivery (integration), and
supervisors see what the outbox holds, failed messages above all. Recipients are masked; bodies
are not shown (they may name the citizen).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints
from quart import Blueprint
from quart_schema import validate_querystring, validate_response

from hotline.api.openapi import may_answer
from hotline.api.schemas import InstantIn, Request, Response, Text, instant
from hotline.api.services import caller, current_services
from hotline.api.validation import validate_request
from hotline.domain.masking import looks_like_phone, mask_phone
from hotline.services import messages
from hotline.services.paging import MAX_KEY
from hotline.store.outbox import (
    MessageEventRow,
    MessageKind,
    MessageRow,
    MessageState,
    ReceiptStatus,
)

blueprint = Blueprint("messages", __name__, url_prefix="/v1")


class ReceiptBody(Request):
    provider_id: Annotated[Text, StringConstraints(min_length=1, max_length=200)]
    status: Literal["sent", "delivered", "failed"]
    at: InstantIn | None = Field(
        default=None, description="when the provider saw it happen, with its offset (RFC 3339)"
    )


class MessageQuery(Request):
    state: MessageState | None = None
    kind: MessageKind | None = None
    limit: int = Field(default=50, ge=1, le=200)
    cursor: Annotated[Text, StringConstraints(max_length=40)] | None = None


class MessageOut(Response):
    id: int
    kind: MessageKind
    recipient: str = Field(description="masked")
    subject: str | None
    dedupe_key: str
    state: MessageState
    attempts: int
    next_attempt_at: datetime | None = Field(description="null once sent or failed")
    expires_at: datetime | None = Field(description="null: the kind's configured TTL")
    provider: str | None
    provider_id: str | None
    segments: int | None
    last_error: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, m: MessageRow) -> MessageOut:
        live = m.state in (MessageState.PENDING, MessageState.SENDING)
        return cls(
            id=m.id,
            kind=m.kind,
            recipient=mask_recipient(m.kind, m.recipient),
            subject=m.subject,
            dedupe_key=m.dedupe_key,
            state=m.state,
            attempts=m.attempts,
            next_attempt_at=instant(m.next_attempt_at) if live else None,
            expires_at=instant(m.expires_at),
            provider=m.provider,
            provider_id=m.provider_id,
            segments=m.segments,
            last_error=m.last_error,
            created_at=_at(m.created_at),
            updated_at=_at(m.updated_at),
        )


class MessageEventOut(Response):
    at: datetime
    kind: str
    state: MessageState
    data: dict[str, Any]

    @classmethod
    def of(cls, e: MessageEventRow) -> MessageEventOut:
        return cls(at=_at(e.at), kind=e.kind, state=e.state, data=e.data)


class MessageDetail(MessageOut):
    events: list[MessageEventOut]


class MessagePage(Response):
    """One page; pass `next_cursor` as `cursor` for the next (null: this was the last)."""

    messages: list[MessageOut]
    next_cursor: str | None


class ReceiptOut(Response):
    applied: bool = Field(description="false for a repeat, or a receipt a final state ignores")
    message: MessageOut


@blueprint.post("/sms/receipts")
@validate_request(ReceiptBody)
@validate_response(ReceiptOut)
@may_answer(404)
async def receipt(data: ReceiptBody) -> ReceiptOut:
    """A delivery receipt (integration). Idempotent; delivered and failed are final."""
    reported = None if data.at is None else data.at.timestamp()
    result = await messages.record_receipt(
        current_services(),
        await caller(),
        data.provider_id,
        ReceiptStatus(data.status),
        reported_at=reported,
    )
    return ReceiptOut(applied=result.changed, message=MessageOut.of(result.message))


@blueprint.get("/messages")
@validate_querystring(MessageQuery)
@validate_response(MessagePage)
async def index(query_args: MessageQuery) -> MessagePage:
    """Outbox messages in the order written, filtered by state and kind (supervisor)."""
    page = await messages.list_message_page(
        current_services(),
        await caller(),
        state=query_args.state,
        kind=query_args.kind,
        limit=query_args.limit,
        cursor=query_args.cursor,
    )
    return MessagePage(
        messages=[MessageOut.of(m) for m in page.messages], next_cursor=page.next_cursor
    )


@blueprint.get(f"/messages/<int(max={MAX_KEY}):message_id>")  # larger: 404, not a driver error
@validate_response(MessageDetail)
async def show(message_id: int) -> MessageDetail:
    """One message with every change it went through (supervisor)."""
    view = await messages.get_message_view(current_services(), await caller(), message_id)
    out = MessageOut.of(view.message)
    return MessageDetail(**out.model_dump(), events=[MessageEventOut.of(e) for e in view.events])


def mask_recipient(kind: MessageKind, recipient: str) -> str:
    """A phone as `+7 912 *** ** 67`, an address as `i***@example.org`, an account key by its
    first characters only."""
    if kind is MessageKind.SMS or looks_like_phone(recipient):
        return mask_phone(recipient)
    if kind is MessageKind.EMAIL:
        local, at, domain = recipient.rpartition("@")
        if at and local:
            return f"{local[0]}***@{domain}"
        return "***"
    return recipient[:3] + "***" if len(recipient) > 6 else "***"


def _at(epoch: float) -> datetime:
    at = instant(epoch)
    assert at is not None
    return at
