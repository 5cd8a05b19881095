"""`/v1/audit`: who read citizens' personal data unmasked, for supervisors and admins.

`GET /v1/audit/reads?from=&to=&actor=` lists `pii_reads` in the order the reads were recorded,
paged by keyset (`next_cursor`). Also here: the one-line hooks with which other routes record
what they show (`voicemail_shown`, `audio_heard`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import Field, StringConstraints
from quart import Blueprint
from quart_schema import validate_querystring, validate_response

from hotline.api.schemas import InstantIn, Request, Response
from hotline.api.services import caller, current_services
from hotline.domain.masking import mask_phone
from hotline.services import audit
from hotline.services.history import HISTORY_READ
from hotline.store.audit import ReadRow

blueprint = Blueprint("audit", __name__, url_prefix="/v1/audit")


async def voicemail_shown(view: audit.ShowsVoicemail) -> None:
    """Record that this request's caller is shown a voicemail (one-line hook for its routes)."""
    await audit.voicemail_shown(current_services(), await caller(), view)


async def audio_heard(voicemail_id: str) -> None:
    """Record that this request's caller is sent a voicemail's recording."""
    await audit.record_read(
        current_services(), await caller(), "voicemail_audio", voicemail_id, ("audio",)
    )


class ReadQuery(Request):
    from_: InstantIn | None = Field(default=None, alias="from", description="inclusive")
    to: InstantIn | None = Field(default=None, description="exclusive")
    actor: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = Field(
        default=None, description="a token id or an operator id"
    )
    limit: int = Field(default=50, ge=1, le=200)
    cursor: Annotated[str, StringConstraints(max_length=40)] | None = None


class ReadOut(Response):
    at: datetime
    token_id: str
    role: str
    operator_id: str | None
    kind: str = Field(
        description="ticket | contact | voicemail | voicemail_audio | citizen_history"
    )
    resource_id: str = Field(description="for a citizen's history, the phone, masked")
    fields: list[str] = Field(description="the fields shown unmasked")
    reason: str | None = Field(default=None, description="why, as the reader gave it")

    @classmethod
    def of(cls, r: ReadRow) -> ReadOut:
        return cls(
            at=datetime.fromtimestamp(r.at, UTC),
            token_id=r.token_id,
            role=r.role,
            operator_id=r.operator_id,
            kind=r.kind,
            # A listing keeps phones masked; the table keeps the whole number for an inquiry.
            resource_id=mask_phone(r.resource_id) if r.kind == HISTORY_READ else r.resource_id,
            fields=r.fields,
            reason=r.reason,
        )


class ReadPageOut(Response):
    reads: list[ReadOut]
    next_cursor: str | None


@blueprint.get("/reads")
@validate_querystring(ReadQuery)
@validate_response(ReadPageOut)
async def reads(query_args: ReadQuery) -> ReadPageOut:
    """Reads of personal data by a person (who, what, which fields, when), oldest first
    (supervisor, admin)."""
    page = await audit.list_read_page(
        current_services(),
        await caller(),
        since=None if query_args.from_ is None else query_args.from_.timestamp(),
        until=None if query_args.to is None else query_args.to.timestamp(),
        actor=query_args.actor,
        limit=query_args.limit,
        cursor=query_args.cursor,
    )
    return ReadPageOut(reads=[ReadOut.of(r) for r in page.reads], next_cursor=page.next_cursor)
