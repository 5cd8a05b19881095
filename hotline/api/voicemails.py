"""`/v1/voicemails`: the switch posts recordings (multipart), operators fetch the audio of the
callback they hold and report each attempt, supervisors read the one-hour compliance.

The upload may be larger than `http.max_body_kib`: `allow_uploads` raises the limit for
`POST /v1/voicemails` alone (`hotline.api.uploads`), to the recording cap plus room for the other
fields, before a byte of the body is read; other routes keep their own limits. Over the cap is
413 and a recording that is not WAV, Ogg/Opus or MP3 is 415, both naming the field `audio`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints
from quart import Blueprint, Response, current_app, request
from quart_schema import (
    DataSource,
    document_request,
    validate_querystring,
    validate_request,
    validate_response,
)
from quart_schema.pydantic import File
from quart_trio import QuartTrio
from werkzeug.exceptions import RequestEntityTooLarge

from hotline.api import audit
from hotline.api.openapi import answers_with, idempotency_key, may_answer
from hotline.api.schemas import (
    ContactOut,
    Day,
    OperatorId,
    Request,
    Text,
    instant,
    refuse_nul,
)
from hotline.api.schemas import Response as ResponseModel
from hotline.api.services import caller, current_services
from hotline.api.uploads import allow_upload
from hotline.services.auth import Role
from hotline.store.voicemails import VoicemailFigures
from hotline.voicemail import callbacks, intake, views
from hotline.voicemail.audio import AudioKind
from hotline.voicemail.intake import UnsupportedAudio, Upload
from hotline.voicemail.policy import AttemptOutcome, DayCompliance
from hotline.voicemail.recordings import RecordingTooLarge
from hotline.voicemail.settings import VoicemailSettings
from hotline.voicemail.views import VoicemailView

blueprint = Blueprint("voicemails", __name__, url_prefix="/v1/voicemails")

UPLOAD_PATH = "/v1/voicemails"
_FORM_ALLOWANCE = 64 * 1024  # multipart headers, phone and topic beside the recording
_UTF8_MAX = 4  # bytes per character at most


# -- the upload's body limit --------------------------------------------------------------------


def allow_uploads(app: QuartTrio, settings: VoicemailSettings) -> None:
    """Let `POST /v1/voicemails` carry a recording up to `[voicemail].max_audio_kib`."""
    limit = settings.max_audio_bytes + settings.max_transcript_chars * _UTF8_MAX + _FORM_ALLOWANCE
    allow_upload(app, UPLOAD_PATH, limit)


# -- bodies -------------------------------------------------------------------------------------


class VoicemailForm(Request):
    """`multipart/form-data` (documented here, parsed by hand: the audio is sniffed)."""

    audio: File = Field(description="WAV, Ogg/Opus or MP3; its bytes decide, not its type")
    phone: Text
    topic: Text
    transcript: Text | None = None


class AttemptBody(Request):
    """The outcome of the callback the operator holds; a supervisor names the operator."""

    outcome: AttemptOutcome
    comment: Annotated[Text, StringConstraints(max_length=1000, strip_whitespace=True)] | None = (
        None
    )
    operator_id: OperatorId | None = None


class ComplianceQuery(Request):
    from_: Day = Field(alias="from")
    to: Day


class AudioOut(ResponseModel):
    type: AudioKind
    content_type: str
    size: int
    sha256: str
    deleted_at: datetime | None


class AttemptOut(ResponseModel):
    attempt: int
    contact_id: str
    arrived_at: datetime
    deadline_at: datetime
    accepted_at: datetime | None
    operator_id: str | None
    breached_at: datetime | None
    outcome: AttemptOutcome | None
    comment: str | None
    reported_at: datetime | None


class HistoryOut(ResponseModel):
    at: datetime
    kind: str
    attempt: int | None
    data: dict[str, Any]


class VoicemailOut(ResponseModel):
    id: str
    phone: str
    topic: str
    language: str
    transcript: str | None
    state: Literal["calling", "retry_wait", "completed", "closed"]
    arrived_at: datetime
    deadline_at: datetime = Field(description="one working hour of the voice line after arrival")
    breached: bool = Field(description="the first callback was not taken within the hour")
    next_attempt_at: datetime | None
    ended_at: datetime | None
    max_attempts: int
    audio: AudioOut
    contact_id: str = Field(description="the latest callback contact")
    callback: ContactOut | None = Field(
        default=None, description="on creation: the callback contact as queued"
    )
    attempts: list[AttemptOut]
    history: list[HistoryOut]

    @classmethod
    def of(cls, view: VoicemailView, max_attempts: int) -> VoicemailOut:
        r = view.row
        kind = AudioKind(r.audio_type)
        return cls(
            id=r.id,
            phone=r.phone,
            topic=r.topic,
            language=r.language,
            transcript=r.transcript,
            state=r.state,
            arrived_at=_at(r.arrived_at),
            deadline_at=_at(r.deadline_at),
            breached=r.breached,
            next_attempt_at=instant(r.next_attempt_at),
            ended_at=instant(r.ended_at),
            max_attempts=max_attempts,
            audio=AudioOut(
                type=kind,
                content_type=kind.content_type,
                size=r.audio_size,
                sha256=r.audio_sha256,
                deleted_at=instant(r.audio_deleted_at),
            ),
            contact_id=r.contact_id,
            callback=None if view.callback is None else ContactOut.of(view.callback),
            attempts=[
                AttemptOut(
                    attempt=a.attempt,
                    contact_id=a.contact_id,
                    arrived_at=_at(a.arrived_at),
                    deadline_at=_at(a.deadline_at),
                    accepted_at=instant(a.accepted_at),
                    operator_id=a.operator_id,
                    breached_at=instant(a.breached_at),
                    outcome=None if a.outcome is None else AttemptOutcome(a.outcome),
                    comment=a.comment,
                    reported_at=instant(a.reported_at),
                )
                for a in view.attempts
            ],
            history=[
                HistoryOut(at=_at(e.at), kind=e.kind, attempt=e.attempt, data=_instants(e.data))
                for e in view.history
            ],
        )


class DayComplianceOut(ResponseModel):
    date: date
    voicemails: int = Field(description="voicemails that arrived that local day")
    within_hour: int = Field(description="first callback accepted by its deadline")
    late: int
    pending: int = Field(description="not taken yet, and the hour not over")
    share: float | None = Field(description="within_hour / (within_hour + late); null if none")

    @classmethod
    def of(cls, d: DayCompliance) -> DayComplianceOut:
        share = d.share
        return cls(
            date=d.day,
            voicemails=d.voicemails,
            within_hour=d.within_hour,
            late=d.late,
            pending=d.pending,
            share=None if share is None else round(share, 4),
        )


class VoicemailQueue(ResponseModel):
    """Voicemail callbacks in `GET /v1/queues` (their contacts are also in the topic queues)."""

    calling: int = Field(description="voicemails whose callback contact is queued or in hand")
    overdue: int = Field(description="of which past their working hour and not taken yet")
    retry_wait: int = Field(description="not reached yet; waiting for the next attempt")
    next_retry_at: datetime | None
    breaches_today: int = Field(description="callbacks that missed their hour, local today")

    @classmethod
    def of(cls, f: VoicemailFigures) -> VoicemailQueue:
        return cls(
            calling=f.calling,
            overdue=f.calling_breached,
            retry_wait=f.retry_wait,
            next_retry_at=instant(f.next_retry_at),
            breaches_today=f.breaches_since,
        )


async def queue_figures() -> VoicemailQueue:
    return VoicemailQueue.of(await views.figures(current_services()))


class ComplianceOut(ResponseModel):
    timezone: str
    days: list[DayComplianceOut]
    total: DayComplianceOut


# -- routes -------------------------------------------------------------------------------------


@blueprint.post("")
@document_request(VoicemailForm, source=DataSource.FORM_MULTIPART)
@validate_response(VoicemailOut, 201)
@validate_response(VoicemailOut, 200)
@idempotency_key
@may_answer(409)
async def create() -> tuple[VoicemailOut, int]:
    """Take a voicemail (integration): stored and fsynced with its SHA-256, its callback contact
    queued, before the answer. With an `Idempotency-Key` a retry of the same recording answers
    200 with the voicemail the first request made."""
    sv = current_services()
    principal = await caller()
    principal.require(Role.INTEGRATION)  # before a byte of the recording is read
    if request.mimetype != "multipart/form-data":
        raise UnsupportedAudio(
            "send multipart/form-data with the recording as `audio`", field="audio"
        )
    try:
        form = await request.form
        files = await request.files
    except RequestEntityTooLarge:
        cap = sv.settings.voicemail.max_audio_kib
        raise RecordingTooLarge(f"a recording is at most {cap} KiB", field="audio") from None
    audio = files.get("audio")
    refuse_nul({name: form.get(name) for name in ("phone", "topic", "transcript")})
    upload = Upload(
        audio=None if audio is None else audio.stream,
        phone=form.get("phone"),
        topic=form.get("topic"),
        transcript=form.get("transcript"),
    )
    view, created = await intake.receive_voicemail(
        sv, principal, upload, request.headers.get("Idempotency-Key")
    )
    return VoicemailOut.of(view, sv.settings.voicemail.max_attempts), 201 if created else 200


@blueprint.get("/compliance")
@validate_querystring(ComplianceQuery)
@validate_response(ComplianceOut)
async def compliance(query_args: ComplianceQuery) -> ComplianceOut:
    """Per local day of the line's time zone: voicemails, and how many had their first callback
    taken by an operator within the working hour (supervisor)."""
    sv = current_services()
    days = await views.compliance(sv, await caller(), query_args.from_, query_args.to)
    total = DayCompliance(
        query_args.from_,
        sum(d.voicemails for d in days),
        sum(d.within_hour for d in days),
        sum(d.late for d in days),
        sum(d.pending for d in days),
    )
    return ComplianceOut(
        timezone=sv.settings.schedule.timezone,
        days=[DayComplianceOut.of(d) for d in days],
        total=DayComplianceOut.of(total),
    )


@blueprint.get("/<voicemail_id>")
@validate_response(VoicemailOut)
async def show(voicemail_id: str) -> VoicemailOut:
    """A voicemail with its attempts and history (integration, supervisor, or the operator
    holding its callback)."""
    sv = current_services()
    view = await views.get_voicemail_view(sv, await caller(), voicemail_id)
    await audit.voicemail_shown(view)
    return VoicemailOut.of(view, sv.settings.voicemail.max_attempts)


@blueprint.get("/<voicemail_id>/audio")
@answers_with(*(k.content_type for k in AudioKind), description="the recording, as it was received")
async def audio(voicemail_id: str) -> Response:
    """The recording (supervisor, or the operator holding its callback contact now)."""
    stream = await views.open_audio(current_services(), await caller(), voicemail_id)
    await audit.audio_heard(voicemail_id)
    response: Response = current_app.response_class(stream.chunks, content_type=stream.content_type)
    response.headers["Content-Length"] = str(stream.size)
    response.headers["Cache-Control"] = "no-store"  # a citizen's voice: no proxy keeps a copy
    return response


@blueprint.post("/<voicemail_id>/attempts")
@validate_request(AttemptBody)
@validate_response(VoicemailOut)
@may_answer(409)
async def report_attempt(voicemail_id: str, data: AttemptBody) -> VoicemailOut:
    """Report the callback's outcome: `reached` completes the voicemail, `not_reached` retries
    it later or, after the last attempt, closes it and asks the citizen by SMS to call again."""
    sv = current_services()
    view = await callbacks.report_attempt(
        sv, await caller(), voicemail_id, data.outcome, data.comment or None, data.operator_id
    )
    await audit.voicemail_shown(view)
    return VoicemailOut.of(view, sv.settings.voicemail.max_attempts)


def _instants(data: dict[str, Any]) -> dict[str, Any]:
    """An event's facts with its times (`arrived_at`, `due_at`, ...) as times, not epochs."""
    return {
        k: _at(v) if k.endswith("_at") and isinstance(v, int | float) else v
        for k, v in data.items()
    }


def _at(epoch: float) -> datetime:
    moment = instant(epoch)
    assert moment is not None
    return moment
