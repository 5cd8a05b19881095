"""The journal: every event the router decides goes to the store, in order, in group commits.

The router answers a command as soon as its state has changed; the change is durable only once
the journal has committed the events it published. `DurableRouter` (hotline/services/durable.py)
therefore follows every command with `await journal.sync()`, which returns once every event
published so far (the command's own included) is on disk; services hold that, never the bare
router handle. Timer events (offers, overflows, breaches) need no caller: the journal writes
them like any other.

The journal is the router's one lossless subscriber. It takes whatever has piled up in its feed
(up to `max_batch` events) and writes it in one store transaction, so under load one commit
carries many requests' events, and while it waits for that commit the next batch piles up.
Facts the router does not know (a contact's phone, the idempotency key that created it, the
outcome an operator recorded) arrive attached to the events they belong to (`Enqueued.note`,
`Ended.note`, set by the router's actor for the command that brought them) and are written in
the same transaction as those events: no other task writes into the journal's state.

The journal owns the line's `KpiRecorder` (hotline/store/rollups.py): each batch is fed to its
tracker once, before the first attempt to write it, and the rollups of the facts it gave are
written in the batch's own transaction, so the figures on disk are exactly those of the events on
disk. After each commit, `after_commit(events, facts)` hears what was written (the live view).
Likewise its `QualityRecorder` (hotline/store/quality.py), if given: repeat contacts and the
survey SMS of completed contacts are written in the batch's transaction, worked out there from
the events (a retried batch works them out again from scratch), and `after_quality(written)`
hears what they counted after the commit. The `repeat_of` a new contact's row was given goes back
to its create through the reply slot of its note (`RepeatReply`), before `sync()` returns: the
create's answer needs no read of the row it has just written.

If a batch cannot be written (the store is read-only after a full disk or an I/O error, or a
COMMIT failed), the journal keeps that very batch and retries it, backing off up to `RETRY_MAX_S`,
until it commits: the router has already decided those events, so none is dropped and their order
holds. Meanwhile the journal is `stalled`: `sync()` raises `StoreReadOnly` at once, so a request
whose change is decided but not on disk is answered 503 rather than left hanging; its change
lands when the storage recovers, and a retry with the same Idempotency-Key then finds it. The
process never goes down for a write failure; only an error in the work itself (a bug) still does.
"""

from __future__ import annotations

import heapq
import itertools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import trio

from hotline.jsonlog import log_event
from hotline.kpi import KpiRules, KpiTracker
from hotline.kpi.facts import Fact
from hotline.routing.actor import batches
from hotline.routing.model import Event
from hotline.store import StoreError, StoreHandle, StoreReadOnly, Tx
from hotline.store.events import append_router_events
from hotline.store.quality import QualityRecorder, QualityWritten
from hotline.store.rollups import Counted, KpiRecorder

log = logging.getLogger(__name__)

MAX_BATCH = 4096
RETRY_FIRST_S = 0.05  # pause before the second attempt at a failed batch, doubling ...
RETRY_MAX_S = 1.0  # ... up to this: a recovered store is written to within a second

AfterCommit = Callable[[Sequence[Event], Sequence[Fact]], None]
AfterQuality = Callable[[QualityWritten], None]


def _nothing(events: Sequence[Event], facts: Sequence[Fact]) -> None:
    return None


def _no_quality(written: QualityWritten) -> None:
    return None


@dataclass(frozen=True, slots=True)
class JournalStatistics:
    events: int  # events committed
    batches: int  # transactions that carried them
    largest_batch: int


class Journal:
    def __init__(
        self,
        feed: trio.MemoryReceiveChannel[Event],
        store: StoreHandle,
        *,
        published: Callable[[], int],
        kpi: KpiRecorder | None = None,
        after_commit: AfterCommit = _nothing,
        max_batch: int = MAX_BATCH,
        quality: QualityRecorder | None = None,
        after_quality: AfterQuality = _no_quality,
    ) -> None:
        """`feed` is a lossless subscription taken before the router served anything;
        `published()` counts the events the router has handed to it so far (`RouterActor.
        published`). The count comes from the sender because an event handed straight to this
        task while it waits on the feed is not in the feed's buffer, nor seen by this task yet.
        `kpi`: the recorder loaded from the store (`hotline.store.kpi_rebuild.open_kpi`); by
        default a fresh one with the default rules (a store that starts empty). `after_commit`
        is called in this task after each commit; what it raises stops the journal."""
        self._feed = feed
        self._kpi = kpi if kpi is not None else KpiRecorder(KpiTracker(), KpiRules())
        self._after_commit = after_commit
        self._quality = quality
        self.after_quality = after_quality  # settable: the senders start after the journal
        self._published = published
        self._store = store
        self._max_batch = max_batch
        self._durable = 0  # events committed
        self._batches = 0
        self._largest = 0
        self._waiters: list[tuple[int, int, trio.Event]] = []  # (needed, tie, wake)
        self._tie = itertools.count()
        self._failed: BaseException | None = None
        self._stalled: StoreError | None = None  # the last failure of the batch being retried

    async def sync(self) -> None:
        """Return once every event published before this call is on disk."""
        needed = self._published()
        if self._durable >= needed:
            return
        if self._failed is not None:
            raise StoreError("the journal cannot write to the store") from self._failed
        self._refuse_if_stalled()
        wake = trio.Event()
        heapq.heappush(self._waiters, (needed, next(self._tie), wake))
        await wake.wait()
        if self._durable < needed:
            self._refuse_if_stalled()
            raise StoreError("the journal stopped before the change was written")

    @property
    def stalled(self) -> bool:
        """True while a batch is failing to commit: changes decided now are not on disk yet."""
        return self._stalled is not None

    def _refuse_if_stalled(self) -> None:
        if self._stalled is not None:
            raise StoreReadOnly(
                "the store cannot write now; the change will be written when it can"
            ) from self._stalled

    def statistics(self) -> JournalStatistics:
        return JournalStatistics(self._durable, self._batches, self._largest)

    async def run(
        self, *, task_status: trio.TaskStatus[Journal] = trio.TASK_STATUS_IGNORED
    ) -> None:
        task_status.started(self)
        try:
            async for batch in batches(self._feed, self._max_batch, eager=True):
                counted = self._kpi.count(batch)  # once: a retried batch is not fed again
                written = await self._write(batch, counted)
                if written is not None:  # before the waiters wake: their creates answer with it
                    written.answer_repeats(batch)
                self._durable += len(batch)
                self._batches += 1
                self._largest = max(self._largest, len(batch))
                self._wake_durable()
                self._after_commit(batch, counted.facts)
                if written is not None:
                    self.after_quality(written)
        except BaseException as exc:
            self._failed = exc
            raise
        finally:
            for _, _, wake in self._waiters:  # they see `_durable` short and raise
                wake.set()
            self._waiters.clear()

    async def _write(self, batch: list[Event], counted: Counted) -> QualityWritten | None:
        quality = self._quality

        async def work(tx: Tx) -> QualityWritten | None:
            new = await quality.new_contacts(tx, batch) if quality is not None else set()
            await append_router_events(tx, batch)
            await self._kpi.write(tx, counted)
            return await quality.write(tx, batch, new) if quality is not None else None

        pause = RETRY_FIRST_S
        for attempt in itertools.count(1):
            try:
                written = await self._store.transact(work, statements_only=True)
            except StoreError as exc:
                if self._stalled is None or attempt in (2, 10) or attempt % 100 == 0:
                    log_event(
                        log,
                        "journal.write_failed",
                        logging.ERROR,
                        attempt=attempt,
                        events=len(batch),
                        error=str(exc),
                    )
                self._stalled = exc
                self._release_waiters()  # they answer 503 now rather than wait for the disk
                await trio.sleep(pause)
                pause = min(pause * 2, RETRY_MAX_S)
            else:
                if self._stalled is not None:
                    log_event(log, "journal.writing_again", logging.WARNING, attempt=attempt)
                    self._stalled = None
                return written
        raise AssertionError("unreachable: the loop above returns or raises")

    def _release_waiters(self) -> None:
        for _, _, wake in self._waiters:  # they see `_durable` short and raise
            wake.set()
        self._waiters.clear()

    def _wake_durable(self) -> None:
        while self._waiters and self._waiters[0][0] <= self._durable:
            heapq.heappop(self._waiters)[2].set()
