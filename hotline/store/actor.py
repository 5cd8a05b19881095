"""The store actor: sole owner of the SQLite database, through aiosqlite under trio-asyncio.

Everything that reads or writes durable state holds a `StoreHandle`. `transact(work)` runs
`work(tx)` inside a write transaction shared with every request that was waiting beside it (group
commit: one COMMIT, so one fsync, per group) and answers only once that COMMIT is done, so an
answer means the change is on disk. Each request runs under its own SAVEPOINT: a `work` that
raises is rolled back alone and its exception goes to its caller alone. `read(work)` runs on a
second, query-only connection, so reads go on while a group is being written.

Checkpoints: a COMMIT only appends to SQLite's write-ahead log. Copying the log into the database
file (a checkpoint: every page written since the last one, then an fsync of the database) is done
by a third connection, once a second while groups commit (`CHECKPOINT_EVERY_S`), beside the writer:
SQLite's own checkpoint ran inside the COMMIT that took the log past 1,000 pages, and under load
that COMMIT took 10-20 ms instead of 2-3, while every request of the group and every one queued
behind it waited (timing each COMMIT under create load: 154 of 1,983 took 8 ms or more, 17 of 2,008
with the checkpoint moved out). Beside the writer, a checkpoint never catches up with a log that
grows meanwhile, and SQLite starts the log again from its beginning only once all of it is copied;
so the last, short pass (what was committed during the first) runs in the writer's turn, between
two groups.

Storage faults: when a write fails because the storage cannot take it (SQLITE_FULL, an I/O
error, ENOSPC, a quota), the group fails with `StoreReadOnly` and the store turns read-only:
`transact` refuses at once with `StoreReadOnly` (nothing written), reads go on, and the actor
probes with a small real write (backing off up to `PROBE_MAX_S`) until one commits; then it takes
writes again. Nothing restarts and nobody has to check first: the refusal is the signal.

The composition root starts it first (`await nursery.start(store.run)`) and stops it last; tests
use `async with open_store(path) as store:`. It opens trio-asyncio's loop for itself unless one
is already open around it, so nothing else in the process needs to know about asyncio.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from os import PathLike
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar

import aiosqlite
import outcome
import trio

from hotline.jsonlog import log_event
from hotline.store.bridge import asyncio_loop, on_thread
from hotline.store.connection import open_connection
from hotline.store.errors import CommitFailed, StoreReadOnly, StoreUnavailable, storage_fault
from hotline.store.migrate import migrate
from hotline.store.tx import ThreadTx, Tx, run_now

log = logging.getLogger(__name__)

T = TypeVar("T")
Work = Callable[[Tx], Awaitable[T]]

INBOX_SIZE = 256
MAX_GROUP = 512  # bounds a group's transaction time, so one burst cannot hold the lock for long
BUSY_TIMEOUT_MS = 5_000
# While read-only, a probe write first after PROBE_FIRST_S, then doubling up to PROBE_MAX_S: a
# disk freed by the deployer is noticed within seconds, and a failing one is not hammered.
PROBE_FIRST_S = 0.05
PROBE_MAX_S = 2.0
PROBE_BYTES = 16_384  # a few pages: the probe needs room in the log as a real group would
CHECKPOINT_EVERY_S = 1.0
# Passes beside the writer before the last in its turn, and what that last may have left to copy:
# a pass copies what was committed while the one before ran, so each is shorter.
CHECKPOINT_PASSES = 3
CHECKPOINT_SHORT_PASS = 256  # log pages: 1 MiB at SQLite's default page size


@dataclass(frozen=True, slots=True)
class StoreStatistics:
    commits: int  # COMMITs done; one per group in which some work succeeded
    requests: int  # `transact` requests answered
    failed: int  # of which failed: their work raised, or their group did not commit
    largest_group: int
    reads: int  # `read` requests answered
    read_only: bool  # the storage cannot be written now; `transact` refuses until it can
    faults: int  # times the store turned read-only since it started
    checkpoints: int  # the log copied into the database, all of it (`Store._checkpoint`)


@dataclass(slots=True)
class _Counters:
    commits: int = 0
    requests: int = 0
    failed: int = 0
    largest_group: int = 0
    reads: int = 0
    read_only: bool = False
    faults: int = 0
    checkpoints: int = 0


@dataclass(frozen=True, slots=True)
class _Request(Generic[T]):
    work: Work[T]
    reply: trio.MemorySendChannel[outcome.Outcome[T]]
    snapshot: bool = True
    statements_only: bool = False


class StoreHandle:
    """What the rest of the process holds: durable writes and consistent reads."""

    def __init__(
        self,
        writes: trio.MemorySendChannel[_Request[Any]],
        reads: trio.MemorySendChannel[_Request[Any]],
        counters: _Counters,
        write_now: Callable[[Work[Any]], Awaitable[outcome.Outcome[Any] | None]],
    ) -> None:
        self._writes = writes
        self._reads = reads
        self._counters = counters
        self._write_now = write_now

    async def transact(self, work: Work[T], *, statements_only: bool = False) -> T:
        """`await work(tx)` in a write transaction; its result once the transaction is on disk.

        If the caller is cancelled while waiting, the work may still commit: give writes that
        must not happen twice an idempotency key. While the storage cannot be written,
        raises `StoreReadOnly` at once.

        `statements_only=True` says that `work` awaits nothing but its Tx's statements (no trio
        call, no sleep, no lock): a group made of such works runs whole on the SQLite
        connection's own thread (`ThreadTx`), one crossing for the group instead of one per
        statement (the journal's batches, which carry every routing change, are written so).
        Such a work that awaits anything else fails with RuntimeError, alone. When the writer is
        idle and nobody is queued for it, such a work is its own group, queued to that thread
        from the caller's task (`Store._write_now`).
        """
        if self._counters.read_only:
            raise StoreReadOnly("the store cannot write now; nothing was written")
        if statements_only:
            done = await self._write_now(work)
            if done is not None:
                result: T = done.unwrap()
                return result
        return await _call(self._writes, work, statements_only=statements_only)

    @property
    def writable(self) -> bool:
        """False while the store is read-only after a storage fault (see `transact`)."""
        return not self._counters.read_only

    async def read(self, work: Work[T], *, snapshot: bool = True) -> T:
        """`await work(tx)` on a consistent snapshot of the last commit; writes are refused.

        `snapshot=False` for a `work` of one statement, which is its own snapshot anyway: it
        saves the two round trips of BEGIN and ROLLBACK (a third of a small read's cost)."""
        return await _call(self._reads, work, snapshot)

    def statistics(self) -> StoreStatistics:
        c = self._counters
        return StoreStatistics(
            c.commits,
            c.requests,
            c.failed,
            c.largest_group,
            c.reads,
            c.read_only,
            c.faults,
            c.checkpoints,
        )


async def _call(
    inbox: trio.MemorySendChannel[_Request[Any]],
    work: Work[T],
    snapshot: bool = True,
    *,
    statements_only: bool = False,
) -> T:
    reply_send, reply_recv = trio.open_memory_channel[outcome.Outcome[T]](1)
    with reply_recv:
        try:
            await inbox.send(_Request(work, reply_send, snapshot, statements_only))
        except trio.BrokenResourceError:
            raise StoreUnavailable("the store is not running") from None
        try:
            result = await reply_recv.receive()
        except trio.EndOfChannel:
            raise StoreUnavailable("the store stopped before answering") from None
    return result.unwrap()


class Store:
    def __init__(
        self,
        path: str | PathLike[str],
        *,
        inbox_size: int = INBOX_SIZE,
        max_group: int = MAX_GROUP,
        busy_timeout_ms: int = BUSY_TIMEOUT_MS,
        checkpoint_every_s: float = CHECKPOINT_EVERY_S,
    ) -> None:
        self._path = Path(path)
        self._max_group = max_group
        self._busy_timeout_ms = busy_timeout_ms
        self._checkpoint_every_s = checkpoint_every_s
        writes, self._writes = trio.open_memory_channel[_Request[Any]](inbox_size)
        reads, self._reads = trio.open_memory_channel[_Request[Any]](inbox_size)
        self._counters = _Counters()
        # The write connection, once open, and whose turn it is: the actor's groups and the
        # groups of one that callers queue to its thread themselves (`_write_now`).
        self._writer: aiosqlite.Connection | None = None
        self._writer_turn = trio.Lock()
        self._group_done = trio.lowlevel.ParkingLot()  # where the checkpointer waits for one
        self._idle = trio.CancelScope()  # the actor's wait for its next request
        self.handle = StoreHandle(writes, reads, self._counters, self._write_now)

    async def run(
        self, *, task_status: trio.TaskStatus[StoreHandle] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Open, migrate, report started, then serve until cancelled. Runs once."""
        try:
            with _SoleErrorAsItself():
                await self._open_and_serve(task_status)
        finally:
            # Whoever is still queued is told the store is gone rather than left waiting.
            for inbox in (self._writes, self._reads):
                with contextlib.suppress(trio.WouldBlock, trio.EndOfChannel):
                    while True:
                        inbox.receive_nowait().reply.close()
                inbox.close()

    async def _open_and_serve(self, task_status: trio.TaskStatus[StoreHandle]) -> None:
        timeout = self._busy_timeout_ms
        async with (
            asyncio_loop(),
            open_connection(self._path, read_only=False, busy_timeout_ms=timeout) as writer,
        ):
            await _migrate(Tx(writer))
            async with (
                open_connection(self._path, read_only=True, busy_timeout_ms=timeout) as reader,
                open_connection(self._path, read_only=False, busy_timeout_ms=timeout) as copier,
                trio.open_nursery() as nursery,
            ):
                nursery.start_soon(self._serve_reads, Tx(reader))
                nursery.start_soon(self._checkpoint_while_writing, copier)
                task_status.started(self.handle)
                self._writer = writer
                try:
                    await self._serve_writes(writer)
                finally:
                    self._writer = None

    async def _serve_writes(self, writer: aiosqlite.Connection) -> None:
        tx = Tx(writer)
        while True:
            if self._counters.read_only and not await self._probe_until_writable(tx):
                return
            try:
                with trio.CancelScope() as self._idle:  # `_write_now` cancels it on a fault
                    first = await self._writes.receive()
            except trio.EndOfChannel:
                return
            if self._idle.cancelled_caught:
                continue  # a fault in a group written from a caller's task: probe
            group = [first]
            while len(group) < self._max_group:
                try:
                    group.append(self._writes.receive_nowait())
                except trio.WouldBlock:
                    break
            # Without a result (the actor is dying) a caller's reply channel just closes.
            results: list[outcome.Outcome[Any] | None] = [None] * len(group)
            works = [request.work for request in group]
            try:
                await _take_turn(self._writer_turn)
                try:
                    if all(request.statements_only for request in group):
                        # The whole group on the connection's thread, one crossing (`transact`).
                        results[:] = await on_thread(writer, partial(self._write_group_now, works))
                    else:
                        results[:] = await self._write_group(tx, works)
                finally:
                    self._end_turn()
            finally:
                for request, result in zip(group, results, strict=True):
                    _answer(request, result)

    async def _write_now(self, work: Work[T]) -> outcome.Outcome[T] | None:
        """A statements-only `work` as a group of its own, queued to the writer's thread from the
        caller's task; None, having done nothing, if the writer is busy or anyone is queued for
        it (the caller then joins the queue, and a group there).

        Why: a group that goes through the actor waits for two passes of trio's scheduler (the
        actor's wake-up, the caller's), and under load a pass runs every request in flight, up
        to ~10 ms. The journal writes every routing change, one batch at a time, and each batch
        is ready just as the previous one's answers are sent (a pass of ~20 requests): from
        here its batch reaches the thread at once instead of after that pass."""
        writer = self._writer
        if writer is None or self._writes.statistics().current_buffer_used:
            return None
        try:
            self._writer_turn.acquire_nowait()
        except trio.WouldBlock:
            return None
        try:
            (result,) = await on_thread(writer, partial(self._write_group_now, [work]))
        finally:
            self._end_turn()
            if self._counters.read_only:
                self._idle.cancel()  # the actor probes until the storage takes writes again
        return result

    def _end_turn(self) -> None:
        """A group is done with the writer: the next may go, and the checkpointer, if it waits
        for a commit, wakes (the counters tell it whether one happened)."""
        self._writer_turn.release()
        self._group_done.unpark_all()

    def _write_group_now(
        self, works: list[Work[Any]], db: sqlite3.Connection
    ) -> list[outcome.Outcome[Any]]:
        """`_write_group` on the SQLite connection's thread, its works' statements direct."""
        return run_now(self._write_group(ThreadTx(db), works))

    async def _write_group(self, tx: Tx, works: list[Work[Any]]) -> list[outcome.Outcome[Any]]:
        # A lone request needs no savepoint: if its work fails, the whole transaction goes.
        savepoints = len(works) > 1
        results: list[outcome.Outcome[Any]] = []
        try:
            await tx.execute("BEGIN IMMEDIATE")
            for work in works:
                if savepoints:
                    await tx.execute("SAVEPOINT request")
                result = await _attempt(work, tx)
                if isinstance(result, outcome.Error) and storage_fault(result.error):
                    # SQLite may have rolled the whole transaction back: the group is lost.
                    raise result.error
                if savepoints:
                    if isinstance(result, outcome.Error):
                        await tx.execute("ROLLBACK TO request")
                    await tx.execute("RELEASE request")
                results.append(result)
            wrote = any(isinstance(r, outcome.Value) for r in results)
            await tx.execute("COMMIT" if wrote else "ROLLBACK")
        except Exception as exc:
            # BEGIN, a savepoint or the COMMIT failed: nothing of this group is on disk.
            if tx.in_transaction:
                await tx.execute("ROLLBACK")  # if this fails too, the actor dies: let it
            fault = storage_fault(exc)
            if fault is not None:
                self._turn_read_only(fault)
            results = [_group_failed(exc, read_only=fault is not None) for _ in works]
            wrote = False
        c = self._counters
        c.commits += wrote
        c.requests += len(works)
        c.failed += sum(isinstance(r, outcome.Error) for r in results)
        c.largest_group = max(c.largest_group, len(works))
        return results

    def _turn_read_only(self, fault: BaseException) -> None:
        if not self._counters.read_only:
            self._counters.read_only = True
            self._counters.faults += 1
            log_event(log, "store.read_only", logging.ERROR, error=str(fault))

    async def _probe_until_writable(self, tx: Tx) -> bool:
        """Refuse what was queued before the fault and probe until a write commits: True, or
        False if the inbox closed meanwhile."""
        pause = PROBE_FIRST_S
        while True:
            with trio.move_on_after(pause):
                async for request in self._writes:
                    self._counters.requests += 1
                    self._counters.failed += 1
                    _answer(request, outcome.Error(StoreReadOnly("the store cannot write now")))
                return False
            if await _probe(tx):
                self._counters.read_only = False
                log_event(log, "store.writable_again", logging.WARNING)
                return True
            pause = min(pause * 2, PROBE_MAX_S)

    async def _checkpoint_while_writing(self, copier: aiosqlite.Connection) -> None:
        """`CHECKPOINT_EVERY_S` after a group commits, `_checkpoint`; again every interval while
        groups commit or the log is not all copied, and nothing while none do (no timer either,
        so a test on trio's MockClock sees nothing to jump to). A failure (a full disk: the
        database file grows) is logged when it starts and when it ends, and the next interval
        tries again; the log just grows meanwhile."""
        copied_at = 0  # the commits counter when all of the log was last copied; -1: not all
        failing = False
        while True:
            if self._counters.commits == copied_at:
                await self._group_done.park()
                continue
            await trio.sleep(self._checkpoint_every_s)
            try:
                copied_at = await self._checkpoint(copier)
            except sqlite3.Error as exc:
                copied_at = -1
                if not failing:
                    log_event(log, "store.checkpoint_failed", logging.WARNING, error=str(exc))
                failing = True
                continue
            if copied_at >= 0:
                self._counters.checkpoints += 1
            if failing:
                log_event(log, "store.checkpoint_done", logging.WARNING)
                failing = False

    async def _checkpoint(self, copier: aiosqlite.Connection) -> int:
        """Copy the log into the database: passes beside the writer, the last in its turn (see
        the module's docstring). The commits counter as of that last pass if all of the log was
        copied, else -1 (a reader still on an older commit holds back what came after it).

        The last pass is in the writer's turn even when a pass beside it left nothing: a group
        may have been in flight meanwhile, and the log only starts again if the write after
        the checkpoint begins with all of the log copied."""
        left = await _pages_left(copier)
        for _ in range(CHECKPOINT_PASSES - 1):
            if left <= CHECKPOINT_SHORT_PASS:
                break
            left = await _pages_left(copier)
        await _take_turn(self._writer_turn)
        try:
            commits = self._counters.commits
            left = await _pages_left(copier)
        finally:
            self._writer_turn.release()
        return commits if left == 0 else -1

    async def _serve_reads(self, tx: Tx) -> None:
        async for request in self._reads:
            result: outcome.Outcome[Any] | None = None
            try:
                if request.snapshot:
                    # One read transaction, so every statement of the work sees the same commit.
                    await tx.execute("BEGIN")
                    result = await _attempt(request.work, tx)
                    await tx.execute("ROLLBACK")
                else:
                    result = await _attempt(request.work, tx)
                self._counters.reads += 1
            finally:
                _answer(request, result)


def _copy_log(db: sqlite3.Connection) -> tuple[int, int]:
    """One checkpoint pass that waits for nobody: the pages in the log, and how many of them
    are in the database now."""
    _busy, logged, copied = db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    return int(logged), int(copied)


async def _pages_left(copier: aiosqlite.Connection) -> int:
    logged, copied = await on_thread(copier, _copy_log)
    return max(0, logged - copied)


async def _migrate(tx: Tx) -> None:
    await tx.execute("BEGIN IMMEDIATE")
    try:
        await migrate(tx)
    except BaseException:
        with trio.CancelScope(shield=True):
            await tx.execute("ROLLBACK")
        raise
    await tx.execute("COMMIT")


async def _probe(tx: Tx) -> bool:
    """One small real write, committed and fsynced like a group: does the storage take it?"""
    try:
        await tx.execute("BEGIN IMMEDIATE")
        await tx.execute(
            "INSERT INTO store_probe (id, probed_at, pad) VALUES (1, ?, zeroblob(?))"
            " ON CONFLICT (id) DO UPDATE SET probed_at = excluded.probed_at, pad = excluded.pad",
            (time.time(), PROBE_BYTES),
        )
        await tx.execute("COMMIT")
    except Exception as exc:
        if tx.in_transaction:
            await tx.execute("ROLLBACK")  # if this fails too, the actor dies: let it
        if storage_fault(exc) is None:
            log_event(log, "store.probe_failed", logging.ERROR, error=str(exc))
        return False
    return True


async def _attempt(work: Work[T], tx: Tx) -> outcome.Outcome[T]:
    # Exception, not BaseException: a Cancelled belongs to the actor, not to the caller.
    try:
        return outcome.Value(await work(tx))
    except Exception as exc:
        return outcome.Error(exc)


async def _take_turn(turn: trio.Lock) -> None:
    """Take the writer's turn without a pass of the scheduler when it is free (as it nearly
    always is for the actor: `_write_now` only runs while no one is queued)."""
    try:
        turn.acquire_nowait()
    except trio.WouldBlock:
        await turn.acquire()


def _group_failed(cause: Exception, *, read_only: bool) -> outcome.Error:
    # One exception object per caller: raising a shared one in many tasks tangles tracebacks.
    kind = StoreReadOnly if read_only else CommitFailed
    error = kind("the transaction failed; nothing of this request was written")
    error.__cause__ = cause
    return outcome.Error(error)


def _answer(request: _Request[Any], result: outcome.Outcome[Any] | None) -> None:
    with request.reply:
        if result is not None:
            # A caller that stopped waiting has closed its end; the outcome stands.
            with contextlib.suppress(trio.BrokenResourceError):
                request.reply.send_nowait(result)


@asynccontextmanager
async def open_store(
    path: str | PathLike[str],
    *,
    inbox_size: int = INBOX_SIZE,
    max_group: int = MAX_GROUP,
    busy_timeout_ms: int = BUSY_TIMEOUT_MS,
    checkpoint_every_s: float = CHECKPOINT_EVERY_S,
) -> AsyncIterator[StoreHandle]:
    """A started store on `path` (created and migrated as needed), stopped when the block ends."""
    store = Store(
        path,
        inbox_size=inbox_size,
        max_group=max_group,
        busy_timeout_ms=busy_timeout_ms,
        checkpoint_every_s=checkpoint_every_s,
    )
    with _SoleErrorAsItself():
        async with trio.open_nursery() as nursery:
            handle: StoreHandle = await nursery.start(store.run)
            try:
                yield handle
            finally:
                nursery.cancel_scope.cancel()


class _SoleErrorAsItself:
    """Let an exception group holding one exception out as that exception.

    The groups come from nurseries that are the store's own (and trio-asyncio's, two per loop):
    a caller should see `SchemaTooNew`, not it three groups deep. Several errors stay a group.
    """

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, error: BaseException | None, tb: object) -> Literal[False]:
        sole = error
        while isinstance(sole, BaseExceptionGroup) and len(sole.exceptions) == 1:
            sole = sole.exceptions[0]
        if sole is not error and not isinstance(sole, BaseExceptionGroup) and sole is not None:
            context = sole.__context__  # raising here would otherwise chain it to the group
            try:
                raise sole
            finally:
                sole.__context__ = context
        return False
