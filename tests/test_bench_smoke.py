"""`scripts/bench routing`, `api` and `stats` still run end to end (tiny sizes; nothing about
their timings), every router the routing bench compares with the core makes the very offers the
core makes on a shared stream, and the stats bench's GROUP BY over the event table gives the
figures the period report gives: a ratio to a baseline that does other work means nothing."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import re
import socket
import threading
from datetime import date
from pathlib import Path
from types import ModuleType

import pytest

from hotline.config import load_settings
from hotline.routing import RoutingState
from hotline.routing.state import ScanRoutingState
from hotline.services.periods import PeriodQuery
from hotline.services.stats import period
from hotline.store import StoreHandle

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "scripts" / "bench"
LAST_LINE = re.compile(
    r"routing: \d+ decisions/s pure, \d+/s actor, p99 \d+\.\d us, "
    r"\d+\.\dx naive, \d+\.\dx sql-dispatch \(\d+\.\dx sql-sort\)"
)
API_LAST_LINE = re.compile(
    r"api: \d+ creates/s, p99 \d+\.\d ms, \d+% of healthz \(\d+ req/s\), \d+% of floor, "
    r"\d+\.\d\dx floor p99, \d+\.\d\dx floor cpu, depth 200: \d+% of floor, \d+\.\d\dx floor p99"
)

SIMULATE_LAST_LINE = re.compile(
    r"simulate: \d+ contacts/s, \d+\.\dx ciw, day of \d+ contacts in \d+\.\d s"
)


def load_bench() -> ModuleType:
    loader = importlib.machinery.SourceFileLoader("hotline_scripts_bench", str(BENCH))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def test_routing_benchmark_runs_and_reports(capsys: pytest.CaptureFixture[str]) -> None:
    bench = load_bench()
    argv = ["routing", "--seed", "7", "--operators", "50", "--contacts", "200"]
    argv += ["--events", "300", "--naive-events", "100"]
    assert bench.main(argv) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert LAST_LINE.fullmatch(lines[-1]), lines[-1]
    rows = {line.split()[0]: line for line in lines if line.split()[:1]}
    for name in ("actor", "naive", "sql-dispatch", "sql-sort", "py-floor"):
        assert "same offers as pure" in rows[name], rows[name]
    assert rows["naive"].split()[1] == "100"
    assert rows["sql-dispatch"].split()[1] == "300"
    assert rows["sql-sort"].split()[1] == "300"


def test_every_router_of_the_routing_bench_makes_the_offers_the_core_makes() -> None:
    load_bench()  # puts scripts/ on sys.path
    import bench_routing
    from bench_routing_floor import FloorDispatch
    from bench_routing_sql import IndexedSqlDispatch, SortingSqlDispatch

    n = 3000
    wl = bench_routing.make_workload(seed=11, n_operators=80, n_contacts=400, n_events=n)
    pure = bench_routing.run_sync("pure", "", RoutingState(wl.policy), wl, n)
    # The stream exercises every kind of event and makes offers all along.
    assert set(pure.kinds) >= {"arrive", "accept", "reject", "complete", "end_wrap_up", "abandon"}
    assert sum(map(len, pure.build_trace)) > 50
    assert sum(map(len, pure.trace)) > 500
    others = [
        bench_routing.run_sync("naive", "", ScanRoutingState(wl.policy), wl, n),
        bench_routing.run_sync("sql-dispatch", "", IndexedSqlDispatch(wl.policy), wl, n),
        bench_routing.run_sync("sql-sort", "", SortingSqlDispatch(wl.policy), wl, n),
        bench_routing.run_sync("py-floor", "", FloorDispatch(wl.policy), wl, n),
        bench_routing.run_actor(wl, n),
    ]
    for other in others:
        assert other.build_trace == pure.build_trace, other.name
        assert other.trace == pure.trace, other.name
        assert other.errors == pure.errors, other.name


@pytest.mark.slow
def test_api_benchmark_runs_a_server_and_reports(capsys: pytest.CaptureFixture[str]) -> None:
    assert load_bench().main(["api", "--quick", "--floor"]) == 0  # 1 on any non-2xx answer
    lines = capsys.readouterr().out.strip().splitlines()
    assert API_LAST_LINE.fullmatch(lines[-1]), lines[-1]
    rows = {line.split()[0]: line for line in lines if line.split()[:1]}
    for name in ("healthz", "create", "floor", "post", "durable", "depth"):  # 2xx: the machine's
        assert rows[name].split()[6] == "0", rows[name]  # non-2xx
    assert "filled with 200 waiting contacts" in "\n".join(lines)
    # The durable baseline keeps what it answers: as many bodies on disk as answers.
    kept = re.search(r"^durable: (\d+) bodies on disk for (\d+) answers$", "\n".join(lines), re.M)
    assert kept is not None
    assert int(kept[1]) == int(kept[2]) > 0, kept[0]


def test_simulate_benchmark_runs_both_simulators_and_reports(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["simulate", "--hours", "5", "--repeat", "2", "--day-contacts", "1500"]
    assert load_bench().main([*argv, "--day-operators", "30"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert SIMULATE_LAST_LINE.fullmatch(lines[-1]), lines[-1]
    runs = [line.split()[0] for line in lines if line.startswith("  ") and "contacts in" in line]
    assert sorted(runs) == ["ciw", "ciw", "hotline", "hotline"]
    assert any(line.startswith(("agree", "!! DISAGREE")) for line in lines)
    assert any(
        line.startswith("multi-skill day: ") and " 30 operators, 20 topics" in line
        for line in lines
    )


def test_bench_needs_a_benchmark_name() -> None:
    with pytest.raises(SystemExit):
        load_bench().main([])


def test_api_load_generator_counts_and_times_only_successes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A server that answers every other request with 503: those are counted apart, never as
    creates done nor in the latencies."""
    load_bench()  # puts scripts/ on sys.path
    import bench_api

    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    answers = [b"201 Created", b"503 Service Unavailable"]

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            n = 0
            buf = b""
            while True:
                while b"\r\n\r\n" not in buf:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buf += chunk
                _, _, buf = buf.partition(b"\r\n\r\n")
                status = answers[n % 2]
                conn.sendall(b"HTTP/1.1 " + status + b"\r\nContent-Length: 2\r\n\r\n{}")
                n += 1

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    argv = ["--port", str(port), "--kind", "healthz", "--token", "-", "--connections", "1"]
    argv += ["--warmup", "0", "--duration", "30", "--count", "40"]
    try:
        assert bench_api.loadgen(bench_api._loadgen_arguments(argv)) == 0
    finally:
        listener.close()
    report = json.loads(capsys.readouterr().out)
    assert report["statuses"] == {"201": 20, "503": 20}
    assert len(report["latencies_us"]) == 20


STATS_LAST_LINE = re.compile(
    r"stats: live (\+\d+\.\d%|n/a) per event, month by topic \d+\.\d ms "
    r"\(\d+x group-by\), year by month \d+ ms"
)


def test_stats_benchmark_runs_and_reports(capsys: pytest.CaptureFixture[str]) -> None:
    bench = load_bench()
    argv = ["stats", "--contacts", "3000", "--operators", "3", "--repeat", "1"]
    argv += ["--live-operators", "50", "--live-contacts", "200", "--live-events", "300"]
    argv += ["--live-repeat", "2"]
    assert bench.main([*argv, "--baseline-repeat", "1"]) == 0
    out = capsys.readouterr().out
    lines = out.strip().splitlines()
    assert STATS_LAST_LINE.fullmatch(lines[-1]), lines[-1]
    assert "3,000 contacts" in out and "same figures" in out


async def test_the_group_by_over_events_gives_the_figures_of_the_period_report(
    store: StoreHandle,
) -> None:
    load_bench()  # puts scripts/ on sys.path
    from bench_stats import compare
    from bench_stats_history import baseline_by_day, build_month

    settings = load_settings(ROOT / "config" / "hotline.toml")
    rules = settings.kpi_rules()
    policy = settings.routing_policy()
    first = date(2025, 3, 1)
    month = await build_month(store, rules, policy, first, contacts=4000, operators=3, seed=5)
    query = PeriodQuery("2025-03-01T00:00", "2025-04-01T00:00", "1d", by="topic")

    report = await period(store, rules, query, now=month.end + 3600)
    baseline = await store.read(
        lambda tx: baseline_by_day(tx, rules, "topic", month.start, month.end)
    )

    assert sum(t.offered for t in baseline.values()) == report.total["offered"] > 3000
    assert compare([(r.start, str(r.group), r.figures) for r in report.rows], baseline, rules) == []
    # and the comparison notices a difference
    some = next(iter(baseline.values()))
    some.answered += 1
    assert compare([(r.start, str(r.group), r.figures) for r in report.rows], baseline, rules)


def test_the_stats_benchmarks_live_view_counts_what_the_reports_count() -> None:
    load_bench()  # puts scripts/ on sys.path
    import bench_stats_live as bench_stats

    from hotline.kpi import Buckets, KpiRules, KpiTracker, figures
    from hotline.routing.model import RouterStatistics

    wl = bench_stats.make_workload(seed=5, n_operators=60, n_contacts=300, n_events=3000)
    recorded = bench_stats.record(wl, 3000)
    rules = KpiRules()
    fed = bench_stats.feed(recorded, rules)
    # The same events through a tracker of its own into `Buckets`, as the period reports count.
    tracker, buckets = KpiTracker(), Buckets(rules)
    for events in [*recorded.build, *recorded.calls]:
        tracker.feed_all(events, buckets.add)
    now = recorded.now + 1
    buckets.add_all(tracker.open_time(now))
    expected = figures(buckets.total(), rules)
    live = fed.view.snapshot(now, RouterStatistics(0, {}, {}, 0, 0, 0, 0))["today"]
    assert expected["answered"] > 100 and expected["abandoned"] > 10, expected
    assert live.keys() == expected.keys()
    for key, value in expected.items():
        if isinstance(value, float):
            assert live[key] == pytest.approx(value, rel=1e-9), key
        else:
            assert live[key] == value, key
    # The metrics' counts agree with it too.
    queues = fed.totals.queues.values()
    assert sum(q.answered for q in queues) == expected["answered"]
    assert sum(q.abandoned for q in queues) == expected["abandoned"]


KB_LAST_LINE = re.compile(
    r"kb: p99 \d+\.\d ms over [\d,]+ articles, \d+\.\dx like-scan \(p99 \d+\.\d ms\)"
)


def test_kb_benchmark_runs_and_reports(capsys: pytest.CaptureFixture[str]) -> None:
    bench = load_bench()
    argv = ["kb", "--articles", "60", "--vocabulary", "300", "--queries", "20", "--repeat", "1"]
    assert bench.main(argv) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert KB_LAST_LINE.fullmatch(lines[-1]), lines[-1]


async def test_the_like_scan_finds_the_articles_the_index_finds_for_simple_queries(
    store: StoreHandle,
) -> None:
    load_bench()  # puts scripts/ on sys.path
    import random

    from bench_kb import build_corpus, like_scan, load, made_up_words, ours, simple_queries

    rng = random.Random(3)
    vocabulary = made_up_words(200, rng)
    await load(store, build_corpus(80, vocabulary, rng))
    simple = simple_queries(vocabulary)[:40]
    assert len(simple) >= 20
    found_any = 0
    for query in simple:
        by_like = await store.read(lambda tx, q=query: like_scan(tx, q, limit=1000))
        by_index = await store.read(lambda tx, q=query: ours(tx, q, limit=1000))
        assert set(by_like) == set(by_index), query
        found_any += bool(by_index)
    assert found_any >= 10  # the queries find something: the comparison is not of empty sets
