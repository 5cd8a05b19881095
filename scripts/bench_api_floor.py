"""The floor of `scripts/bench api`: a bare Quart-Trio app (no hotline, no logging, no hooks),
served by stock Hypercorn (see below). It is what the framework answers at on this machine;
hotline's own connection handling answers a GET a little cheaper, the app's work being equal.
`GET /healthz` is the floor the targets are stated against;
`POST /v1/contacts` is the least any create can do in this framework (read and parse the JSON
body, answer 201 with a JSON object of the size hotline answers with; nothing validated, routed
or stored): the `post` phase, which says how much of a create's budget the framework takes alone.
With `--durable PATH`, that POST is answered only once its body is on disk (`Durable`): the least
any create that keeps what it acknowledges can do in this framework, the `durable` phase.

Run by `scripts/bench api --floor`: prints the URL it is bound to, then serves until SIGTERM.

It runs under the cycle collector's settings `hotline serve` runs under (`hotline.heap.settle`:
what start-up built frozen, a young generation of 20,000): left as CPython starts it, the bare
app spent 30-50 ms walking its own imported modules about once a second under load, a third of
its p99 (A/B, 6 rounds of 8 s, load 1.2-1.4: p99 87.3 -> 57.9 ms, CPU per request 1.165 -> 1.063
ms), and the ratios to it flattered hotline, which has settled its heap since session 10.

Bare on purpose: it is served by `hypercorn.trio.serve` itself, not by hotline's adapter
(`hotline.http_server`), so it still shows the upstream accidents that adapter works around:
- an idle keep-alive connection is never closed after its first request (send one `GET /healthz`
  on a socket and keep it open: it is still open long after `keep_alive_timeout`, 5 s), and
  SIGTERM then waits the whole graceful timeout for it;
- `h2load -D 2 -c 32 -m 1 URL/healthz` (HTTP/2 with prior knowledge) makes the worker raise
  `trio.BusyResourceError` within a couple of seconds, and the process exits.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import sys
import time
from functools import partial

import trio
from hypercorn.config import Config
from hypercorn.trio import serve
from quart import request
from quart_trio import QuartTrio

from hotline import heap

app = QuartTrio(__name__)


class Durable:
    """Group commit, as lean as it goes: each POST adds its row to the pending list and waits;
    one task takes everything pending, writes it in one transaction on a worker thread
    (`executemany`, COMMIT) and wakes the writers. The database is set as hotline's store sets
    its own (WAL, synchronous=FULL: a COMMIT returns once the log is fsynced; no COMMIT copies
    the log into the database, a second connection does it once a second, its last pass
    between two commits), so the wait is the one any create pays to be on disk when it is
    answered."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA synchronous = FULL")
        self._db.execute("PRAGMA wal_autocheckpoint = 0")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS contacts (id INTEGER PRIMARY KEY, body TEXT, at REAL)"
        )
        self._pending: list[tuple[str, float]] = []
        self._work = trio.Event()
        self._committed = trio.Event()  # set when what is pending now is on disk
        self._turn = trio.Lock()  # the writer's: a commit, or the checkpoint's last pass

    async def write(self, body: str) -> None:
        self._pending.append((body, time.time()))
        committed = self._committed
        self._work.set()
        await committed.wait()

    async def run(self) -> None:
        while True:
            await self._work.wait()
            self._work = trio.Event()
            rows, self._pending = self._pending, []
            committed, self._committed = self._committed, trio.Event()
            async with self._turn:
                await trio.to_thread.run_sync(self._commit, rows)
            committed.set()

    async def checkpoint(self) -> None:
        copier = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)

        def copy() -> None:
            copier.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

        while True:
            await trio.sleep(1.0)
            await trio.to_thread.run_sync(copy)
            async with self._turn:
                await trio.to_thread.run_sync(copy)

    def _commit(self, rows: list[tuple[str, float]]) -> None:
        self._db.execute("BEGIN IMMEDIATE")
        self._db.executemany("INSERT INTO contacts (body, at) VALUES (?, ?)", rows)
        self._db.execute("COMMIT")


durable: Durable | None = None


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/v1/contacts")
async def create() -> tuple[dict[str, object], int]:
    body = await request.get_json()
    if durable is not None:
        await durable.write(json.dumps(body))
    return {
        "id": "c-00000000000000000000000000",
        "state": "waiting",
        "channel": body["channel"],
        "topic": body["topic"],
        "priority": "normal",
        "position": 1,
        "arrived_at": "2026-12-02T00:00:00Z",
        "target_at": "2026-12-02T00:30:00Z",
    }, 201


async def main() -> None:
    config = Config()
    config.bind = ["127.0.0.1:0"]
    config.accesslog = None
    stop = trio.Event()

    async def until_stopped() -> None:
        await stop.wait()

    heap.settle()  # hotline serve's collector settings: the floor is not slowed by CPython's
    with trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        async with trio.open_nursery() as committing:
            if durable is not None:
                committing.start_soon(durable.run)
                committing.start_soon(durable.checkpoint)
            async with trio.open_nursery() as nursery:
                urls = await nursery.start(
                    partial(serve, app, config, shutdown_trigger=until_stopped)
                )
                print(urls[0], flush=True)
                async for _ in signals:
                    stop.set()
                    break
            committing.cancel_scope.cancel()  # once Hypercorn has answered all it will


if __name__ == "__main__":
    if sys.argv[1:2] == ["--durable"]:
        durable = Durable(sys.argv[2])
    trio.run(main)
