"""How many operators the formulas say each interval needs: Erlang's estimate for each arrival
stream alone, summed over the streams (`hotline.sim.staffing`).

For every hour of the day and every stream with contacts in it: the fewest operators on the
line for the service-level goal of the first threshold that has one (`[kpi.goals] sl_20 = 0.85`:
85 % within 20 s), by Erlang C, or Erlang A when the stream's citizens give up (the mean of its
patience, taken as exponential), with the handle time's mean plus the policy's wrap-up; a chat
operator holds several at once, so a chat stream's count is divided by the largest chat
capacity among the operators who can take it. Each stream alone: the sum is what separate
single-skill desks would need, more than a multi-skill line whose operators share the load
(the simulator shows how much less).
"""

from __future__ import annotations

from collections.abc import Iterable

from hotline.kpi import KpiRules
from hotline.routing import OperatorSpec
from hotline.sim.arrivals import ContactKind
from hotline.sim.scenario import HOURS, Scenario
from hotline.sim.staffing import StaffRequest, Target, plan_staff

_HOUR_S = 3600.0


def hourly_required(
    scenario: Scenario, rules: KpiRules, wrap_up_s: float, specs: tuple[OperatorSpec, ...]
) -> list[float] | None:
    """Operators needed in each hour of the day (00:00 first); None without a service-level
    goal or without arrival streams."""
    target = _target(rules)
    if target is None or not scenario.arrivals:
        return None
    needed = [0.0] * HOURS
    for a in scenario.arrivals:
        handle = a.handle_time or scenario.handle_time_of(a.topic)
        assert handle is not None  # the scenario checked it
        patience = a.patience or scenario.patience
        kind = ContactKind.of(a.topic, a.channel, a.language, a.priority)
        at_once = _capacity(kind, specs)
        for hour, rate in enumerate(a.per_hour):
            if rate <= 0:
                continue
            request = StaffRequest(
                rate,
                handle.mean_s + wrap_up_s,
                target,
                patience.mean_s if patience is not None else None,
            )
            needed[hour] += plan_staff(request).agents_on_line / at_once
    return needed


def per_interval(
    hourly: list[float], intervals: Iterable[float], utc_offset_s: float
) -> dict[float, float]:
    """Each interval start's hour of the day's figure."""
    return {start: hourly[int((start + utc_offset_s) // _HOUR_S) % HOURS] for start in intervals}


def _target(rules: KpiRules) -> Target | None:
    for t in rules.thresholds:
        goal = rules.goals.get(f"sl_{t}")
        if goal is not None and 0 < goal < 1:
            return Target(goal, t)
    return None


def _capacity(kind: ContactKind, specs: tuple[OperatorSpec, ...]) -> int:
    needs = kind.skills or {kind.topic}
    return (
        max((s.capacity.get(kind.channel, 0) for s in specs if needs <= s.skills.keys()), default=1)
        or 1
    )
