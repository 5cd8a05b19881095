"""Erlang C and Erlang A against the issue's reference figures, against a brute-force solution of
the same chains, and their properties over random queues."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.sim.erlang import QueueFigures, erlang_a, erlang_b, erlang_c

# The reference case: 100 calls per 30 minutes, AHT 180 s (10 Erlangs), threshold 20 s.
RATE = 100 / 1800
AHT = 180.0
T = 20.0
EPS = 1e-9  # floating noise allowed in the monotonicity properties


@pytest.mark.parametrize(
    ("agents", "wait", "asa", "sl"),
    [(14, 0.174132, 7.836, 0.888350), (15, 0.102042, 3.674, 0.941453)],
)
def test_erlang_c_reproduces_the_reference_figures(
    agents: int, wait: float, asa: float, sl: float
) -> None:
    f = erlang_c(RATE, AHT, agents, T)
    assert f.wait_probability == pytest.approx(wait, abs=5e-5)
    assert f.asa_s == pytest.approx(asa, abs=5e-4)
    assert f.service_level == pytest.approx(sl, abs=5e-5)
    assert f.occupancy == pytest.approx(10 / agents)
    assert f.abandon_rate == 0.0


def test_erlang_a_reproduces_the_reference_figures_of_five_minutes_patience() -> None:
    f = erlang_a(RATE, AHT, 14, T, patience_s=300.0)
    assert f.abandon_rate == pytest.approx(0.013984, abs=5e-5)
    assert f.service_level == pytest.approx(0.916792, abs=5e-5)  # answered within T, of ALL


def test_erlang_c_is_unstable_when_the_load_reaches_the_agents() -> None:
    f = erlang_c(RATE, AHT, 10, T)
    assert (f.wait_probability, f.service_level, f.asa_s) == (1.0, 0.0, math.inf)


def test_erlang_b_stays_finite_for_a_huge_load() -> None:
    # A factorial or a power of the load would overflow long before this.
    assert 0.0 < erlang_b(20_000, 19_500.0) < 1.0
    f = erlang_c(19_500 / 300, 300.0, 20_000, 0.0)
    assert 0.0 < f.wait_probability < 1.0
    assert f.service_level == pytest.approx(1 - f.wait_probability)
    a = erlang_a(19_500 / 300, 300.0, 20_000, 0.0, 600.0)
    assert 0.0 < a.wait_probability < f.wait_probability


@pytest.mark.parametrize("agents", [11, 14, 20])
def test_erlang_a_tends_to_erlang_c_as_patience_grows(agents: int) -> None:
    c = erlang_c(RATE, AHT, agents, T)
    gaps = []
    for patience in (1e3, 1e5, 1e7, 1e9):
        a = erlang_a(RATE, AHT, agents, T, patience)
        gaps.append(
            max(
                abs(a.wait_probability - c.wait_probability),
                abs(a.service_level - c.service_level),
                abs(a.asa_s - c.asa_s) / AHT,
                a.abandon_rate,
            )
        )
    assert gaps[0] > gaps[1] > gaps[2] > gaps[3]
    assert gaps[3] < 1e-5


def _brute_force_erlang_a(
    lam: float, mu: float, theta: float, c: int, t: float, states: int = 400
) -> tuple[float, float, float, float]:
    """P(wait), SL over all arrivals, abandon rate and ASA of M/M/c+M, the slow way: the chain's
    weights by plain products, each waiting arrival's fate by uniformizing its own chain (k ahead
    of it ... 0, then answered or abandoned), and its wait as the sum of the time it spends with
    k ahead, over the paths that end answered: no closed form borrowed."""
    w = [1.0]
    for n in range(1, states):
        w.append(w[-1] * lam / (min(n, c) * mu + max(n - c, 0) * theta))
    total = sum(w)
    pi = [x / total for x in w]
    wait = sum(pi[c:])
    abandon = theta * sum((n - c) * p for n, p in enumerate(pi) if n > c) / lam
    within = waited = 0.0
    for q, p in enumerate(pi[c:]):
        if p < 1e-15:
            break
        within += p * _answered_within(q, c * mu, theta, t)
        waited += p * _wait_if_answered(q, c * mu, theta)
    return wait, 1.0 - wait + within, abandon, waited / (1.0 - abandon)


def _wait_if_answered(q: int, serve: float, theta: float) -> float:
    """E[wait; answered] of a contact that finds q waiting ahead of it."""

    def onward(k: int) -> float:  # P(leaving "k ahead" towards the agent, not abandoning)
        return (serve + k * theta) / (serve + (k + 1) * theta)

    total, reach = 0.0, 1.0
    for k in range(q, -1, -1):
        answered_from_k = math.prod(onward(j) for j in range(k + 1))
        total += reach * answered_from_k / (serve + (k + 1) * theta)
        reach *= onward(k)
    return total


def _answered_within(q: int, serve: float, theta: float, t: float) -> float:
    top = serve + (q + 1) * theta  # the fastest the tagged contact's chain leaves a state
    # dist[k]: P(k still ahead), k = 0..q; answered collects; abandoned is the rest
    dist = [0.0] * q + [1.0]
    answered = 0.0
    poisson = math.exp(-top * t)
    result = 0.0
    for n in range(10_000):
        result += poisson * answered
        if n > top * t and poisson < 1e-18:
            break
        new = [0.0] * (q + 1)
        for k, p in enumerate(dist):
            ahead_goes = serve + k * theta  # a service or an abandon of one ahead
            stay = 1.0 - (ahead_goes + theta) / top
            new[k] += p * stay
            if k == 0:
                answered += p * ahead_goes / top
            else:
                new[k - 1] += p * ahead_goes / top
        dist = new
        poisson *= top * t / (n + 1)
    return result


@pytest.mark.parametrize(
    ("rate", "aht", "agents", "patience", "threshold"),
    [(RATE, AHT, 14, 300.0, T), (RATE, AHT, 9, 120.0, 30.0), (0.05, 240.0, 3, 60.0, 15.0)],
)
def test_erlang_a_agrees_with_a_brute_force_solution_of_the_same_chain(
    rate: float, aht: float, agents: int, patience: float, threshold: float
) -> None:
    wait, sl, abandon, asa = _brute_force_erlang_a(rate, 1 / aht, 1 / patience, agents, threshold)
    f = erlang_a(rate, aht, agents, threshold, patience)
    assert f.wait_probability == pytest.approx(wait, abs=1e-9)
    assert f.abandon_rate == pytest.approx(abandon, abs=1e-9)
    assert f.service_level == pytest.approx(sl, abs=1e-9)
    assert f.asa_s == pytest.approx(asa, rel=1e-9)


def test_erlang_a_service_level_spans_no_wait_to_every_answered_contact() -> None:
    at_once = erlang_a(RATE, AHT, 12, 0.0, 300.0)
    assert at_once.service_level == pytest.approx(1 - at_once.wait_probability)
    ever = erlang_a(RATE, AHT, 12, 1e6, 300.0)
    assert ever.service_level == pytest.approx(1 - ever.abandon_rate)


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="patience"):
        erlang_a(RATE, AHT, 14, T, 0.0)
    with pytest.raises(ValueError, match="agent"):
        erlang_c(RATE, AHT, 0, T)
    with pytest.raises(ValueError, match="threshold"):
        erlang_c(RATE, AHT, 14, -1.0)


# Random queues: loads up to 200 Erlangs, patience between a twentieth and 20 handle times.
loads = st.floats(0.05, 200.0)
ahts = st.floats(5.0, 3600.0)
thresholds = st.floats(0.0, 600.0)
patience_in_ahts = st.floats(0.05, 20.0)
common = settings(deadline=None, max_examples=60)


def _figures(
    load: float, aht: float, agents: int, t: float, patience: float | None
) -> QueueFigures:
    rate = load / aht
    if patience is None:
        return erlang_c(rate, aht, agents, t)
    return erlang_a(rate, aht, agents, t, patience * aht)


def _in_unit_interval(f: QueueFigures) -> bool:
    return all(
        0.0 <= x <= 1.0 for x in (f.wait_probability, f.service_level, f.abandon_rate, f.occupancy)
    )


@common
@given(loads, ahts, st.integers(1, 300), thresholds, st.none() | patience_in_ahts)
def test_probabilities_are_probabilities(
    load: float, aht: float, agents: int, t: float, patience: float | None
) -> None:
    f = _figures(load, aht, agents, t, patience)
    assert _in_unit_interval(f)
    assert f.service_level <= 1.0 - f.abandon_rate + EPS
    assert f.asa_s >= 0.0


@common
@given(loads, ahts, st.integers(1, 300), thresholds, st.none() | patience_in_ahts)
def test_one_more_agent_is_never_worse(
    load: float, aht: float, agents: int, t: float, patience: float | None
) -> None:
    now, more = (_figures(load, aht, n, t, patience) for n in (agents, agents + 1))
    assert more.service_level >= now.service_level - EPS
    assert more.wait_probability <= now.wait_probability + EPS
    assert more.abandon_rate <= now.abandon_rate + EPS
    assert more.asa_s <= now.asa_s * (1 + EPS) + EPS
    assert more.occupancy <= now.occupancy + EPS


@common
@given(loads, ahts, st.integers(1, 300), thresholds, thresholds, st.none() | patience_in_ahts)
def test_service_level_grows_with_the_threshold(
    load: float, aht: float, agents: int, t1: float, t2: float, patience: float | None
) -> None:
    short, long = sorted((t1, t2))
    low = _figures(load, aht, agents, short, patience)
    high = _figures(load, aht, agents, long, patience)
    assert high.service_level >= low.service_level - EPS
    # The threshold moves the service level alone.
    assert (high.wait_probability, high.asa_s) == (low.wait_probability, low.asa_s)


@common
@given(loads, ahts, st.floats(0.5, 30.0), thresholds, patience_in_ahts)
def test_patience_costs_abandons_and_buys_shorter_waits(
    load: float, aht: float, spare: float, t: float, patience: float
) -> None:
    agents = math.floor(load + spare)
    if agents <= load:
        agents += 1
    c = _figures(load, aht, agents, t, None)
    a = _figures(load, aht, agents, t, patience)
    assert a.wait_probability <= c.wait_probability + EPS
    assert a.asa_s <= c.asa_s * (1 + EPS) + EPS
    assert a.abandon_rate > 0.0
