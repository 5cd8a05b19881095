"""The `file` provider's memory and start-up do not grow with its history: delivered keys live
in an index on disk, forgotten after the dedupe window, and start-up reads only the lines the
index does not cover; a message is still written once across restarts and index failures."""

from __future__ import annotations

import json
import sqlite3
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from hotline.notify.providers import FileProvider, Outgoing
from hotline.notify.providers import file as file_provider
from hotline.store.outbox import MessageKind

BODY = "Обращение HL-7K3M-9QX2 принято. " * 4


def sms(n: int, at: float, *, key: str | None = None, body: str = BODY) -> Outgoing:
    key = key if key is not None else f"ticket:HL-{n:08d}:1:sms"
    return Outgoing(n, MessageKind.SMS, "+79123456789", None, body, key, 1, 1, at)


def keys_in(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["idempotency_key"] for line in lines]


@pytest.fixture
def no_fsync(monkeypatch: pytest.MonkeyPatch) -> None:
    """Thousands of deliveries in a test: durability is not what these look at."""
    monkeypatch.setattr(file_provider.os, "fsync", lambda fd: None)


@pytest.mark.usefixtures("no_fsync")
async def test_the_index_holds_only_the_last_window_of_keys(tmp_path: Path) -> None:
    provider = FileProvider(tmp_path, MessageKind.SMS, dedupe_s=10.0)
    for n in range(400):  # one a second: 40 windows
        await provider.deliver(sms(n, float(n)))
    held = provider.remembered()
    await provider.aclose()
    # The window (10 s) plus the pruning step (at most the window): 20 keys at one a second.
    assert 10 <= held <= 21
    assert len(keys_in(tmp_path / "sms.jsonl")) == 400


@pytest.mark.usefixtures("no_fsync")
async def test_the_provider_s_memory_does_not_grow_with_deliveries(tmp_path: Path) -> None:
    provider = FileProvider(tmp_path, MessageKind.SMS, dedupe_s=60.0)

    async def deliver(first: int, count: int) -> None:
        for n in range(first, first + count):
            # Long keys, so that keeping them would show: 1,000 of them are over 200 kB.
            await provider.deliver(sms(n, float(n), key=f"{n:08d}" + "k" * 180, body="t"))

    await deliver(0, 200)  # warm-up: the thread cache, the index's pages, the caches of json
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        await deliver(200, 1000)
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
        await provider.aclose()
    assert grown < 100_000, grown


async def test_start_up_reads_only_what_the_index_does_not_cover(
    tmp_path: Path, no_fsync: None
) -> None:
    first = FileProvider(tmp_path, MessageKind.SMS)
    for n in range(300):
        await first.deliver(sms(n, 1_000.0 + n, body=BODY * 8))  # about 2 kB a line
    await first.aclose()
    size = (tmp_path / "sms.jsonl").stat().st_size
    assert size > 500_000

    second = FileProvider(tmp_path, MessageKind.SMS)
    read_before = _bytes_read()
    await second.deliver(sms(5, 2_000.0, body=BODY * 8))  # a re-delivery of an early message
    await second.deliver(sms(300, 2_001.0))
    read = _bytes_read() - read_before
    await second.aclose()
    assert read < size // 10, (read, size)
    keys = keys_in(tmp_path / "sms.jsonl")
    assert len(keys) == 301 and len(set(keys)) == 301


async def test_a_line_the_index_missed_is_read_at_start(tmp_path: Path) -> None:
    first = FileProvider(tmp_path, MessageKind.SMS)
    await first.deliver(sms(1, 10.0))
    await first.aclose()
    # A crash after the line of message 2 was written, before the index took its key.
    line = {"id": "x", "idempotency_key": sms(2, 11.0).idempotency_key, "at": 11.0}
    with (tmp_path / "sms.jsonl").open("a", encoding="utf-8") as f:
        f.write(json.dumps(line) + "\n")
    second = FileProvider(tmp_path, MessageKind.SMS)
    await second.deliver(sms(2, 20.0))  # its lease ran out: handed over again
    await second.deliver(sms(3, 21.0))
    await second.aclose()
    assert keys_in(tmp_path / "sms.jsonl") == [sms(n, 0).idempotency_key for n in (1, 2, 3)]


async def test_an_index_without_its_file_starts_over_and_a_moved_file_too(tmp_path: Path) -> None:
    first = FileProvider(tmp_path, MessageKind.SMS)
    await first.deliver(sms(1, 10.0))
    await first.deliver(sms(2, 11.0))
    await first.aclose()
    (tmp_path / "sms.jsonl").rename(tmp_path / "sms-old.jsonl")  # moved aside by the deployer
    second = FileProvider(tmp_path, MessageKind.SMS)
    await second.deliver(sms(2, 12.0))  # still remembered: the window has not passed
    await second.deliver(sms(3, 13.0))
    await second.aclose()
    assert keys_in(tmp_path / "sms.jsonl") == [sms(3, 0).idempotency_key]


async def test_a_key_is_forgotten_once_its_window_has_passed(tmp_path: Path) -> None:
    provider = FileProvider(tmp_path, MessageKind.SMS, dedupe_s=10.0)
    await provider.deliver(sms(1, 0.0))
    await provider.deliver(sms(1, 9.0))  # within the window: dropped
    await provider.deliver(sms(2, 100.0))
    # The sender never hands a message over this late (its TTL plus the lease is the window).
    await provider.deliver(sms(1, 101.0))
    await provider.aclose()
    one, two = sms(1, 0).idempotency_key, sms(2, 0).idempotency_key
    assert keys_in(tmp_path / "sms.jsonl") == [one, two, one]


class _FailingIndex:
    """The index connection, whose next key write fails (a full disk, say)."""

    def __init__(self, real: sqlite3.Connection) -> None:
        self.real = real
        self.fail = True

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        if self.fail and sql.startswith("INSERT OR REPLACE INTO delivered"):
            self.fail = False
            raise sqlite3.OperationalError("database or disk is full")
        return self.real.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def __enter__(self) -> sqlite3.Connection:
        return self.real.__enter__()

    def __exit__(self, *exc: Any) -> Any:
        return self.real.__exit__(*exc)


async def test_a_failed_index_write_does_not_let_a_message_be_written_twice(
    tmp_path: Path,
) -> None:
    provider = FileProvider(tmp_path, MessageKind.SMS)
    await provider.deliver(sms(1, 10.0))
    real = provider._index
    assert real is not None
    provider._index = _FailingIndex(real)  # type: ignore[assignment]
    await provider.deliver(sms(2, 11.0))  # written, but its key did not reach the index
    await provider.deliver(sms(2, 12.0))  # handed over again (its record was lost, say)
    await provider.deliver(sms(3, 13.0))
    await provider.aclose()
    assert keys_in(tmp_path / "sms.jsonl") == [sms(n, 0).idempotency_key for n in (1, 2, 3)]


def _bytes_read() -> int:
    """Bytes this process has read through read(2) and its kin (Linux's /proc/self/io)."""
    for line in Path("/proc/self/io").read_text().splitlines():
        name, _, value = line.partition(":")
        if name == "rchar":
            return int(value)
    raise AssertionError("no rchar in /proc/self/io")
