"""Erlang C (M/M/c) and Erlang A (M/M/c+M): the textbook figures of one queue served by c
agents, for staffing (`hotline.sim.staffing`) and for checking the simulator against.

Pure arithmetic on floats (`math` only), stable for any load a contact centre has: no factorials
and no powers of the load, only the Erlang B recursion B(k) = A·B(k-1) / (k + A·B(k-1)) and
sums of logarithms.

Symbols: λ arrivals per second, 1/μ the mean handle time (AHT), A = λ/μ the offered load in
Erlangs, c agents, T the service-level threshold in seconds, 1/θ the mean patience.

Erlang C (nobody abandons; needs c > A):
- P(wait) C = c·B / (c - A·(1 - B)), B the Erlang B blocking of c agents;
- service level SL(T) = 1 - C·exp(-(c - A)·μ·T);
- ASA (mean wait, every contact is answered) = C / ((c - A)·μ);
- occupancy = A / c.

Erlang A (exponential patience, Palm's model as in Garnett, Mandelbaum & Reiman 2002): the
number in the system is a birth-death chain with births λ and deaths min(n, c)·μ +
max(n - c, 0)·θ. Its stationary distribution π is computed numerically: below c it is Erlang
B's (their mass relative to π_c is 1/B - 1), above c the weights π_{c+q}/π_c are products of
λ / (c·μ + j·θ), summed in log space until they are negligible (≥ 45 e-folds under the peak,
past it). An arrival sees π (PASTA). Finding q ≥ 0 contacts waiting ahead of it (FCFS), it
reaches an agent after q + 1 stages of rates c·μ + k·θ (k = q … 0: services and abandons of those
ahead), and abandons at rate θ meanwhile. Folding its patience into the stages:
- P(answered | q) = c·μ / (c·μ + (q + 1)·θ) (the product telescopes);
- P(answered within T | q) = that times P(N ≥ q + 1), N negative binomial with r = c·μ/θ + 1
  and p = 1 - exp(-θ·T) (the stages c·μ + j·θ, j = 1 … q + 1, are order-statistic spacings);
- E[wait; answered | q] = P(answered | q) · Σ_{j=1}^{q+1} 1 / (c·μ + j·θ).
Then P(wait) = Σ_{q≥0} π_{c+q}; the service level is over ALL arrivals (an abandon before T is a
miss): π(n < c) + Σ π_{c+q}·P(answered within T | q); the abandon rate is over all arrivals;
ASA is the mean wait of the answered (as `asa_s` of `hotline.kpi.tally.figures`); occupancy is
A·(1 - abandon rate) / c. As the patience grows, every figure tends to Erlang C's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

_NEGLIGIBLE_E_FOLDS = 45.0  # e^-45 ≈ 3e-20: far below a float's resolution of a probability
MAX_QUEUE_STATES = 2_000_000  # the chain's truncation never needs more unless patience is absurd


@dataclass(frozen=True, slots=True)
class QueueFigures:
    """What a queue of `agents` gives in the long run. `asa_s` is the mean wait of the answered;
    `service_level` and `abandon_rate` are over all arrivals. Unstable Erlang C (load ≥ agents)
    gives wait_probability 1, service_level 0 and asa_s inf."""

    agents: int
    wait_probability: float
    service_level: float
    asa_s: float
    abandon_rate: float
    occupancy: float


def _check(rate_per_s: float, aht_s: float, agents: int, threshold_s: float) -> None:
    if not (math.isfinite(rate_per_s) and rate_per_s > 0):
        raise ValueError("the arrival rate must be a positive number")
    if not (math.isfinite(aht_s) and aht_s > 0):
        raise ValueError("the handle time must be a positive number of seconds")
    if agents < 1:
        raise ValueError("there must be at least one agent")
    if not (math.isfinite(threshold_s) and threshold_s >= 0):
        raise ValueError("the service-level threshold must be zero or more seconds")


def erlang_b(agents: int, load: float) -> float:
    """The probability that all `agents` are busy in M/M/c/c with `load` Erlangs offered."""
    b = 1.0
    for k in range(1, agents + 1):
        b = load * b / (k + load * b)
    return b


def erlang_c(rate_per_s: float, aht_s: float, agents: int, threshold_s: float) -> QueueFigures:
    """M/M/c: `rate_per_s` arrivals per second, mean handle time `aht_s`, answered within
    `threshold_s` for the service level."""
    _check(rate_per_s, aht_s, agents, threshold_s)
    load = rate_per_s * aht_s
    occupancy = min(load / agents, 1.0)
    if load >= agents:
        return QueueFigures(agents, 1.0, 0.0, math.inf, 0.0, occupancy)
    b = erlang_b(agents, load)
    wait = agents * b / (agents - load * (1.0 - b))
    spare = agents - load  # agents idle on average: the queue drains at spare·μ
    service_level = 1.0 - wait * math.exp(-spare * threshold_s / aht_s)
    asa = wait * aht_s / spare
    return QueueFigures(agents, wait, service_level, asa, 0.0, occupancy)


def erlang_a(
    rate_per_s: float, aht_s: float, agents: int, threshold_s: float, patience_s: float
) -> QueueFigures:
    """M/M/c+M: as `erlang_c`, and each waiting contact abandons after an exponential patience
    of mean `patience_s`."""
    _check(rate_per_s, aht_s, agents, threshold_s)
    if not (math.isfinite(patience_s) and patience_s > 0):
        raise ValueError("the mean patience must be a positive number of seconds")
    lam, mu, theta = rate_per_s, 1.0 / aht_s, 1.0 / patience_s
    load = lam * aht_s
    b = erlang_b(agents, load)
    if b == 0.0:  # so many agents that nobody ever waits (B underflowed)
        return QueueFigures(agents, 0.0, 1.0, 0.0, 0.0, load / agents)
    serve = agents * mu
    logs = _queue_log_weights(lam, serve, theta)  # log(π_{c+q} / π_c), q = 0, 1, ...
    top = max(logs)
    log_total = math.log(math.fsum(math.exp(x - top) for x in logs)) + top
    # π_c = B / D with D = (1 - B) + B·Σ_q π_{c+q}/π_c (the mass below c is (1/B - 1)·π_c)
    log_d = _log_add(math.log1p(-b), math.log(b) + log_total)
    log_pc = math.log(b) - log_d
    tail = _Tails(serve / theta + 1.0, theta * threshold_s)
    wait = within = answered = wait_answered = 0.0
    stage_means = 0.0
    for q, x in enumerate(logs):
        p = math.exp(log_pc + x)
        answer = serve / (serve + (q + 1) * theta)
        stage_means += 1.0 / (serve + (q + 1) * theta)
        wait += p
        answered += p * answer
        within += p * answer * tail(q + 1)
        wait_answered += p * answer * stage_means
    answered_all = 1.0 - wait + answered
    return QueueFigures(
        agents,
        _probability(wait),
        _probability(1.0 - wait + within),
        wait_answered / answered_all,
        _probability(wait - answered),
        _probability(load * answered_all / agents),
    )


def _probability(x: float) -> float:
    """`x` rid of the rounding that pushes a sum of probabilities just outside [0, 1]."""
    return min(max(x, 0.0), 1.0)


def _queue_log_weights(lam: float, serve: float, theta: float) -> list[float]:
    logs = [0.0]
    top = 0.0
    j = 1
    while True:
        step = math.log(lam / (serve + j * theta))
        x = logs[-1] + step
        top = max(top, x)
        if step < 0 and x < top - _NEGLIGIBLE_E_FOLDS:
            return logs
        if len(logs) >= MAX_QUEUE_STATES:
            raise ValueError("the patience is too long for this load; leave it out for Erlang C")
        logs.append(x)
        j += 1


def _log_add(x: float, y: float) -> float:
    hi, lo = max(x, y), min(x, y)
    return hi + math.log1p(math.exp(lo - hi))


class _Tails:
    """P(N ≥ m) for N negative binomial: P(N = a) = Γ(a + r) / (a!·Γ(r)) · p^a · (1 - p)^r with
    p = 1 - exp(-θT), asked for m = 1, 2, ... in order. Each term is kept as a logarithm, grown
    by log((r + a)·p / (a + 1)): no underflow carried on, no lgamma of a huge r."""

    def __init__(self, r: float, theta_t: float) -> None:
        self._r = r
        self._log_p = math.log(-math.expm1(-theta_t)) if theta_t > 0 else -math.inf
        self._log_term = -r * theta_t  # log P(N = 0) = r·log(1 - p)
        self._below = 0.0  # P(N < m) so far
        self._m = 0

    def __call__(self, m: int) -> float:
        if self._log_p == -math.inf:  # T = 0: nobody who waits is answered "within" it
            return 0.0
        while self._m < m:
            a = self._m
            self._below += math.exp(self._log_term)
            self._log_term += math.log((self._r + a) / (a + 1.0)) + self._log_p
            self._m += 1
        return max(1.0 - self._below, 0.0)
