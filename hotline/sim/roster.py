"""The scenario's operator groups as the router's operators, and when each is at work.

Each member of a group becomes one `OperatorSpec` (`<group>-<n>`). Its shifts repeat every
simulated day: ready from the shift's start, on break during its breaks (staggered across the
group when the break says so), offline between shifts. A group without shifts is ready the
whole time. `Roster.changes` lists every planned presence change in the run, in time order;
the engine applies them (an operator who still holds contacts at a shift's end finishes them
first, see `hotline.sim.engine`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from hotline.routing import Channel, OperatorSpec, Presence
from hotline.sim.arrivals import ContactKind
from hotline.sim.scenario import HOURS, OperatorGroup, Scenario, ScenarioError, clock_minutes

_DAY_S = HOURS * 3600.0


@dataclass(frozen=True, slots=True)
class Roster:
    specs: tuple[OperatorSpec, ...]
    initial: tuple[Presence, ...]  # each operator's presence when the run begins
    changes: tuple[tuple[float, int, Presence], ...]  # (time, operator index, presence)


def build_roster(
    scenario: Scenario,
    *,
    default_capacity: dict[Channel, int],
    default_language: str,
    midnight: float,
    begin: float,
    end: float,
) -> Roster:
    """Operators and their presence from `begin` to `end`; `midnight`: the first day's
    00:00 local time, where shifts are laid from."""
    specs: list[OperatorSpec] = []
    initial: list[Presence] = []
    changes: list[tuple[float, int, Presence]] = []
    for g_index, group in enumerate(scenario.operators):
        name = scenario.group_name(g_index)
        capacity = (
            {Channel(c): n for c, n in group.capacity.items()}
            if group.capacity is not None
            else dict(default_capacity)
        )
        languages = frozenset(group.languages or (default_language,))
        for k in range(group.count):
            index = len(specs)
            specs.append(
                OperatorSpec(f"{name}-{k + 1}", dict(group.skills), languages, capacity, math.inf)
            )
            if not group.shifts:
                initial.append(Presence.READY)
                continue
            timeline = _timeline(group, g_index, k, midnight, begin, end)
            before = [p for t, p in timeline if t <= begin]
            initial.append(before[-1] if before else Presence.OFFLINE)
            changes.extend((t, index, p) for t, p in timeline if begin < t < end)
    changes.sort(key=lambda c: (c[0], c[1]))
    return Roster(tuple(specs), tuple(initial), tuple(changes))


def _timeline(
    group: OperatorGroup, g_index: int, member: int, midnight: float, begin: float, end: float
) -> list[tuple[float, Presence]]:
    """Member `member`'s presence changes, every day that can touch [begin, end]."""
    segments: list[tuple[float, float, Presence]] = []  # (from, to, presence) at work
    first_day = math.floor((begin - midnight) / _DAY_S) - 1
    last_day = math.ceil((end - midnight) / _DAY_S)
    for day in range(first_day, last_day + 1):
        day_start = midnight + day * _DAY_S
        for shift in group.shifts:
            start = day_start + shift.start_min * 60.0
            stop = start + shift.span_min * 60.0
            at = start
            for b in sorted(shift.breaks, key=lambda b: b.start):
                from_start = ((clock_minutes(b.start) - shift.start_min) % (HOURS * 60)) * 60.0
                b_start = start + from_start + b.stagger_min * 60.0 * member / group.count
                b_end = b_start + b.minutes * 60.0
                segments.append((at, b_start, Presence.READY))
                segments.append((b_start, b_end, Presence.BREAK))
                at = b_end
            segments.append((at, stop, Presence.READY))
    segments.sort(key=lambda s: s[0])
    timeline: list[tuple[float, Presence]] = []
    last_end = -math.inf
    for start, stop, presence in segments:
        if start < last_end:
            raise ScenarioError([(f"operators[{g_index}].shifts", "shifts of a group overlap")])
        if start > last_end and timeline:
            timeline.append((last_end, Presence.OFFLINE))
        if stop > start:
            timeline.append((start, presence))
        last_end = stop
    if timeline:
        timeline.append((last_end, Presence.OFFLINE))
    # One change per instant (the last one), none that changes nothing (a shift that ends
    # where the next begins).
    merged: list[tuple[float, Presence]] = []
    for t, p in timeline:
        while merged and merged[-1][0] == t:
            merged.pop()
        if not merged or merged[-1][1] is not p:
            merged.append((t, p))
    return merged


def check_coverage(
    kinds: list[ContactKind],
    specs: tuple[OperatorSpec, ...],
    default_language: str,
    *,
    replayed: bool,
) -> None:
    """Every kind of contact can be taken by someone (skills, language, channel capacity)."""
    for i, k in enumerate(kinds):
        needs = k.skills or {k.topic}
        language = k.language or default_language
        if not any(
            needs <= spec.skills.keys()
            and language in spec.languages
            and spec.capacity.get(k.channel, 0) > 0
            for spec in specs
        ):
            where = "operators" if replayed else f"arrivals[{i}]"
            raise ScenarioError(
                [
                    (
                        where,
                        f"no operator can take {k.topic!r} in {language!r} by {k.channel}: "
                        "check skills, languages and capacity",
                    )
                ]
            )
