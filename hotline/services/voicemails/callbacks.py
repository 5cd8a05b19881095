"""Callback contacts of voicemails: queueing them, the outcome of each attempt, retries, and the
repairs after a crash. Called by the API (`report_attempt`) and by the watcher (the rest).

The outcome of an attempt is committed first, with what follows it (the voicemail completed, the
retry's due time, or the voicemail closed with its SMS in the outbox), and the callback contact is
completed after it, shielded from the client; a crash in between leaves a contact the watcher ends
at start-up (`finish_reported_contact`).
"""

from __future__ import annotations

import logging

import trio

from hotline.domain.errors import Conflict, Forbidden, HotlineError
from hotline.domain.phones import is_russian_mobile
from hotline.jsonlog import log_event
from hotline.notify.templates import voicemail_callback_failed_sms
from hotline.routing.model import Channel, ContactState, NewContact
from hotline.services import Services
from hotline.services.auth import Principal, Role
from hotline.services.contacts import new_contact_id
from hotline.services.voicemails.views import VoicemailView, live_holder, load_row, load_view
from hotline.store import Tx
from hotline.store.events import ContactNote
from hotline.store.outbox import MessageKind, NewMessage, enqueue_message
from hotline.store.voicemails import (
    NewAttempt,
    OpenCallback,
    VoicemailRow,
    record_event,
    record_outcome,
    start_retry,
)
from hotline.voicemail.policy import (
    CALLBACK_SKILL,
    AttemptOutcome,
    CallbackTimes,
    Closed,
    Retry,
    VoicemailState,
    after_attempt,
    callback_times,
    state_after,
)

log = logging.getLogger(__name__)

_SERVICE_ACTOR = "hotline"  # who "reported" an outcome the service inferred itself


async def report_attempt(
    sv: Services,
    caller: Principal,
    voicemail_id: str,
    outcome: AttemptOutcome,
    comment: str | None,
    operator_id: str | None,
) -> VoicemailView:
    """The operator holding the callback says whether the citizen was reached: its contact is
    completed, and the voicemail completed, retried later, or closed with an SMS."""
    op = caller.acting_as(operator_id)
    row = await load_row(sv, voicemail_id)
    if row.state != VoicemailState.CALLING:
        raise Conflict(f"voicemail {voicemail_id} has no callback in progress ({row.state})")
    held = await live_holder(sv, row.contact_id)
    if held is None:
        raise Conflict(f"the callback contact {row.contact_id} has already ended")
    state, holder = held
    if holder != op:
        message = f"the callback of {voicemail_id} is not held by operator {op}"
        if caller.role is Role.OPERATOR:
            raise Forbidden(message)
        raise Conflict(message)
    if state is not ContactState.ASSIGNED:
        raise Conflict(f"accept the callback contact {row.contact_id} first", field="outcome")
    with trio.CancelScope(shield=True):  # the two halves of one report are never parted
        await _settle(sv, row, outcome, comment, reported_by=op, at=sv.clock.now())
        await _complete_contact(sv, row.contact_id, op, outcome.value)
    return await load_view(sv, voicemail_id)


async def _settle(
    sv: Services,
    row: VoicemailRow,
    outcome: AttemptOutcome,
    comment: str | None,
    *,
    reported_by: str,
    at: float,
) -> None:
    """Record the outcome of `row`'s current attempt, and what follows, in one transaction."""
    decision = after_attempt(sv.settings.voicemail.callback_policy(), row.attempts, outcome, at)
    due = decision.due_at if isinstance(decision, Retry) else None
    sms = voicemail_callback_failed_sms(sv.templates)

    async def work(tx: Tx) -> None:
        await record_outcome(
            tx,
            row,
            outcome=outcome.value,
            comment=comment,
            reported_by=reported_by,
            state=state_after(decision).value,
            next_attempt_at=due,
            at=at,
        )
        if isinstance(decision, Closed):
            await _ask_to_call_again(tx, row, sms, at=at)

    await sv.store.transact(work)
    log_event(
        log,
        "voicemail.attempt_reported",
        voicemail=row.id,
        attempt=row.attempts,
        outcome=outcome.value,
        next=state_after(decision).value,
    )
    if due is not None:
        sv.voicemail_wakeup.ring()


async def _ask_to_call_again(tx: Tx, row: VoicemailRow, text: str, *, at: float) -> None:
    """The one SMS of a closed voicemail, in the transaction that closes it."""
    if not is_russian_mobile(row.phone):
        await record_event(tx, row.id, at, "sms_skipped", row.attempts, {"reason": "not_mobile"})
        return
    dedupe_key = f"voicemail:{row.id}:call_again"
    message = NewMessage(
        kind=MessageKind.SMS, recipient=row.phone, body=text, dedupe_key=dedupe_key
    )
    message_id = await enqueue_message(tx, message, at=at)
    data = {"dedupe_key": dedupe_key, "message_id": message_id}
    await record_event(tx, row.id, at, "sms_queued", row.attempts, data)


async def _complete_contact(sv: Services, contact_id: str, op: str, outcome: str) -> None:
    try:
        await sv.router.complete(contact_id, op, note=ContactNote(outcome=outcome))
    except HotlineError as exc:
        # It ended or moved meanwhile (say, through /v1/contacts): the outcome stands.
        log_event(log, "voicemail.contact_not_completed", contact=contact_id, error=exc.code)


# -- for the watcher ----------------------------------------------------------------------------


async def queue_callback(
    sv: Services, voicemail_id: str, phone: str, topic: str, language: str, attempt: NewAttempt
) -> None:
    """Hand an attempt's callback contact to the router; returns once it is on disk."""
    contact_id = attempt.contact_id
    spec = NewContact(
        id=contact_id,
        channel=Channel.CALLBACK,
        topic=topic,
        language=language,
        skills=frozenset({CALLBACK_SKILL, topic}),
        arrived_at=attempt.arrived_at,
        target_at=attempt.target_at,
        deadline_at=attempt.deadline_at,
    )
    await sv.router.admit(spec, note=ContactNote(phone=phone))
    log_event(
        log,
        "voicemail.callback_queued",
        voicemail=voicemail_id,
        attempt=attempt.attempt,
        contact=contact_id,
    )


async def start_retry_attempt(sv: Services, row: VoicemailRow) -> None:
    """Queue the retry `row` waits for, as a contact that arrived at its due time."""
    assert row.next_attempt_at is not None
    times = callback_times(
        sv.settings.voicemail.callback_policy(), sv.calendar, row.next_attempt_at
    )
    attempt = new_attempt(row.attempts + 1, new_contact_id(), times)
    now = sv.clock.now()
    # Not shielded: only a stopping process cancels the watcher, and start-up queues a contact
    # whose attempt was committed without it.
    await sv.store.transact(lambda tx: start_retry(tx, row, attempt, at=now))
    await queue_callback(sv, row.id, row.phone, row.topic, row.language, attempt)


async def requeue_callback(sv: Services, callback: OpenCallback) -> None:
    """Queue again a callback contact whose row a crash kept from the store: same id, same times."""
    a = callback.attempt
    attempt = NewAttempt(a.attempt, a.contact_id, a.arrived_at, a.target_at, a.deadline_at)
    row = callback.voicemail
    now = sv.clock.now()
    await sv.store.transact(
        lambda tx: record_event(tx, row.id, now, "callback_requeued", a.attempt, {})
    )
    await queue_callback(sv, row.id, row.phone, row.topic, row.language, attempt)


async def settle_ended_callback(sv: Services, callback: OpenCallback) -> None:
    """A callback contact ended without an outcome reported here (completed through the contacts
    API, abandoned, expired): "reached" if its recorded outcome says so, else not reached."""
    reached = (
        callback.contact_state == ContactState.COMPLETED
        and callback.contact_outcome == AttemptOutcome.REACHED
    )
    result = AttemptOutcome.REACHED if reached else AttemptOutcome.NOT_REACHED
    comment = f"the callback contact ended as {callback.contact_state} without a voicemail outcome"
    await _settle(
        sv,
        callback.voicemail,
        result,
        comment,
        reported_by=callback.attempt.operator_id or _SERVICE_ACTOR,
        at=callback.contact_ended_at or sv.clock.now(),
    )


async def finish_reported_contact(
    sv: Services, contact_id: str, reported_by: str, outcome: str
) -> None:
    """A crash came between an attempt's outcome and the end of its contact: end it now."""
    if reported_by != _SERVICE_ACTOR:
        try:
            await sv.router.complete(contact_id, reported_by, note=ContactNote(outcome=outcome))
            return
        except HotlineError:
            pass
    try:
        await sv.router.expire(contact_id)  # not with that operator any more: it waits; end it
    except HotlineError as exc:
        log_event(
            log, "voicemail.contact_not_ended", logging.ERROR, contact=contact_id, error=exc.code
        )


def new_attempt(number: int, contact_id: str, times: CallbackTimes) -> NewAttempt:
    return NewAttempt(number, contact_id, times.arrived_at, times.target_at, times.deadline_at)
