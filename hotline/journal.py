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

If a batch cannot be written, the journal retries a few times and then fails, which takes the
process down: the router has already moved on, and answering clients while their changes are not
on disk would break the one promise the API makes. Start-up rebuilds the router from the store.
"""

from __future__ import annotations

import heapq
import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass

import trio

from hotline.jsonlog import log_event
from hotline.routing.model import Event
from hotline.store import StoreError, StoreHandle, Tx
from hotline.store.events import append_router_events

log = logging.getLogger(__name__)

MAX_BATCH = 4096
RETRIES = (0.05, 0.2, 1.0)  # seconds to wait before each new attempt at a failed batch


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
        max_batch: int = MAX_BATCH,
    ) -> None:
        """`feed` is a lossless subscription taken before the router served anything;
        `published()` counts the events the router has handed to it so far (`RouterActor.
        published`). The count comes from the sender because an event handed straight to this
        task while it waits on the feed is not in the feed's buffer, nor seen by this task yet."""
        self._feed = feed
        self._published = published
        self._store = store
        self._max_batch = max_batch
        self._durable = 0  # events committed
        self._batches = 0
        self._largest = 0
        self._waiters: list[tuple[int, int, trio.Event]] = []  # (needed, tie, wake)
        self._tie = itertools.count()
        self._failed: BaseException | None = None

    async def sync(self) -> None:
        """Return once every event published before this call is on disk."""
        needed = self._published()
        if self._durable >= needed:
            return
        if self._failed is not None:
            raise StoreError("the journal cannot write to the store") from self._failed
        wake = trio.Event()
        heapq.heappush(self._waiters, (needed, next(self._tie), wake))
        await wake.wait()
        if self._durable < needed:
            raise StoreError("the journal stopped before the change was written")

    def statistics(self) -> JournalStatistics:
        return JournalStatistics(self._durable, self._batches, self._largest)

    async def run(
        self, *, task_status: trio.TaskStatus[Journal] = trio.TASK_STATUS_IGNORED
    ) -> None:
        task_status.started(self)
        try:
            async for first in self._feed:
                batch = [first]
                while len(batch) < self._max_batch:
                    try:
                        batch.append(self._feed.receive_nowait())
                    except (trio.WouldBlock, trio.EndOfChannel):
                        break
                await self._write(batch)
                self._durable += len(batch)
                self._batches += 1
                self._largest = max(self._largest, len(batch))
                self._wake_durable()
        except BaseException as exc:
            self._failed = exc
            raise
        finally:
            for _, _, wake in self._waiters:  # they see `_durable` short and raise
                wake.set()
            self._waiters.clear()

    async def _write(self, batch: list[Event]) -> None:
        async def work(tx: Tx) -> None:
            await append_router_events(tx, batch)

        for attempt, pause in enumerate((*RETRIES, None)):
            try:
                await self._store.transact(work)
                return
            except StoreError as exc:
                log_event(
                    log,
                    "journal.write_failed",
                    logging.ERROR,
                    attempt=attempt + 1,
                    events=len(batch),
                    error=str(exc),
                )
                if pause is None:
                    raise
                await trio.sleep(pause)

    def _wake_durable(self) -> None:
        while self._waiters and self._waiters[0][0] <= self._durable:
            heapq.heappop(self._waiters)[2].set()
