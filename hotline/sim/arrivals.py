"""The contacts a simulation meets: Poisson streams drawn from the scenario, or a past day.

An `Arrival` is (time, what the router is told, handle time, patience or None). The engine
pulls them one at a time, in time order, from an iterator: `poisson_arrivals` draws them, and
`hotline.sim.replay` reads them from a database. Arrivals and each contact's handle time and
patience come from one generator, in arrival order, so two staffing plans run with one seed
meet exactly the same contacts (common random numbers: their difference is the plans', not
the dice's).
"""

from __future__ import annotations

import math
from bisect import bisect
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import accumulate
from random import Random

from hotline.routing import Channel
from hotline.sim.draws import Draw, sampler
from hotline.sim.scenario import HOURS, Scenario

_HOUR_S = 3600.0
_log = math.log


@dataclass(frozen=True, slots=True)
class ContactKind:
    """What the router is told of a contact, but its id."""

    topic: str
    channel: Channel
    language: str | None
    priority: str | None
    skills: frozenset[str] | None  # None: the topic alone

    @classmethod
    def of(
        cls, topic: str, channel: str, language: str | None, priority: str | None
    ) -> ContactKind:
        ch = Channel(channel)
        # A callback needs the `callback` skill besides its topic's, as on the line.
        skills = frozenset((topic, "callback")) if ch is Channel.CALLBACK else None
        return cls(topic, ch, language, priority, skills)


Arrival = tuple[float, ContactKind, float, float | None]


def poisson_arrivals(
    scenario: Scenario, rng: Random, utc_offset_s: float, begin: float, end: float
) -> Iterator[Arrival]:
    """The scenario's streams from `begin` to `end`, drawn from `rng`."""
    kinds: list[ContactKind] = []
    handles: list[Draw] = []
    patiences: list[Draw | None] = []
    for a in scenario.arrivals:
        kinds.append(ContactKind.of(a.topic, a.channel, a.language, a.priority))
        handle = a.handle_time or scenario.handle_time_of(a.topic)
        assert handle is not None  # the scenario checked it
        handles.append(sampler(handle, rng))
        gives_up = a.patience or scenario.patience
        patiences.append(sampler(gives_up, rng) if gives_up is not None else None)
    process = PoissonProcess([a.per_hour for a in scenario.arrivals], utc_offset_s, rng)
    at = begin
    while True:
        at, i = process.next(at, end)
        if at >= end:
            return
        patience = patiences[i]
        handle_s = handles[i]()
        yield at, kinds[i], handle_s, patience() if patience is not None else None


class PoissonProcess:
    """The superposition of Poisson streams whose rates are constant within each hour of the
    day: the next arrival after `t` is drawn exactly (one exponential unit of mass spent over
    the piecewise-constant total rate, no thinning), then which stream it belongs to, in
    proportion to the streams' rates in that hour. `utc_offset_s`: local time minus UTC,
    which says where the hours of the day fall on the epoch."""

    __slots__ = ("_choose", "_cum", "_offset", "_random", "_rate_s", "_rng", "_single")

    def __init__(self, hourly: Sequence[Sequence[float]], utc_offset_s: float, rng: Random) -> None:
        self._rng = rng
        self._offset = utc_offset_s
        self._single = len(hourly) == 1
        # Per hour: the total rate per second, and the streams' cumulative rates per hour.
        self._rate_s = [sum(s[h] for s in hourly) / _HOUR_S for h in range(HOURS)]
        self._cum = [list(accumulate(s[h] for s in hourly)) for h in range(HOURS)]
        self._choose = self._random = rng.random

    def next(self, t: float, horizon: float) -> tuple[float, int]:
        """(time, stream) of the first arrival after `t`; time is inf if none by `horizon`."""
        mass = -_log(1.0 - self._random())  # `expovariate(1.0)`, spelt out
        rates, offset = self._rate_s, self._offset
        while t < horizon:
            # Hour boundaries as whole seconds (offsets are whole seconds): exact in a float.
            n = (t + offset) // _HOUR_S
            hour = int(n) % HOURS
            end = (n + 1) * _HOUR_S - offset
            rate = rates[hour]
            if rate > 0:
                at = t + mass / rate
                if at < end:
                    return at, 0 if self._single else self._stream(hour)
                mass -= (end - t) * rate
            t = end
        return math.inf, 0

    def _stream(self, hour: int) -> int:
        cum = self._cum[hour]
        return bisect(cum, self._choose() * cum[-1])
