"""The API's request and response bodies: the documented contract (quart-schema puts them in
/openapi.json) and the only place where wire formats meet domain values.

Requests forbid unknown fields, so a typo is a 422 naming it rather than a silent default. Every
free text field is a `Text`: a NUL character, which no citizen types and which C-string code
downstream (SQLite's text functions, the SMS gateway, log viewers) cuts at, is a 422. Numbers
that are counts or levels are strict: `true` is not a proficiency level.

Times on the wire are one format, RFC 3339 in UTC with milliseconds and `Z`
(`2026-12-02T07:30:00.123Z`, `INSTANT_FORMAT`), written by `ApiJson` for every datetime of
every answer and by `format_epoch` where an answer is not a model (the offer stream); inside
they are epoch seconds.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints
from pydantic_core import to_jsonable_python
from quart import Quart, current_app
from quart.json.provider import DefaultJSONProvider

from hotline.domain.errors import Invalid
from hotline.domain.masking import mask_phone
from hotline.routing.model import Channel, ContactState, Offered, OperatorState, Presence
from hotline.services.contacts import ContactView
from hotline.services.operators import OperatorView

NO_NUL = r"^[^\x00]*$"
Text = Annotated[str, StringConstraints(pattern=NO_NUL)]
Code = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,64}$")]
_OPERATOR_ID = r"^[A-Za-z0-9_.-]{1,64}$"
OperatorId = Annotated[str, StringConstraints(pattern=_OPERATOR_ID)]
Level = Annotated[int, Field(ge=1, le=5, strict=True)]
# A calendar date the API turns into instants of the line's time zone (certified_until runs to
# the end of its day, compliance covers whole local days): the day after, and the day's start
# in UTC, must still be dates whatever the zone's offset, so the calendar's first and last days
# are refused.
Day = Annotated[date, Field(ge=date(1, 1, 2), le=date(9998, 12, 31))]

# The one time format of the API (RFC 3339, profile of ISO 8601), as a regex for tests and docs.
INSTANT_FORMAT = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Response(BaseModel):
    model_config = ConfigDict(frozen=True)


class NoBody(Request):
    """An action that takes no fields: send no body at all, or `{}`."""


def instant(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)


def format_instant(moment: datetime) -> str:
    """`2026-12-02T07:30:00.123Z`: RFC 3339 in UTC, milliseconds always (truncated)."""
    if moment.tzinfo is None:
        raise TypeError("a naive datetime is no instant: build it with a time zone")
    utc = moment.astimezone(UTC).replace(tzinfo=None)
    return utc.isoformat(timespec="milliseconds") + "Z"


def format_epoch(epoch: float) -> str:
    return format_instant(datetime.fromtimestamp(epoch, UTC))


class ApiJson(DefaultJSONProvider):
    """The app's JSON: every datetime in the one format, other values as pydantic writes them
    (dates `2026-12-31`, enums by value); Russian kept readable, keys in model order."""

    ensure_ascii = False
    sort_keys = False

    @staticmethod
    def default(o: Any) -> Any:
        if isinstance(o, datetime):
            return format_instant(o)
        return to_jsonable_python(o)

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        # Flask's builds a new encoder on every call with options (every response body is one):
        # the shapes the app writes are built once, the same encoders `json.dumps` would build.
        if not kwargs:
            return _PLAIN(obj)
        if kwargs == _COMPACT_ARGS:
            return _COMPACT(obj)
        return super().dumps(obj, **kwargs)


def answer_models_at_once(app: Quart) -> None:
    """Wrap the app's `make_response` (quart-schema's) so that a handler's answer that is one of
    the `Response` models (alone, or with a status, headers as a mapping or None, or both) becomes
    its JSON answer here: the same body (`model_dump`, then the app's JSON provider, as quart-schema
    and Quart would do), without quart-schema's conversion, which weighs every answer against
    each model library it knows and looks up its settings through the app's context (~4 % of a
    create's CPU under load, py-spy). Anything else goes on to `make_response`; everything does
    if the app asks quart-schema for more than a plain `model_dump()` (casing, dump options)."""
    config = app.config
    if config["QUART_SCHEMA_CONVERT_CASING"] or config["QUART_SCHEMA_PYDANTIC_DUMP_OPTIONS"]:
        return
    make_response = app.make_response

    async def make(result: Any) -> Any:
        answer = _model_answer(result)
        if answer is None:
            return await make_response(result)
        model, status, headers = answer
        response = current_app.json.response(model.model_dump())
        if status is not None:
            response.status_code = status
        if headers is not None:
            response.headers.update(headers)
        return response

    app.make_response = make  # type: ignore[method-assign]


def _model_answer(result: Any) -> tuple[Response, int | None, Mapping[str, Any] | None] | None:
    """A handler's answer read as Quart reads it ((body), (body, status or headers) or (body,
    status, headers), a None status or headers being none), if the body is one of the `Response`
    models, the status an int and the headers a plain mapping (quart-schema's
    `validate_response` hands on `(model, status, None)`): what `answer_models_at_once` answers
    itself. Else None."""
    parts = result if type(result) is tuple else (result,)
    if not parts or len(parts) > 3 or not isinstance(parts[0], Response):
        return None
    status: Any = None
    headers: Any = None
    if len(parts) == 3:
        status, headers = parts[1], parts[2]
    elif len(parts) == 2 and (parts[1] is None or type(parts[1]) is int):
        status = parts[1]
    elif len(parts) == 2:
        headers = parts[1]
    if status is not None and type(status) is not int:
        return None
    if headers is not None and (not isinstance(headers, Mapping) or isinstance(headers, BaseModel)):
        return None
    return parts[0], status, headers


_COMPACT_ARGS = {"separators": (",", ":")}  # what `response()` passes outside debug mode
_PLAIN, _COMPACT = (
    json.JSONEncoder(
        ensure_ascii=ApiJson.ensure_ascii,
        sort_keys=ApiJson.sort_keys,
        default=ApiJson.default,
        separators=separators,
    ).encode
    for separators in (None, _COMPACT_ARGS["separators"])
)


def refuse_nul(fields: Mapping[str, str | None]) -> None:
    """The rule of `Text` for the text fields of a form parsed by hand."""
    for name, value in fields.items():
        if value is not None and "\x00" in value:
            raise Invalid("must not contain NUL characters", field=name)


def operator_id_of(path_value: str) -> str:
    """An operator id from a URL path, held to the rule of the `operator_id` field."""
    if re.match(_OPERATOR_ID, path_value) is None:
        raise Invalid(
            "an operator id is 1 to 64 letters, digits, '_', '.' or '-'", field="operator_id"
        )
    return path_value


# -- contacts ---------------------------------------------------------------------------------


class NewContactBody(Request):
    channel: Literal["voice", "chat"]
    topic: Code
    phone: Annotated[Text, StringConstraints(min_length=1, max_length=32)]
    language: Code | None = None


class OperatorChoice(Request):
    """Who acts: an operator's own token needs nothing; a supervisor names the operator."""

    operator_id: OperatorId | None = None


class CompleteBody(OperatorChoice):
    outcome: Annotated[Text, StringConstraints(min_length=1, max_length=500, strip_whitespace=True)]


class ContactQuery(Request):
    state: ContactState | None = None
    topic: Code | None = None
    limit: int = Field(default=50, ge=1, le=200)
    cursor: Annotated[Text, StringConstraints(max_length=40)] | None = None


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
    repeat_of: str | None = Field(
        default=None,
        description="the earlier contact from this phone (or citizen) on this topic within "
        "[quality] repeat_window_h that this one repeats; null for a first contact",
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
            repeat_of=r.repeat_of,
        )


class ContactPage(Response):
    """One page; pass `next_cursor` as `cursor` for the next (null: this was the last)."""

    contacts: list[ContactOut]
    next_cursor: str | None


# -- operators --------------------------------------------------------------------------------


class OperatorBody(Request):
    name: Annotated[Text, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
    skills: dict[Code, Level] = Field(min_length=1)
    languages: list[Code] = Field(min_length=1)
    capacity: dict[Channel, Annotated[int, Field(ge=0, le=50, strict=True)]] | None = Field(
        default=None, description="per channel; the configured defaults when left out"
    )
    certified_until: Day | None = Field(
        default=None,
        description="history only: a date from before the certification journal, imported into "
        "it; left out, the journal decides (/v1/operators/{id}/certifications)",
    )


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


# -- times a client sends ---------------------------------------------------------------------

_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})")


def _rfc3339_text(value: object) -> object:
    # pydantic alone also takes epoch numbers ("0.5") and other ISO 8601 spellings for a
    # datetime; the document says RFC 3339, and the API takes what it says.
    if not (isinstance(value, str) and _RFC3339.fullmatch(value)):
        raise ValueError("an instant in RFC 3339, like 2026-12-02T07:30:00Z")
    return value


InstantIn = Annotated[AwareDatetime, BeforeValidator(_rfc3339_text)]
