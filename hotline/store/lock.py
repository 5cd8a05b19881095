"""One server per database: an exclusive lock on `<database>.lock`, held for the process's life.

Taken by the composition root before the store opens (so before recovery writes anything) and by
`hotline migrate`; a second `hotline serve` on the same database is refused at once, naming the
holder written in the file (pid, host, start time). `flock` belongs to the open file: the kernel
drops it when the process ends, however it ends (SIGKILL included), so a stale file never blocks
a restart. The file is never deleted: deleting it would let two processes lock two different
files of one name. `create-token` and `import-citizens` take no lock: theirs are short single
transactions, which SQLite's own locking serialises with a running server's.
"""

from __future__ import annotations

import fcntl
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import trio

from hotline.store.errors import StoreError


class DatabaseLocked(StoreError):
    """Another process holds the database's lock; `holder` is what it wrote in the lock file."""

    def __init__(self, database: Path, holder: str) -> None:
        super().__init__(f"{database} is in use by {holder}")
        self.database = database
        self.holder = holder


def lock_path(database: Path) -> Path:
    return database.with_name(database.name + ".lock")


@contextmanager
def hold_database_lock(database: Path) -> Iterator[None]:
    """Hold the database's lock for the body, or raise `DatabaseLocked` at once."""
    fd = os.open(lock_path(database), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 512, 0).decode("utf-8", "replace").strip()
            raise DatabaseLocked(database, holder or "another process") from None
        since = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        me = f"pid {os.getpid()} on {socket.gethostname()} since {since}\n".encode()
        os.ftruncate(fd, 0)
        os.pwrite(fd, me, 0)
        os.fsync(fd)
        yield
    finally:
        os.close(fd)  # releases the lock


async def keep_database_locked(
    database: Path, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
) -> None:
    """`hold_database_lock` as a task of the root nursery: started once the lock is held, and
    holding it until cancelled (or until the process ends, which releases it too)."""
    with hold_database_lock(database):
        task_status.started()
        await trio.sleep_forever()
