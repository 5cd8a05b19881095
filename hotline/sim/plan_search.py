"""The smallest plan that meets every goal in the simulation, found from the Erlang plan.

Every step simulates a whole plan with the same seed (`hotline.sim.plan.Planner`), so two plans
meet the same contacts and differ only by their operators. Three phases:

1. Add, until every goal holds. Each round, in every hour that misses a goal, the goal missed
   most (relative to its value) points at the queue (topic, class, channel) whose figure misses
   it most that hour, and one operator is added to the home group of that queue's stream in
   that hour. All failing hours get theirs in one round: adding an operator never makes
   another hour worse enough to matter, and phase 3 takes back any extra one. When
   `STALLED_ROUNDS` rounds in a row bring the sum of the misses no lower, no number of
   operators is going to meet them (an ASA goal under a fixed ring time): the search stops.
2. Remove in batches, while the goals hold. A round takes one operator out of every other
   hour of the day (the even hours, then the odd ones), each from the group least occupied in
   that hour, and simulates once. A removal is kept when its hour and the next (where a
   longer queue carries over) still meet every goal; if they all hold the plan is taken, else
   the kept ones are simulated again to confirm. A removal that failed is not tried again in
   this phase. Far fewer runs than one at a time, and it is only a shortcut: phase 3 decides.
3. Remove one at a time: every cell (group, hour) with operators, in order, loses one as long
   as the plan still meets every goal; passes repeat until one keeps nothing. The last pass
   has tried removing each operator alone and every try broke a goal: no plan with one
   operator-hour fewer than this one, of this shape, meets the goals with this seed.

Only measured hours are searched; hours a short run does not measure keep the Erlang plan
(their operators are the warm-up's). `budget` caps the simulations: past it the search stops
and says whether the goals were met and whether the plan was proven minimal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

from hotline.sim.plan import Check, Goal, Plan, PlanError, Planner, Stream

DEFAULT_BUDGET = 2000
# Rounds of adding in a row that bring the misses no closer before the search gives up: a goal
# no number of operators meets (an ASA goal under the ring time of every offer, say).
STALLED_ROUNDS = 5


@dataclass(slots=True)
class Search:
    """What the search found and what it cost: `simulations` per phase."""

    start: Check  # the Erlang plan simulated
    best: Check  # the smallest plan found that meets every goal (unmet: the last one added to)
    met: bool = False
    minimal: bool = False  # phase 3 finished: removing any one operator breaks a goal
    stalled: bool = False  # adding operators stopped bringing the missed goals closer
    simulations: dict[str, int] = field(default_factory=dict)


class _OutOfBudget(Exception):
    pass


class _Stalled(Exception):
    pass


def search(
    planner: Planner,
    start: Plan,
    streams: tuple[Stream, ...],
    budget: int = DEFAULT_BUDGET,
    progress: Callable[[str, int], None] | None = None,
) -> Search:
    """`progress` is told each simulation's phase and how many have run, before it runs."""
    runs = _Runs(planner, budget, progress)
    first = runs.check(start, "erlang")
    found = Search(first, first, simulations=runs.counts)
    try:
        _add(runs, found, streams)
        found.met = True
        _remove_in_batches(runs, found)
        _remove_one_at_a_time(runs, found)
        found.minimal = True
    except _OutOfBudget:
        pass
    except _Stalled:
        found.stalled = True
    return found


class _Runs:
    def __init__(
        self, planner: Planner, budget: int, progress: Callable[[str, int], None] | None
    ) -> None:
        self.planner = planner
        self.budget = budget
        self.progress = progress
        self.counts: dict[str, int] = {}

    def check(self, plan: Plan, phase: str) -> Check:
        if self.planner.simulations >= self.budget:
            raise _OutOfBudget
        if self.progress is not None:
            self.progress(phase, self.planner.simulations)
        before = self.planner.simulations
        c = self.planner.check(plan)
        self.counts[phase] = self.counts.get(phase, 0) + self.planner.simulations - before
        return c


def _changed(plan: Plan, deltas: Mapping[tuple[str, int], int]) -> Plan:
    new = {group: list(counts) for group, counts in plan.items()}
    for (group, hour), d in deltas.items():
        new[group][hour] += d
    return {group: tuple(counts) for group, counts in new.items()}


def _add(runs: _Runs, found: Search, streams: tuple[Stream, ...]) -> None:
    check = found.best
    closest, stalled = _total_miss(check), 0
    while not check.meets:
        if stalled >= STALLED_ROUNDS:
            raise _Stalled
        if check.result is None:
            raise PlanError("scenario", f"the Erlang plan cannot be simulated: {check.problem}")
        goals = {g.name: g for g in runs.planner.goals}
        adds: dict[tuple[str, int], int] = {}
        for hour, missed in check.misses.items():
            worst = goals[max(missed, key=missed.__getitem__)]
            adds[(_group_to_add(check, hour, worst, streams), hour)] = 1
        check = found.best = runs.check(_changed(check.plan, adds), "add")
        total = _total_miss(check)
        closest, stalled = (total, 0) if total < closest else (closest, stalled + 1)


def _total_miss(check: Check) -> float:
    return sum(m for missed in check.misses.values() for m in missed.values())


def _group_to_add(check: Check, hour: int, goal: Goal, streams: tuple[Stream, ...]) -> str:
    """The home group of the stream behind the queue that misses `goal` most in `hour` (the
    hour's busiest stream's when no queue measures it)."""
    worst: tuple[float, str, str] | None = None
    for (h, topic, _, channel), f in check.queues.items():
        m = goal.miss(f) if h == hour else None
        if m is not None and (worst is None or m > worst[0]):
            worst = (m, topic, channel)
    candidates = [
        s for s in streams if worst is None or (s.topic, s.channel) == (worst[1], worst[2])
    ] or list(streams)
    return max(candidates, key=lambda s: s.rates[hour]).home


def _cells(plan: Plan, hour: int) -> Iterator[str]:
    return (group for group, counts in plan.items() if counts[hour] > 0)


def _remove_in_batches(runs: _Runs, found: Search) -> None:
    check = found.best
    hours = runs.planner.hours
    failed: set[tuple[str, int]] = set()
    idle_rounds = 0
    parity = 0
    while idle_rounds < 2:
        batch: dict[tuple[str, int], int] = {}
        for hour in hours:
            if hour % 2 != parity:
                continue
            groups = [g for g in _cells(check.plan, hour) if (g, hour) not in failed]
            if groups:
                group = min(groups, key=lambda g: check.occupancy.get((hour, g)) or 0.0)
                batch[(group, hour)] = -1
        parity = 1 - parity
        kept = _try_batch(runs, check, batch, failed) if batch else None
        if kept is None:
            idle_rounds += 1
        else:
            check = found.best = kept
            idle_rounds = 0


def _try_batch(
    runs: _Runs, check: Check, batch: dict[tuple[str, int], int], failed: set[tuple[str, int]]
) -> Check | None:
    trial = runs.check(_changed(check.plan, batch), "batch")
    if trial.meets:
        return trial
    keep = {}
    for group, hour in batch:
        if trial.result is not None and not {hour, (hour + 1) % 24} & trial.misses.keys():
            keep[(group, hour)] = -1
        else:
            failed.add((group, hour))
    if not keep:
        return None
    confirm = runs.check(_changed(check.plan, keep), "batch")
    if confirm.meets:
        return confirm
    failed.update(keep)
    return None


def _remove_one_at_a_time(runs: _Runs, found: Search) -> None:
    check = found.best
    hours = runs.planner.hours
    while True:
        kept_any = False
        for hour in hours:
            for group in list(_cells(check.plan, hour)):
                while check.plan[group][hour] > 0:
                    trial = runs.check(_changed(check.plan, {(group, hour): -1}), "one_by_one")
                    if not trial.meets:
                        break
                    check = found.best = trial
                    kept_any = True
        if not kept_any:
            return
