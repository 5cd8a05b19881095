"""Reading voicemails: one with its attempts and history, its recording (for supervisors and the
operator holding its callback), the one-hour compliance per day and the live figures for
`GET /v1/queues`. Called by the API (`hotline.api.voicemails`) and by the other voicemail use cases.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import IO

import trio

from hotline.domain.errors import Forbidden, NotFound
from hotline.jsonlog import log_event
from hotline.routing.model import ContactState
from hotline.services import Services
from hotline.services.auth import Principal, Role
from hotline.services.contacts import ContactView, get_contact_view
from hotline.store import Tx
from hotline.store.voicemails import (
    AttemptRow,
    VoicemailEventRow,
    VoicemailFigures,
    VoicemailRow,
    first_callbacks,
    get_voicemail,
    list_attempts,
    list_events,
    voicemail_figures,
)
from hotline.voicemail.audio import AudioKind
from hotline.voicemail.policy import (
    DayCompliance,
    FirstCallback,
    VoicemailState,
    compliance_by_day,
    compliance_period,
)
from hotline.voicemail.recordings import CHUNK

log = logging.getLogger(__name__)


class RecordingDeleted(NotFound):
    code = "audio_deleted"


@dataclass(frozen=True, slots=True)
class VoicemailView:
    row: VoicemailRow
    attempts: list[AttemptRow]
    history: list[VoicemailEventRow]
    callback: ContactView | None = None  # on creation: the callback contact as queued


@dataclass(frozen=True, slots=True)
class AudioStream:
    chunks: AsyncIterator[bytes]  # the file is open already: a deletion cannot cut it short
    content_type: str
    size: int


async def get_voicemail_view(sv: Services, caller: Principal, voicemail_id: str) -> VoicemailView:
    """For integrations and supervisors; for an operator, only while it holds the callback."""
    view = await load_view(sv, voicemail_id)
    if caller.role is Role.OPERATOR:
        await _require_holder(sv, caller, view.row)
    else:
        caller.require(Role.INTEGRATION, Role.SUPERVISOR)
    return view


async def open_audio(sv: Services, caller: Principal, voicemail_id: str) -> AudioStream:
    """The recording, for supervisors and the operator holding the callback contact now."""
    row = await load_row(sv, voicemail_id)
    if caller.role is Role.OPERATOR:
        await _require_holder(sv, caller, row)
    else:
        caller.require(Role.SUPERVISOR)
    if row.audio_deleted_at is not None:
        raise RecordingDeleted(f"the recording of {voicemail_id} was deleted after its retention")
    path = sv.settings.voicemail.dir / row.audio_file
    try:
        file = await trio.to_thread.run_sync(path.open, "rb")
    except FileNotFoundError:
        log_event(log, "voicemail.audio_missing", logging.ERROR, voicemail=voicemail_id)
        raise RecordingDeleted(f"the recording of {voicemail_id} is missing") from None
    return AudioStream(_chunks(file), AudioKind(row.audio_type).content_type, row.audio_size)


async def _chunks(file: IO[bytes]) -> AsyncIterator[bytes]:
    try:
        while chunk := await trio.to_thread.run_sync(file.read, CHUNK):
            yield chunk
    finally:
        file.close()


async def compliance(
    sv: Services, caller: Principal, first: date, last: date
) -> list[DayCompliance]:
    caller.require(Role.SUPERVISOR)
    tz = sv.settings.timezone
    start, end = compliance_period(tz, first, last)
    rows = await sv.store.read(lambda tx: first_callbacks(tx, start, end))
    callbacks = [FirstCallback(*r) for r in rows]
    return compliance_by_day(callbacks, tz, first, last, now=sv.clock.now())


async def figures(sv: Services) -> VoicemailFigures:
    """Live callback figures for `GET /v1/queues`; breaches counted since local midnight."""
    now = sv.clock.now()
    tz = sv.settings.timezone
    midnight = datetime.combine(datetime.fromtimestamp(now, tz).date(), time(), tz).timestamp()
    return await sv.store.read(lambda tx: voicemail_figures(tx, now=now, breaches_since=midnight))


async def load_row(sv: Services, voicemail_id: str) -> VoicemailRow:
    row = await sv.store.read(lambda tx: get_voicemail(tx, voicemail_id))
    if row is None:
        raise NotFound(f"no voicemail {voicemail_id}")
    return row


async def load_view(sv: Services, voicemail_id: str) -> VoicemailView:
    async def work(tx: Tx) -> VoicemailView | None:
        row = await get_voicemail(tx, voicemail_id)
        if row is None:
            return None
        return VoicemailView(row, await list_attempts(tx, row.id), await list_events(tx, row.id))

    view = await sv.store.read(work)
    if view is None:
        raise NotFound(f"no voicemail {voicemail_id}")
    return view


async def with_callback(sv: Services, caller: Principal, view: VoicemailView) -> VoicemailView:
    contact = await get_contact_view(sv, caller, view.row.contact_id)
    return VoicemailView(view.row, view.attempts, view.history, contact)


async def live_holder(sv: Services, contact_id: str) -> tuple[ContactState, str | None] | None:
    """The live callback contact's state and the operator it is offered or assigned to."""
    try:
        held = await sv.router.holding(contact_id)
    except NotFound:
        return None
    return held.state, held.operator_id


async def _require_holder(sv: Services, caller: Principal, row: VoicemailRow) -> None:
    held = await live_holder(sv, row.contact_id) if row.state == VoicemailState.CALLING else None
    if held is None or held[1] != caller.operator_id:
        raise Forbidden("only the operator holding this voicemail's callback may do this")
