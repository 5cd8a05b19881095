"""Staffing one queue by the formulas: the fewest agents that meet a service-level target (and an
occupancy cap), by Erlang C, or Erlang A when a mean patience is given (`hotline.sim.erlang`).

`hotline staff` (hotline/cli.py) parses the command line, calls `plan_staff` and prints the plan
with `plan_table` or `StaffPlan.as_json`. Nothing here reads a file, a clock or the database.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from hotline.sim.erlang import QueueFigures, erlang_a, erlang_c

HOUR_S = 3600.0
# No centre staffs 100,000 agents on one queue; past this the search only burns time.
MAX_LOAD_ERLANGS = 100_000.0
_TOLERANCE = 1e-12  # a figure exactly on its goal meets it despite rounding


class StaffingError(ValueError):
    """A request that cannot be planned; `field` names the input at fault."""

    def __init__(self, field: str, what: str) -> None:
        super().__init__(f"{field}: {what}")
        self.field = field
        self.what = what


@dataclass(frozen=True, slots=True)
class Target:
    """`service_level` of the contacts answered within `threshold_s` seconds."""

    service_level: float
    threshold_s: float


@dataclass(frozen=True, slots=True)
class StaffRequest:
    rate_per_hour: float
    aht_s: float
    target: Target
    patience_s: float | None = None  # None: nobody abandons (Erlang C)
    max_occupancy: float = 1.0
    shrinkage: float = 0.0  # the share of paid time not on the line (breaks, training, absence)

    @property
    def load(self) -> float:
        """The offered load in Erlangs."""
        return self.rate_per_hour * self.aht_s / HOUR_S

    def figures(self, agents: int) -> QueueFigures:
        rate = self.rate_per_hour / HOUR_S
        t = self.target.threshold_s
        if self.patience_s is None:
            return erlang_c(rate, self.aht_s, agents, t)
        return erlang_a(rate, self.aht_s, agents, t, self.patience_s)

    def meets(self, figures: QueueFigures) -> bool:
        return (
            figures.service_level >= self.target.service_level - _TOLERANCE
            and figures.occupancy <= self.max_occupancy + _TOLERANCE
        )


@dataclass(frozen=True, slots=True)
class StaffPlan:
    request: StaffRequest
    agents: int  # to schedule: on the line, grossed up for shrinkage
    figures: QueueFigures  # of the agents on the line

    @property
    def agents_on_line(self) -> int:
        return self.figures.agents

    def as_json(self) -> dict[str, float | int]:
        f = self.figures
        return {
            "agents": self.agents,
            "agents_on_line": f.agents,
            "service_level": round(f.service_level, 6),
            "asa_s": round(f.asa_s, 6),
            "abandon_rate": round(f.abandon_rate, 6),
            "occupancy": round(f.occupancy, 6),
            "wait_probability": round(f.wait_probability, 6),
        }


def parse_target(text: str) -> Target:
    """`0.85/20`: 85 % answered within 20 seconds."""
    level, slash, threshold = text.partition("/")
    try:
        target = Target(float(level), float(threshold))
    except ValueError:
        target = None
    if not slash or target is None:
        raise StaffingError("target", f"{text!r} is not LEVEL/SECONDS, like 0.85/20")
    if not 0 < target.service_level < 1:
        raise StaffingError("target", "the service level must be a fraction between 0 and 1")
    if not (math.isfinite(target.threshold_s) and target.threshold_s >= 0):
        raise StaffingError("target", "the threshold must be zero or more seconds")
    return target


def check_request(request: StaffRequest) -> None:
    def positive(field: str, value: float | None) -> None:
        if value is not None and not (math.isfinite(value) and value > 0):
            raise StaffingError(field, "must be a positive number")

    positive("rate", request.rate_per_hour)
    positive("aht", request.aht_s)
    positive("patience", request.patience_s)
    if not 0 < request.max_occupancy <= 1:
        raise StaffingError("max-occupancy", "must be a fraction above 0, at most 1")
    if not 0 <= request.shrinkage < 1:
        raise StaffingError("shrinkage", "must be a fraction from 0, below 1")
    if request.load > MAX_LOAD_ERLANGS:
        raise StaffingError("rate", f"rate * AHT is over {MAX_LOAD_ERLANGS:.0f} Erlangs")


def plan_staff(request: StaffRequest) -> StaffPlan:
    """The fewest agents on the line that meet the request's target and occupancy cap, and how
    many to schedule for them: ceil(on_line / (1 - shrinkage))."""
    check_request(request)
    on_line = _smallest(_fewest_possible(request), lambda c: request.meets(request.figures(c)))
    # 14 / (1 - 0.3) is 20.000000000000004 in floats: 20 agents, not 21.
    agents = math.ceil(on_line / (1.0 - request.shrinkage) - 1e-9)
    return StaffPlan(request, agents, request.figures(on_line))


def _fewest_possible(request: StaffRequest) -> int:
    """A count below which the target cannot be met. Erlang C needs more agents than the load;
    under Erlang A the answered share is at most agents / load (agents answer no faster)."""
    load = request.load
    if request.patience_s is None:
        return max(math.floor(load) + 1, math.ceil(load / request.max_occupancy - 1e-9))
    return max(1, math.ceil(request.target.service_level * load - 1e-9))


def _smallest(low: int, good: Callable[[int], bool]) -> int:
    """The smallest n ≥ low with good(n), for good monotone (false, then true for ever after):
    doubling steps up from low, then bisection."""
    if good(low):
        return low
    bad, step = low, 1
    while not good(bad + step):
        bad, step = bad + step, step * 2
    ok = bad + step
    while ok - bad > 1:
        middle = (bad + ok) // 2
        if good(middle):
            ok = middle
        else:
            bad = middle
    return ok


def plan_table(plan: StaffPlan, around: int = 2) -> str:
    """The plan for people: the request, the figures of a few counts around the answer (the
    answer marked), and how many to schedule."""
    r = plan.request
    t = r.target
    model = "Erlang C" if r.patience_s is None else f"Erlang A, mean patience {r.patience_s:g} s"
    lines = [
        f"{model}: {r.rate_per_hour:g} contacts/h, AHT {r.aht_s:g} s, load {r.load:.2f} Erlangs",
        f"target: {t.service_level:.0%} answered within {t.threshold_s:g} s"
        + (f", occupancy at most {r.max_occupancy:.0%}" if r.max_occupancy < 1 else ""),
        "",
        f"{'agents':>7}  {'SL':>7}  {'ASA s':>8}  {'abandon':>7}  {'occupancy':>9}  {'P(wait)':>7}",
    ]
    first = max(1, plan.agents_on_line - around)
    for agents in range(first, plan.agents_on_line + around + 1):
        f = r.figures(agents)
        mark = "  <- fewest that meet the target" if agents == plan.agents_on_line else ""
        asa = f"{f.asa_s:8.2f}" if math.isfinite(f.asa_s) else f"{'-':>8}"
        lines.append(
            f"{agents:>7}  {f.service_level:7.2%}  {asa}  {f.abandon_rate:7.2%}"
            f"  {f.occupancy:9.2%}  {f.wait_probability:7.2%}{mark}"
        )
    lines += [
        "",
        f"agents on the line: {plan.agents_on_line}; to schedule with {r.shrinkage:.0%} "
        f"shrinkage: {plan.agents}",
    ]
    return "\n".join(lines)
