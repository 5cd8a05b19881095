"""Crash test of the HTTP API: every contact the server acknowledged survives a SIGKILL.

    .venv/bin/python scripts/crash_api.py [--contacts N] [--concurrency C] [--kills K] [--seed S]

Runs `python -m hotline serve` in a temporary folder (`scripts/launch.py`), bound to
127.0.0.1:0, and fires N `POST /v1/contacts` at it, C at a time (a mix of topics and channels,
a share of them with an `Idempotency-Key`). K times, once a random number of creates has been
acknowledged and while others are in flight, the server is killed with SIGKILL and started again
on the same database, and everything answered so far is checked against what the restarted
server holds:

- every contact that got a 2xx is listed, `waiting`, with the arrival, target, deadline, class,
  channel, topic and phone it was answered with; the list (arrival order) keeps the order of
  the acknowledged arrivals;
- the router was rebuilt in that order: each waiting contact's `position` is the number of
  waiting contacts of its queue (topic, channel, language) with an earlier deadline or arrival;
- a contact nobody acknowledged is one of the requests cut off by a kill, at most once each;
- a request cut off with an `Idempotency-Key`, sent again, answers 200 with the contact it had
  committed (or 201 if it had not), and an acknowledged key sent again answers 200 with the
  same contact;
- no server logged an error or a traceback.

Once the last kill is checked the rest is sent, the server is stopped with SIGTERM (exit 0
expected) and checked once more after a clean restart. The summary goes to stdout; the exit
code is 1 on any violation (each is listed, and the temporary directory with the server logs is
kept), 0 otherwise. Loopback only; every wait has a time limit; the server is always killed.
"""

from __future__ import annotations

import argparse
import random
import shutil
import signal
import sys
import tempfile
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import trio
from launch import Server, create_token, end_process

REQUEST_TIMEOUT_S = 15.0
TOPICS = ("payments", "documents", "registration", "account_blocked", "technical", "emergency")
KEYED_SHARE = 0.5  # of requests that carry an Idempotency-Key
VOICE_SHARE = 0.6
KILL_AFTER = (0.2, 0.9)  # the kill comes after this share (at random) of a round's requests
CHECKED_FIELDS = ("arrived_at", "target_at", "deadline_at", "priority", "channel", "topic")
Contact = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Spec:
    """One create request, as a client would send it (and send it again)."""

    n: int
    channel: str
    topic: str
    phone: str
    key: str | None

    def body(self) -> dict[str, str]:
        return {"channel": self.channel, "topic": self.topic, "phone": self.phone}

    def headers(self) -> dict[str, str]:
        return {} if self.key is None else {"Idempotency-Key": self.key}


@dataclass(slots=True)
class Ledger:
    """What the client knows: the answers it got and the requests a kill cut off."""

    acked: dict[int, Contact] = field(default_factory=dict)  # spec number -> the 2xx body
    cut_off: dict[int, Spec] = field(default_factory=dict)  # sent, never answered
    refused: dict[int, int] = field(default_factory=dict)  # spec number -> status (line closed)
    committed_unanswered: int = 0  # cut off with a key; sent again: 200, it had been committed
    lost_before_commit: int = 0  # cut off with a key; sent again: 201, it had not
    resent: set[int] = field(default_factory=set)  # acknowledged keys already sent again
    violations: list[str] = field(default_factory=list)

    def violate(self, what: str) -> None:
        self.violations.append(what)
        print(f"  VIOLATION: {what}", flush=True)


def make_specs(rng: random.Random, n: int, voice_open: bool) -> list[Spec]:
    specs = []
    for i in range(n):
        voice = voice_open and rng.random() < VOICE_SHARE
        key = f"crash-{i}-{rng.getrandbits(32):08x}" if rng.random() < KEYED_SHARE else None
        # One phone number per request, so that a contact found on disk names its request.
        specs.append(
            Spec(i, "voice" if voice else "chat", rng.choice(TOPICS), f"+7912{i:07d}", key)
        )
    return specs


async def stop(server: Server, how: signal.Signals) -> int | None:
    return await trio.to_thread.run_sync(end_process, server.process, how)


def client_for(url: str, token: str, connections: int) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    return httpx.AsyncClient(
        base_url=url,
        headers={"Authorization": f"Bearer {token}"},
        timeout=REQUEST_TIMEOUT_S,
        limits=limits,
    )


async def fire(
    server: Server,
    token: str,
    specs: Iterator[Spec],
    ledger: Ledger,
    concurrency: int,
    kill_after: int | None,
) -> tuple[int, int]:
    """Send specs C at a time; with `kill_after`, SIGKILL the server once that many are
    answered. Returns (answered, in flight at the kill)."""
    answered = 0
    in_flight: set[int] = set()
    killed = False
    enough = trio.Event()
    at_kill = 0

    async def send(client: httpx.AsyncClient) -> None:
        nonlocal answered
        while not killed and (spec := next(specs, None)) is not None:
            in_flight.add(spec.n)
            try:
                response = await client.post(
                    "/v1/contacts", json=spec.body(), headers=spec.headers()
                )
            except httpx.TransportError as e:
                if not killed:
                    ledger.violate(f"request {spec.n} failed before any kill: {e!r}")
                ledger.cut_off[spec.n] = spec
                return
            finally:
                in_flight.discard(spec.n)
            answered += 1
            record_answer(spec, response, ledger)
            if kill_after is not None and answered >= kill_after:
                enough.set()

    async def kill_when_enough() -> None:
        nonlocal killed, at_kill
        await enough.wait()  # enough answers, or nothing left to send
        killed = True
        at_kill = len(in_flight)
        server.process.send_signal(signal.SIGKILL)

    async with client_for(server.url, token, concurrency) as client, trio.open_nursery() as nursery:
        if kill_after is not None:
            nursery.start_soon(kill_when_enough)
        async with trio.open_nursery() as senders:
            for _ in range(concurrency):
                senders.start_soon(send, client)
        enough.set()
    return answered, at_kill


def record_answer(spec: Spec, response: httpx.Response, ledger: Ledger) -> None:
    if response.status_code in (200, 201):
        body: Contact = response.json()
        ledger.acked[spec.n] = body
        if response.status_code != 201:
            ledger.violate(f"request {spec.n} (first send) answered {response.status_code}")
    elif response.status_code == 409 and _error_code(response) == "closed":
        ledger.refused[spec.n] = 409  # the voice line closed meanwhile: nothing acknowledged
    else:
        ledger.violate(f"request {spec.n} answered {response.status_code}: {response.text[:200]}")


def _error_code(response: httpx.Response) -> str | None:
    try:
        code: str | None = response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None
    return code


async def verify(
    server: Server, tokens: dict[str, str], specs: list[Spec], ledger: Ledger, concurrency: int
) -> int:
    """Check the restarted server against the ledger; returns the contacts it holds."""
    async with (
        client_for(server.url, tokens["integration"], concurrency) as integration,
        client_for(server.url, tokens["supervisor"], 1) as supervisor,
    ):
        await resend_cut_off_keys(integration, specs, ledger)
        listed = await list_all(supervisor)
        order = {c["id"]: i for i, c in enumerate(listed)}
        full = await fetch_each(integration, [c["id"] for c in listed], concurrency)
        check_acked(ledger, specs, order, full)
        check_unacknowledged(ledger, specs, listed, full)
        check_order_and_positions(ledger, listed, full)
        await resend_acked_keys(integration, specs, ledger, concurrency)
    return len(listed)


async def resend_cut_off_keys(client: httpx.AsyncClient, specs: list[Spec], ledger: Ledger) -> None:
    """A cut-off request with a key is retried as a client would: 200 if it had been committed."""
    for n, spec in sorted(ledger.cut_off.items()):
        if spec.key is None:
            continue
        response = await client.post("/v1/contacts", json=spec.body(), headers=spec.headers())
        if response.status_code in (200, 201):
            del ledger.cut_off[n]
            ledger.acked[n] = response.json()
            if response.status_code == 200:
                ledger.committed_unanswered += 1
            else:
                ledger.lost_before_commit += 1
        elif response.status_code == 409 and _error_code(response) == "closed":
            continue  # the voice line closed meanwhile: it stays cut off
        else:
            ledger.violate(f"retry of cut-off key {spec.key} answered {response.status_code}")


async def list_all(client: httpx.AsyncClient) -> list[Contact]:
    contacts: list[Contact] = []
    cursor: str | None = None
    while True:
        params = {"limit": "200"} | ({"cursor": cursor} if cursor else {})
        response = await client.get("/v1/contacts", params=params)
        response.raise_for_status()
        page = response.json()
        contacts.extend(page["contacts"])
        cursor = page["next_cursor"]
        if cursor is None:
            return contacts


async def fetch_each(
    client: httpx.AsyncClient, ids: list[str], concurrency: int
) -> dict[str, Contact]:
    found: dict[str, Contact] = {}
    todo = iter(ids)

    async def fetch() -> None:
        for contact_id in todo:
            response = await client.get(f"/v1/contacts/{contact_id}")
            response.raise_for_status()
            found[contact_id] = response.json()

    async with trio.open_nursery() as nursery:
        for _ in range(concurrency):
            nursery.start_soon(fetch)
    return found


def instant(text: str) -> datetime:
    """An API time ("...T07:45:03.889600Z"; no fraction when it is .000000), for ordering."""
    return datetime.fromisoformat(text)


def check_acked(
    ledger: Ledger, specs: list[Spec], order: dict[str, int], full: dict[str, Contact]
) -> None:
    for n, acked in sorted(ledger.acked.items()):
        now = full.get(acked["id"])
        if now is None or acked["id"] not in order:
            ledger.violate(f"acknowledged contact {acked['id']} (request {n}) is missing")
            continue
        if now["state"] != "waiting":
            ledger.violate(f"acknowledged contact {acked['id']} is {now['state']}, not waiting")
        for name in CHECKED_FIELDS:
            if now[name] != acked[name]:
                ledger.violate(f"{acked['id']} {name}: acknowledged {acked[name]}, now {now[name]}")
        if now["phone"] != specs[n].phone:
            ledger.violate(f"{acked['id']} does not carry the phone of request {n}")


def check_unacknowledged(
    ledger: Ledger, specs: list[Spec], listed: list[Contact], full: dict[str, Contact]
) -> None:
    """A contact nobody acknowledged must be a request a kill cut off, and only one."""
    acked_ids = {c["id"] for c in ledger.acked.values()}
    by_phone = {s.phone: s for s in specs}
    claimed: set[int] = set()
    for contact in listed:
        if contact["id"] in acked_ids:
            continue
        spec = by_phone.get(full[contact["id"]]["phone"])
        if spec is None or spec.n not in ledger.cut_off:
            ledger.violate(f"{contact['id']} was never requested, or was answered otherwise")
        elif spec.n in claimed:
            ledger.violate(f"request {spec.n} was committed twice")
        else:
            claimed.add(spec.n)
        if contact["state"] != "waiting":
            ledger.violate(f"unacknowledged {contact['id']} is {contact['state']}")


def check_order_and_positions(
    ledger: Ledger, listed: list[Contact], full: dict[str, Contact]
) -> None:
    """The list is in arrival order, and the rebuilt router ranks each queue by (deadline,
    arrival): a waiting contact has exactly the earlier ones of its queue ahead of it."""
    arrivals = [instant(c["arrived_at"]) for c in listed]
    if arrivals != sorted(arrivals):
        ledger.violate("the list is not in arrival order")
    acked_arrivals = {c["id"]: instant(c["arrived_at"]) for c in ledger.acked.values()}
    in_list = [acked_arrivals[c["id"]] for c in listed if c["id"] in acked_arrivals]
    if in_list != sorted(in_list):
        ledger.violate("acknowledged contacts are listed out of their acknowledged order")
    waiting = [full[c["id"]] for c in listed if full[c["id"]]["state"] == "waiting"]
    now = datetime.now(UTC)
    if any(instant(c["target_at"]) <= now for c in waiting):
        # Past its target a contact may also take the overflow skills' queues (and be passed
        # by it): a queue is no longer one topic. Only long runs get there.
        print("  (positions not checked: a contact is past its target)", flush=True)
        return
    queues: dict[tuple[str, str, str], list[Contact]] = defaultdict(list)
    for c in waiting:
        queues[(c["topic"], c["channel"], c["language"])].append(c)
    for queue in queues.values():
        queue.sort(key=lambda c: (instant(c["deadline_at"]), instant(c["arrived_at"])))
        for ahead, c in enumerate(queue):
            if c["position"] != ahead:
                ledger.violate(f"{c['id']} is at position {c['position']}, expected {ahead}")


async def resend_acked_keys(
    client: httpx.AsyncClient, specs: list[Spec], ledger: Ledger, concurrency: int
) -> None:
    """Each acknowledged key is sent again once, after the first restart that follows its answer."""
    keyed = [n for n in sorted(ledger.acked) if specs[n].key is not None and n not in ledger.resent]
    ledger.resent.update(keyed)
    todo = iter([(n, ledger.acked[n]) for n in keyed])

    async def resend() -> None:
        for n, acked in todo:
            spec = specs[n]
            response = await client.post("/v1/contacts", json=spec.body(), headers=spec.headers())
            again = response.json() if response.status_code == 200 else {}
            if response.status_code != 200 or again.get("id") != acked["id"]:
                ledger.violate(
                    f"key {spec.key} of {acked['id']} sent again: {response.status_code} "
                    f"{again.get('id')}"
                )
            elif any(again[name] != acked[name] for name in CHECKED_FIELDS):
                ledger.violate(f"key {spec.key} sent again answers other times or class")

    async with trio.open_nursery() as nursery:
        for _ in range(concurrency):
            nursery.start_soon(resend)


async def voice_is_open(url: str, token: str) -> bool:
    async with client_for(url, token, 1) as client:
        response = await client.get("/v1/schedule")
        response.raise_for_status()
        channels = response.json()["channels"]
    return any(c["channel"] == "voice" and c["open"] for c in channels)


async def run(args: argparse.Namespace, workdir: Path, children: list[Server]) -> Ledger:
    rng = random.Random(args.seed)
    db = workdir / "hotline.db"
    tokens: dict[str, str] = {}

    async def make_token(role: str) -> None:
        tokens[role] = await trio.to_thread.run_sync(create_token, db, role)

    async with trio.open_nursery() as nursery:
        for role in ("integration", "supervisor"):
            nursery.start_soon(make_token, role)
    incarnation = 0

    async def next_server() -> Server:
        nonlocal incarnation
        incarnation += 1
        start = partial(Server.start, workdir, log_name=f"server-{incarnation}.log")
        children.append(await trio.to_thread.run_sync(start))
        return children[-1]

    server = await next_server()
    voice_open = await voice_is_open(server.url, tokens["integration"])
    specs = make_specs(rng, args.contacts, voice_open)
    ledger = Ledger()
    todo = iter(specs)
    print(
        f"crash_api: {args.contacts} creates, {args.concurrency} at a time, {args.kills} kills, "
        f"seed {args.seed}; voice line {'open' if voice_open else 'closed: chats only'}; "
        f"logs in {workdir}",
        flush=True,
    )
    per_round = args.contacts // (args.kills + 1)
    for kill in range(1, args.kills + 1):
        share = rng.uniform(*KILL_AFTER)
        kill_after = max(1, min(round(per_round * share), per_round - args.concurrency))
        answered, in_flight = await fire(
            server, tokens["integration"], todo, ledger, args.concurrency, kill_after
        )
        code = await stop(server, signal.SIGKILL)
        if code != -signal.SIGKILL:
            ledger.violate(f"the server ended with {code} before it was killed")
        server = await next_server()
        held = await verify(server, tokens, specs, ledger, args.concurrency)
        print(
            f"kill {kill}: after {answered} answers, {in_flight} in flight; restarted: "
            f"{held} contacts held, {len(ledger.acked)} acknowledged; cut off with a key and "
            f"sent again so far: {ledger.committed_unanswered} had been committed, "
            f"{ledger.lost_before_commit} had not",
            flush=True,
        )
    answered, _ = await fire(server, tokens["integration"], todo, ledger, args.concurrency, None)
    code = await stop(server, signal.SIGTERM)
    if code != 0:
        ledger.violate(f"SIGTERM: the server exited with {code}, not 0")
    server = await next_server()
    held = await verify(server, tokens, specs, ledger, args.concurrency)
    print(
        f"rest: {answered} answers; SIGTERM, exit {code}; restarted, {held} contacts held, "
        f"{len(ledger.acked)} acknowledged",
        flush=True,
    )
    await stop(server, signal.SIGTERM)
    check_logs(workdir, ledger)
    return ledger


def check_logs(workdir: Path, ledger: Ledger) -> None:
    """A server that logged an error or a traceback has a fault to look at, even if every
    answer checked out (a journal retry, a failed recovery step)."""
    for log in sorted(workdir.glob("server-*.log")):
        for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
            if '"level": "error"' in line or '"level": "critical"' in line or "Traceback" in line:
                ledger.violate(f"{log.name}: {line[:300]}")


async def main_async(args: argparse.Namespace, workdir: Path) -> Ledger:
    children: list[Server] = []
    try:
        with trio.fail_after(args.timeout):
            return await run(args, workdir, children)
    finally:
        for server in children:
            end_process(server.process, signal.SIGKILL)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="scripts/crash_api.py",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    parser.add_argument("--contacts", type=int, default=1000, help="creates in all (1000)")
    parser.add_argument("--concurrency", type=int, default=16, help="requests at a time (16)")
    parser.add_argument("--kills", type=int, default=3, help="SIGKILLs mid-stream (3)")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: random)")
    parser.add_argument("--timeout", type=float, default=300.0, help="whole run limit, s (300)")
    parser.add_argument("--keep", action="store_true", help="keep the database and the logs")
    args = parser.parse_args(argv)
    if args.seed is None:
        args.seed = random.randrange(1 << 31)
    if args.contacts < (args.kills + 1) * (args.concurrency + 1):
        parser.error("--contacts must leave each round more requests than --concurrency")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="hotline-crash-"))
    ledger = trio.run(main_async, args, workdir)
    if ledger.violations:
        print(f"crash_api: FAILED, {len(ledger.violations)} violations; logs kept in {workdir}")
        for what in ledger.violations[:50]:
            print(f"  {what}")
        return 1
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    print(
        f"crash_api: ok: {args.kills} kills, {len(ledger.acked)} acknowledged contacts all "
        f"held in order, {len(ledger.cut_off)} cut off without a key, "
        f"{len(ledger.refused)} refused (line closed)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
