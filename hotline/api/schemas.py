"""The API's request and response bodies: the documented contract (quart-schema puts them in
/openapi.json) and the only place where wire formats meet domain values.

Requests forbid unknown fields, so a typo is a 422 naming it rather than a silent default.
Times on the wire are ISO 8601 in UTC; inside they are epoch seconds.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from hotline.domain.masking import mask_phone
from hotline.routing.model import Channel, ContactState, Offered, OperatorState, Presence
from hotline.services.contacts import ContactView
from hotline.services.operators import OperatorView

Code = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,64}$")]
OperatorId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Response(BaseModel):
    model_config = ConfigDict(frozen=True)


def instant(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)


# -- contacts ---------------------------------------------------------------------------------


class NewContactBody(Request):
    channel: Literal["voice", "chat"]
    topic: Code
    phone: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    language: Code | None = None


class OperatorChoice(Request):
    """Who acts: an operator's own token needs nothing; a supervisor names the operator."""

    operator_id: OperatorId | None = None


class CompleteBody(OperatorChoice):
    outcome: Annotated[str, StringConstraints(min_length=1, max_length=500, strip_whitespace=True)]


class ContactQuery(Request):
    state: ContactState | None = None
    topic: Code | None = None
    limit: int = Field(default=50, ge=1, le=200)
    cursor: Annotated[str, StringConstraints(max_length=40)] | None = None


class ContactOut(Response):
    id: str
    channel: Channel
    topic: str
    language: str
    phone: str | None
    priority: str
    state: ContactState
    operator_id: str | None
    arrived_at: datetime
    target_at: datetime
    deadline_at: datetime
    position: int | None = Field(description="contacts ahead of this one; null unless waiting")
    estimated_wait_s: float | None = Field(
        description="rough seconds until an operator answers; null if unknown"
    )
    breached: bool
    overflowed: bool
    ended_at: datetime | None
    outcome: str | None
    open_ticket: str | None = Field(
        default=None, description="on creation: the caller's most recent ticket not completed"
    )

    @classmethod
    def of(cls, view: ContactView, *, masked: bool = False) -> ContactOut:
        """The contact as the API shows it; `masked` for listings (the phone hidden)."""
        r = view.row
        phone = r.phone
        if masked and phone is not None:
            phone = mask_phone(phone)
        return cls(
            id=r.id,
            channel=r.channel,
            topic=r.topic,
            language=r.language,
            phone=phone,
            priority=r.priority,
            state=r.state,
            operator_id=r.operator_id,
            arrived_at=datetime.fromtimestamp(r.arrived_at, UTC),
            target_at=datetime.fromtimestamp(r.target_at, UTC),
            deadline_at=datetime.fromtimestamp(r.deadline_at, UTC),
            position=view.position,
            estimated_wait_s=view.estimated_wait_s,
            breached=r.breached,
            overflowed=r.overflowed,
            ended_at=instant(r.ended_at),
            outcome=r.outcome,
            open_ticket=view.open_ticket,
        )


class ContactPage(Response):
    """One page; pass `next_cursor` as `cursor` for the next (null: this was the last)."""

    contacts: list[ContactOut]
    next_cursor: str | None


# -- operators --------------------------------------------------------------------------------


class OperatorBody(Request):
    name: Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
    skills: dict[Code, Annotated[int, Field(ge=1, le=5)]] = Field(min_length=1)
    languages: list[Code] = Field(min_length=1)
    capacity: dict[Channel, Annotated[int, Field(ge=0, le=50)]] | None = Field(
        default=None, description="per channel; the configured defaults when left out"
    )
    certified_until: date | None = None


class StateBody(Request):
    state: Presence


class OperatorOut(Response):
    id: str
    name: str
    skills: dict[str, int]
    languages: list[str]
    capacity: dict[Channel, int]
    certified_until: date | None
    state: OperatorState

    @classmethod
    def of(cls, view: OperatorView) -> OperatorOut:
        p = view.profile
        return cls(
            id=p.id,
            name=p.name,
            skills=dict(p.skills),
            languages=sorted(p.languages),
            capacity=dict(p.capacity),
            certified_until=p.certified_until,
            state=view.state,
        )


class OperatorList(Response):
    operators: list[OperatorOut]


class OfferOut(Response):
    contact_id: str
    offered_at: datetime
    expires_at: datetime

    @classmethod
    def of(cls, offer: Offered) -> OfferOut:
        return cls(
            contact_id=offer.contact_id,
            offered_at=datetime.fromtimestamp(offer.at, UTC),
            expires_at=datetime.fromtimestamp(offer.expires_at, UTC),
        )


class OfferList(Response):
    offers: list[OfferOut]


class Health(Response):
    status: Literal["ok", "unavailable"]
    store: Literal["ok", "read-only"]  # read-only: the storage cannot be written (503)


# -- errors -----------------------------------------------------------------------------------


class ErrorDetail(Response):
    code: str = Field(description="stable and machine-readable: `not_found`, `invalid`, ...")
    message: str = Field(description="for a person; never holds personal data")
    field: str | None = Field(default=None, description="the field or header at fault, if one")


class ErrorOut(Response):
    """The one error body of the API (hotline.api.errors). Some errors carry facts beside
    `error` that a client acts on (`opens_at` when the line is closed, `allowed` moves)."""

    error: ErrorDetail
