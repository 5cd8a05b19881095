"""The `[notify]` section: defaults that work on a fresh install, and the start-up checks that
name the key at fault."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from hotline.config import ConfigError, load_settings, parse_settings
from hotline.notify.settings import (
    FileProviderSettings,
    HttpProviderSettings,
    NotifySettings,
    SmtpProviderSettings,
)

SHIPPED = Path(__file__).resolve().parents[2] / "config" / "hotline.toml"


def with_notify(notify: dict[str, object]) -> dict[str, object]:
    data = tomllib.loads(SHIPPED.read_text(encoding="utf-8"))
    data["notify"] = notify
    return data


def test_the_shipped_configuration_writes_every_kind_to_files() -> None:
    notify = load_settings(SHIPPED).notify
    for kind in ("sms", "email", "account_event"):
        channel = notify.channel(kind)
        assert channel.provider == FileProviderSettings()
        assert channel.ttl_s >= 24 * 3600


def test_providers_are_chosen_per_kind() -> None:
    settings = parse_settings(
        with_notify(
            {
                "sms": {
                    "provider": {
                        "type": "http",
                        "url": "https://sms.example/send",
                        "token_env": "SMS_TOKEN",
                    },
                    "rate_per_s": 30.0,
                },
                "email": {
                    "provider": {
                        "type": "smtp",
                        "host": "mail.example",
                        "port": 587,
                        "security": "starttls",
                        "sender": "noreply@gosuslugi.example",
                    }
                },
            }
        )
    )
    assert isinstance(settings.notify.sms.provider, HttpProviderSettings)
    assert isinstance(settings.notify.email.provider, SmtpProviderSettings)
    assert settings.notify.sms.rate_per_s == 30.0


def test_the_token_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = HttpProviderSettings(type="http", url="https://x.example/", token_env="SMS_TOKEN")
    monkeypatch.delenv("SMS_TOKEN", raising=False)
    assert spec.token() is None
    monkeypatch.setenv("SMS_TOKEN", "abc")
    assert spec.token() == "abc"


@pytest.mark.parametrize(
    ("notify", "where", "what"),
    [
        (
            {"sms": {"provider": {"type": "smtp", "host": "h", "sender": "a@b.c"}}},
            "notify",
            "sms.provider cannot be smtp",
        ),
        (
            {"sms": {"provider": {"type": "http", "url": "ftp://x"}}},
            "notify.sms.provider.http.url",
            "",
        ),
        ({"sms": {"provider": {"type": "pigeon"}}}, "notify.sms.provider", ""),
        ({"email": {"rate_per_s": 0.0}}, "notify.email.rate_per_s", ""),
        ({"retry": {"base_s": 60.0, "cap_s": 10.0}}, "notify.retry", "base_s must be <= cap_s"),
        ({"lease_s": 10.0}, "notify", "lease_s must exceed sms.batch"),
        ({"sms": {"ttl": 3}}, "notify.sms.ttl", "unknown key"),
    ],
)
def test_a_bad_value_is_refused_naming_its_key(
    notify: dict[str, object], where: str, what: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings(with_notify(notify))
    path, problem = caught.value.problems[0]
    assert path == where
    assert what in problem


def test_defaults_fit_the_lease() -> None:
    notify = NotifySettings()
    for kind in ("sms", "email", "account_event"):
        channel = notify.channel(kind)
        assert channel.batch / channel.rate_per_s + channel.send_timeout_s < notify.lease_s
