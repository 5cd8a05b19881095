"""A store killed with SIGKILL mid-stream loses no write it had answered.

A child process runs a store and eight writers that print each key once `transact` has answered;
the parent kills the child after enough answers, reopens the file and finds every printed key.
(SIGKILL keeps the OS page cache, so this checks that answers follow commits; surviving a power
loss is synchronous=FULL's job, checked by the pragma test.)
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import trio

from hotline.store import Tx, open_store

ANSWERS_BEFORE_KILL = 200
GIVE_UP_AFTER = 60.0

CHILD = """
import sys, trio
from hotline.store import open_store

async def main(path):
    async with open_store(path) as store:
        async def writer(w):
            for i in range(100_000):
                key = f"{w}-{i}"
                await store.transact(lambda tx: tx.execute(
                    "INSERT INTO idempotency_keys (scope, key, request_hash, created_at)"
                    " VALUES ('crash', ?, 'hash', 0)", (key,)))
                print(key, flush=True)
        async with trio.open_nursery() as nursery:
            for w in range(8):
                nursery.start_soon(writer, w)

trio.run(main, sys.argv[1])
"""


async def test_every_answered_write_survives_a_kill(db_path: Path) -> None:
    output = b""
    with trio.fail_after(GIVE_UP_AFTER):
        process = await trio.lowlevel.open_process(
            [sys.executable, "-c", CHILD, str(db_path)], stdout=subprocess.PIPE
        )
        assert process.stdout is not None
        try:
            while output.count(b"\n") < ANSWERS_BEFORE_KILL:
                chunk = await process.stdout.receive_some()
                assert chunk, "the child ended before it was killed"
                output += chunk
        finally:
            process.send_signal(signal.SIGKILL)
            await process.wait()
        # Answers printed before the kill are still in the pipe.
        while chunk := await process.stdout.receive_some():
            output += chunk
        await process.stdout.aclose()
    assert process.returncode == -signal.SIGKILL
    answered = {line.decode() for line in output.split(b"\n")[:-1]}  # the last may be cut
    assert len(answered) >= ANSWERS_BEFORE_KILL

    async def keys(tx: Tx) -> set[str]:
        rows = await tx.fetchall("SELECT key FROM idempotency_keys WHERE scope = 'crash'")
        return {row[0] for row in rows}

    with trio.fail_after(GIVE_UP_AFTER):
        async with open_store(db_path) as store:
            on_disk = await store.read(keys)
    assert answered <= on_disk
