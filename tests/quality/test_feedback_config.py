"""`[feedback]` in config: the shipped rules compile, and a theme or a rule that cannot work
stops start-up with the key's path."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from hotline.config import ConfigError, parse_settings

CONFIG = Path(__file__).resolve().parents[2] / "config" / "hotline.toml"


def shipped() -> dict[str, Any]:
    return tomllib.loads(CONFIG.read_text(encoding="utf-8"))


def test_the_shipped_rules_cover_every_theme() -> None:
    settings = parse_settings(shipped())
    assert set(settings.feedback.themes) == {
        "wait_time",
        "wrong_answer",
        "suggestion",
        "thanks",
        "new_service",
    }
    assert settings.feedback.form_kinds == ("recommendation",)


@pytest.mark.parametrize(
    ("section", "key"),
    [
        ({"themes": {"praise": ["спасибо"]}}, "feedback.themes.praise"),
        ({"themes": {"thanks": ["спасибо!"]}}, "feedback.themes.thanks"),
        ({"form_kinds": ["complaint"]}, "feedback.form_kinds"),
    ],
)
def test_a_bad_feedback_setting_names_its_key(section: dict[str, Any], key: str) -> None:
    data = shipped()
    data["feedback"] = section
    with pytest.raises(ConfigError, match=key):
        parse_settings(data)
