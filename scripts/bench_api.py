"""`scripts/bench api`: requests per second and latency of the HTTP API, `GET /healthz` against
`POST /v1/contacts`, on one server in one run.

The server is `python -m hotline serve` on a temporary database (the shipped configuration, so
log level `info`: one JSON line per request and per routing event, to a file), bound to
127.0.0.1:0. The load comes from separate processes (`bench_api.py loadgen`, one by default),
each a trio program holding its share of the connections open (keep-alive) and sending one
request after another on each: pre-encoded requests and a minimal HTTP/1.1 reader (status
line, Content-Length), so that the client costs little beside the server. `GET /healthz` and
`POST /v1/contacts` (a mix of topics and channels; each answered once on disk) alternate in
`--rounds` rounds (healthz, create, healthz, create, ...), each after a short warm-up that is not
counted, and each phase's rounds are added up: a slow spell of a shared machine falls on both.
Latency is from the first byte sent to the last byte of a 2xx answer; req/s is the 2xx answers
in the timed windows over their length. Any other answer (and any connection failure) is counted
apart, listed, and makes the run exit 1: a run with errors is not a measurement. The server's
CPU use (utime + stime of its process, from /proc, over the phase) and the load generators'
are shown beside each phase.

With `--floor`, each round also drives `bench_api_floor.py` (`floor`), a bare Quart-Trio app
with only `GET /healthz` under stock Hypercorn: what the framework itself answers at on this
machine (hotline's own connection handling, `hotline.http_server`, answers a GET a little cheaper
than the stock worker does); the same app's bare `POST /v1/contacts`
(`post`: the body parsed, 201, nothing validated or stored: the framework's share of a create);
the same POST on a second bare app that answers only once the body is committed to SQLite
(`durable`: group commit, WAL, synchronous=FULL as hotline's store; the least a create that
keeps what it acknowledges can do here, and how many bodies it kept is checked against its
answers); and (`depth`, unless `--depth 0`) creates on
a second hotline server that already holds `--depth` waiting contacts (10,000; filled through the
API before the rounds, and not counted). The targets are then ratios within the run, which the
neighbours on a shared machine move much less than the figures themselves: creates/s against the
floor's req/s, create p99 against the floor's p99, server CPU per create against server CPU per
floor request, on the empty queue (which grows by the creates of the earlier rounds) and at depth.

Profiling the server (the figures then include the profiler's cost):
- HOTLINE_BENCH_PROFILE=py-spy (py-spy on PATH, or its path in HOTLINE_BENCH_PYSPY): each phase
  is sampled with `py-spy record --gil --threads --format raw` (Python time only: SQLite's
  own work runs without the GIL) and summarised after the table by thread, by stage of the
  work (HTTP, validation, handler, store bridge, logging, scheduler...) and by line;
- HOTLINE_BENCH_PROFILE=cprofile: the server runs under cProfile (much slower; its SQLite
  thread is not seen) and the top of the profile of the whole run is printed.

This is a benchmark, not a test: it reports, it asserts nothing about time.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import launch
import trio
from launch import create_token, end_process

ROOT = Path(__file__).resolve().parent.parent
STOP_TIMEOUT_S = 20.0
LOADGEN_SLACK_S = 60.0  # beyond warm-up + duration, before a load generator is given up on
TOPICS = ("payments", "documents", "registration", "account_blocked", "technical", "emergency")
VOICE_SHARE = 0.6
BODY_VARIANTS = 64
TARGET_SHARE = 0.5  # creates/s >= this share of healthz req/s
TARGET_P99_MS = 50.0
# With --floor: creates/s >= this share of the floor's req/s, create p99 <= this many times the
# floor's, server CPU per create <= this many times the floor's per request (empty and at depth).
TARGET_FLOOR_SHARE = 0.55
TARGET_FLOOR_P99 = 1.2
TARGET_FLOOR_CPU = 1.8
DEPTH = 10_000  # waiting contacts before the `depth` phase (--depth)
FILL_LIMIT_S = 600.0  # the fill of the depth server gives up after this long
PROFILE_ENV = "HOTLINE_BENCH_PROFILE"
PYSPY_ENV = "HOTLINE_BENCH_PYSPY"
PYSPY_RATE = 200  # samples/s
CLK_TCK = os.sysconf("SC_CLK_TCK")


# -- the load generator (a separate process) ----------------------------------------------------


def healthz_requests(host: str) -> list[bytes]:
    return [f"GET /healthz HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()]


def create_requests(host: str, token: str, channels: Sequence[str], seed: int) -> list[bytes]:
    rng = random.Random(seed)
    requests = []
    for n in range(BODY_VARIANTS):
        voice = "voice" in channels and (len(channels) == 1 or rng.random() < VOICE_SHARE)
        body = json.dumps(
            {
                "channel": "voice" if voice else "chat",
                "topic": rng.choice(TOPICS),
                "phone": f"+7912{seed % 1000:03d}{n:04d}",
            }
        ).encode()
        head = (
            f"POST /v1/contacts HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        requests.append(head.encode() + body)
    return requests


class ProtocolError(Exception):
    pass


async def _read_response(stream: trio.SocketStream, buf: bytearray) -> int:
    """Read one whole response from `stream` (its body is dropped); its status."""
    receive = stream.receive_some
    while (end := buf.find(b"\r\n\r\n")) < 0:
        chunk = await receive(65536)
        if not chunk:
            raise ProtocolError("the server closed the connection")
        buf += chunk
    head = bytes(buf[:end]).lower()
    at = head.find(b"\r\ncontent-length:")
    if at < 0:
        raise ProtocolError("an answer without Content-Length")
    line_end = head.find(b"\r\n", at + 2)
    length = int(head[at + 17 : line_end if line_end >= 0 else None])
    total = end + 4 + length
    while len(buf) < total:
        chunk = await receive(65536)
        if not chunk:
            raise ProtocolError("the server closed the connection")
        buf += chunk
    if b"\r\nconnection: close" in head:
        raise ProtocolError("the server closed a keep-alive connection")
    status = int(buf[9:12])
    del buf[:total]
    return status


def loadgen(args: argparse.Namespace) -> int:
    """Run one phase on `args.connections` connections; print a JSON report on stdout."""
    host = f"127.0.0.1:{args.port}"
    if args.kind == "healthz":
        requests = healthz_requests(host)
    else:
        requests = create_requests(host, args.token, args.channels.split(","), args.seed)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    failures: list[str] = []
    answered = [0]  # warm-up included
    budget = [args.count or 0]  # requests left to send, with --count
    clock = time.perf_counter

    async def connection(n: int, counted_from: float, until: float) -> None:
        stream = await trio.open_tcp_stream("127.0.0.1", args.port)
        buf = bytearray()
        i = n
        async with stream:
            while (start := clock()) < until:
                if args.count:
                    if budget[0] <= 0:
                        break
                    budget[0] -= 1
                await stream.send_all(requests[i % len(requests)])
                status = await _read_response(stream, buf)
                answered[0] += 1
                if start >= counted_from:
                    if 200 <= status < 300:  # only successes are timed and counted as done
                        latencies.append(clock() - start)
                    statuses[status] = statuses.get(status, 0) + 1
                i += 1

    async def main() -> tuple[float, float]:
        begin = clock()
        counted_from = begin + args.warmup
        until = counted_from + args.duration
        try:
            async with trio.open_nursery() as nursery:
                for n in range(args.connections):
                    nursery.start_soon(connection, n, counted_from, until)
        except* (OSError, ProtocolError) as group:
            failures.extend(repr(e) for e in group.exceptions)
        return counted_from, clock()

    cpu0 = time.process_time()
    counted_from, ended = trio.run(main)
    report = {
        "window_s": max(1e-9, min(ended, counted_from + args.duration) - counted_from),
        "latencies_us": [round(x * 1e6) for x in latencies],
        "statuses": statuses,
        "answered": answered[0],
        "failures": failures,
        "cpu_s": time.process_time() - cpu0,
    }
    json.dump(report, sys.stdout)
    return 0


# -- the benchmark (the parent process) ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Phase:
    name: str
    window_s: float
    latencies_us: list[int]  # of the 2xx answers
    statuses: dict[int, int]
    failures: list[str]
    answered: int  # warm-up included, as the CPU figures are
    wall_s: float  # of the whole phase, load generators' start-up included
    server_cpu_s: float
    loadgen_cpu_s: float

    @property
    def rate(self) -> float:
        """2xx answers per second."""
        return len(self.latencies_us) / self.window_s

    @property
    def cpu_per_answer_s(self) -> float:
        return self.server_cpu_s / max(1, self.answered)

    @property
    def errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if not 200 <= status < 300)

    def percentile_ms(self, q: float) -> float:
        ordered = sorted(self.latencies_us)
        if not ordered:
            return 0.0
        return ordered[max(0, math.ceil(q * len(ordered)) - 1)] / 1000.0


class _Served:
    """A server process the load generators are pointed at."""

    process: subprocess.Popen[bytes]
    port: int
    integration = ""  # the token create requests carry

    def cpu_s(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime

    def stop(self) -> int | None:
        return end_process(self.process)


class Floor(_Served):
    """`bench_api_floor.py`: the bare framework, for the `floor` and `post` phases (`--floor`);
    with `durable` (a database path), for the `durable` phase."""

    def __init__(self, durable: Path | None = None) -> None:
        script = Path(__file__).resolve().with_name("bench_api_floor.py")
        extra = ["--durable", str(durable)] if durable is not None else []
        self.process = subprocess.Popen(
            [sys.executable, str(script), *extra],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        assert self.process.stdout is not None
        url = self.process.stdout.readline().decode().strip()  # printed once it is bound
        if not url:
            raise RuntimeError(f"the floor app exited with {self.process.wait()}")
        self.port = int(url.rsplit(":", 1)[1])


class Server(_Served):
    """`hotline serve` in `workdir` (`scripts/launch.py`), with an integration token."""

    def __init__(self, workdir: Path, profile: Path | None) -> None:
        self.integration = create_token(workdir / "hotline.db", "integration")
        launched = launch.Server.start(workdir, profile=profile)
        self.process, self.url, self.port = launched.process, launched.url, launched.port

    def open_channels(self) -> list[str]:
        call = urllib.request.Request(
            f"{self.url}/v1/schedule", headers={"Authorization": f"Bearer {self.integration}"}
        )
        with urllib.request.urlopen(call, timeout=10) as answer:
            channels = json.load(answer)["channels"]
        return [c["channel"] for c in channels if c["open"] and c["channel"] in ("voice", "chat")]


def run_phase(
    server: _Served,
    kind: str,
    args: argparse.Namespace,
    channels: list[str],
    pyspy: tuple[str, Path] | None,
    count: int = 0,
    profile_as: str = "",
) -> Phase:
    """One phase; with `pyspy` (its command and a directory), the server is sampled meanwhile.
    With `count`, it ends once that many requests are answered (no warm-up; the fill of the
    depth server), or after FILL_LIMIT_S."""
    warmup, duration = (0.0, FILL_LIMIT_S) if count else (args.warmup, args.duration)
    shares = [args.connections // args.processes] * args.processes
    for i in range(args.connections % args.processes):
        shares[i] += 1
    loadgens: list[subprocess.Popen[bytes]] = []
    spy: subprocess.Popen[bytes] | None = None
    cpu0 = server.cpu_s()
    began = time.monotonic()
    try:
        if pyspy is not None:
            folded = pyspy[1] / f"{profile_as or kind}.folded"
            spy = _start_pyspy(pyspy[0], server.process.pid, folded)
        for i, share in enumerate(shares):
            command = [sys.executable, str(Path(__file__).resolve()), "loadgen"]
            command += ["--port", str(server.port), "--kind", kind, "--token", server.integration]
            command += ["--channels", ",".join(channels), "--seed", str(i)]
            command += ["--connections", str(share), "--warmup", str(warmup)]
            command += ["--duration", str(duration)]
            if count:
                command += ["--count", str(count // len(shares) + (i < count % len(shares)))]
            loadgens.append(subprocess.Popen(command, stdout=subprocess.PIPE))
        reports = []
        for process in loadgens:
            out, _ = process.communicate(timeout=warmup + duration + LOADGEN_SLACK_S)
            if process.returncode != 0:
                raise RuntimeError(f"a load generator exited with {process.returncode}")
            reports.append(json.loads(out))
    finally:
        for process in loadgens:
            if process.poll() is None:
                process.kill()
                process.wait()
        if spy is not None:
            spy.send_signal(signal.SIGINT)  # py-spy writes what it sampled, then exits
            try:
                spy.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                spy.kill()
                spy.wait()
    statuses: dict[int, int] = {}
    for r in reports:
        for status, n in r["statuses"].items():
            statuses[int(status)] = statuses.get(int(status), 0) + n
    return Phase(
        name=kind,
        window_s=max(r["window_s"] for r in reports),
        latencies_us=[x for r in reports for x in r["latencies_us"]],
        statuses=statuses,
        failures=[f for r in reports for f in r["failures"]],
        answered=sum(r["answered"] for r in reports),
        wall_s=time.monotonic() - began,
        server_cpu_s=server.cpu_s() - cpu0,
        loadgen_cpu_s=sum(r["cpu_s"] for r in reports),
    )


def _merged(rounds: list[Phase]) -> Phase:
    """The rounds of one phase as one: their windows, answers and CPU added up."""
    statuses: dict[int, int] = {}
    for r in rounds:
        for status, n in r.statuses.items():
            statuses[status] = statuses.get(status, 0) + n
    return Phase(
        name=rounds[0].name,
        window_s=sum(r.window_s for r in rounds),
        latencies_us=[x for r in rounds for x in r.latencies_us],
        statuses=statuses,
        failures=[f for r in rounds for f in r.failures],
        answered=sum(r.answered for r in rounds),
        wall_s=sum(r.wall_s for r in rounds),
        server_cpu_s=sum(r.server_cpu_s for r in rounds),
        loadgen_cpu_s=sum(r.loadgen_cpu_s for r in rounds),
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--duration", type=float, default=10.0, help="s per phase, all rounds together (10)"
    )
    parser.add_argument("--warmup", type=float, default=1.0, help="s before each phase (1)")
    parser.add_argument("--connections", type=int, default=32, help="keep-alive (32)")
    parser.add_argument(
        "--processes", type=int, default=1, help="load generator processes sharing them (1)"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=4,
        help="healthz and create alternate this many times, splitting --duration (4)",
    )
    parser.add_argument(
        "--floor",
        action="store_true",
        help="also a phase against a bare Quart-Trio app (bench_api_floor.py): the framework's "
        "own figures on this machine",
    )
    parser.add_argument(
        "--depth",
        type=int,
        default=None,
        help=f"with --floor: contacts already waiting on the depth server ({DEPTH}; 0: no "
        "depth phase)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="0.5 s phases, 0.2 s warm-up, depth 200 unless given (the smoke test)",
    )


def run(args: argparse.Namespace) -> int:
    if args.quick:
        args.duration, args.warmup = 0.5, 0.2
    depth: int = args.depth if args.depth is not None else (200 if args.quick else DEPTH)
    if not args.floor:
        depth = 0
    profile_mode = os.environ.get(PROFILE_ENV, "")
    if profile_mode not in ("", "cprofile", "py-spy"):
        print(f"{PROFILE_ENV} is cprofile or py-spy, not {profile_mode!r}", file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="hotline-bench-"))
    profile = workdir / "server.prof" if profile_mode == "cprofile" else None
    pyspy = None
    if profile_mode == "py-spy":
        command = os.environ.get(PYSPY_ENV) or shutil.which("py-spy")
        if command is None:
            print(f"py-spy is not on PATH; set {PYSPY_ENV} to its path", file=sys.stderr)
            return 2
        pyspy = (command, workdir)
    # Alternating rounds, so that a slow spell of a shared machine falls on both alike (one
    # round when profiled: a profile per phase).
    rounds = 1 if pyspy is not None else max(1, args.rounds)
    server: Server | None = None
    deep: Server | None = None
    floor: Floor | None = None
    durable: Floor | None = None
    exit_codes: list[int | None] = []
    try:
        server = Server(workdir, profile)
        floor = Floor() if args.floor else None
        durable = Floor(workdir / "durable.db") if args.floor else None
        if depth:
            (workdir / "deep").mkdir()
            deep = Server(workdir / "deep", None)
        channels = server.open_channels()
        print(
            f"api benchmark: hotline serve (1 process, temp db, shipped config) on {server.url}; "
            f"load: {args.processes} separate process(es), trio, {args.connections} keep-alive "
            f"connections, pre-encoded requests, minimal HTTP/1.1 reader; "
            f"{args.duration:g} s per phase in {rounds} alternating round(s), each after "
            f"{args.warmup:g} s warm-up; "
            f"{os.cpu_count()} CPUs, load average {_load()} at start"
            + (f"; server profiled ({profile_mode})" if profile_mode else ""),
            flush=True,
        )
        print(
            f"creates: {' and '.join(channels)} over {len(TOPICS)} topics, "
            "no Idempotency-Key; server CPU = its CPU-seconds (all threads) / the phase's wall "
            "seconds, and per answer (warm-up included)",
            flush=True,
        )
        fill: Phase | None = None
        if deep is not None:
            fill = run_phase(deep, "create", args, channels, None, count=depth)
            print(
                f"depth: a second hotline server filled with {len(fill.latencies_us)} waiting "
                f"contacts in {fill.wall_s:.1f} s (not counted)",
                flush=True,
            )
        args.duration /= rounds
        runs: dict[str, list[Phase]] = {"healthz": [], "create": []}
        if floor is not None:
            runs["floor"] = []
            runs["post"] = []
            runs["durable"] = []
        if deep is not None:
            runs["depth"] = []
        for _ in range(rounds):
            for name, done in runs.items():
                if name == "floor":
                    assert floor is not None
                    phase = run_phase(floor, "healthz", args, channels, pyspy, profile_as="floor")
                elif name == "post":
                    assert floor is not None
                    phase = run_phase(floor, "create", args, channels, pyspy, profile_as="post")
                elif name == "durable":
                    assert durable is not None
                    phase = run_phase(durable, "create", args, channels, pyspy, profile_as=name)
                elif name == "depth":
                    assert deep is not None
                    phase = run_phase(deep, "create", args, channels, pyspy, profile_as="depth")
                else:
                    phase = run_phase(server, name, args, channels, pyspy)
                done.append(dataclasses.replace(phase, name=name))
        phases = {name: _merged(done) for name, done in runs.items()}
        exit_codes = [s.stop() for s in (server, deep) if s is not None]
    finally:
        for process in (server, deep, floor, durable):
            if process is not None:
                process.stop()
    print()
    header = (
        f"{'phase':<8} {'2xx':>8} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} "
        f"{'non-2xx':>7} {'server CPU':>10} {'CPU ms/req':>10} {'load CPU':>8}"
    )
    print(header)
    print("-" * len(header))
    for p in phases.values():
        print(
            f"{p.name:<8} {len(p.latencies_us):>8} {p.rate:>8.0f} {p.percentile_ms(0.5):>7.1f} "
            f"{p.percentile_ms(0.99):>7.1f} {p.percentile_ms(1.0):>7.1f} {p.errors:>7} "
            f"{p.server_cpu_s / p.wall_s:>10.0%} {p.cpu_per_answer_s * 1e3:>10.2f} "
            f"{p.loadgen_cpu_s / p.wall_s:>8.0%}"
        )
    failed = [p for p in (*phases.values(), *([fill] if fill else [])) if p.errors or p.failures]
    if fill is not None and len(fill.latencies_us) < depth:
        print(f"ERROR: the depth server holds {len(fill.latencies_us)} contacts, not {depth}")
        failed.append(fill)
    for p in failed:
        others = {s: n for s, n in sorted(p.statuses.items()) if not 200 <= s < 300}
        print(
            f"ERROR: {p.name}: {p.errors} non-2xx answers {others}, "
            f"{len(p.failures)} connection failures {p.failures[:3]}"
        )
    if any(code != 0 for code in exit_codes):
        print(f"ERROR: a server exited with {exit_codes} on SIGTERM; logs in {workdir}")
    healthz, create = phases["healthz"], phases["create"]
    share = create.rate / healthz.rate if healthz.rate else 0.0
    p99 = create.percentile_ms(0.99)
    targets = [
        (f"creates >= {TARGET_SHARE:.0%} of healthz", share >= TARGET_SHARE),
        (f"p99 <= {TARGET_P99_MS:g} ms", p99 <= TARGET_P99_MS),
    ]
    last = (
        f"api: {create.rate:.0f} creates/s, p99 {p99:.1f} ms, {share:.0%} of healthz "
        f"({healthz.rate:.0f} req/s)"
    )
    if floor is not None:
        bare = phases["floor"]
        vs = _versus(create, bare)
        targets = [
            (f"creates >= {TARGET_FLOOR_SHARE:g} x floor", vs[0] >= TARGET_FLOOR_SHARE),
            (f"p99 <= {TARGET_FLOOR_P99:g} x floor", vs[1] <= TARGET_FLOOR_P99),
            (f"CPU/create <= {TARGET_FLOOR_CPU:g} x floor", vs[2] <= TARGET_FLOOR_CPU),
        ]
        last += f", {vs[0]:.0%} of floor, {vs[1]:.2f}x floor p99, {vs[2]:.2f}x floor cpu"
        if "depth" in phases:
            at = _versus(phases["depth"], bare)
            targets += [
                (
                    f"at depth {depth}: creates >= {TARGET_FLOOR_SHARE:g} x floor",
                    at[0] >= TARGET_FLOOR_SHARE,
                ),
                (f"p99 <= {TARGET_FLOOR_P99:g} x floor", at[1] <= TARGET_FLOOR_P99),
                (f"CPU/create <= {TARGET_FLOOR_CPU:g} x floor", at[2] <= TARGET_FLOOR_CPU),
            ]
            last += f", depth {depth}: {at[0]:.0%} of floor, {at[1]:.2f}x floor p99"
    targets.append(("no errors", not failed))
    print()
    if profile is not None:
        _print_profile(profile)
    if pyspy is not None:
        # depth last: what grows
        for name in ("healthz", "create", "floor", "post", "durable", "depth"):
            if name in phases:
                _print_folded(name, workdir / f"{name}.folded")
    if floor is not None:
        bare = phases["floor"]
        print(
            f"floor: a bare Quart-Trio app under Hypercorn answers GET /healthz at "
            f"{bare.rate:.0f} req/s, p99 {bare.percentile_ms(0.99):.1f} ms, "
            f"{bare.cpu_per_answer_s * 1e3:.2f} ms of server CPU per request on this machine"
        )
        post = phases["post"]
        framework = _versus(post, bare)
        over_post = create.cpu_per_answer_s / post.cpu_per_answer_s
        print(
            f"post: the same bare app answers a create's POST (body parsed, 201, nothing stored) "
            f"at {post.rate:.0f} req/s, {post.cpu_per_answer_s * 1e3:.2f} ms of server CPU: "
            f"{framework[2]:.2f}x the floor's CPU and {framework[1]:.2f}x its p99 before any "
            f"work of hotline's; a create costs {over_post:.2f}x "
            "its CPU"
        )
        kept = phases["durable"]
        on_disk = _versus(kept, bare)
        print(
            f"durable: the same bare POST answered once its body is committed to SQLite (group "
            f"commit on a worker thread, WAL, synchronous=FULL, as hotline's store) runs at "
            f"{kept.rate:.0f} req/s, p99 {kept.percentile_ms(0.99):.1f} ms: {on_disk[0]:.0%} of "
            f"the floor's req/s, {on_disk[1]:.2f}x its p99, {on_disk[2]:.2f}x its CPU; a create's "
            f"p99 is {create.percentile_ms(0.99) / kept.percentile_ms(0.99):.2f}x this one's"
        )
        with sqlite3.connect(workdir / "durable.db") as db:
            (rows,) = db.execute("SELECT count(*) FROM contacts").fetchone()
        print(f"durable: {rows} bodies on disk for {kept.answered} answers")
    print(f"load average at the end: {_load()}")
    if failed:
        print("ERROR: this run had errors (above): its figures are not a measurement")
    print("targets: " + ", ".join(f"{what} {'met' if ok else 'MISSED'}" for what, ok in targets))
    print(last)
    if not (failed or profile_mode) and all(code == 0 for code in exit_codes):
        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if failed else 0


def _versus(p: Phase, floor: Phase) -> tuple[float, float, float]:
    """`p` as ratios to the floor: req/s, p99, server CPU per answer."""
    rate = p.rate / floor.rate if floor.rate else 0.0
    floor_p99 = floor.percentile_ms(0.99)
    p99 = p.percentile_ms(0.99) / floor_p99 if floor_p99 else math.inf
    cpu = p.cpu_per_answer_s / floor.cpu_per_answer_s if floor.cpu_per_answer_s else math.inf
    return rate, p99, cpu


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _print_profile(path: Path) -> None:
    import pstats

    stats = pstats.Stats(str(path))
    print(f"server profile (cProfile, main thread, whole run; kept in {path}):")
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(40)


def _start_pyspy(command: str, pid: int, output: Path) -> subprocess.Popen[bytes]:
    spy = [command, "record", "--pid", str(pid), "--rate", str(PYSPY_RATE), "--gil"]
    spy += ["--threads", "--format", "raw", "--output", str(output)]
    process = subprocess.Popen(spy, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.3)  # attached before the load starts
    return process


# Stages of the server's work, for the py-spy summary: a sample counts for the first stage
# that one of its frames names. Names of functions in hotline and its libraries: if they move,
# a stage shows 0% and its time falls to "other" (or to "trio scheduler", the frame every task
# runs under). py-spy 0.4 names a frame `function (file:line)`, without its class.
STAGES = (
    ("logging: access log line", ("_log_request (hotline/api/access_log",)),
    ("logging: router event lines", ("log_router_events",)),
    (
        "store bridge, asyncio side (trio-asyncio loop, aiosqlite)",
        ("BaseTrioEventLoop._main_loop", "_main_loop (trio_asyncio"),
    ),
    (
        "store and journal tasks, trio side",
        ("Store.run (", "Journal.run (", "Store._serve_reads", "(hotline/store/actor.py"),
    ),
    ("journal task", ("run (hotline/journal.py",)),
    ("router actor", ("RouterActor.run", "run (hotline/routing/actor.py")),
    ("create: open-ticket read, caller side", ("find_open_ticket",)),
    ("create: phone normalisation", ("normalize_phone",)),
    (
        "create: router calls and journal.sync, caller side",
        ("RouterHandle", "Journal.sync", "DurableRouter"),
    ),
    ("create: rest of the handler", ("create (hotline/api/contacts",)),
    (
        "request body and validation (quart-schema)",
        ("validate_request.<locals>", "wrapper (hotline/api/validation.py"),
    ),
    ("response building (make_response, JSON)", ("finalize_request", "make_response")),
    ("HTTP send (quart, hypercorn, h11, socket)", ("_send_response", "app_send")),
    ("Quart / quart-trio request plumbing", ("TrioASGIHTTPConnection", "QuartTrio")),
    (
        "HTTP receive and parse (hypercorn, h11)",
        ("_run_handler", "TCPServer", "_handle (", "_serve_connection (hotline/http_server"),
    ),
    ("SQLite worker threads (their Python part)", ("_connection_worker_thread",)),
    ("trio scheduler", ("unrolled_run (trio",)),
)


def _print_folded(phase: str, path: Path, top: int = 12) -> None:
    """Summarise py-spy's collapsed stacks (`thread (tid);frame;...;frame count` per line):
    samples by thread, by stage of the work, and by the line that was running."""
    if not path.exists():
        print(f"{phase}: py-spy wrote no profile")
        return
    threads: dict[str, int] = {}
    stages: dict[str, int] = {}
    own: dict[str, int] = {}
    total = 0
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        total += count
        thread = stack.split(";", 1)[0]
        threads[thread] = threads.get(thread, 0) + count
        leaf = stack.rsplit(";", 1)[-1]
        own[leaf] = own.get(leaf, 0) + count
        stage = next((name for name, keys in STAGES if any(k in stack for k in keys)), "other")
        stages[stage] = stages.get(stage, 0) + count
    if not total:
        return
    seconds = total / PYSPY_RATE
    print(f"{phase}: {total} samples holding the GIL at {PYSPY_RATE}/s ({seconds:.1f} s)")

    def show(title: str, counts: dict[str, int], n: int) -> None:
        print(f"  {title}")
        for name, count in sorted(counts.items(), key=lambda kv: -kv[1])[:n]:
            print(f"    {count / total:6.1%}  {name[:120]}")

    show("by thread", threads, 5)
    show("by stage", stages, len(STAGES) + 1)
    show("by line running", own, top)
    print()


def _loadgen_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench_api.py loadgen")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--kind", choices=("healthz", "create"), required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--channels", default="chat")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--connections", type=int, required=True)
    parser.add_argument("--warmup", type=float, required=True)
    parser.add_argument("--duration", type=float, required=True)
    parser.add_argument("--count", type=int, default=0, help="stop after this many requests")
    return parser.parse_args(argv)


if __name__ == "__main__":
    if sys.argv[1:2] != ["loadgen"]:
        sys.exit("bench_api.py is run as `scripts/bench api`; `loadgen` is its load generator")
    sys.exit(loadgen(_loadgen_arguments(sys.argv[2:])))
