"""`scripts/bench stats`: what the line's figures cost.

(a) live: the live figures' cost per routing event, as a share of a routing decision's cost in the
same run. The routing bench's stream (`bench_routing`: 1000 operators, a warm queue of 10,000,
then 20,000 events) is decided by the pure `RoutingState`, each call timed, and the events each
call published are recorded. The recorded events are then fed, call by call, to what runs after
each journal commit: the journal's `KpiTracker` (events -> facts), the live view
(`LiveView.feed`) and the metrics' counts (`Totals.add`), each part timed. A routing event here is
one router call (a decision) with the events it published; the journal hands the hook a batch of
many calls' events at once under load, so one call per batch is the dearest case. The share is
also given against a call through the router actor (what a request pays for its decision).
Routing, actor and feeding runs are interleaved `--repeat` times; each replays the very same calls,
so each call's cost is taken from the run in which it was fastest (noise on a shared machine only
ever slows a call down) and the costs are the means of those.

This is a benchmark, not a test: it reports, it asserts nothing about time.
"""

from __future__ import annotations

import argparse
import gc
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

import bench_routing
from bench_routing import (
    STEP_S,
    T0,
    Simulator,
    Workload,
    bind_sync,
    make_workload,
    run_actor,
    settle_heap,
)

from hotline.domain.errors import HotlineError
from hotline.kpi import KpiRules, KpiTracker
from hotline.kpi.facts import Fact
from hotline.kpi.live import LiveView
from hotline.kpi.totals import Totals
from hotline.routing import RoutingState
from hotline.routing.model import Event

GOAL_SHARE = 0.10  # the live figures may cost at most this share of a decision


@dataclass(slots=True)
class Recorded:
    """The events of each router call, and what each call cost (ns)."""

    build: list[list[Event]]
    calls: list[list[Event]]
    latencies_ns: list[int]
    now: float  # the simulated clock after the last call

    @property
    def per_call_ns(self) -> float:
        return sum(self.latencies_ns) / len(self.latencies_ns)

    @property
    def events(self) -> int:
        return sum(map(len, self.calls))


def record(wl: Workload, n_events: int) -> Recorded:
    """`bench_routing.run_sync` on the pure core, keeping every call's events."""
    router = RoutingState(wl.policy)
    sim = Simulator(wl)
    build = wl.build_actions()
    now = T0
    built: list[list[Event]] = []
    for action in build:
        now += STEP_S
        built.append(bind_sync(router, action)(now))
    for i, (action, events) in enumerate(zip(build, built, strict=True)):
        sim.observe(i - len(build), action, bench_routing._offers(events), wl.build_draws[i])
    calls: list[list[Event]] = []
    latencies = [0] * n_events
    perf = time.perf_counter_ns
    settle_heap()
    for i in range(n_events):
        action = sim.next_action(i)
        call = bind_sync(router, action)
        now += STEP_S
        t_start = perf()
        try:
            events = call(now)
        except HotlineError:
            events = []
        latencies[i] = perf() - t_start
        calls.append(events)
        sim.observe(i, action, bench_routing._offers(events), wl.draws[i])
    return Recorded(built, calls, latencies, now)


@dataclass(slots=True)
class Fed:
    """What feeding each recorded call cost (ns), part by part; and the fed parts."""

    tracker_ns: list[int]
    view_ns: list[int]
    totals_ns: list[int]
    tracker: KpiTracker
    view: LiveView
    totals: Totals


def feed(rec: Recorded, rules: KpiRules) -> Fed:
    """Each call's events through the tracker, then its facts to the view and the totals, as
    the journal's post-commit hook would; the build's events first, untimed."""
    tracker = KpiTracker()
    view = LiveView(rules, T0)
    totals = Totals(rules)
    for events in rec.build:
        facts: list[Fact] = []
        tracker.feed_all(events, facts.append)
        view.feed(events, facts)
        totals.add(facts)
    n = len(rec.calls)
    parts = [0] * n, [0] * n, [0] * n
    perf = time.perf_counter_ns
    settle_heap()
    for i, events in enumerate(rec.calls):
        facts = []
        t0 = perf()
        tracker.feed_all(events, facts.append)
        t1 = perf()
        view.feed(events, facts)
        t2 = perf()
        totals.add(facts)
        t3 = perf()
        parts[0][i], parts[1][i], parts[2][i] = t1 - t0, t2 - t1, t3 - t2
    return Fed(*parts, tracker, view, totals)


def timer_ns() -> int:
    """What reading the clock costs between two reads: taken off every timed call alike."""
    perf = time.perf_counter_ns
    return min(-perf() + perf() for _ in range(100_000))


def cleanest(runs: list[list[int]], timer: int) -> float:
    """The mean cost of a call, each call taken from the run in which it was fastest.

    Every run replays the same calls on the same state, so a call's cost differs between runs
    only by what the machine did meanwhile (another process, an interrupt): the fastest of a
    call's runs is its cost with the least of that, on a busy shared machine too."""
    best = [min(costs) for costs in zip(*runs, strict=True)]
    return max(0.0, sum(best) / len(best) - timer)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--operators", type=int, default=1000, help="default 1000")
    parser.add_argument("--contacts", type=int, default=10_000, help="warm queue, default 10000")
    parser.add_argument("--events", type=int, default=20_000, help="timed calls (20000)")
    parser.add_argument(
        "--repeat", type=int, default=5, help="interleaved runs, the fastest kept (5)"
    )


@dataclass(frozen=True, slots=True)
class LiveCost:
    pure_ns: float  # a routing decision on the pure core
    actor_ns: float  # the same through the router actor
    tracker_ns: float
    view_ns: float
    totals_ns: float
    events_per_call: float

    @property
    def live_ns(self) -> float:
        return self.tracker_ns + self.view_ns + self.totals_ns

    @property
    def share(self) -> float:
        return self.live_ns / self.pure_ns

    @property
    def actor_share(self) -> float:
        return self.live_ns / self.actor_ns


def measure_live(args: argparse.Namespace, *, say: Callable[[str], None] = print) -> LiveCost:
    wl = make_workload(args.seed, args.operators, args.contacts, args.events)
    rules = KpiRules()
    names = ("pure", "actor", "tracker", "view", "totals")
    runs: dict[str, list[list[int]]] = {name: [] for name in names}
    events_per_call = 0.0
    for run in range(max(1, args.repeat)):
        rec = record(wl, args.events)
        runs["pure"].append(rec.latencies_ns)
        events_per_call = rec.events / len(rec.calls)
        fed = feed(rec, rules)
        runs["tracker"].append(fed.tracker_ns)
        runs["view"].append(fed.view_ns)
        runs["totals"].append(fed.totals_ns)
        del rec, fed
        gc.collect()
        runs["actor"].append(run_actor(wl, args.events).latencies_ns)
        means = ", ".join(f"{name} {_mean(costs[-1]):,.0f}" for name, costs in runs.items())
        say(f"run {run + 1}, mean ns per call: {means}")
    timer = timer_ns()
    best = {name: cleanest(costs, timer) for name, costs in runs.items()}
    return LiveCost(
        best["pure"], best["actor"], best["tracker"], best["view"], best["totals"], events_per_call
    )


def _mean(costs: list[int]) -> float:
    return sum(costs) / len(costs)


def report_live(cost: LiveCost) -> None:
    goal = "met" if cost.share < GOAL_SHARE else "MISSED"
    print(
        f"per router call ({cost.events_per_call:.2f} events): decision {cost.pure_ns:,.0f} ns "
        f"pure, {cost.actor_ns:,.0f} ns through the actor"
    )
    print(
        f"live figures per call: {cost.live_ns:,.0f} ns = tracker {cost.tracker_ns:,.0f} "
        f"+ live view {cost.view_ns:,.0f} + metrics {cost.totals_ns:,.0f}"
    )
    print(
        f"share: {cost.share:.1%} of a pure decision (goal < {GOAL_SHARE:.0%}: {goal}), "
        f"{cost.actor_share:.1%} of an actor decision; "
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )


def run(args: argparse.Namespace) -> int:
    print(
        f"stats benchmark (a): seed {args.seed}, {args.operators} operators, "
        f"{args.contacts} waiting, {args.events} router calls, {args.repeat} interleaved runs",
        flush=True,
    )
    cost = measure_live(args)
    report_live(cost)
    print(f"stats: live +{cost.share:.1%} per event")
    return 0
