"""The store and the journal when the storage refuses writes, with faults that need no root:
SQLite's own SQLITE_FULL (a page limit on the writer), and a store that refuses for a while.

The store turns read-only on a storage fault (refusing writes at once, reads going on), probes
until a write commits, and takes writes again by itself. The journal keeps the batch the router
decided, retries it until it commits, in order, and meanwhile answers `sync()` promptly with
`StoreReadOnly` instead of leaving callers waiting on the disk."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing

from hotline.app import start_services
from hotline.clock import WallClock
from hotline.config import load_settings
from hotline.journal import Journal
from hotline.routing import RoutingState
from hotline.routing.actor import RouterActor
from hotline.services.durable import DurableRouter
from hotline.store import CommitFailed, StoreHandle, StoreReadOnly, Tx, open_store
from hotline.store.errors import storage_fault
from hotline.voicemail.watcher import VoicemailWatcher
from tests.e2e.processes import CONFIG
from tests.routing_fixtures import T0, contact, policy

GIVE_UP_AFTER = 30.0
FILLER_BYTES = 256 * 1024


async def _fill_to_the_page_limit(store: StoreHandle) -> None:
    async def work(tx: Tx) -> None:
        await tx.execute("CREATE TABLE filler (data BLOB NOT NULL)")
        await tx.execute("INSERT INTO filler VALUES (zeroblob(?))", (FILLER_BYTES,))

    await store.transact(work)

    async def limit(tx: Tx) -> None:
        row = await tx.fetchone("PRAGMA page_count")
        assert row is not None
        # The writer may not grow the file past what it holds now: SQLite's own SQLITE_FULL.
        await tx.fetchall(f"PRAGMA max_page_count = {int(row[0])}")

    await store.transact(limit)


async def _grow(tx: Tx) -> None:
    await tx.execute("INSERT INTO filler VALUES (zeroblob(?))", (FILLER_BYTES // 4,))


@pytest.mark.parametrize("statements_only", [False, True], ids=["via-actor", "from-caller"])
async def test_a_full_database_turns_the_store_read_only_until_a_probe_write_commits(
    tmp_path: Path, statements_only: bool
) -> None:
    # `statements_only`: the failing write is queued to the thread from its caller's task (the
    # store is idle), not by the actor, which must still be woken to probe.
    db = tmp_path / "hotline.db"
    async with open_store(db) as store:
        await _fill_to_the_page_limit(store)

        with pytest.raises(StoreReadOnly) as refused:
            await store.transact(_grow, statements_only=statements_only)
        cause = refused.value.__cause__
        assert isinstance(cause, sqlite3.OperationalError)
        assert cause.sqlite_errorcode == sqlite3.SQLITE_FULL and storage_fault(cause) is cause
        assert not store.writable
        # Refused at once now, before any SQL runs; reads go on.
        ran: list[bool] = []

        async def marks(tx: Tx) -> None:
            ran.append(True)

        with pytest.raises(StoreReadOnly):
            await store.transact(marks)
        assert ran == []
        assert (await store.read(lambda tx: tx.fetchone("SELECT count(*) FROM filler")))[0] == 1
        stats = store.statistics()
        assert (stats.read_only, stats.faults) == (True, 1)

        # The deployer frees space (another connection: the store's own refuses to write).
        with contextlib.closing(sqlite3.connect(db, timeout=GIVE_UP_AFTER)) as side:
            side.execute("DELETE FROM filler")
            side.commit()
        with trio.fail_after(GIVE_UP_AFTER):
            while not store.writable:
                await trio.sleep(0.05)

        await store.transact(_grow)
        stats = store.statistics()
        assert (stats.read_only, stats.faults) == (False, 1)


async def test_an_error_of_the_work_itself_does_not_turn_the_store_read_only(
    tmp_path: Path,
) -> None:
    async with open_store(tmp_path / "hotline.db") as store:

        async def broken(tx: Tx) -> None:
            await tx.execute("INSERT INTO no_such_table VALUES (1)")

        with pytest.raises(sqlite3.OperationalError):
            await store.transact(broken)
        with pytest.raises(CommitFailed):  # a constraint at COMMIT is no storage fault either

            async def deferred_violation(tx: Tx) -> None:
                await tx.execute("PRAGMA defer_foreign_keys = ON")
                await tx.execute(
                    "INSERT INTO contact_events (contact_id, at, kind) VALUES ('nobody', 0, 'x')"
                )

            await store.transact(deferred_violation)
        assert store.writable and store.statistics().faults == 0


class RefusingStore:
    """A real store that refuses writes with `StoreReadOnly` while `refusing` is set."""

    def __init__(self, store: StoreHandle) -> None:
        self._store = store
        self.refusing = False
        self.refused = 0

    async def transact(self, work: Any, **how: Any) -> Any:
        if self.refusing:
            self.refused += 1
            raise StoreReadOnly("the store cannot write now")
        return await self._store.transact(work, **how)


async def test_the_journal_keeps_its_batch_through_a_fault_and_writes_it_in_order(
    tmp_path: Path,
) -> None:
    async with open_store(tmp_path / "hotline.db") as real:
        store = RefusingStore(real)
        actor = RouterActor(RoutingState(policy()), clock=WallClock(epoch=T0))
        journal = Journal(
            actor.subscribe(lossless=True),
            store,  # type: ignore[arg-type]  # what the journal uses of a StoreHandle
            published=lambda: actor.published,
        )
        with trio.fail_after(GIVE_UP_AFTER):
            async with trio.open_nursery() as nursery:
                await nursery.start(journal.run)
                router = DurableRouter(await nursery.start(actor.run), journal)

                async def create(cid: str) -> None:
                    await router.admit(contact(cid, "documents"))

                await create("before")
                store.refusing = True
                with pytest.raises(StoreReadOnly):
                    await create("during-1")  # decided, not on disk: answered at once
                assert journal.stalled
                with pytest.raises(StoreReadOnly):
                    await create("during-2")
                store.refusing = False
                with trio.fail_after(GIVE_UP_AFTER):
                    while journal.stalled:
                        await trio.sleep(0.01)
                await create("after")
                nursery.cancel_scope.cancel()

        order = await real.read(
            lambda tx: tx.fetchall(
                "SELECT contact_id FROM contact_events WHERE kind = 'enqueued' ORDER BY id"
            )
        )
        assert [row[0] for row in order] == ["before", "during-1", "during-2", "after"]
        assert store.refused >= 1


async def test_the_voicemail_watcher_rides_out_a_store_that_cannot_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real = VoicemailWatcher.queue_due_retries

    async def refused_twice(self: VoicemailWatcher, now: float) -> None:
        calls.append("refused" if len(calls) < 2 else "done")
        if len(calls) <= 2:
            raise StoreReadOnly("the store cannot write now")
        await real(self, now)

    monkeypatch.setattr(VoicemailWatcher, "queue_due_retries", refused_twice)
    settings = load_settings(CONFIG).with_db(tmp_path / "hotline.db")
    with trio.fail_after(GIVE_UP_AFTER):
        async with trio.open_nursery() as nursery:
            await start_services(nursery, settings)  # its watcher runs in `nursery`
            while "done" not in calls:
                await trio.sleep(0.05)
            nursery.cancel_scope.cancel()

    assert calls[:3] == ["refused", "refused", "done"]
