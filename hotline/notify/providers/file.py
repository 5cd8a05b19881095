"""The `file` provider: one JSON line per delivered message, appended and fsynced.

The default of a fresh install: SMS go to `sms.jsonl`, e-mail to `email.jsonl`, personal-account
events to `account.jsonl`, in the configured directory. A message whose idempotency key was
delivered within the dedupe window is not written again (a re-delivery after a crash), so each
file holds every message once. The writes run in a worker thread; one at a time per file.

Which keys were delivered is kept on disk, not in memory: an index beside the file
(`sms.keys.sqlite`, ...: a key and the instant it may be forgotten) that the provider reads one
key at a time, with SQLite's page cache capped. A key is forgotten `dedupe_s` after its delivery
(the sender passes its channel's TTL plus the lease: a message is never handed over again past
its deadline, nor a lease after it), so the index holds only the last window's keys whatever
the history. The index records how much of the file it covers; at start only the lines past that
point are read (a crash between a line and its index entry leaves a line or two), so start-up
reads a bounded amount, never the whole history. An index that is missing or older than the file
(the first start after an upgrade) is rebuilt from the file once.

The line comes first and the index second: a crash in between leaves a line the index does not
cover yet, which start-up reads. The other order could lose a message the index says was sent.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time
import uuid
from pathlib import Path
from typing import Any

import trio

from hotline.files import fsync_directory, make_directory
from hotline.notify.providers.base import Accepted, DeliveryResult, Outgoing
from hotline.store.outbox import MessageKind

FILE_NAMES = {
    MessageKind.SMS: "sms.jsonl",
    MessageKind.EMAIL: "email.jsonl",
    MessageKind.ACCOUNT_EVENT: "account.jsonl",
}
_IDS = uuid.UUID("6f1d2c1e-6c55-4d1e-9a51-5b0e3f4a7c11")  # namespace of the ids it hands out
DEFAULT_DEDUPE_S = 24 * 3_600.0 + 120.0  # the shipped channel TTL (24 h) plus the lease (120 s)
_PRUNE_EVERY_S = 60.0  # forgotten keys are deleted at most this often (of the sender's clock)
_CACHE_KIB = 1_024  # SQLite's page cache for the index, the provider's memory whatever the history
_INDEX_SCHEMA = """
CREATE TABLE IF NOT EXISTS delivered (key TEXT PRIMARY KEY, forget_at REAL NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS delivered_forget_at ON delivered (forget_at);
CREATE TABLE IF NOT EXISTS covered (
    one INTEGER PRIMARY KEY CHECK (one = 1), bytes INTEGER NOT NULL
);
"""


def index_path(directory: Path, kind: MessageKind) -> Path:
    """The index of delivered keys of `kind`'s file: `sms.keys.sqlite` beside `sms.jsonl`."""
    return directory / FILE_NAMES[kind].replace(".jsonl", ".keys.sqlite")


class FileProvider:
    name = "file"

    def __init__(
        self, directory: Path, kind: MessageKind, *, dedupe_s: float = DEFAULT_DEDUPE_S
    ) -> None:
        self.path = directory / FILE_NAMES[kind]
        self.index_path = index_path(directory, kind)
        self.dedupe_s = dedupe_s
        self._lock = trio.Lock()
        self._fd: int | None = None
        self._index: sqlite3.Connection | None = None
        self._behind = False  # the index missed lines of the file: read them before trusting it
        self._next_prune = float("-inf")

    async def deliver(self, message: Outgoing) -> DeliveryResult:
        # Named by the key, so a re-delivery gets the id the first delivery got.
        provider_id = str(uuid.uuid5(_IDS, message.idempotency_key))
        line = {"id": provider_id, **message.payload(), "at": message.at}
        async with self._lock:
            await trio.to_thread.run_sync(self._append, message.idempotency_key, line, message.at)
        return Accepted(provider_id)

    async def aclose(self) -> None:
        async with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
            if self._index is not None:
                self._index.close()
                self._index = None

    def remembered(self) -> int:
        """How many keys the index holds (for tests and the README's bound)."""
        index = self._index if self._index is not None else self._open_index()
        self._index = index
        return int(index.execute("SELECT COUNT(*) FROM delivered").fetchone()[0])

    # -- in the worker thread ------------------------------------------------------------------

    def _append(self, key: str, line: dict[str, Any], at: float) -> None:
        if self._fd is None:
            self._open()
        assert self._fd is not None and self._index is not None
        if self._behind:
            self._catch_up()  # raises while the index cannot be written: try later
        self._prune(at)
        if self._index.execute("SELECT 1 FROM delivered WHERE key = ?", (key,)).fetchone():
            return
        data = (json.dumps(line, ensure_ascii=False) + "\n").encode()
        end = _append_synced(self._fd, data)
        try:
            with self._index:
                self._index.execute(
                    "INSERT OR REPLACE INTO delivered (key, forget_at) VALUES (?, ?)",
                    (key, at + self.dedupe_s),
                )
                self._cover(end)
        except sqlite3.Error:
            # The line is written (the message is delivered); the index learns of it from the
            # file before the next message is looked up.
            self._behind = True

    def _open(self) -> None:
        make_directory(self.path.parent)
        is_new = not self.path.exists()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            if is_new:
                fsync_directory(self.path.parent)  # the new name survives a crash, as its lines do
            if self._index is None:
                self._index = self._open_index()
            self._fd = fd
        except BaseException:
            os.close(fd)
            raise
        self._behind = True  # until the lines past the index's mark are read
        self._catch_up()

    def _open_index(self) -> sqlite3.Connection:
        # One connection, used by one worker thread at a time (the provider's lock).
        # Python's own transactions: a `with index:` block commits its writes as one.
        index = sqlite3.connect(self.index_path, check_same_thread=False)
        try:
            index.execute("PRAGMA journal_mode = WAL")
            # A commit lost to a power cut loses the `covered` mark with its keys: start-up
            # reads those lines again. So no sync per commit is needed, only no corruption.
            index.execute("PRAGMA synchronous = NORMAL")
            index.execute(f"PRAGMA cache_size = -{_CACHE_KIB}")
            index.executescript(_INDEX_SCHEMA)
        except BaseException:
            index.close()
            raise
        os.chmod(self.index_path, 0o600)
        return index

    def _catch_up(self) -> None:
        """Index the lines of the file past what the index covers; end a torn last line."""
        assert self._fd is not None and self._index is not None
        row = self._index.execute("SELECT bytes FROM covered").fetchone()
        covered = 0 if row is None else int(row[0])
        size = os.fstat(self._fd).st_size
        if size < covered:
            covered = 0  # the file was replaced (moved aside, truncated): this one is new
        keys: list[tuple[str, float]] = []
        torn = False
        with self.path.open("rb") as existing:
            existing.seek(covered)
            for text in existing:
                torn = not text.endswith(b"\n")
                try:
                    parsed = json.loads(text)
                    key = str(parsed["idempotency_key"])
                    at = float(parsed.get("at", time.time()))
                except (ValueError, KeyError, TypeError):
                    continue  # a torn last line from a crash: that message is sent again
                keys.append((key, at + self.dedupe_s))
            end = existing.tell()
        if torn:
            end = _append_synced(self._fd, b"\n")  # the next line starts on a line of its own
        with self._index:
            self._index.executemany(
                "INSERT OR REPLACE INTO delivered (key, forget_at) VALUES (?, ?)", keys
            )
            self._cover(end)
        self._behind = False

    def _cover(self, end: int) -> None:
        assert self._index is not None
        self._index.execute(
            "INSERT INTO covered (one, bytes) VALUES (1, ?)"
            " ON CONFLICT (one) DO UPDATE SET bytes = excluded.bytes",
            (end,),
        )

    def _prune(self, now: float) -> None:
        """Forget the keys whose window has passed (`now` is the sender's clock)."""
        if now < self._next_prune:
            return
        assert self._index is not None
        with self._index:
            self._index.execute("DELETE FROM delivered WHERE forget_at < ?", (now,))
        self._next_prune = now + min(_PRUNE_EVERY_S, self.dedupe_s)


def _append_synced(fd: int, data: bytes) -> int:
    """Append `data` whole and fsync; the file's size after it. On a failed write the file is cut
    back to where it was (best effort), so a retry does not glue its line to a fragment."""
    start = os.lseek(fd, 0, os.SEEK_END)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    except OSError:
        with contextlib.suppress(OSError):
            os.ftruncate(fd, start)
        raise
    return start + len(data)
