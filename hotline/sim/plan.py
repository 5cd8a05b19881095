"""A staffing plan for a whole scenario (`hotline staff --scenario`): Erlang's estimate for each
arrival stream alone, the simulator's check of the whole multi-skill line staffed that way, and
the smallest plan that meets every goal in the simulation.

A plan is a count of operators on the line per operator group and hour of the day: the
scenario's groups say what kinds of operators there are (skills, languages, capacity); their
counts and shifts are what the plan replaces. The hour is the plan's interval because the
scenario's rates change by the hour.

- Erlang (`erlang_cells`): each stream (topic, channel, language) alone, each hour, by Erlang C,
  or Erlang A when its citizens give up (`hotline.sim.staffing`, as `hotline staff --rate`),
  for every goal Erlang predicts: each `sl_<T>`, `asa_s` and `abandon_rate`. Handle time is the
  stream's mean plus the policy's wrap-up. The Erlang plan gives each stream's servers to its
  home group (the most proficient group that can take it), divided by that group's capacity on
  the channel.
- The check (`Planner.check`): the plan as the scenario's operators (one member a group of its
  own, on shift in the hours the plan counts it, so an operator's id does not change when
  another's hours do), simulated on the real router with the same seed every time (common
  random numbers: the contacts are the same, only the plan differs). Goals are measured on the
  whole line's contacts of each hour of the day (every simulated day's hour pooled, or with
  `each_day` each day's hour on its own): `[kpi.goals]` of the config, and each priority
  class's deadline met for every contact (`deadline_<class>`).
- The search (`search`) is explained in `hotline.sim.plan_search`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from hotline.config import Settings
from hotline.kpi import KpiRules, Tally, figures
from hotline.routing import Channel
from hotline.sim.arrivals import ContactKind
from hotline.sim.engine import SimResult, Simulation
from hotline.sim.erlang import QueueFigures
from hotline.sim.scenario import HOURS, Scenario, ScenarioError, Shift
from hotline.sim.staffing import StaffRequest, Target, plan_staff

_HOUR_S = 3600.0
Plan = dict[str, tuple[int, ...]]  # group name -> operators on the line in each hour 00..23


class PlanError(ValueError):
    """A scenario or a request that cannot be planned; `field` names what is at fault."""

    def __init__(self, field: str, what: str) -> None:
        super().__init__(f"{field}: {what}")
        self.field = field
        self.what = what


# -- goals --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Goal:
    """A figure of the whole line per hour: at least `value` (a service level, deadlines met)
    or at most `value` (ASA, longest wait, abandon rate)."""

    name: str
    value: float
    at_least: bool

    def miss(self, f: Mapping[str, Any]) -> float | None:
        """How far FIGURES `f` miss the goal, relative to it: > 0 misses, <= 0 holds; None when
        the figure has nothing to measure (no contact answered, none due)."""
        value = _figure(self.name, f)
        if value is None:
            return None
        scale = max(abs(self.value), 1e-9)
        return (self.value - value) / scale if self.at_least else (value - self.value) / scale


def _figure(name: str, f: Mapping[str, Any]) -> float | None:
    if name.startswith("sl_"):
        value = f["service_level"].get(name[3:])
    elif name.startswith("deadline_"):
        value = f["deadline_met"].get(name[9:])
    else:
        value = f[name]
    return None if value is None else float(value)


def goals_of(rules: KpiRules, ignore: Collection[str] = ()) -> tuple[Goal, ...]:
    """`[kpi.goals]` and every class's deadline for all its contacts, but those in `ignore`."""
    goals = [Goal(name, value, name.startswith("sl_")) for name, value in rules.goals.items()]
    goals += [Goal(f"deadline_{c}", 1.0, True) for c in rules.classes]
    known = {g.name for g in goals}
    for name in ignore:
        if name not in known:
            raise PlanError("ignore-goal", f"{name!r} is not a goal; one of {', '.join(known)}")
    kept = tuple(g for g in goals if g.name not in ignore)
    if not kept:
        raise PlanError("ignore-goal", "no goal is left to plan for")
    return kept


# -- Erlang, each stream alone -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Stream:
    """An arrival stream as Erlang sees it; `home` its group in the Erlang plan, whose
    operators hold `capacity` of its contacts at once."""

    label: str
    topic: str
    channel: str
    language: str | None
    rates: tuple[float, ...]
    aht_s: float  # handle time's mean plus wrap-up: what `hotline staff --aht` is given
    patience_s: float | None  # the patience's mean: Erlang A; None: Erlang C
    home: str
    capacity: int


@dataclass(frozen=True, slots=True)
class ErlangCell:
    """One stream in one hour: `agents` servers (contacts at once) on the line, their figures,
    and the service-level target whose `plan_staff` needed the most (`hotline staff --target`)."""

    hour: int
    rate_per_hour: float
    agents: int
    target: Target
    figures: QueueFigures  # at `target`'s threshold
    service_level: dict[str, float]  # at each goal's threshold


def streams_of(scenario: Scenario, settings: Settings) -> tuple[Stream, ...]:
    policy = settings.routing_policy()
    wrap = scenario.wrap_up_s if scenario.wrap_up_s is not None else policy.wrap_up_s
    default_capacity = settings.default_capacity()
    streams = []
    for i, a in enumerate(scenario.arrivals):
        handle = a.handle_time or scenario.handle_time_of(a.topic)
        assert handle is not None  # the scenario checked it
        patience = a.patience or scenario.patience
        kind = ContactKind.of(a.topic, a.channel, a.language, a.priority)
        language = a.language or policy.default_language
        needs = kind.skills or {a.topic}
        best: tuple[int, int, str, int] | None = None  # (proficiency, -index, name, capacity)
        for g_index, g in enumerate(scenario.operators):
            languages = g.languages or (policy.default_language,)
            capacity = (
                g.capacity.get(a.channel, 0)
                if g.capacity is not None
                else default_capacity[Channel(a.channel)]
            )
            if needs <= g.skills.keys() and language in languages and capacity > 0:
                key = (g.skills[a.topic], -g_index, scenario.group_name(g_index), capacity)
                best = key if best is None or key[:2] > best[:2] else best
        if best is None:
            raise PlanError(
                f"arrivals[{i}]",
                f"no operator group can take {a.topic!r} in {language!r} by {a.channel}",
            )
        label = "/".join([a.topic, a.channel, *([a.language] if a.language else [])])
        streams.append(
            Stream(
                label,
                a.topic,
                a.channel,
                a.language,
                a.per_hour,
                handle.mean_s + wrap,
                patience.mean_s if patience is not None else None,
                best[2],
                best[3],
            )
        )
    return tuple(streams)


def erlang_cells(stream: Stream, goals: tuple[Goal, ...]) -> list[ErlangCell]:
    """The stream's servers in each hour with contacts, for every goal Erlang predicts."""
    sl_goals = [Target(g.value, float(g.name[3:])) for g in goals if g.name.startswith("sl_")]
    limits = {g.name: g.value for g in goals if g.name in ("asa_s", "abandon_rate")}
    cells = []
    for hour, rate in enumerate(stream.rates):
        if rate <= 0:
            continue

        def request(target: Target) -> StaffRequest:
            return StaffRequest(rate, stream.aht_s, target, stream.patience_s)  # noqa: B023

        # Without a service-level goal the figures shown are at a 20 s threshold, the usual one.
        agents, binding = 0, sl_goals[0] if sl_goals else Target(0.8, 20.0)
        for target in sl_goals:
            n = plan_staff(request(target)).agents_on_line
            if n > agents:
                agents, binding = n, target
        base = request(binding)
        agents = max(agents, math.floor(base.load) + 1 if stream.patience_s is None else 1)
        while not _within(base.figures(agents), limits):
            agents += 1
        cells.append(
            ErlangCell(
                hour,
                rate,
                agents,
                binding,
                base.figures(agents),
                {f"{t.threshold_s:g}": request(t).figures(agents).service_level for t in sl_goals},
            )
        )
    return cells


def _within(f: QueueFigures, limits: Mapping[str, float]) -> bool:
    asa, abandon = limits.get("asa_s"), limits.get("abandon_rate")
    return (asa is None or f.asa_s <= asa) and (abandon is None or f.abandon_rate <= abandon)


def erlang_plan(scenario: Scenario, cells: Mapping[Stream, list[ErlangCell]]) -> Plan:
    """Each stream's servers to its home group, per channel divided by the group's capacity."""
    servers: dict[tuple[str, str, int], float] = {}
    for stream, stream_cells in cells.items():
        for c in stream_cells:
            key = (stream.home, stream.channel, c.hour)
            servers[key] = servers.get(key, 0.0) + c.agents / stream.capacity
    plan = {scenario.group_name(i): [0] * HOURS for i in range(len(scenario.operators))}
    for (group, _, hour), n in servers.items():
        plan[group][hour] += math.ceil(n - 1e-9)
    return {group: tuple(counts) for group, counts in plan.items()}


# -- the simulator's check ------------------------------------------------------------------------


def staffed(scenario: Scenario, plan: Plan) -> Scenario:
    """The scenario with the plan as its operators: member k of a group is on shift in the
    hours the plan counts more than k of them, as a group of one named `<group>/<k+1>`."""
    groups = []
    for i, group in enumerate(scenario.operators):
        counts = plan.get(scenario.group_name(i), (0,) * HOURS)
        for k in range(max(counts)):
            groups.append(
                group.model_copy(
                    update={
                        "name": f"{scenario.group_name(i)}/{k + 1}",
                        "count": 1,
                        "shifts": _shifts([n > k for n in counts]),
                    }
                )
            )
    return scenario.model_copy(update={"operators": tuple(groups)})


def _shifts(on: list[bool]) -> tuple[Shift, ...]:
    """The runs of hours in `on` as shifts (a run over midnight is one shift); every hour: none,
    which the roster reads as at work the whole time."""
    if all(on):
        return ()
    shifts = []
    for start in range(HOURS):
        if on[start] and not on[start - 1]:
            end = start
            while on[end % HOURS]:
                end += 1
            shifts.append(Shift(start=f"{start:02d}:00", end=f"{end % HOURS:02d}:00"))
    return tuple(shifts)


@dataclass(frozen=True, slots=True)
class Check:
    """A plan simulated. `hours`: the whole line's FIGURES of each measured hour of the day;
    `misses`: per hour, the goals missed and by how much (relative); `queues`: FIGURES per
    (hour, topic, priority, channel); `occupancy`: per (hour, group)."""

    plan: Plan
    hours: dict[int, dict[str, Any]]
    misses: dict[int, dict[str, float]]
    queues: dict[tuple[int, str, str, str], dict[str, Any]]
    occupancy: dict[tuple[int, str], float | None]
    result: SimResult | None  # None: the plan leaves some contacts nobody can take
    problem: str | None = None

    @property
    def meets(self) -> bool:
        return self.result is not None and not self.misses


class Planner:
    """Simulates plans of one scenario, with one seed, against its goals; counts its runs."""

    def __init__(
        self,
        scenario: Scenario,
        settings: Settings,
        goals: tuple[Goal, ...],
        *,
        seed: int,
        each_day: bool = False,
    ) -> None:
        """`each_day`: the goals must hold in each simulated day's hour, not only in the
        days' hours pooled."""
        self.scenario = scenario
        # The simulator's own Erlang column (`required`) is not wanted here: without goals in
        # its settings it skips computing it for every run.
        self._settings = settings.model_copy(
            update={"kpi": settings.kpi.model_copy(update={"goals": {}})}
        )
        self.goals = goals
        self.seed = seed
        self.each_day = each_day
        self.simulations = 0
        midnight = dt.datetime.combine(scenario.start, dt.time(), settings.timezone)
        self._midnight = midnight.timestamp()
        self.hours = measured_hours(scenario.duration_s)

    def hour_of(self, at: float) -> int:
        return int((at - self._midnight) // _HOUR_S) % HOURS

    def check(self, plan: Plan, seed: int | None = None) -> Check:
        """`plan` simulated with the planner's seed, or `seed` (to see how much a verdict
        owes to one seed's contacts)."""
        seed = self.seed if seed is None else seed
        try:
            sim = Simulation(staffed(self.scenario, plan), self._settings, seed=seed)
        except ScenarioError as e:
            problem = "; ".join(f"{path}: {what}" for path, what in e.problems)
            return Check(plan, {}, {}, {}, {}, None, problem)
        self.simulations += 1
        result = sim.run()
        return self._measure(plan, result)

    def _measure(self, plan: Plan, result: SimResult) -> Check:
        rules = result.rules
        n = len(rules.thresholds)
        by_hour: dict[int, Tally] = {}
        by_day: dict[tuple[int, int], Tally] = {}  # (day, hour): for `each_day`
        by_queue: dict[tuple[int, str, str, str], Tally] = {}
        for (start, topic, priority, channel), t in result.buckets.queues.items():
            hour = self.hour_of(start)
            by_hour.setdefault(hour, Tally(n)).merge(t)
            by_queue.setdefault((hour, topic, priority, channel), Tally(n)).merge(t)
            if self.each_day:
                day = int((start - self._midnight) // (HOURS * _HOUR_S))
                by_day.setdefault((day, hour), Tally(n)).merge(t)
        time: dict[tuple[int, str], list[float]] = {}
        for (start, operator_id), t in result.buckets.operators.items():
            key = (self.hour_of(start), operator_id.rpartition("/")[0])
            busy_open = time.setdefault(key, [0.0, 0.0])
            busy_open[0] += t.busy_s
            busy_open[1] += t.open_s
        hours = {h: figures(by_hour[h], rules) for h in sorted(by_hour)}
        misses: dict[int, dict[str, float]] = {}
        measured = (
            [(hour, figures(t, rules)) for (_, hour), t in sorted(by_day.items())]
            if self.each_day
            else list(hours.items())
        )
        for hour, f in measured:  # each day's hour with `each_day`: the worst day counts
            for g in self.goals:
                m = g.miss(f)
                if m is not None and m > 0:
                    missed = misses.setdefault(hour, {})
                    missed[g.name] = max(m, missed.get(g.name, m))
        return Check(
            plan,
            hours,
            misses,
            {key: figures(t, rules) for key, t in by_queue.items()},
            {key: (busy / open_s if open_s > 0 else None) for key, (busy, open_s) in time.items()},
            result,
        )


def measured_hours(duration_s: float) -> tuple[int, ...]:
    """The hours of the day a run from midnight over `duration_s` measures."""
    n = min(HOURS, math.ceil(duration_s / _HOUR_S - 1e-9))
    return tuple(range(n))
