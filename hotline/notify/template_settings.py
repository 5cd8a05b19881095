"""`[templates]` of the configuration: the SMS and e-mail texts, the SMS segment cap they must
fit, and how long an operator's comment may be in an SMS.

Read by `hotline.config` (the `templates` key of `Settings`); the composition root hands the
plain `MessageTemplates` from `message_templates()` to the ticket, voicemail and feedback
services. Every key has a default (the Russian texts in `hotline.notify.templates`), so a fresh
install needs none. Loading runs `validate_templates`: a template that could render past
`sms_max_segments`, or with a placeholder it will not get, fails at start-up naming its key.
"""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from hotline.notify.templates import (
    DEFAULT_COMMENT_MAX_CHARS,
    DEFAULT_TEXTS,
    MessageTemplates,
    TemplateKey,
    validate_templates,
)

_MAX_CONCATENATED_PARTS = 255  # the concatenation header counts parts in one byte


class TemplateSettings(BaseModel):
    # As in `hotline.config`: strict, unknown keys refused, immutable once read.
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    # No SMS template may render to more segments than this, whatever the values.
    sms_max_segments: int = Field(default=4, ge=1, le=_MAX_CONCATENATED_PARTS)
    # An operator's comment in an SMS is clipped to this many UTF-16 units (0: never sent).
    comment_max_chars: int = Field(default=DEFAULT_COMMENT_MAX_CHARS, ge=0, le=1000)
    # What `{hotline_phone}` says; empty: no template may use it.
    hotline_phone: str = ""

    ticket_accepted: str = Field(default=DEFAULT_TEXTS[TemplateKey.TICKET_ACCEPTED], min_length=1)
    ticket_in_progress: str = Field(
        default=DEFAULT_TEXTS[TemplateKey.TICKET_IN_PROGRESS], min_length=1
    )
    ticket_approved: str = Field(default=DEFAULT_TEXTS[TemplateKey.TICKET_APPROVED], min_length=1)
    ticket_rejected: str = Field(default=DEFAULT_TEXTS[TemplateKey.TICKET_REJECTED], min_length=1)
    ticket_completed: str = Field(default=DEFAULT_TEXTS[TemplateKey.TICKET_COMPLETED], min_length=1)
    voicemail_callback_failed: str = Field(
        default=DEFAULT_TEXTS[TemplateKey.VOICEMAIL_CALLBACK_FAILED], min_length=1
    )
    feedback_confirmation_subject: str = Field(
        default=DEFAULT_TEXTS[TemplateKey.FEEDBACK_CONFIRMATION_SUBJECT], min_length=1
    )
    feedback_confirmation_body: str = Field(
        default=DEFAULT_TEXTS[TemplateKey.FEEDBACK_CONFIRMATION_BODY], min_length=1
    )

    @model_validator(mode="after")
    def _templates_fit(self) -> Self:
        try:
            validate_templates(self.message_templates(), self.sms_max_segments)
        except ValueError as e:
            raise PydanticCustomError("templates", "{what}", {"what": str(e)}) from None
        return self

    def message_templates(self) -> MessageTemplates:
        return MessageTemplates(
            texts={key: getattr(self, key.value) for key in TemplateKey},
            comment_max_chars=self.comment_max_chars,
            hotline_phone=self.hotline_phone,
        )
