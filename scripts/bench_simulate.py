"""`scripts/bench simulate`: how fast `hotline simulate` is, against ciw on the same model.

1. M/M/14+M, the issue's validation case (200 calls/h, exponential handle times of 180 s,
   exponential patience of 300 s, 14 operators), simulated by hotline's simulator (the real
   `RoutingState`, every event through the KPI core) and by ciw (the discrete-event library
   planners use in Python), interleaved `--repeat` times in the same run: simulated contacts per
   second of each (its fastest run: noise on a shared machine only slows a run down) and the
   ratio. Both must agree with each other and with Erlang A (service level within 20 s over
   all arrivals 0.916792, abandon rate 0.013984) within the validation tolerances; the bench
   says so, or says loudly that they do not.
2. A multi-skill day: 100,000 contacts, 300 operators in 15 groups of 3 skills, 20 topics of
   two priority classes (the shipped config's), voice and chat (capacity 3): its wall time.

A benchmark, not a test: it reports, it asserts nothing about time. The last line is
`simulate: N contacts/s, Rx ciw, day of 100000 contacts in S s`.
"""

from __future__ import annotations

import argparse
import gc
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hotline.config import Settings, load_settings
from hotline.kpi import figures
from hotline.sim.engine import Simulation
from hotline.sim.scenario import Scenario, parse_scenario

CONFIG = Path(__file__).resolve().parent.parent / "config" / "hotline.toml"
RATE_PER_HOUR = 200.0
AHT_S = 180.0
PATIENCE_S = 300.0
AGENTS = 14
THRESHOLD_S = 20
WARMUP_H = 1.0
# Erlang A for this model, and the tolerances of the validation tests (tests/sim).
ERLANG_A_SL = 0.916792
ERLANG_A_ABANDON = 0.013984
SL_POINTS = 0.015
ABANDON_POINTS = 0.003
ASA_SHARE = 0.10


@dataclass(frozen=True)
class Measured:
    name: str
    contacts: int
    seconds: float  # wall time
    cpu_s: float  # this process's CPU time: what the neighbours' load does not add to
    service_level: float
    asa_s: float
    abandon_rate: float

    @property
    def per_s(self) -> float:
        return self.contacts / self.seconds

    @property
    def per_cpu_s(self) -> float:
        return self.contacts / self.cpu_s


def mmc_scenario(hours: float) -> Scenario:
    """The M/M/c+M model as a scenario: no wrap-up, Erlang A's own service-level basis."""
    return parse_scenario(
        {
            "hours": hours,
            "warmup_min": WARMUP_H * 60,
            "wrap_up_s": 0,
            "service_level_basis": "offered",
            "short_abandon_s": 0,
            "arrivals": [{"topic": "documents", "per_hour": RATE_PER_HOUR}],
            "handle_time": {"documents": {"dist": "exp", "mean_s": AHT_S}},
            "patience": {"dist": "exp", "mean_s": PATIENCE_S},
            "operators": [{"count": AGENTS, "skills": {"documents": 3}}],
        }
    )


def run_hotline(settings: Settings, hours: float, seed: int) -> Measured:
    sim = Simulation(mmc_scenario(hours), settings, seed=seed)
    began, cpu = time.perf_counter(), time.process_time()
    result = sim.run()
    seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
    f = figures(result.buckets.total(), result.rules)
    return Measured(
        "hotline",
        result.contacts,
        seconds,
        cpu,
        f["service_level"][str(THRESHOLD_S)],
        f["asa_s"],
        f["abandon_rate"],
    )


def run_ciw(hours: float, seed: int) -> Measured:
    import ciw

    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=RATE_PER_HOUR / 3600)],
        service_distributions=[ciw.dists.Exponential(rate=1 / AHT_S)],
        number_of_servers=[AGENTS],
        reneging_time_distributions=[ciw.dists.Exponential(rate=1 / PATIENCE_S)],
    )
    ciw.seed(seed)
    sim = ciw.Simulation(network)
    warmup = WARMUP_H * 3600
    began, cpu = time.perf_counter(), time.process_time()
    sim.simulate_until_max_time(warmup + hours * 3600)
    seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
    records = [r for r in sim.get_all_records() if r.arrival_date >= warmup]
    served = [r for r in records if r.record_type == "service"]
    contacts = sim.nodes[0].number_of_individuals
    return Measured(
        "ciw",
        contacts,
        seconds,
        cpu,
        sum(r.waiting_time <= THRESHOLD_S for r in served) / len(records),
        sum(r.waiting_time for r in served) / len(served),
        (len(records) - len(served)) / len(records),
    )


def multi_skill_day(contacts: int, operators: int, n_topics: int = 20) -> Scenario:
    """A day of the line: `n_topics` topics (the config's, then made-up ones of the default
    class), 70 % voice and 30 % chat (longer, three at once), a daytime peak, 15 groups of
    operators with a main skill, a second and a third."""
    topics = [
        "documents", "applications", "registration", "access_recovery", "technical",
        "personal_data", "payments", "signature", "account_blocked", "emergency",
    ]  # fmt: skip
    topics += [f"topic_{i:02d}" for i in range(len(topics) + 1, n_topics + 1)]
    topics = topics[:n_topics]
    shape = [2, 1, 1, 1, 1, 2, 4, 6, 8, 9, 10, 10, 9, 9, 10, 10, 9, 8, 7, 6, 5, 4, 3, 2]
    weights = [1 / (i + 1) ** 0.8 for i in range(n_topics)]
    arrivals = []
    for topic, w in zip(topics, weights, strict=True):
        for channel, share in (("voice", 0.7), ("chat", 0.3)):
            per_day = contacts * share * w / sum(weights)
            rates = [per_day * s / sum(shape) for s in shape]
            arrival: dict[str, Any] = {"topic": topic, "channel": channel, "per_hour": rates}
            if channel == "chat":  # longer, but several at once
                arrival["handle_time"] = {"dist": "lognormal", "mean_s": 420, "sd_s": 240}
                arrival["patience"] = {"dist": "exp", "mean_s": 600}
            arrivals.append(arrival)
    groups = 15
    size = operators // groups
    operator_groups = [
        {
            "name": f"desk{g + 1:02d}",
            "count": size + (1 if g < operators % groups else 0),
            "skills": {
                topics[g % n_topics]: 5,
                topics[(groups + g % (n_topics - groups)) % n_topics]: 3,
                topics[(g + 1) % groups]: 2,
            },
            "capacity": {"voice": 1, "chat": 3},
        }
        for g in range(groups)
    ]
    return parse_scenario(
        {
            "days": 1,
            "warmup_min": 60,
            "wrap_up_s": 20,
            "arrivals": arrivals,
            "handle_time": {"*": {"dist": "lognormal", "mean_s": 150, "sd_s": 90}},
            "patience": {"dist": "exp", "mean_s": 240},
            "operators": operator_groups,
        }
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--hours", type=float, default=1000.0, help="M/M/c+M hours (1000)")
    parser.add_argument("--repeat", type=int, default=3, help="interleaved runs of each (3)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--day-contacts", type=int, default=100_000)
    parser.add_argument("--day-operators", type=int, default=300)


def run(args: argparse.Namespace) -> int:
    settings = load_settings(CONFIG)
    print(f"load average before: {_load()}")
    print(
        f"M/M/{AGENTS}+M: {RATE_PER_HOUR:.0f} calls/h, AHT {AHT_S:.0f} s, patience "
        f"{PATIENCE_S:.0f} s, {args.hours:g} h after {WARMUP_H:g} h of warm-up"
    )
    runs: dict[str, list[Measured]] = {"hotline": [], "ciw": []}
    for i in range(args.repeat):
        for name in ("hotline", "ciw") if i % 2 == 0 else ("ciw", "hotline"):
            gc.collect()
            m = (
                run_hotline(settings, args.hours, args.seed + i)
                if name == "hotline"
                else run_ciw(args.hours, args.seed + i)
            )
            runs[name].append(m)
            print(
                f"  {name:8} {m.contacts:8d} contacts in {m.seconds:6.2f} s = "
                f"{m.per_s:6.0f}/s (cpu {m.cpu_s:6.2f} s = {m.per_cpu_s:6.0f}/s)   "
                f"SL{THRESHOLD_S} {m.service_level:.4f}  ASA {m.asa_s:6.3f} s  "
                f"abandon {m.abandon_rate:.5f}"
            )
    best = {name: max(ms, key=lambda m: m.per_s) for name, ms in runs.items()}
    ratio = best["hotline"].per_s / best["ciw"].per_s
    cpu = {name: max(m.per_cpu_s for m in ms) for name, ms in runs.items()}
    print(
        f"fastest: hotline {best['hotline'].per_s:.0f}/s, ciw {best['ciw'].per_s:.0f}/s: "
        f"{ratio:.2f}x ciw (by CPU time: {cpu['hotline']:.0f}/s, {cpu['ciw']:.0f}/s, "
        f"{cpu['hotline'] / cpu['ciw']:.2f}x)"
    )
    print(_agreement(runs))
    scenario = multi_skill_day(args.day_contacts, args.day_operators)
    gc.collect()
    sim = Simulation(scenario, settings, seed=args.seed)
    began, day_cpu = time.perf_counter(), time.process_time()
    result = sim.run()
    day_s, day_cpu = time.perf_counter() - began, time.process_time() - day_cpu
    f = figures(result.buckets.total(), result.rules)
    print(
        f"multi-skill day: {result.contacts} contacts, {len(sim.roster.specs)} operators, "
        f"{len({a.topic for a in scenario.arrivals})} topics, voice and chat, "
        f"{result.router_events} router events in {day_s:.2f} s (cpu {day_cpu:.2f} s, "
        f"{result.contacts / day_s:.0f} contacts/s)"
    )
    print(
        f"  its figures: SL20 {_pct(f['service_level']['20'])}, ASA {f['asa_s']:.1f} s, "
        f"abandon {_pct(f['abandon_rate'])}, occupancy {_pct(f['occupancy'])}, "
        f"urgent by deadline {_pct(f['deadline_met']['urgent'])}"
    )
    print(f"load average after: {_load()}")
    print(
        f"simulate: {best['hotline'].per_s:.0f} contacts/s, {ratio:.1f}x ciw, "
        f"day of {result.contacts} contacts in {day_s:.1f} s"
    )
    return 0


def _agreement(runs: dict[str, list[Measured]]) -> str:
    """Every run against Erlang A, and the two simulators' means against each other."""
    misses = []
    for m in runs["hotline"] + runs["ciw"]:
        if abs(m.service_level - ERLANG_A_SL) > SL_POINTS:
            misses.append(f"{m.name} SL {m.service_level:.4f}")
        if abs(m.abandon_rate - ERLANG_A_ABANDON) > ABANDON_POINTS:
            misses.append(f"{m.name} abandon {m.abandon_rate:.5f}")
    h, c = (_mean(runs[name]) for name in ("hotline", "ciw"))
    if abs(h["sl"] - c["sl"]) > SL_POINTS:
        misses.append(f"SL {h['sl']:.4f} vs {c['sl']:.4f}")
    if abs(h["asa"] / c["asa"] - 1) > ASA_SHARE:
        misses.append(f"ASA {h['asa']:.3f} vs {c['asa']:.3f}")
    if abs(h["ab"] - c["ab"]) > ABANDON_POINTS:
        misses.append(f"abandon {h['ab']:.5f} vs {c['ab']:.5f}")
    means = (
        f"means: hotline SL {h['sl']:.4f} ASA {h['asa']:.3f} abandon {h['ab']:.5f}; "
        f"ciw SL {c['sl']:.4f} ASA {c['asa']:.3f} abandon {c['ab']:.5f}"
    )
    if misses:
        return f"{means}\n!! DISAGREE beyond the tolerances: {'; '.join(misses)}"
    return (
        f"{means}\nagree: each with Erlang A, and with each other "
        "(SL +-1.5 pt, ASA +-10 %, abandon +-0.3 pt)"
    )


def _mean(ms: list[Measured]) -> dict[str, float]:
    n = len(ms)
    return {
        "sl": sum(m.service_level for m in ms) / n,
        "asa": sum(m.asa_s for m in ms) / n,
        "ab": sum(m.abandon_rate for m in ms) / n,
    }


def _pct(share: float | None) -> str:
    return "-" if share is None else f"{100 * share:.1f}%"


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())
