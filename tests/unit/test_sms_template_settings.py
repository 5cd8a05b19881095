"""`[templates]` of the configuration: defaults for a fresh install, overrides from TOML, and a
template that breaks the rules stops the load naming its key."""

# Russian texts are this file's test data: Cyrillic letters that look Latin are meant.
# ruff: noqa: RUF001

from __future__ import annotations

import tomllib

import pytest
from pydantic import ValidationError

from hotline.notify.template_settings import TemplateSettings
from hotline.notify.templates import (
    DEFAULT_TEXTS,
    MessageTemplates,
    TemplateKey,
    ticket_status_sms,
    voicemail_callback_failed_sms,
)
from hotline.tickets import TicketStatus


def load(toml: str) -> TemplateSettings:
    return TemplateSettings.model_validate(tomllib.loads(toml))


def test_a_fresh_install_needs_no_templates_section() -> None:
    settings = TemplateSettings()
    templates = settings.message_templates()
    assert isinstance(templates, MessageTemplates)
    assert dict(templates.texts) == dict(DEFAULT_TEXTS)
    assert settings.sms_max_segments == 4
    assert templates.comment_max_chars == 100


def test_a_template_is_overridden_from_toml() -> None:
    settings = load(
        """
        sms_max_segments = 2
        comment_max_chars = 30
        hotline_phone = "8 800 100-00-00"
        ticket_approved = "Ура! Обращение {number} одобрено. {comment}"
        voicemail_callback_failed = "Не дозвонились. Позвоните: {hotline_phone}"
        """
    )
    templates = settings.message_templates()
    assert (
        ticket_status_sms(templates, number="HL-7K3-M9Q-X2C", status=TicketStatus.APPROVED)
        == "Ура! Обращение HL-7K3-M9Q-X2C одобрено."
    )
    assert voicemail_callback_failed_sms(templates) == "Не дозвонились. Позвоните: 8 800 100-00-00"
    assert (
        templates.texts[TemplateKey.TICKET_REJECTED] == DEFAULT_TEXTS[TemplateKey.TICKET_REJECTED]
    )


def test_a_template_past_the_cap_stops_the_load_naming_its_key() -> None:
    with pytest.raises(ValidationError) as caught:
        load("sms_max_segments = 2")
    assert "ticket_accepted: may take 3 SMS segments" in str(caught.value)


def test_a_shorter_comment_lets_a_lower_cap_pass() -> None:
    settings = load("sms_max_segments = 2\ncomment_max_chars = 30")
    assert settings.sms_max_segments == 2


def test_an_unknown_placeholder_stops_the_load_naming_its_key() -> None:
    with pytest.raises(ValidationError) as caught:
        load('ticket_completed = "Обращение {number} закрыто, {name}"')
    assert "ticket_completed: unknown placeholder {name}" in str(caught.value)


def test_the_hotline_phone_must_be_set_to_be_used() -> None:
    with pytest.raises(ValidationError) as caught:
        load('voicemail_callback_failed = "Позвоните: {hotline_phone}"')
    assert "voicemail_callback_failed: uses {hotline_phone}" in str(caught.value)


@pytest.mark.parametrize(
    "toml",
    [
        "ticket_sent = 'Обращение {number}'",  # no such template
        "sms_max_segments = '4'",  # strict: a string is not a number
        "sms_max_segments = 0",
        "comment_max_chars = -1",
        "ticket_approved = ''",
        "ticket_approved = 5",
    ],
)
def test_bad_values_are_refused(toml: str) -> None:
    with pytest.raises(ValidationError):
        load(toml)


def test_settings_are_immutable() -> None:
    settings = TemplateSettings()
    with pytest.raises(ValidationError):
        settings.sms_max_segments = 10  # type: ignore[misc]
