"""Taking a voicemail in: the recording checked by its bytes and its size, written and fsynced
(`recordings`), the voicemail and its first attempt committed, its callback contact queued through
the durable router (on disk when it returns), all before the answer. Called by
`POST /v1/voicemails`.

A crash between the commit and the queueing leaves a voicemail whose contact is missing; the
watcher queues it again at start-up, with the same id and times. The sequence runs shielded, so a
client that hangs up cannot cut it in two.
"""

from __future__ import annotations

import logging
import secrets
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import trio

from hotline.domain.errors import Conflict, Invalid, UnsupportedMediaType
from hotline.domain.phones import normalize_phone
from hotline.jsonlog import log_event
from hotline.schedule.rules import ScheduleChannel
from hotline.services import Services
from hotline.services.auth import Principal, Role
from hotline.services.contacts import LineClosed, new_contact_id
from hotline.services.keylocks import idempotency_scope
from hotline.services.voicemails.callbacks import new_attempt, queue_callback
from hotline.services.voicemails.views import VoicemailView, load_view, with_callback
from hotline.store.voicemails import (
    NewVoicemail,
    find_by_idempotency_key,
    insert_voicemail,
)
from hotline.voicemail.audio import SNIFF_BYTES, AudioKind, sniff_audio
from hotline.voicemail.policy import (
    CALLBACK_SKILL,
    callback_times,
)
from hotline.voicemail.recordings import RecordingTooLarge, measure, write_recording

log = logging.getLogger(__name__)


class UnsupportedAudio(UnsupportedMediaType):
    pass


@dataclass(frozen=True, slots=True)
class Upload:
    """A voicemail as the switch posts it; the audio's declared type is not looked at."""

    audio: IO[bytes] | None
    phone: str | None
    topic: str | None
    transcript: str | None = None


async def receive_voicemail(
    sv: Services, caller: Principal, upload: Upload, idempotency_key: str | None
) -> tuple[VoicemailView, bool]:
    """The new voicemail and True; or, for a repeated `Idempotency-Key` with the same recording,
    phone and topic, the voicemail it created and False."""
    caller.require(Role.INTEGRATION)
    settings = sv.settings.voicemail
    phone, topic, transcript = _check_fields(sv, upload)
    audio = upload.audio
    if audio is None:
        raise Invalid("send the recording as the multipart part `audio`", field="audio")
    _check_intake_open(sv)
    size = _remaining_size(audio)
    if size > settings.max_audio_bytes:
        raise RecordingTooLarge(
            f"a recording is at most {settings.max_audio_kib} KiB", field="audio"
        )
    kind = _sniff(audio)
    scope = None
    if idempotency_key is not None:
        scope = idempotency_scope(caller, "voicemails", idempotency_key)
        earlier = await sv.store.read(
            lambda tx: find_by_idempotency_key(tx, scope, idempotency_key)
        )
        if earlier is not None:
            _, sha256 = await trio.to_thread.run_sync(measure, audio)
            if (earlier.phone, earlier.topic, earlier.audio_sha256) != (phone, topic, sha256):
                raise Conflict(
                    "this Idempotency-Key was used with a different voicemail",
                    field="Idempotency-Key",
                )
            return await with_callback(sv, caller, await load_view(sv, earlier.id)), False
    now = sv.clock.now()
    times = callback_times(settings.callback_policy(), sv.calendar, now)
    voicemail_id = new_voicemail_id()
    file_name = f"{voicemail_id}.{kind.extension}"
    stored = await trio.to_thread.run_sync(
        lambda: write_recording(settings.dir, file_name, audio, max_bytes=settings.max_audio_bytes)
    )
    new = NewVoicemail(
        id=voicemail_id,
        phone=phone,
        topic=topic,
        language=sv.settings.languages.default,
        transcript=transcript,
        audio_type=kind.value,
        audio_size=stored.size,
        audio_sha256=stored.sha256,
        audio_file=stored.file_name,
        arrived_at=now,
        deadline_at=times.deadline_at,
        idempotency_scope=scope,
        idempotency_key=idempotency_key,
    )
    first = new_attempt(1, new_contact_id(), times)
    with trio.CancelScope(shield=True):
        try:
            await sv.store.transact(lambda tx: insert_voicemail(tx, new, first, at=now))
        except BaseException as exc:
            await trio.to_thread.run_sync(_discard, settings.dir / file_name)
            if isinstance(exc, sqlite3.IntegrityError):
                raise Conflict(
                    "this Idempotency-Key is being used by another request",
                    field="Idempotency-Key",
                ) from None
            raise
        await queue_callback(sv, new.id, phone, topic, new.language, first)
    log_event(log, "voicemail.received", voicemail=voicemail_id, size=stored.size, kind=kind.value)
    return await with_callback(sv, caller, await load_view(sv, voicemail_id)), True


def new_voicemail_id() -> str:
    return "vm_" + secrets.token_hex(8)


def _check_fields(sv: Services, upload: Upload) -> tuple[str, str, str | None]:
    if not upload.phone:
        raise Invalid("the caller's phone is required", field="phone")
    phone = normalize_phone(upload.phone)
    topic = upload.topic
    if not topic:
        raise Invalid("the topic is required", field="topic")
    if topic not in sv.settings.topics or topic == CALLBACK_SKILL:
        raise Invalid(f"unknown topic {topic!r}", field="topic")
    transcript = (upload.transcript or "").strip() or None
    limit = sv.settings.voicemail.max_transcript_chars
    if transcript is not None and len(transcript) > limit:
        raise Invalid(f"a transcript is at most {limit} characters", field="transcript")
    return phone, topic, transcript


def _check_intake_open(sv: Services) -> None:
    now = sv.clock.now()
    if not sv.calendar.is_open(ScheduleChannel.VOICEMAIL, now):
        raise LineClosed("voicemail intake is closed now", field="audio")


def _remaining_size(audio: IO[bytes]) -> int:
    start = audio.tell()
    end = audio.seek(0, 2)
    audio.seek(start)
    return end - start


def _sniff(audio: IO[bytes]) -> AudioKind:
    start = audio.tell()
    head = audio.read(SNIFF_BYTES)
    audio.seek(start)
    kind = sniff_audio(head)
    if kind is None:
        raise UnsupportedAudio(
            "the recording must be WAV, Ogg/Opus or MP3 (its bytes are checked, not its type)",
            field="audio",
        )
    return kind


def _discard(path: Path) -> None:
    path.unlink(missing_ok=True)
