"""`scripts/bench soak` (or `.venv/bin/python scripts/soak.py`): does the server's memory stay
flat under a steady mixed load? Reports the slope of its resident memory in MB per hour.

    scripts/bench soak [--rate 44] [--minutes 60] [--sample-s 10] [--warmup-minutes M]

Starts `hotline serve` in a temporary folder on 127.0.0.1 (`scripts/launch.py`), makes an
admin token, puts `--operators` operators with every topic's skill on the chat line, and drives
a steady load of `--rate` requests per second (one shared pacer, `--workers` clients each
walking one contact's life after another):

    create a chat contact -> (look until it is offered) -> accept -> open a ticket for it
    -> complete -> end the wrap-up -> move the ticket to in_progress -> read it
    -> list messages -> approved (or rejected, every other one) -> completed

so contacts, operators' states, tickets, the outbox and its SMS, e-mail and account events
(delivered by the `file` provider) all see traffic. Every `--sample-s` seconds it reads the
server's resident memory (RSS), open file descriptors and threads from /proc. The first
`--warmup-minutes` (by default a third of the run, at most 20 min) are discarded; a least-squares
line through the remaining RSS samples gives the slope. It stops by itself after `--minutes`,
stops the server with SIGTERM and removes the folder (`--keep` keeps it).

Last line: `soak: RSS slope S MB/h after W min warm-up (R0 -> R1 MB), fds F0-F1,
threads T0-T1, N requests at X/s, E errors`

A benchmark, not a test: exit code 0 unless the server died or a request got a 5xx or no
answer; nothing about the slope is asserted (a load short of `--rate` is said, not failed).
"""

from __future__ import annotations

import argparse
import math
import random
import shutil
import statistics
import sys
import tempfile
import time
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import trio
from launch import CONFIG, Sample, Server, create_token

REQUEST_TIMEOUT_S = 15.0
OFFER_POLLS = 20  # looks at a waiting contact before it is abandoned
MAX_WARMUP_MIN = 20.0  # the phone cache and the routing timers take ~20 min to fill at 44/s


@dataclass(slots=True)
class Tally:
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)  # no answer: the exception's name
    examples: list[str] = field(default_factory=list)  # a few unexpected answers, for the report

    def errors(self) -> int:
        return sum(n for s, n in self.statuses.items() if s >= 500) + sum(self.failures.values())


class Pacer:
    """Hands out one request slot every 1/rate seconds to whoever asks; a client late by more
    than a second does not get a burst to catch up (the load stays steady)."""

    def __init__(self, rate: float) -> None:
        self._interval = 1.0 / rate
        self._next = trio.current_time()

    async def slot(self) -> None:
        now = trio.current_time()
        self._next = max(self._next + self._interval, now - 1.0)
        await trio.sleep_until(self._next)


class Load:
    def __init__(
        self, client: httpx.AsyncClient, pacer: Pacer, tally: Tally, rng: random.Random
    ) -> None:
        self.client, self.pacer, self.tally, self.rng = client, pacer, tally, rng

    async def call(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        """One paced request; the JSON answer of a 2xx, else None (counted)."""
        await self.pacer.slot()
        self.tally.requests += 1
        try:
            answer = await self.client.request(method, path, json=body, params=params or None)
        except httpx.HTTPError as e:
            self.tally.failures[type(e).__name__] += 1
            return None
        self.tally.statuses[answer.status_code] += 1
        if answer.is_success:
            return answer.json()
        if len(self.tally.examples) < 5:
            self.tally.examples.append(f"{method} {path}: {answer.status_code} {answer.text[:200]}")
        return None

    async def contact_life(self, topics: list[str], n: int) -> None:
        topic = self.rng.choice(topics)
        phone = f"+7912{self.rng.randrange(10**7):07d}"  # a mobile range: always valid
        contact = await self.call(
            "POST", "/v1/contacts", {"channel": "chat", "topic": topic, "phone": phone}
        )
        if contact is None:
            return
        cid = contact["id"]
        polls = 0
        while contact["state"] == "waiting" and polls < OFFER_POLLS:
            polls += 1
            await trio.sleep(0.2)
            contact = await self.call("GET", f"/v1/contacts/{cid}") or contact
        if contact["state"] != "offered":
            await self.call("POST", f"/v1/contacts/{cid}/abandon")
            return
        operator = contact["operator_id"]
        if await self.call("POST", f"/v1/contacts/{cid}/accept", {"operator_id": operator}) is None:
            return
        ticket = await self.call(
            "POST",
            "/v1/tickets",
            {
                "topic": topic,
                "phone": phone,
                "description": f"soak ticket {n}: the citizen's question, told in a few words",
                "full_name": "Soak Test Citizen",
                "email": f"soak{n}@example.org",
                "contact_id": cid,
            },
        )
        outcome = {"operator_id": operator, "outcome": "answered"}
        await self.call("POST", f"/v1/contacts/{cid}/complete", outcome)
        await self.call("POST", f"/v1/operators/{operator}/wrap-up/end")
        if ticket is None:
            return
        number = ticket["number"]
        await self.call("POST", f"/v1/tickets/{number}/status", {"to": "in_progress"})
        await self.call("GET", f"/v1/tickets/{number}")
        await self.call("GET", "/v1/messages", limit=20)
        # Every ticket is settled, as a line in a steady state settles them: the open tickets
        # (which the server indexes by phone) stay as many, not a backlog that grows all run.
        verdict = "approved" if n % 2 == 0 else "rejected"
        await self.call("POST", f"/v1/tickets/{number}/status", {"to": verdict})
        await self.call("POST", f"/v1/tickets/{number}/status", {"to": "completed"})


def chat_topics() -> list[str]:
    with CONFIG.open("rb") as f:
        topics = tomllib.load(f)["topics"]
    return [name for name in topics if name != "callback"]  # callback: made from voicemails


async def put_operators(load: Load, count: int, topics: list[str]) -> None:
    until = (datetime.now(UTC) + timedelta(days=365)).date().isoformat()
    for i in range(count):
        op = f"soak-op-{i:03d}"
        profile = {
            "name": f"Soak operator {i}",
            "skills": dict.fromkeys(topics, 3),
            "languages": ["ru"],
            "capacity": {"chat": 1},
            "certified_until": until,
        }
        if await load.call("PUT", f"/v1/operators/{op}", profile) is None:
            raise RuntimeError(f"could not create operator {op}: {load.tally.examples[-1:]}")
        await load.call("POST", f"/v1/operators/{op}/state", {"state": "ready"})


async def drive(server: Server, token: str, args: argparse.Namespace) -> tuple[Tally, list[Sample]]:
    tally = Tally()
    samples: list[Sample] = []
    topics = chat_topics()
    limits = httpx.Limits(max_connections=args.workers + 1, max_keepalive_connections=args.workers)
    async with httpx.AsyncClient(
        base_url=server.url,
        headers={"Authorization": f"Bearer {token}"},
        timeout=REQUEST_TIMEOUT_S,
        limits=limits,
    ) as client:
        setup = Load(client, Pacer(1000.0), tally, random.Random(args.seed))
        await put_operators(setup, args.operators, topics)
        pacer = Pacer(args.rate)
        started = time.monotonic()
        until = started + args.minutes * 60.0
        counter = iter(range(10**12))

        async def worker(seed: int) -> None:
            load = Load(client, pacer, tally, random.Random(seed))
            while time.monotonic() < until:
                await load.contact_life(topics, next(counter))

        async def sampler() -> None:
            next_report = started + 60.0
            while time.monotonic() < until and server.alive():
                samples.append(server.sample())
                if time.monotonic() >= next_report:
                    next_report += 60.0
                    s = samples[-1]
                    print(
                        f"  {(s.at - started) / 60:5.1f} min: {tally.requests} requests,"
                        f" RSS {s.rss_bytes / 1e6:.1f} MB, {s.fds} fds, {s.threads} threads,"
                        f" {tally.errors()} errors",
                        flush=True,
                    )
                await trio.sleep(args.sample_s)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(sampler)
            for i in range(args.workers):
                nursery.start_soon(worker, args.seed * 1000 + i)
    return tally, samples


def rss_slope_mb_per_h(samples: list[Sample]) -> float:
    """Least-squares slope of RSS against time, in MB (10^6 bytes) per hour."""
    if len(samples) < 2:
        return math.nan
    hours = [s.at / 3600.0 for s in samples]
    mbs = [s.rss_bytes / 1e6 for s in samples]
    if max(hours) == min(hours):
        return math.nan
    return statistics.linear_regression(hours, mbs).slope


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rate", type=float, default=44.0, help="requests per second (44)")
    parser.add_argument("--minutes", type=float, default=60.0, help="how long to run (60)")
    parser.add_argument(
        "--warmup-minutes",
        type=float,
        default=None,
        help="samples discarded at the start (default: a third of the run, at most 20)",
    )
    parser.add_argument("--sample-s", type=float, default=10.0, help="seconds between samples")
    parser.add_argument("--workers", type=int, default=32, help="concurrent clients (32)")
    parser.add_argument("--operators", type=int, default=40, help="operators on the line (40)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument(
        "--samples", type=Path, help="also write every sample to this CSV (s, rss_mb, fds, threads)"
    )


def run(args: argparse.Namespace) -> int:
    if args.rate <= 0 or args.minutes <= 0 or args.sample_s <= 0 or args.workers < 1:
        print("soak: --rate, --minutes, --sample-s and --workers must be positive", file=sys.stderr)
        return 2
    if args.operators <= args.workers:
        print("soak: --operators must exceed --workers (each holds one)", file=sys.stderr)
        return 2
    warmup_min = args.warmup_minutes
    if warmup_min is None:
        warmup_min = min(MAX_WARMUP_MIN, args.minutes / 3.0)
    workdir = Path(tempfile.mkdtemp(prefix="hotline-soak-"))
    server: Server | None = None
    try:
        server = Server.start(workdir)
        token = create_token(server.db, "admin")
        print(
            f"soak: {args.rate:g} req/s for {args.minutes:g} min, {args.workers} clients,"
            f" {args.operators} operators, server pid {server.process.pid} in {workdir}",
            flush=True,
        )
        tally, samples = trio.run(drive, server, token, args)
        alive = server.alive()
        db_mb = sum(p.stat().st_size for p in workdir.glob("hotline.db*")) / 1e6
        code = server.stop()
    finally:
        if server is not None:
            server.stop()
        if args.keep:
            print(f"soak: kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    if not samples:
        print("soak: no sample taken")
        return 1
    start = samples[0].at
    if args.samples is not None:
        with args.samples.open("w", encoding="utf-8") as out:
            out.write("s,rss_mb,fds,threads\n")
            for s in samples:
                out.write(f"{s.at - start:.1f},{s.rss_bytes / 1e6:.3f},{s.fds},{s.threads}\n")
    kept = [s for s in samples if s.at - start >= warmup_min * 60.0] or samples[-2:]
    slope = rss_slope_mb_per_h(kept)
    elapsed = samples[-1].at - start
    rate = tally.requests / elapsed if elapsed > 0 else 0.0
    fds = [s.fds for s in kept]
    threads = [s.threads for s in kept]
    print(
        f"statuses {dict(sorted(tally.statuses.items()))}, failures {dict(tally.failures)},"
        f" database {db_mb:.1f} MB, server exit {code}, {len(kept)} samples kept"
    )
    for example in tally.examples:
        print(f"  e.g. {example}")
    if rate < args.rate * 0.9:
        print(f"soak: the load fell short of {args.rate:g} req/s (the machine is busy?)")
    print(
        f"soak: RSS slope {slope:+.2f} MB/h after {warmup_min:g} min warm-up"
        f" ({kept[0].rss_bytes / 1e6:.1f} -> {kept[-1].rss_bytes / 1e6:.1f} MB),"
        f" fds {min(fds)}-{max(fds)}, threads {min(threads)}-{max(threads)},"
        f" {tally.requests} requests at {rate:.1f}/s, {tally.errors()} errors"
    )
    healthy = alive and tally.errors() == 0
    return 0 if healthy else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="scripts/soak.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
