"""The store actor: an answer means the row is on disk, requests share commits, one request's
failure stays its own, reads never wait for writes, and a stopped store says so."""

from __future__ import annotations

import sqlite3
import threading
from collections import Counter
from collections.abc import Awaitable, Callable
from contextlib import closing
from pathlib import Path

import pytest
import trio
import trio.testing

from hotline.store import CommitFailed, StoreHandle, StoreUnavailable, Tx, open_store
from hotline.store.bridge import asyncio_loop, on_thread
from hotline.store.connection import open_connection
from hotline.store.tx import EXACT_ROWS, MAX_ROWS, Rows

GIVE_UP_AFTER = 30.0  # real seconds: a test that hangs fails instead


def insert(key: str, scope: str = "test") -> Callable[[Tx], Awaitable[int]]:
    async def work(tx: Tx) -> int:
        return await tx.execute(
            "INSERT INTO idempotency_keys (scope, key, request_hash, created_at)"
            " VALUES (?, ?, 'hash', 0)",
            (scope, key),
        )

    return work


def keys_on_disk(path: Path, scope: str = "test") -> set[str]:
    """What a separate, plain sqlite3 connection opened now reads."""
    with closing(sqlite3.connect(path)) as conn:
        rows = conn.execute("SELECT key FROM idempotency_keys WHERE scope = ?", (scope,))
        return {key for (key,) in rows}


async def hold_writer(store: StoreHandle, gate: trio.Event, nursery: trio.Nursery) -> None:
    """Occupy the actor with a request that waits for `gate`, so the requests sent meanwhile
    queue up and are served together as the next group."""

    async def wait(tx: Tx) -> None:
        await gate.wait()

    nursery.start_soon(store.transact, wait)
    await trio.testing.wait_all_tasks_blocked()


async def test_an_answered_write_is_seen_by_a_separate_connection(
    store: StoreHandle, db_path: Path
) -> None:
    with trio.fail_after(GIVE_UP_AFTER):
        assert await store.transact(insert("k1")) == 1
    assert keys_on_disk(db_path) == {"k1"}


async def test_concurrent_writes_share_far_fewer_commits_than_requests(
    store: StoreHandle, db_path: Path
) -> None:
    before = store.statistics()
    with trio.fail_after(GIVE_UP_AFTER):
        async with trio.open_nursery() as nursery:
            for i in range(100):
                nursery.start_soon(store.transact, insert(f"k{i}"))
    stats = store.statistics()
    assert stats.requests - before.requests == 100
    assert stats.commits - before.commits <= 10
    assert stats.largest_group >= 10
    assert keys_on_disk(db_path) == {f"k{i}" for i in range(100)}


async def test_failing_work_gets_its_own_error_while_its_group_commits(
    store: StoreHandle, db_path: Path
) -> None:
    class Refused(Exception):
        pass

    async def insert_then_fail(tx: Tx) -> None:
        await tx.execute(
            "INSERT INTO idempotency_keys (scope, key, request_hash, created_at)"
            " VALUES ('test', 'bad', 'hash', 0)"
        )
        raise Refused("no")

    async def expect_refusal() -> None:
        with pytest.raises(Refused):
            await store.transact(insert_then_fail)

    gate = trio.Event()
    with trio.fail_after(GIVE_UP_AFTER):
        async with trio.open_nursery() as nursery:
            await hold_writer(store, gate, nursery)
            for i in range(3):
                nursery.start_soon(store.transact, insert(f"before{i}"))
            nursery.start_soon(expect_refusal)
            for i in range(3):
                nursery.start_soon(store.transact, insert(f"after{i}"))
            await trio.testing.wait_all_tasks_blocked()
            commits = store.statistics().commits
            gate.set()
    stats = store.statistics()
    assert stats.largest_group == 7 and stats.failed == 1
    assert stats.commits == commits + 2  # the gate's own, then one for all six good ones
    assert keys_on_disk(db_path) == {f"{when}{i}" for when in ("before", "after") for i in range(3)}


async def test_a_group_of_statements_only_works_runs_in_one_crossing_with_the_same_rules(
    store: StoreHandle, db_path: Path
) -> None:
    # Run on the asyncio side of the bridge (the journal's batches): still one commit for the
    # group, a failing work rolled back alone, and a work that awaits trio after all (against
    # its word) failing alone, not the store.
    class Refused(Exception):
        pass

    async def insert_then_fail(tx: Tx) -> None:
        await insert("bad")(tx)
        raise Refused("no")

    async def awaits_trio(tx: Tx) -> None:
        await insert("sleeper")(tx)
        await trio.sleep(0)

    outcomes: list[str] = []

    async def send(work: Callable[[Tx], Awaitable[object]]) -> None:
        try:
            await store.transact(work, statements_only=True)
            outcomes.append("ok")
        except Exception as e:  # which one is the assertion
            outcomes.append(type(e).__name__)

    gate = trio.Event()
    with trio.fail_after(GIVE_UP_AFTER):
        async with trio.open_nursery() as nursery:
            await hold_writer(store, gate, nursery)
            for work in (insert("k1"), insert_then_fail, insert("k2"), awaits_trio, insert("k3")):
                nursery.start_soon(send, work)
                await trio.testing.wait_all_tasks_blocked()
            commits = store.statistics().commits
            gate.set()
        assert await store.transact(insert("k4"), statements_only=True) == 1
    assert sorted(outcomes) == ["Refused", "RuntimeError", "ok", "ok", "ok"]
    assert store.statistics().commits == commits + 3  # the gate's, the group's, k4's
    assert keys_on_disk(db_path) == {"k1", "k2", "k3", "k4"}


async def test_a_failed_commit_fails_every_request_of_its_group(
    store: StoreHandle, db_path: Path
) -> None:
    async def make_deferred_reference(tx: Tx) -> None:
        # A deferred foreign key is checked at COMMIT, so this work succeeds and the COMMIT fails.
        await tx.execute(
            "CREATE TABLE referrer (contact_id TEXT REFERENCES contacts (id)"
            " DEFERRABLE INITIALLY DEFERRED)"
        )

    async def dangling_reference(tx: Tx) -> None:
        await tx.execute("INSERT INTO referrer (contact_id) VALUES ('nobody')")

    async def expect_commit_failed(work: Callable[[Tx], Awaitable[object]]) -> None:
        with pytest.raises(CommitFailed) as caught:
            await store.transact(work)
        assert isinstance(caught.value.__cause__, sqlite3.IntegrityError)

    gate = trio.Event()
    with trio.fail_after(GIVE_UP_AFTER):
        await store.transact(make_deferred_reference)
        async with trio.open_nursery() as nursery:
            await hold_writer(store, gate, nursery)
            nursery.start_soon(expect_commit_failed, insert("a"))
            nursery.start_soon(expect_commit_failed, dangling_reference)
            nursery.start_soon(expect_commit_failed, insert("b"))
            await trio.testing.wait_all_tasks_blocked()
            gate.set()
        assert keys_on_disk(db_path) == set()
        await store.transact(insert("c"))  # the store goes on serving
    assert keys_on_disk(db_path) == {"c"}


async def test_a_lone_failing_request_is_rolled_back_and_the_store_goes_on(
    store: StoreHandle, db_path: Path
) -> None:
    with trio.fail_after(GIVE_UP_AFTER):
        await store.transact(insert("k"))
        with pytest.raises(sqlite3.IntegrityError):
            await store.transact(insert("k"))  # duplicate key
        await store.transact(insert("k2"))
    assert keys_on_disk(db_path) == {"k", "k2"}
    assert store.statistics().failed == 1


async def test_a_write_whose_caller_gave_up_still_commits(
    store: StoreHandle, db_path: Path
) -> None:
    gate = trio.Event()
    with trio.fail_after(GIVE_UP_AFTER):
        async with trio.open_nursery() as nursery:
            await hold_writer(store, gate, nursery)
            with trio.move_on_after(0.01) as waited:
                await store.transact(insert("abandoned"))
            assert waited.cancelled_caught
            gate.set()
        await store.transact(insert("later"))
    assert keys_on_disk(db_path) == {"abandoned", "later"}


async def test_a_read_does_not_wait_for_a_write_in_progress_nor_see_it(store: StoreHandle) -> None:
    gate = trio.Event()

    async def write_then_wait(tx: Tx) -> None:
        await insert("pending")(tx)
        await gate.wait()

    async def count(tx: Tx) -> int:
        row = await tx.fetchone("SELECT count(*) FROM idempotency_keys")
        assert row is not None
        return int(row[0])

    with trio.fail_after(GIVE_UP_AFTER):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(store.transact, write_then_wait)
            await trio.testing.wait_all_tasks_blocked()
            assert await store.read(count) == 0  # served while the write holds the lock
            gate.set()
        assert await store.read(count) == 1
    assert store.statistics().reads == 2


async def test_a_read_cannot_write(store: StoreHandle) -> None:
    with trio.fail_after(GIVE_UP_AFTER), pytest.raises(sqlite3.OperationalError, match="readonly"):
        await store.read(insert("k"))


async def test_a_stopped_store_says_it_is_unavailable(db_path: Path) -> None:
    with trio.fail_after(GIVE_UP_AFTER):
        async with open_store(db_path) as store:
            await store.transact(insert("k"))
        with pytest.raises(StoreUnavailable):
            await store.transact(insert("k2"))
        with pytest.raises(StoreUnavailable):
            await store.read(insert("k3"))


async def test_a_store_stopped_mid_transaction_writes_nothing_of_it(db_path: Path) -> None:
    async def insert_then_hang(tx: Tx) -> None:
        await insert("half")(tx)
        await trio.sleep_forever()

    async def expect_unavailable(store: StoreHandle) -> None:
        with pytest.raises(StoreUnavailable):
            await store.transact(insert_then_hang)

    with trio.fail_after(GIVE_UP_AFTER):
        # The callers' nursery outlives the store.
        async with trio.open_nursery() as callers, open_store(db_path) as store:
            callers.start_soon(expect_unavailable, store)
            await trio.testing.wait_all_tasks_blocked()
    assert keys_on_disk(db_path) == set()


async def test_a_store_inside_an_already_open_asyncio_loop_shares_it(db_path: Path) -> None:
    with trio.fail_after(GIVE_UP_AFTER):
        async with asyncio_loop(), open_store(db_path) as store:
            await store.transact(insert("k"))
    assert keys_on_disk(db_path) == {"k"}


class _Steps(trio.abc.Instrument):
    """How many times each task ran a step."""

    def __init__(self) -> None:
        self.by_name: Counter[str] = Counter()

    def before_task_step(self, task: trio.lowlevel.Task) -> None:
        self.by_name[task.name] += 1


async def test_a_statements_only_write_to_an_idle_store_goes_to_the_thread_from_its_caller(
    store: StoreHandle, db_path: Path
) -> None:
    # Not through the actor's task: a pass of the scheduler fewer each way, which under load
    # runs every request in flight. Any other write still goes through the actor.
    def actor_steps(steps: _Steps) -> int:
        return sum(n for name, n in steps.by_name.items() if name.endswith("Store.run"))

    for statements_only, expected in ((True, 0), (False, 1)):
        steps = _Steps()
        trio.lowlevel.add_instrument(steps)
        try:
            await store.transact(insert(f"k{statements_only}"), statements_only=statements_only)
        finally:
            trio.lowlevel.remove_instrument(steps)
        assert min(actor_steps(steps), 1) == expected, steps.by_name
    assert keys_on_disk(db_path) == {"kTrue", "kFalse"}


async def test_a_caller_cancelled_while_its_work_is_on_the_thread_waits_for_it(
    db_path: Path,
) -> None:
    # The work cannot be taken back from the thread's queue: the caller waits until it has
    # run (nothing runs on the connection behind its back) and gets its result; the
    # cancellation reaches it at its next checkpoint.
    release = threading.Event()

    def slow(db: sqlite3.Connection) -> str:
        release.wait(GIVE_UP_AFTER)
        return "done"

    got: list[object] = []
    async with (
        asyncio_loop(),
        open_connection(db_path, read_only=False, busy_timeout_ms=1000) as conn,
    ):
        with trio.fail_after(GIVE_UP_AFTER):
            async with trio.open_nursery() as nursery:
                scope = trio.CancelScope()

                async def call() -> None:
                    with scope:
                        got.append(await on_thread(conn, slow))
                        await trio.lowlevel.checkpoint()
                        got.append("went on")
                    got.append(scope.cancelled_caught)

                nursery.start_soon(call)
                await trio.testing.wait_all_tasks_blocked()
                scope.cancel()
                await trio.sleep(0.05)
                assert got == []  # still waiting for the thread
                release.set()
        assert got == ["done", True]
        with trio.CancelScope() as scope:  # cancelled before the call: nothing is queued
            scope.cancel()
            await on_thread(conn, lambda db: got.append("ran"))
        assert scope.cancelled_caught and got == ["done", True]
        with pytest.raises(ZeroDivisionError):  # what the work raises, as itself
            await on_thread(conn, lambda db: 1 // 0)


@pytest.mark.parametrize("n", [0, 1, 2, 3, 64, 65, 255, 256, 257, 600])
def test_rows_of_an_insert_go_in_order_in_a_statement_per_batch_of_usual_size(n: int) -> None:
    insert = Rows("INSERT INTO t (a, b)", width=2, tail="ON CONFLICT DO NOTHING")
    rows = [(i, f"v{i}") for i in range(n)]
    statements = list(insert.statements(rows))
    sizes = [len(params) // 2 for _, params in statements]
    assert sum(sizes) == n
    if n <= EXACT_ROWS:  # one statement of exactly as many rows
        assert sizes == ([n] if n else [])
    else:  # chunks of a power of two rows, largest first, then the rest (if any) in one
        assert sizes == sorted(sizes, reverse=True)
        assert all(k & (k - 1) == 0 and EXACT_ROWS <= k <= MAX_ROWS for k in sizes[:-1])
        assert sizes[-1] <= EXACT_ROWS or sizes[-1] & (sizes[-1] - 1) == 0
    assert [v for _, params in statements for v in params] == [v for row in rows for v in row]
    if n:  # a row short of a value would shift every column after it
        with pytest.raises(ValueError, match="other than 2 values"):
            list(insert.statements([*rows[:-1], (n,)]))
    for (sql, _), k in zip(statements, sizes, strict=True):
        values = ", ".join(["(?, ?)"] * k)
        assert sql == f"INSERT INTO t (a, b) VALUES {values} ON CONFLICT DO NOTHING"
