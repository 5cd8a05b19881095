"""The senders: one actor per kind of message (SMS, e-mail, personal-account event) that takes
due rows from the outbox, hands them to its provider and records what happened.

The composition root starts them with `start_notifier` after the store and hands the returned
`Notifier` to the services: a writer that has committed new messages calls
`notifier.notify_new()` so they go out at once; a poll every `poll_s` is the fallback, and the one
that finds messages left behind by a crash.

Per message: claim (the row is leased: `sending` until `lease_s` from now), refuse what can never
be delivered (an SMS to a number that is not a Russian mobile, an event that is not JSON), wait
for the provider's token bucket, deliver within `send_timeout_s`, then record one of
- accepted: `sent`, with the provider's id (and the SMS's segment count);
- refused: `failed` with the reason;
- try later: `pending` again after a capped exponential backoff with full jitter, unless that
  attempt would be past the TTL or the last allowed: then `failed`.
A crash between delivery and the record leaves the row `sending`; once its lease runs out it is
claimed and delivered again with the same idempotency key, which the provider dedupes. Delivery
is at least once; with the key, each message's effect is exactly once.
"""

from __future__ import annotations

import functools
import json
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import trio

from hotline.clock import WallClock
from hotline.domain.errors import Invalid
from hotline.domain.phones import require_sms_phone
from hotline.jsonlog import log_event
from hotline.notify.pacing import TokenBucket, backoff_s
from hotline.notify.providers import (
    Accepted,
    DeliveryResult,
    Outgoing,
    Provider,
    Refused,
    TryLater,
    build_provider,
    idempotency_key,
)
from hotline.notify.queue import OutboxQueue, StoreOutboxQueue
from hotline.notify.segments import count_segments
from hotline.notify.settings import ChannelSettings, NotifySettings
from hotline.store import StoreError, StoreHandle
from hotline.store.outbox import MessageKind, MessageRow

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Prepared:
    recipient: str  # as the provider gets it (an SMS number in E.164)
    segments: int | None


Prepare = Callable[[MessageRow], Prepared | Refused]


class Sender:
    def __init__(
        self,
        kind: MessageKind,
        outbox: OutboxQueue,
        provider: Provider,
        channel: ChannelSettings,
        settings: NotifySettings,
        clock: WallClock,
        *,
        prepare: Prepare | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.kind = kind
        self._outbox = outbox
        self._provider = provider
        self._channel = channel
        self._settings = settings
        self._clock = clock
        self._prepare = prepare if prepare is not None else prepare_for(kind)
        self._rng = rng if rng is not None else random.Random()
        self._wake = trio.Event()

    def notify_new(self) -> None:
        """New messages of this kind are committed: look now rather than at the next poll."""
        self._wake.set()

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Deliver until cancelled; reports started at once (the poll finds what is due)."""
        bucket = TokenBucket(self._channel.rate_per_s, self._channel.burst)
        try:
            log_event(
                log, "notify.sender_started", kind=str(self.kind), provider=self._provider.name
            )
            task_status.started()
            while True:
                # Fresh before the claim: a poke that lands while this round runs is kept.
                self._wake = trio.Event()
                full = await self._round(bucket)
                if not full:
                    await self._sleep()
        finally:
            with trio.CancelScope(shield=True):
                await self._provider.aclose()

    async def _round(self, bucket: TokenBucket) -> bool:
        """Claim and deliver one batch; True if it was full (more may be due at once)."""
        limit = self._channel.batch
        try:
            batch = await self._outbox.claim_due(
                self.kind, self._clock.now(), limit, self._settings.lease_s
            )
        except StoreError as e:
            log_event(log, "notify.claim_failed", logging.ERROR, kind=str(self.kind), error=str(e))
            await trio.sleep(self._settings.retry.base_s)
            return False
        async with trio.open_nursery() as nursery:
            for row in batch:
                nursery.start_soon(self._deliver, row, bucket)
        return len(batch) == limit

    async def _sleep(self) -> None:
        wait = self._settings.poll_s
        try:
            due = await self._outbox.next_due_at(self.kind)
        except StoreError:
            due = None
        if due is not None:
            wait = min(wait, max(0.0, due - self._clock.now()))
        with trio.move_on_after(wait):
            await self._wake.wait()

    async def _deliver(self, row: MessageRow, bucket: TokenBucket) -> None:
        # A message's own TTL may shorten its channel's, never lengthen it: the file provider
        # remembers a delivered key for the channel's TTL plus the lease, and no longer.
        ttl_s = self._channel.ttl_s
        deadline = min(row.deadline(ttl_s), row.created_at + ttl_s)
        if self._clock.now() >= deadline:
            await self._fail(row, "expired before it could be sent", None)
            return
        prepared = self._prepare(row)
        if isinstance(prepared, Refused):
            await self._fail(row, prepared.reason, None)
            return
        await bucket.take()
        outgoing = Outgoing(
            message_id=row.id,
            kind=row.kind,
            recipient=prepared.recipient,
            subject=row.subject,
            body=row.body,
            idempotency_key=idempotency_key(row.dedupe_key),
            segments=prepared.segments,
            attempt=row.attempts,
            at=self._clock.now(),
        )
        result = await self._attempt(outgoing)
        if isinstance(result, Accepted):
            await self._record_sent(row, result, prepared.segments)
        elif isinstance(result, Refused):
            await self._fail(row, result.reason, prepared.segments)
        else:
            await self._retry_or_fail(row, result, deadline, prepared.segments)

    async def _attempt(self, outgoing: Outgoing) -> DeliveryResult:
        timeout = self._channel.send_timeout_s
        result: DeliveryResult = TryLater(f"no answer within {timeout:g} s")
        with trio.move_on_after(timeout):
            try:
                result = await self._provider.deliver(outgoing)
            except Exception as e:
                log_event(
                    log,
                    "notify.provider_error",
                    logging.ERROR,
                    exc_info=e,
                    kind=str(self.kind),
                    message_id=outgoing.message_id,
                )
                result = TryLater(f"provider error: {type(e).__name__}")
        return result

    async def _record_sent(self, row: MessageRow, result: Accepted, segments: int | None) -> None:
        recorded = await self._record(
            row,
            self._outbox.mark_sent(
                row,
                provider=self._provider.name,
                provider_id=result.provider_id,
                segments=segments,
                at=self._clock.now(),
            ),
        )
        if recorded:
            log_event(
                log,
                "notify.sent",
                kind=str(self.kind),
                message_id=row.id,
                attempt=row.attempts,
                provider=self._provider.name,
                provider_id=result.provider_id,
            )

    async def _retry_or_fail(
        self, row: MessageRow, result: TryLater, deadline: float, segments: int | None
    ) -> None:
        now = self._clock.now()
        if row.attempts >= self._channel.max_attempts:
            await self._fail(
                row, f"gave up after {row.attempts} attempts: {result.reason}", segments
            )
            return
        retry = self._settings.retry
        delay = backoff_s(
            row.attempts,
            base_s=retry.base_s,
            cap_s=retry.cap_s,
            retry_after_s=result.retry_after_s,
            rng=self._rng,
        )
        if now + delay >= deadline:
            reason = f"expired after {row.attempts} attempts: {result.reason}"
            await self._fail(row, reason, segments)
            return
        recorded = await self._record(
            row,
            self._outbox.mark_retry(row, next_attempt_at=now + delay, error=result.reason, at=now),
        )
        if recorded:
            log_event(
                log,
                "notify.retry",
                logging.WARNING,
                kind=str(self.kind),
                message_id=row.id,
                attempt=row.attempts,
                delay_s=round(delay, 3),
                error=result.reason,
            )

    async def _fail(self, row: MessageRow, reason: str, segments: int | None) -> None:
        recorded = await self._record(
            row,
            self._outbox.mark_failed(row, error=reason, segments=segments, at=self._clock.now()),
        )
        if recorded:
            log_event(
                log,
                "notify.failed",
                logging.WARNING,
                kind=str(self.kind),
                message_id=row.id,
                attempt=row.attempts,
                error=reason,
            )

    async def _record(self, row: MessageRow, write: Awaitable[bool]) -> bool:
        """Write an outcome; False if it was not written. A lost write is logged, not fatal:
        the row stays leased and is delivered again once the lease ends."""
        try:
            recorded = await write
        except StoreError as e:
            log_event(
                log,
                "notify.record_failed",
                logging.ERROR,
                kind=str(self.kind),
                message_id=row.id,
                error=str(e),
            )
            return False
        if not recorded:
            # Our lease ran out and the row was claimed again: the later claim decides.
            log_event(log, "notify.lease_lost", logging.WARNING, message_id=row.id)
        return recorded


class Notifier:
    """The running senders, by kind: what writers poke after committing new messages."""

    def __init__(self, senders: Mapping[MessageKind, Sender]) -> None:
        self._senders = dict(senders)

    def notify_new(self, kind: MessageKind | None = None) -> None:
        """Wake the sender of `kind` (every sender if None). Cheap, never blocks: call it after
        the transaction that enqueued the messages has committed."""
        for sender_kind, sender in self._senders.items():
            if kind is None or kind is sender_kind:
                sender.notify_new()


async def start_notifier(
    nursery: trio.Nursery,
    settings: NotifySettings,
    store: StoreHandle,
    clock: WallClock,
    *,
    default_dir: Path,
    max_sms_segments: int | None = None,
) -> Notifier:
    """Start a sender per kind in `nursery` (after the store, which they use); the `file`
    provider writes to `default_dir` unless its settings name a directory; an SMS longer than
    `max_sms_segments` is failed unsent."""
    outbox = StoreOutboxQueue(store)
    senders: dict[MessageKind, Sender] = {}
    for kind in MessageKind:
        channel = settings.channel(kind)
        # No message of the channel is handed over past its TTL plus a lease (the claim's
        # batch and send timeout fit in it): the provider need not remember a key longer.
        dedupe_s = channel.ttl_s + settings.lease_s
        provider = build_provider(kind, channel, default_dir=default_dir, dedupe_s=dedupe_s)
        prepare = prepare_for(kind, max_sms_segments=max_sms_segments)
        sender = Sender(kind, outbox, provider, channel, settings, clock, prepare=prepare)
        await nursery.start(sender.run)
        senders[kind] = sender
    return Notifier(senders)


# -- what each kind checks before it is handed over ---------------------------------------------


def prepare_for(kind: MessageKind, *, max_sms_segments: int | None = None) -> Prepare:
    if kind is MessageKind.SMS:
        return functools.partial(prepare_sms, max_segments=max_sms_segments)
    if kind is MessageKind.ACCOUNT_EVENT:
        return _json_event
    return _as_is


def prepare_sms(row: MessageRow, *, max_segments: int | None = None) -> Prepared | Refused:
    """An SMS goes only to a Russian mobile number, in E.164, and within the segment cap."""
    try:
        phone = require_sms_phone(row.recipient, field="recipient")
    except Invalid as e:
        return Refused(e.message)
    segments = count_segments(row.body).segments
    if max_segments is not None and segments > max_segments:
        return Refused(
            f"the text needs {segments} SMS segments, more than the cap of {max_segments}"
        )
    return Prepared(phone, segments)


def _as_is(row: MessageRow) -> Prepared | Refused:
    return Prepared(row.recipient, None)


def _json_event(row: MessageRow) -> Prepared | Refused:
    try:
        json.loads(row.body)
    except ValueError:
        return Refused("the event body is not JSON")
    return Prepared(row.recipient, None)
