"""Random draws of the simulation: durations, and the arrivals of all streams as one process.

Every draw comes from a `random.Random` the caller owns and seeds: no global state, so the
same seed gives the same draws. Arrivals and each contact's handle time and patience come from
one generator, in arrival order, so that two staffing plans run with one seed meet exactly the
same contacts (common random numbers: their difference is the plans', not the dice's).
"""

from __future__ import annotations

import math
from bisect import bisect
from collections.abc import Callable, Sequence
from itertools import accumulate
from random import Random

from hotline.sim.scenario import HOURS, Distribution

Draw = Callable[[], float]
_HOUR_S = 3600.0
_DAY_S = HOURS * _HOUR_S


def sampler(d: Distribution, rng: Random) -> Draw:
    """A function drawing durations (seconds) of `d` from `rng`."""
    mean = d.mean_s
    if d.dist == "fixed":
        return lambda: mean
    if d.dist == "exp":
        rate = 1.0 / mean
        expo = rng.expovariate
        return lambda: expo(rate)
    assert d.sd_s is not None
    # The lognormal whose own mean and sd are mean_s and sd_s.
    sigma2 = math.log1p((d.sd_s / mean) ** 2)
    mu, sigma = math.log(mean) - sigma2 / 2, math.sqrt(sigma2)
    lognorm = rng.lognormvariate
    return lambda: lognorm(mu, sigma)


class Arrivals:
    """The superposition of Poisson streams whose rates are constant within each hour of the
    day: the next arrival after `t` is drawn exactly (one exponential unit of mass spent over
    the piecewise-constant total rate, no thinning), then which stream it belongs to, in
    proportion to the streams' rates in that hour. `utc_offset_s`: local time minus UTC,
    which says where the hours of the day fall on the epoch."""

    __slots__ = ("_choose", "_cum", "_offset", "_rate_s", "_rng", "_single")

    def __init__(self, hourly: Sequence[Sequence[float]], utc_offset_s: float, rng: Random) -> None:
        self._rng = rng
        self._offset = utc_offset_s
        self._single = len(hourly) == 1
        # Per hour: the total rate per second, and the streams' cumulative rates per hour.
        self._rate_s = [sum(s[h] for s in hourly) / _HOUR_S for h in range(HOURS)]
        self._cum = [list(accumulate(s[h] for s in hourly)) for h in range(HOURS)]
        self._choose = rng.random

    def next(self, t: float, horizon: float) -> tuple[float, int]:
        """(time, stream) of the first arrival after `t`; time is inf if none by `horizon`."""
        mass = self._rng.expovariate(1.0)
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
