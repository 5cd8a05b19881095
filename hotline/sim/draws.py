"""Random durations of the simulation (handle times, patience, offer delays).

Every draw comes from a `random.Random` the caller owns and seeds: no global state, so the
same seed gives the same draws.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from random import Random

from hotline.sim.scenario import Distribution

Draw = Callable[[], float]


def sampler(d: Distribution, rng: Random) -> Draw:
    """A function drawing durations (seconds) of `d` from `rng`."""
    mean = d.mean_s
    if d.dist == "fixed":
        return lambda: mean
    if d.dist == "exp":
        rate = 1.0 / mean
        random, log = rng.random, math.log
        # `rng.expovariate(rate)` spelt out (its formula: the same draws), a call less a draw.
        return lambda: -log(1.0 - random()) / rate
    assert d.sd_s is not None
    # The lognormal whose own mean and sd are mean_s and sd_s.
    sigma2 = math.log1p((d.sd_s / mean) ** 2)
    mu, sigma = math.log(mean) - sigma2 / 2, math.sqrt(sigma2)
    lognorm = rng.lognormvariate
    return lambda: lognorm(mu, sigma)
