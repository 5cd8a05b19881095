"""The shipped configuration loads, and every kind of bad value is refused by its key's path."""

from __future__ import annotations

import copy
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hotline.config import ConfigError, load_settings, parse_settings
from hotline.routing import Channel

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "config" / "hotline.toml"
Doc = dict[str, Any]


def shipped() -> Doc:
    return tomllib.loads(SHIPPED.read_text(encoding="utf-8"))


def error_of(change: Callable[[Doc], object]) -> ConfigError:
    doc = copy.deepcopy(shipped())
    change(doc)
    with pytest.raises(ConfigError) as caught:
        parse_settings(doc)
    return caught.value


def test_shipped_config_loads_with_the_spec_defaults() -> None:
    settings = load_settings(SHIPPED)
    policy = settings.routing_policy()

    assert set(settings.topics) == {
        "registration",
        "access_recovery",
        "account_blocked",
        "applications",
        "documents",
        "personal_data",
        "technical",
        "payments",
        "signature",
        "emergency",
        "callback",
    }
    assert all(topic.label for topic in settings.topics.values())
    urgent, normal = policy.classes["urgent"], policy.classes["normal"]
    assert (urgent.rank, urgent.target_s, urgent.limit_s) == (0, 300, 600)
    assert (normal.rank, normal.target_s, normal.limit_s) == (1, 900, 1800)
    for topic in ("payments", "emergency", "account_blocked"):
        assert policy.class_of(topic).name == "urgent"
    assert policy.class_of("documents").name == "normal"
    assert policy.offer_timeout_s == 15
    assert policy.wrap_up_s == 60
    assert policy.default_language == "ru"
    assert settings.languages.accepted == ("ru", "en")
    assert settings.default_capacity() == {
        Channel.VOICE: 1,
        Channel.CHAT: 3,
        Channel.CALLBACK: 1,
        Channel.FORM: 5,
    }
    assert settings.http.bind == "127.0.0.1:8080"
    assert settings.store.path == Path("var/hotline.db")


def test_every_overflow_skill_is_a_topic_of_the_catalogue() -> None:
    settings = load_settings(SHIPPED)
    policy = settings.routing_policy()
    for topic in settings.topics:
        assert topic not in policy.fallback_skills(topic)
        assert set(policy.fallback_skills(topic)) <= set(settings.topics)


def _set(*path: str, value: object) -> Callable[[Doc], None]:
    def change(doc: Doc) -> None:
        *parents, key = path
        for part in parents:
            doc = doc[part]
        doc[key] = value

    return change


def _drop(*path: str) -> Callable[[Doc], None]:
    def change(doc: Doc) -> None:
        *parents, key = path
        for part in parents:
            doc = doc[part]
        del doc[key]

    return change


@pytest.mark.parametrize(
    ("change", "path", "what"),
    [
        pytest.param(
            _set("routing", "classes", "urgent", "target_min", value=11),
            "routing.classes.urgent.target_min",
            "must be <= limit_min",
            id="target-past-limit",
        ),
        pytest.param(
            _set("routing", "classes", "normal", "rank", value=0),
            "routing.classes.normal.rank",
            "also the rank of 'urgent'",
            id="duplicate-rank",
        ),
        pytest.param(
            _set("routing", "classes", "urgent", "topics", value=["payments", "payment"]),
            "routing.classes.urgent.topics",
            "unknown topic 'payment'",
            id="urgent-topic-not-in-catalogue",
        ),
        pytest.param(
            _set("routing", "classes", "normal", "topics", value=["payments"]),
            "routing.classes.normal.topics",
            "already in class 'urgent'",
            id="topic-in-two-classes",
        ),
        pytest.param(
            _set("routing", "overflow", "parking", value=["technical"]),
            "routing.overflow.parking",
            "unknown topic 'parking'",
            id="overflow-for-unknown-topic",
        ),
        pytest.param(
            _set("routing", "overflow", "technical", value=["generalists"]),
            "routing.overflow.technical",
            "unknown skill 'generalists'",
            id="overflow-to-unknown-skill",
        ),
        pytest.param(
            _set("routing", "overflow", "technical", value=["technical"]),
            "routing.overflow.technical",
            "not its own fallback",
            id="overflow-to-itself",
        ),
        pytest.param(
            _set("routing", "default_class", value="low"),
            "routing.default_class",
            "'low' is not a class",
            id="unknown-default-class",
        ),
        pytest.param(
            _set("routing", "offer_timeout_s", value=0),
            "routing.offer_timeout_s",
            "greater than 0",
            id="zero-offer-timeout",
        ),
        pytest.param(
            _set("routing", "wrap_up_s", value="60"),
            "routing.wrap_up_s",
            "valid number",
            id="number-as-string",
        ),
        pytest.param(
            _set("operators", "default_capacity", "chat", value=-1),
            "operators.default_capacity.chat",
            "greater than or equal to 0",
            id="negative-capacity",
        ),
        pytest.param(
            _set("operators", "default_capacity", "voice", value=True),
            "operators.default_capacity.voice",
            "valid integer",
            id="boolean-capacity",
        ),
        pytest.param(
            _drop("operators", "default_capacity", "form"),
            "operators.default_capacity.form",
            "required key is missing",
            id="missing-capacity",
        ),
        pytest.param(
            _set("routing", "offer_timeout", value=15),
            "routing.offer_timeout",
            "unknown key",
            id="misspelt-key",
        ),
        pytest.param(
            _set("languages", "default", value="de"),
            "languages.default",
            "not among the accepted languages",
            id="default-language-not-accepted",
        ),
        pytest.param(
            _set("languages", "accepted", value=["ru", "ru"]),
            "languages.accepted[1]",
            "listed twice",
            id="language-twice",
        ),
        pytest.param(
            _set("http", "bind", value="localhost"),
            "http.bind",
            "not HOST:PORT",
            id="bind-without-port",
        ),
        pytest.param(
            _set("log", "level", value="loud"),
            "log.level",
            "'debug', 'info', 'warning' or 'error'",
            id="unknown-log-level",
        ),
        pytest.param(
            _set("topics", "Parking Fines", value={"label": "Штрафы"}),
            "topics.Parking Fines",
            "lower case",
            id="topic-code-not-ascii-snake-case",
        ),
        pytest.param(
            _set("topics", "registration", "label", value=""),
            "topics.registration.label",
            "at least 1 character",
            id="empty-label",
        ),
    ],
)
def test_bad_value_is_refused_naming_its_key(
    change: Callable[[Doc], None], path: str, what: str
) -> None:
    error = error_of(change)
    assert str(error).startswith(f"{path}: ")
    assert what in str(error)


def test_every_problem_is_reported_not_only_the_first() -> None:
    def two_faults(doc: Doc) -> None:
        doc["routing"]["wrap_up_s"] = -1
        doc["operators"]["default_capacity"]["chat"] = -1

    paths = {path for path, _ in error_of(two_faults).problems}
    assert paths == {"routing.wrap_up_s", "operators.default_capacity.chat"}


def test_missing_file_and_bad_toml_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nowhere\.toml: no such file"):
        load_settings(tmp_path / "nowhere.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[routing\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"broken\.toml: not valid TOML"):
        load_settings(broken)


def _run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hotline", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("command", ["check-config", "serve"])
def test_cli_exits_2_with_one_line_naming_the_key(tmp_path: Path, command: str) -> None:
    bad = tmp_path / "bad.toml"
    text = SHIPPED.read_text(encoding="utf-8")
    bad.write_text(text.replace("target_min = 5\n", "target_min = 50\n"), encoding="utf-8")

    result = _run_cli(command, "--config", str(bad))

    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "hotline: config error: routing.classes.urgent.target_min: must be <= limit_min"
    ]


def test_cli_exits_2_for_a_missing_config_file(tmp_path: Path) -> None:
    result = _run_cli("serve", "--config", str(tmp_path / "absent.toml"))

    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"hotline: config error: {tmp_path / 'absent.toml'}: no such file"
    ]


def test_check_config_accepts_the_shipped_file() -> None:
    result = _run_cli("check-config", "--config", str(SHIPPED))

    assert result.returncode == 0, result.stderr
    assert "ok" in result.stdout


@pytest.mark.parametrize(
    ("content", "what"),
    [
        (b'[http]\nbind = "\xff\xfe"\n', "not UTF-8 text (byte 15)"),
        (b"\xff\xfe[\x00h\x00t\x00t\x00p\x00]\x00", "not UTF-8 text (byte 0)"),  # UTF-16
        (b"a = " + b"[" * 100_000 + b"]" * 100_000, "not valid TOML: nested too deeply"),
    ],
    ids=["latin1-bytes", "utf16", "deep"],
)
def test_check_config_of_a_file_that_is_not_utf8_toml_is_one_line_and_exit_2(
    tmp_path: Path, content: bytes, what: str
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_bytes(content)

    result = _run_cli("check-config", "--config", str(bad))

    assert result.returncode == 2
    assert result.stderr.splitlines() == [f"hotline: config error: {bad}: {what}"]
