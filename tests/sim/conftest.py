"""Shared by the simulator's tests: the shipped config and the issue's minimal scenario."""

from __future__ import annotations

from pathlib import Path

import pytest

from hotline.config import Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "config" / "hotline.toml"
EXAMPLE = ROOT / "config" / "scenario.example.toml"

# Issue 13's minimal scenario, exactly as written there: tools and tests rely on it.
MINIMAL = """\
hours = 200                      # simulated time after warm-up
warmup_min = 500
[[arrivals]]
topic = "documents"
channel = "voice"
per_hour = 360                   # or a list of 24 hourly rates
[handle_time.documents]
dist = "exp"                     # exp | lognormal (mean_s, sd_s) | fixed
mean_s = 240
[patience]                       # optional; no table = nobody abandons
dist = "exp"
mean_s = 120
[[operators]]
count = 27
skills = { documents = 3 }
languages = ["ru"]
"""


@pytest.fixture(scope="session")
def settings() -> Settings:
    return load_settings(CONFIG)
