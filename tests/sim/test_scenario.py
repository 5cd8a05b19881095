"""The scenario file: the issue's minimal form loads as written, the example loads, and every
mistake is refused with the dotted path of the key at fault."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from hotline.sim.scenario import ScenarioError, load_scenario, parse_scenario
from tests.sim.conftest import EXAMPLE, MINIMAL


def test_the_issues_minimal_scenario_loads_as_written(tmp_path: Path) -> None:
    path = tmp_path / "minimal.toml"
    path.write_text(MINIMAL)
    s = load_scenario(path)
    assert s.duration_s == 200 * 3600
    assert s.warmup_min == 500
    (a,) = s.arrivals
    assert (a.topic, a.channel, a.per_hour) == ("documents", "voice", (360.0,) * 24)
    handle = s.handle_time_of("documents")
    assert handle is not None and (handle.dist, handle.mean_s) == ("exp", 240)
    assert s.patience is not None and s.patience.mean_s == 120
    (g,) = s.operators
    assert (g.count, g.skills, g.languages) == (27, {"documents": 3}, ("ru",))
    assert s.offer_delay is None and s.service_level_basis is None


def test_the_commented_example_loads_with_its_config_beside_it() -> None:
    s = load_scenario(EXAMPLE)
    assert s.config == EXAMPLE.parent / "hotline.toml"
    assert {a.channel for a in s.arrivals} == {"voice", "chat"}
    assert any(g.shifts for g in s.operators)


def _minimal(**changes: Any) -> dict[str, Any]:
    data = tomllib.loads(MINIMAL)
    data.update(changes)
    return data


def _problem(data: dict[str, Any]) -> tuple[str, str]:
    with pytest.raises(ScenarioError) as e:
        parse_scenario(data)
    return e.value.problems[0]


@pytest.mark.parametrize(
    ("changes", "path", "words"),
    [
        ({"arrivals": [{"topic": "documents", "per_hour": [1, 2]}]}, "arrivals[0].per_hour", "24"),
        (
            {"arrivals": [{"topic": "documents", "per_hour": "many"}]},
            "arrivals[0].per_hour",
            "rate per hour",
        ),
        ({"arrivals": [{"topic": "payments", "per_hour": 5}]}, "handle_time.payments", "required"),
        (
            {"handle_time": {"documents": {"dist": "lognormal", "mean_s": 240}}},
            "handle_time.documents.sd_s",
            "lognormal needs sd_s",
        ),
        (
            {"patience": {"dist": "weibull", "mean_s": 1}},
            "patience.dist",
            "'exp', 'lognormal' or 'fixed'",
        ),
        (
            {"operators": [{"count": 3, "skills": {"payments": 3}}]},
            "arrivals[0].topic",
            "no operator group has the skill 'documents'",
        ),
        (
            {"operators": [{"count": 3, "skills": {"documents": 7}}]},
            "operators[0].skills.documents",
            "1..5",
        ),
        (
            {
                "operators": [
                    {
                        "count": 3,
                        "skills": {"documents": 3},
                        "shifts": [{"start": "8:00", "end": "17:00"}],
                    }
                ]
            },
            "operators[0].shifts[0].start",
            "HH:MM",
        ),
        (
            {
                "operators": [
                    {
                        "count": 3,
                        "skills": {"documents": 3},
                        "shifts": [
                            {
                                "start": "08:00",
                                "end": "12:00",
                                "breaks": [{"start": "11:30", "minutes": 15, "stagger_min": 30}],
                            }
                        ],
                    }
                ]
            },
            "operators[0].shifts[0].breaks[0]",
            "within the shift",
        ),
        ({"days": 2}, "days", "hours or days"),
        ({"hour": 2}, "hour", "unknown key"),
        ({"warmup_min": "ten"}, "warmup_min", "valid number"),
    ],
)
def test_a_bad_scenario_is_refused_naming_the_key(
    changes: dict[str, Any], path: str, words: str
) -> None:
    where, what = _problem(_minimal(**changes))
    assert where == path
    assert words in what


def test_a_missing_file_and_bad_toml_are_scenario_errors(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="no such file"):
        load_scenario(tmp_path / "nowhere.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("hours = = 3\n")
    with pytest.raises(ScenarioError, match="not valid TOML"):
        load_scenario(bad)
