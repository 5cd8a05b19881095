"""Message templates: what a citizen reads for each ticket status and event, and the start-up
check that refuses a template which is malformed, asks for a value it will not get, or could
cost more SMS segments than the cap."""

# Russian texts are this file's test data: Cyrillic letters that look Latin are meant.
# ruff: noqa: RUF001

from __future__ import annotations

import ast
import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.notify.segments import count_segments
from hotline.notify.templates import (
    DEFAULT_TEXTS,
    SMS_TEMPLATES,
    TICKET_TEMPLATES,
    EmailText,
    MessageTemplates,
    TemplateKey,
    clip_comment,
    feedback_confirmation_email,
    placeholders,
    ticket_status_sms,
    validate_templates,
    voicemail_callback_failed_sms,
    worst_case_segments,
)
from hotline.tickets import TicketStatus, new_number

NUMBER = "HL-7K3-M9Q-X2C"
EMOJI = "\U0001f600"
DEFAULTS = MessageTemplates()


def with_text(
    key: TemplateKey, text: str, *, comment_max_chars: int = 100, hotline_phone: str = ""
) -> MessageTemplates:
    return MessageTemplates({**DEFAULT_TEXTS, key: text}, comment_max_chars, hotline_phone)


def only(
    key: TemplateKey, text: str, *, comment_max_chars: int = 100, hotline_phone: str = ""
) -> MessageTemplates:
    """Every SMS template one short line but `key`'s: a cap then applies to `key` alone."""
    texts = {**DEFAULT_TEXTS, **dict.fromkeys(TICKET_TEMPLATES.values(), "Обращение {number}.")}
    texts[TemplateKey.VOICEMAIL_CALLBACK_FAILED] = "Позвоните нам."
    return MessageTemplates({**texts, key: text}, comment_max_chars, hotline_phone)


def units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


# --- What a citizen reads --------------------------------------------------------------------


@pytest.mark.parametrize("status", list(TicketStatus))
def test_every_status_has_an_sms_with_the_number_and_the_russian_label(
    status: TicketStatus,
) -> None:
    text = ticket_status_sms(DEFAULTS, number=NUMBER, status=status)
    assert NUMBER in text
    assert f"«{status.label}»" in text
    assert "{" not in text and "}" not in text


def test_every_status_and_event_has_its_own_template() -> None:
    assert set(TICKET_TEMPLATES) == set(TicketStatus)
    assert set(DEFAULT_TEXTS) == set(TemplateKey)
    assert {*TICKET_TEMPLATES.values(), TemplateKey.VOICEMAIL_CALLBACK_FAILED} == SMS_TEMPLATES


def test_a_rejection_carries_the_operators_reason_and_says_how_to_resubmit() -> None:
    text = ticket_status_sms(
        DEFAULTS, number=NUMBER, status=TicketStatus.REJECTED, comment="не приложена копия паспорта"
    )
    assert text == (
        f"Обращение {NUMBER}: статус «Отклонено». Не приложена копия паспорта."
        " Исправьте данные и подайте обращение снова."
    )


def test_without_a_comment_no_gap_or_trailing_space_is_left() -> None:
    for status in TicketStatus:
        for comment in (None, "", "   \n "):
            text = ticket_status_sms(DEFAULTS, number=NUMBER, status=status, comment=comment)
            assert "  " not in text
            assert text == text.strip()


def test_a_comment_is_put_on_one_line() -> None:
    text = ticket_status_sms(
        DEFAULTS,
        number=NUMBER,
        status=TicketStatus.APPROVED,
        comment="Готово.\nЗаберите\t документ!",
    )
    assert text.endswith("«Одобрено». Готово. Заберите документ!")


def test_a_long_comment_is_clipped_to_the_configured_length() -> None:
    templates = MessageTemplates(comment_max_chars=20)
    text = ticket_status_sms(
        templates, number=NUMBER, status=TicketStatus.APPROVED, comment="слово " * 50
    )
    comment = text.split("«Одобрено». ")[1]
    assert comment.endswith("…")
    assert units(comment) <= 20


def test_with_no_room_for_comments_none_is_sent() -> None:
    templates = MessageTemplates(comment_max_chars=0)
    text = ticket_status_sms(
        templates, number=NUMBER, status=TicketStatus.APPROVED, comment="секрет"
    )
    assert "секрет" not in text.casefold()


def test_the_voicemail_callback_failure_asks_to_call_again() -> None:
    text = voicemail_callback_failed_sms(DEFAULTS)
    assert "позвоните" in text and "ещё раз" in text


def test_the_hotline_phone_is_filled_in_when_a_template_asks_for_it() -> None:
    templates = only(
        TemplateKey.VOICEMAIL_CALLBACK_FAILED,
        "Не дозвонились. Позвоните нам: {hotline_phone}.",
        hotline_phone="8 800 100-00-00",
    )
    validate_templates(templates, 2)
    assert (
        voicemail_callback_failed_sms(templates)
        == "Не дозвонились. Позвоните нам: 8 800 100-00-00."
    )


def test_the_feedback_confirmation_names_the_ticket_and_the_citizen() -> None:
    email = feedback_confirmation_email(DEFAULTS, number=NUMBER, full_name="Иванов Иван Иванович")
    assert isinstance(email, EmailText)
    assert email.subject == f"Ваше обращение {NUMBER} принято"
    assert email.body.startswith("Здравствуйте, Иванов Иван Иванович!")
    assert NUMBER in email.body


def test_a_name_from_a_form_cannot_break_lines_in_the_email() -> None:
    email = feedback_confirmation_email(
        DEFAULTS, number=NUMBER, full_name="Иванов\r\nBcc: all@example.org"
    )
    assert "\r" not in email.body
    assert "Иванов Bcc: all@example.org!" in email.body.splitlines()[0]
    assert "\n" not in email.subject


# --- Clipping a comment ----------------------------------------------------------------------


def test_a_short_comment_becomes_a_sentence() -> None:
    assert clip_comment("  нужна   справка ", 100) == "Нужна справка."
    assert clip_comment("Готово!", 100) == "Готово!"
    assert clip_comment("", 100) == ""


def test_clipping_never_splits_an_emoji() -> None:
    clipped = clip_comment(EMOJI * 20, 10)
    assert clipped == EMOJI * 4 + "…"
    assert units(clipped) == 9


@given(st.text(max_size=300), st.integers(0, 120))
def test_a_clipped_comment_never_exceeds_its_budget(comment: str, budget: int) -> None:
    clipped = clip_comment(comment, budget)
    assert units(clipped) <= budget
    clipped.encode("utf-8")  # no lone surrogate
    assert "\n" not in clipped


# --- Placeholders ----------------------------------------------------------------------------


def test_placeholders_are_plain_names() -> None:
    assert placeholders("{number} и {comment}, {{не поле}}") == {"number", "comment"}


@pytest.mark.parametrize(
    "template",
    ["{}", "{0}", "{number.__class__}", "{number[0]}", "{number!r}", "{number:>20}", "{number"],
)
def test_anything_but_a_plain_name_is_refused(template: str) -> None:
    with pytest.raises(ValueError):
        placeholders(template)


# --- The start-up check ----------------------------------------------------------------------


def test_the_shipped_templates_pass_at_the_default_cap() -> None:
    validate_templates(DEFAULTS, 4)


def test_the_shipped_sms_fit_three_segments_with_the_longest_comment() -> None:
    assert {key: worst_case_segments(DEFAULTS, key) for key in SMS_TEMPLATES} == {
        **dict.fromkeys(TICKET_TEMPLATES.values(), 3),
        TemplateKey.VOICEMAIL_CALLBACK_FAILED: 2,
    }


@pytest.mark.parametrize(
    ("key", "text", "says"),
    [
        (TemplateKey.TICKET_APPROVED, "Обращение {number} {numbr}", "unknown placeholder {numbr}"),
        (TemplateKey.TICKET_APPROVED, "Обращение {number} {full_name}", "{full_name}"),
        (TemplateKey.TICKET_APPROVED, "Обращение {number.real}", "plain placeholder"),
        (TemplateKey.TICKET_APPROVED, "Обращение {number", "ticket_approved"),
        (TemplateKey.TICKET_APPROVED, "Обращение одобрено.", "must contain {number}"),
        (TemplateKey.TICKET_COMPLETED, "   ", "empty"),
        (TemplateKey.VOICEMAIL_CALLBACK_FAILED, "Позвоните {number}", "{number}"),
        (TemplateKey.VOICEMAIL_CALLBACK_FAILED, "Позвоните: {hotline_phone}", "not set"),
        (TemplateKey.FEEDBACK_CONFIRMATION_SUBJECT, "{full_name}: {number}", "{full_name}"),
        (TemplateKey.FEEDBACK_CONFIRMATION_SUBJECT, "Обращение\n{number}", "one line"),
        (TemplateKey.FEEDBACK_CONFIRMATION_BODY, "Спасибо, {full_name}!", "{number}"),
    ],
)
def test_a_bad_template_is_refused_naming_its_key(key: TemplateKey, text: str, says: str) -> None:
    with pytest.raises(ValueError) as caught:
        validate_templates(with_text(key, text), 4)
    message = str(caught.value)
    assert message.startswith(f"{key}: ")
    assert says in message


def test_a_template_that_could_run_past_the_cap_is_refused_naming_its_key() -> None:
    long = "Обращение {number}: " + "очень длинный текст " * 10 + "{comment}"
    with pytest.raises(ValueError, match=r"^ticket_in_progress: may take \d+ SMS segments"):
        validate_templates(with_text(TemplateKey.TICKET_IN_PROGRESS, long), 4)


def test_the_cap_is_checked_with_the_longest_comment_not_the_template_alone() -> None:
    text = "Обращение {number}: {comment}"  # 26 units, and 44 of comment: 70, one segment
    fits = only(TemplateKey.TICKET_APPROVED, text, comment_max_chars=44)
    assert worst_case_segments(fits, TemplateKey.TICKET_APPROVED) == 1
    validate_templates(fits, 1)
    longer = only(TemplateKey.TICKET_APPROVED, text, comment_max_chars=45)
    assert worst_case_segments(longer, TemplateKey.TICKET_APPROVED) == 2
    with pytest.raises(ValueError, match=r"^ticket_approved: may take 2 SMS segments"):
        validate_templates(longer, 1)


def test_a_latin_template_is_counted_in_gsm7_unless_a_comment_may_turn_it_to_ucs2() -> None:
    latin = "Ticket {number} is in progress. " + "x" * 100  # 146 septets: one GSM-7 message
    no_comment = with_text(TemplateKey.TICKET_IN_PROGRESS, latin)
    assert worst_case_segments(no_comment, TemplateKey.TICKET_IN_PROGRESS) == 1
    with_comment = with_text(TemplateKey.TICKET_IN_PROGRESS, latin + " {comment}")
    assert worst_case_segments(with_comment, TemplateKey.TICKET_IN_PROGRESS) > 1


def test_templates_must_all_be_there() -> None:
    texts = {k: v for k, v in DEFAULT_TEXTS.items() if k is not TemplateKey.TICKET_APPROVED}
    with pytest.raises(ValueError, match="ticket_approved"):
        MessageTemplates(texts=texts)


def test_templates_cannot_be_changed_after_the_check() -> None:
    texts = dict(DEFAULT_TEXTS)
    templates = MessageTemplates(texts=texts)
    texts[TemplateKey.TICKET_APPROVED] = "{number} {nonsense}"
    validate_templates(templates, 4)


# --- The worst case really is the worst ------------------------------------------------------

TEMPLATE_VARIANTS = [
    DEFAULTS,
    with_text(TemplateKey.TICKET_APPROVED, "Ticket {number} approved. {comment}"),
    with_text(TemplateKey.TICKET_APPROVED, "Ticket {number} {status_label}: {comment} [ok]"),
    with_text(TemplateKey.TICKET_APPROVED, EMOJI + " {number} {comment} " + EMOJI * 30),
    with_text(TemplateKey.TICKET_APPROVED, "{comment}{number}", comment_max_chars=300),
    with_text(TemplateKey.TICKET_APPROVED, "€{number}€ {comment}", comment_max_chars=151),
]
comments = st.text(
    st.one_of(
        st.sampled_from("aZ 0.€[]{}^~\\|жЖ«»"),
        st.just(EMOJI),
        st.characters(codec="utf-8"),
    ),
    max_size=320,
)


@settings(max_examples=300)
@given(
    st.sampled_from(TEMPLATE_VARIANTS),
    st.sampled_from(list(TicketStatus)),
    comments,
    st.randoms(use_true_random=False),
)
def test_no_rendered_sms_costs_more_than_its_worst_case(
    templates: MessageTemplates, status: TicketStatus, comment: str, rng: random.Random
) -> None:
    number = new_number(rng.getrandbits)
    text = ticket_status_sms(templates, number=number, status=status, comment=comment)
    key = TICKET_TEMPLATES[status]
    assert count_segments(text).segments <= worst_case_segments(templates, key)


def test_the_templates_module_is_pure() -> None:
    source = Path(__file__).resolve().parents[2] / "hotline" / "notify" / "templates.py"
    roots: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            roots.add(node.module.split(".")[0])
    assert not roots & {"pydantic", "trio", "quart", "aiosqlite", "asyncio", "time", "datetime"}
