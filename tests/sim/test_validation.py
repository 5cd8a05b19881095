"""The simulator against the textbook: on one queue with one skill, exponential handle times
and no offer delay, the real router must give what Erlang C (no abandons) and Erlang A
(exponential patience) predict.

The reference case of the issue (pyworkforce's tests, the classic Erlang C example): 100 calls
per 30 minutes, handle time 180 s, 14 operators, threshold 20 s. The simulated time is enough
for the figures to hold for every seed tried: 24 seeds each, README "Capacity planning"."""

from __future__ import annotations

from typing import Any

import pytest

from hotline.config import Settings
from hotline.kpi import figures
from hotline.sim.engine import Simulation
from hotline.sim.scenario import parse_scenario

ERLANG_C = {"service_level": 0.888350, "asa_s": 7.836}
ERLANG_A = {"service_level": 0.916792, "abandon_rate": 0.013984}  # patience 5 min
ERLANG_C_HOURS = 2500
ERLANG_A_HOURS = 400


def mm14(hours: float, patience_s: float | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "hours": hours,
        "warmup_min": 60,
        "wrap_up_s": 0,  # the handle time is all of it
        "service_level_basis": "offered",  # Erlang A's: answered within T over all arrivals
        "short_abandon_s": 0,  # and its abandon rate is over all arrivals
        "arrivals": [{"topic": "documents", "per_hour": 200}],
        "handle_time": {"documents": {"dist": "exp", "mean_s": 180}},
        "operators": [{"count": 14, "skills": {"documents": 3}}],
    }
    if patience_s is not None:
        data["patience"] = {"dist": "exp", "mean_s": patience_s}
    return data


def simulate(data: dict[str, Any], settings: Settings) -> dict[str, Any]:
    result = Simulation(parse_scenario(data), settings, seed=1).run()
    return figures(result.buckets.total(), result.rules)


@pytest.mark.slow
def test_m_m_14_gives_erlang_cs_service_level_and_asa(settings: Settings) -> None:
    f = simulate(mm14(ERLANG_C_HOURS), settings)
    assert f["abandoned"] == 0
    assert f["service_level"]["20"] == pytest.approx(ERLANG_C["service_level"], abs=0.015)
    assert f["asa_s"] == pytest.approx(ERLANG_C["asa_s"], rel=0.10)


@pytest.mark.slow
def test_m_m_14_with_patience_gives_erlang_as_abandon_rate_and_service_level(
    settings: Settings,
) -> None:
    f = simulate(mm14(ERLANG_A_HOURS, patience_s=300), settings)
    assert f["abandon_rate"] == pytest.approx(ERLANG_A["abandon_rate"], abs=0.003)
    assert f["service_level"]["20"] == pytest.approx(ERLANG_A["service_level"], abs=0.015)
