"""The texts the line sends citizens: one SMS per ticket status and per event, and the feedback
form's confirmation e-mail, in Russian, with `{placeholder}` fields.

The ticket service renders `ticket_status_sms` into the outbox with each status change, the
voicemail service `voicemail_callback_failed_sms`, the feedback form `feedback_confirmation_email`.
The texts come from `[templates]` of the configuration (`hotline.notify.template_settings`), which
calls `validate_templates` at start-up: a template with an unknown placeholder, or one that could
render past the SMS cap with the longest values it may get, stops the process there rather than
costing money for every message. Pure: no I/O, no pydantic.

Placeholders are plain names in braces (`{number}`); no attribute access, index or format spec,
so a template from a configuration file cannot reach into the values. An operator's comment is
the only free text in an SMS: it is put on one line and clipped to `comment_max_chars` UTF-16
units, so its worst case is known.
"""

# The default texts are Russian: Cyrillic letters that look Latin are meant. (A look-alike in a
# placeholder name is caught by `validate_templates`, which knows every name.)
# ruff: noqa: RUF001

from __future__ import annotations

import math
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from hotline.notify.segments import (
    GSM7_PART,
    GSM7_SINGLE,
    UCS2_PART,
    UCS2_SINGLE,
    SegmentCount,
    SmsEncoding,
    count_segments,
)
from hotline.tickets.lifecycle import TicketStatus
from hotline.tickets.numbers import NUMBER_LENGTH


class TemplateKey(StrEnum):
    """A template's name, which is also its key in `[templates]`."""

    TICKET_ACCEPTED = "ticket_accepted"
    TICKET_IN_PROGRESS = "ticket_in_progress"
    TICKET_APPROVED = "ticket_approved"
    TICKET_REJECTED = "ticket_rejected"
    TICKET_COMPLETED = "ticket_completed"
    VOICEMAIL_CALLBACK_FAILED = "voicemail_callback_failed"
    FEEDBACK_CONFIRMATION_SUBJECT = "feedback_confirmation_subject"
    FEEDBACK_CONFIRMATION_BODY = "feedback_confirmation_body"


TICKET_TEMPLATES: Mapping[TicketStatus, TemplateKey] = MappingProxyType(
    {
        TicketStatus.ACCEPTED: TemplateKey.TICKET_ACCEPTED,
        TicketStatus.IN_PROGRESS: TemplateKey.TICKET_IN_PROGRESS,
        TicketStatus.APPROVED: TemplateKey.TICKET_APPROVED,
        TicketStatus.REJECTED: TemplateKey.TICKET_REJECTED,
        TicketStatus.COMPLETED: TemplateKey.TICKET_COMPLETED,
    }
)
SMS_TEMPLATES = frozenset({*TICKET_TEMPLATES.values(), TemplateKey.VOICEMAIL_CALLBACK_FAILED})

_TICKET_FIELDS = frozenset({"number", "status_label", "comment"})
ALLOWED_PLACEHOLDERS: Mapping[TemplateKey, frozenset[str]] = MappingProxyType(
    {
        **dict.fromkeys(TICKET_TEMPLATES.values(), _TICKET_FIELDS),
        TemplateKey.VOICEMAIL_CALLBACK_FAILED: frozenset({"hotline_phone"}),
        # A subject is a mail header: nothing a citizen typed goes in it.
        TemplateKey.FEEDBACK_CONFIRMATION_SUBJECT: frozenset({"number"}),
        TemplateKey.FEEDBACK_CONFIRMATION_BODY: frozenset({"number", "full_name", "hotline_phone"}),
    }
)
# A ticket message without its number cannot be acted on.
REQUIRED_PLACEHOLDERS: Mapping[TemplateKey, frozenset[str]] = MappingProxyType(
    {
        **dict.fromkeys(TICKET_TEMPLATES.values(), frozenset({"number"})),
        TemplateKey.FEEDBACK_CONFIRMATION_BODY: frozenset({"number"}),
    }
)

_STATUS_LINE = "Обращение {number}: статус «{status_label}»."
DEFAULT_TEXTS: Mapping[TemplateKey, str] = MappingProxyType(
    {
        TemplateKey.TICKET_ACCEPTED: (
            f"{_STATUS_LINE} Мы сообщим, когда его рассмотрят. {{comment}}"
        ),
        TemplateKey.TICKET_IN_PROGRESS: f"{_STATUS_LINE} {{comment}}",
        TemplateKey.TICKET_APPROVED: f"{_STATUS_LINE} {{comment}}",
        TemplateKey.TICKET_REJECTED: (
            f"{_STATUS_LINE} {{comment}} Исправьте данные и подайте обращение снова."
        ),
        TemplateKey.TICKET_COMPLETED: f"{_STATUS_LINE} {{comment}} Спасибо за обращение!",
        TemplateKey.VOICEMAIL_CALLBACK_FAILED: (
            "Мы не смогли дозвониться до вас по вашему голосовому сообщению. "
            "Пожалуйста, позвоните на горячую линию ещё раз."
        ),
        TemplateKey.FEEDBACK_CONFIRMATION_SUBJECT: "Ваше обращение {number} принято",
        TemplateKey.FEEDBACK_CONFIRMATION_BODY: (
            "Здравствуйте, {full_name}!\n"
            "\n"
            "Ваше обращение принято и зарегистрировано под номером {number}.\n"
            "Мы сообщим о ходе его рассмотрения по SMS. Узнать статус можно и на горячей линии,"
            " назвав номер обращения оператору.\n"
            "\n"
            "Это письмо отправлено автоматически, отвечать на него не нужно."
        ),
    }
)
DEFAULT_COMMENT_MAX_CHARS = 100

_ELLIPSIS = "…"
_SENTENCE_END = ".!?…"
_HORIZONTAL_SPACE = re.compile(r"[ \t]{2,}")
# Worst cases for validation: a number is always this long and in GSM-7; a comment may be all
# Cyrillic (forcing UCS-2) or all extension characters (two septets each, if it stays GSM-7).
_WORST_NUMBER = "HL-" + "Z" * (NUMBER_LENGTH - 3)
_WORST_COMMENTS = ("Ж", "€")


@dataclass(frozen=True, slots=True)
class EmailText:
    subject: str
    body: str


@dataclass(frozen=True, slots=True)
class MessageTemplates:
    """The texts in use, keyed by `TemplateKey` (every key present), with the values they need
    that are not per message. `hotline_phone` is what `{hotline_phone}` says (empty: unset)."""

    texts: Mapping[TemplateKey, str] = field(default_factory=lambda: DEFAULT_TEXTS)
    comment_max_chars: int = DEFAULT_COMMENT_MAX_CHARS
    hotline_phone: str = ""

    def __post_init__(self) -> None:
        missing = [key.value for key in TemplateKey if key not in self.texts]
        if missing:
            raise ValueError(f"templates missing: {', '.join(missing)}")
        if self.comment_max_chars < 0:
            raise ValueError("comment_max_chars must be >= 0")
        object.__setattr__(self, "texts", MappingProxyType(dict(self.texts)))


def placeholders(template: str) -> frozenset[str]:
    """The placeholder names a template uses; ValueError if its braces are malformed or a field
    is more than a plain name (`{0}`, `{}`, `{a.b}`, `{a[0]}`, `{a!r}`, `{a:>5}`)."""
    names: set[str] = set()
    for _, name, spec, conversion in string.Formatter().parse(template):
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise ValueError(f"{{{name}}} is not a plain placeholder name")
        names.add(name)
    return frozenset(names)


def validate_templates(templates: MessageTemplates, max_segments: int) -> None:
    """Refuse, with a ValueError naming the template key, any template that is empty, malformed,
    uses a placeholder it will not get or lacks one it must have, or - for an SMS - could render
    past `max_segments` with the longest values it may be given. Called once at start-up."""
    for key in TemplateKey:
        text = templates.texts[key]
        if not text.strip():
            raise ValueError(f"{key}: the template is empty")
        try:
            used = placeholders(text)
        except ValueError as e:
            raise ValueError(f"{key}: {e}") from None
        unknown = used - ALLOWED_PLACEHOLDERS[key]
        if unknown:
            allowed = ", ".join(f"{{{n}}}" for n in sorted(ALLOWED_PLACEHOLDERS[key]))
            raise ValueError(
                f"{key}: unknown placeholder {{{min(unknown)}}} (allowed here: {allowed})"
            )
        missing = REQUIRED_PLACEHOLDERS.get(key, frozenset()) - used
        if missing:
            raise ValueError(f"{key}: the template must contain {{{min(missing)}}}")
        if "hotline_phone" in used and not templates.hotline_phone.strip():
            raise ValueError(f"{key}: uses {{hotline_phone}} but hotline_phone is not set")
        if key is TemplateKey.FEEDBACK_CONFIRMATION_SUBJECT and "\n" in text.strip():
            raise ValueError(f"{key}: an e-mail subject is one line")
        if key in SMS_TEMPLATES:
            worst = worst_case_segments(templates, key)
            if worst > max_segments:
                raise ValueError(
                    f"{key}: may take {worst} SMS segments with the longest values"
                    f" (the cap is {max_segments}); shorten it or comment_max_chars"
                )


def worst_case_segments(templates: MessageTemplates, key: TemplateKey) -> int:
    """The most SMS segments template `key` can render to. A number is always of one length in
    GSM-7 characters and a status label is its template's own; a comment is at most
    `comment_max_chars` UTF-16 units, the costliest being Cyrillic (forcing UCS-2) or extension
    characters (two septets each, in GSM-7). A comment may also put an escape or surrogate pair
    at any part boundary, losing a unit there: the bound allows for that too."""
    text = templates.texts[key]
    status = next((s for s, k in TICKET_TEMPLATES.items() if k is key), None)
    label = status.label if status is not None else ""
    comment_units = templates.comment_max_chars if "comment" in placeholders(text) else 0
    worst = 0
    for filler in _WORST_COMMENTS:
        count = count_segments(
            _sms(
                text,
                number=_WORST_NUMBER,
                status_label=label,
                comment=filler * comment_units,
                hotline_phone=templates.hotline_phone,
            )
        )
        worst = max(worst, _upper_bound(count) if comment_units else count.segments)
    return worst


def _upper_bound(count: SegmentCount) -> int:
    """Parts for `count.units` whatever the characters: every part but the last holds at least
    one unit less than a full part (a pair that did not fit), the last a full part."""
    if count.encoding is SmsEncoding.GSM7:
        single, part = GSM7_SINGLE, GSM7_PART
    else:
        single, part = UCS2_SINGLE, UCS2_PART
    if count.units <= single:
        return 1
    return max(count.segments, math.ceil((count.units - 1) / (part - 1)))


def ticket_status_sms(
    templates: MessageTemplates, *, number: str, status: TicketStatus, comment: str | None = None
) -> str:
    """The SMS telling a citizen their ticket `number` is now in `status`, with the operator's
    comment (one line, clipped to `comment_max_chars`) if there is one."""
    return _sms(
        templates.texts[TICKET_TEMPLATES[status]],
        number=number,
        status_label=status.label,
        comment=clip_comment(comment or "", templates.comment_max_chars),
    )


def voicemail_callback_failed_sms(templates: MessageTemplates) -> str:
    """The SMS after the last callback attempt for a voicemail failed: please call again."""
    return _sms(
        templates.texts[TemplateKey.VOICEMAIL_CALLBACK_FAILED],
        hotline_phone=templates.hotline_phone,
    )


def feedback_confirmation_email(
    templates: MessageTemplates, *, number: str, full_name: str
) -> EmailText:
    """The e-mail confirming a feedback form became ticket `number`."""
    name = " ".join(full_name.split())  # no line breaks or runs of spaces from a form field
    subject = templates.texts[TemplateKey.FEEDBACK_CONFIRMATION_SUBJECT].format_map(
        {"number": number}
    )
    body = templates.texts[TemplateKey.FEEDBACK_CONFIRMATION_BODY].format_map(
        {"number": number, "full_name": name, "hotline_phone": templates.hotline_phone}
    )
    return EmailText(" ".join(subject.split()), body.strip())


def clip_comment(comment: str, max_units: int) -> str:
    """`comment` as a sentence on one line (capital first, full stop last), at most `max_units`
    UTF-16 units (an emoji counts two, as in an SMS); cut with an ellipsis, never inside a
    surrogate pair."""
    text = " ".join(comment.split())
    if not text or max_units <= 0:
        return ""
    text = text[0].upper() + text[1:]
    if text[-1] not in _SENTENCE_END:
        text += "."
    if _units(text) <= max_units:
        return text
    budget = max_units - _units(_ELLIPSIS)
    kept: list[str] = []
    for ch in text:
        budget -= _units(ch)
        if budget < 0:
            break
        kept.append(ch)
    return "".join(kept).rstrip() + _ELLIPSIS


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _sms(template: str, **values: str) -> str:
    # A missing value (an empty comment) must not leave a double space or a dangling blank.
    rendered = template.format_map(values)
    return _HORIZONTAL_SPACE.sub(" ", rendered).strip()
