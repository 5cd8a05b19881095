"""Checkpoints: no COMMIT copies SQLite's log into the database (a group's answer waits for its
own pages only); the store's checkpointer does it beside the writer, often enough that the log
starts again from its beginning even while groups keep committing, and a checkpoint that fails
is logged and retried without stopping anything."""

from __future__ import annotations

import logging
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
import trio
import trio.testing

from hotline.store import StoreHandle, Tx, open_store
from hotline.store import actor as store_actor

GIVE_UP_AFTER = 60.0  # real seconds: a test that hangs fails instead
BLOB = 64 * 1024  # bytes a group writes: 16 pages and more of the log
NEVER = 3600.0
PAGE = 4096  # SQLite's default page size


async def _table(store: StoreHandle) -> None:
    async def work(tx: Tx) -> None:
        await tx.execute("CREATE TABLE filler (data BLOB NOT NULL)")

    await store.transact(work)


async def _fill(tx: Tx) -> None:
    await tx.execute("INSERT INTO filler VALUES (randomblob(?))", (BLOB,))


def _size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


def _wal(db: Path) -> Path:
    return db.with_name(db.name + "-wal")


async def test_no_commit_copies_the_log_into_the_database(tmp_path: Path) -> None:
    # SQLite's own checkpoint would run in the COMMIT that takes the log past 1,000 pages.
    db = tmp_path / "hotline.db"
    with trio.fail_after(GIVE_UP_AFTER):
        async with open_store(db, checkpoint_every_s=NEVER) as store:
            await _table(store)
            before = _size(db)
            for _ in range(100):  # 6.4 MB: 1,600 pages and more
                await store.transact(_fill)
            assert _size(db) == before
            assert _size(_wal(db)) > 100 * BLOB
            assert store.statistics().checkpoints == 0
    # Closed, the last connection copies the log: nothing was lost by keeping it.
    with closing(sqlite3.connect(db)) as conn:
        assert conn.execute("SELECT count(*) FROM filler").fetchone() == (100,)


async def test_the_log_starts_again_while_groups_keep_committing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A checkpoint beside a writer that never stops never copies the whole log, and SQLite only
    # starts it again once all of it is copied: without the last pass in the writer's turn, the
    # log would hold everything written.
    logs: list[int] = []  # the pages in the log at each pass
    copy_log = store_actor._copy_log

    def copy_and_see(conn: sqlite3.Connection) -> tuple[int, int]:
        logged, copied = copy_log(conn)
        logs.append(logged)
        return logged, copied

    monkeypatch.setattr(store_actor, "_copy_log", copy_and_see)
    db = tmp_path / "hotline.db"
    written = 0
    with trio.fail_after(GIVE_UP_AFTER):
        async with open_store(db, checkpoint_every_s=0.02) as store:
            await _table(store)

            async def writer() -> None:
                nonlocal written
                while store.statistics().checkpoints < 8:
                    await store.transact(_fill)
                    written += BLOB

            async with trio.open_nursery() as nursery:
                for _ in range(4):
                    nursery.start_soon(writer)
    pages_written = written // PAGE
    assert pages_written > 0 and logs
    assert max(logs) < pages_written / 2, (logs, pages_written)
    with closing(sqlite3.connect(db)) as conn:
        assert conn.execute("SELECT count(*) FROM filler").fetchone() == (written // BLOB,)


async def test_a_failing_checkpoint_is_logged_once_and_retried_while_writes_go_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    copy_log = store_actor._copy_log
    failing = True

    def copy_or_fail(conn: sqlite3.Connection) -> tuple[int, int]:
        if failing:
            raise sqlite3.OperationalError("database or disk is full")
        return copy_log(conn)

    monkeypatch.setattr(store_actor, "_copy_log", copy_or_fail)
    db = tmp_path / "hotline.db"
    caplog.set_level(logging.WARNING, logger=store_actor.log.name)
    with trio.fail_after(GIVE_UP_AFTER):
        async with open_store(db, checkpoint_every_s=0.01) as store:
            await _table(store)
            for _ in range(20):
                await store.transact(_fill)
                await trio.sleep(0.01)
            assert store.writable and store.statistics().checkpoints == 0
            failing = False
            while store.statistics().checkpoints == 0:
                await store.transact(_fill)
                await trio.sleep(0.01)
    events = [r.getMessage() for r in caplog.records if r.name == store_actor.log.name]
    assert events == ["store.checkpoint_failed", "store.checkpoint_done"]


async def test_an_idle_store_sets_no_timer(tmp_path: Path) -> None:
    # Under trio's MockClock a test jumps to the next deadline whenever it waits for a thread:
    # a checkpointer ticking while nothing is written would make it jump a second at a time.
    with trio.fail_after(GIVE_UP_AFTER):
        async with open_store(tmp_path / "hotline.db", checkpoint_every_s=0.01) as store:
            await _table(store)
            while store.statistics().checkpoints == 0:
                await trio.sleep(0.01)
            await trio.testing.wait_all_tasks_blocked()
            # The only deadline left is fail_after's, a minute away.
            assert trio.lowlevel.current_statistics().seconds_to_next_deadline > 1
