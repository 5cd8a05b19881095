"""Rating surveys, the citizen's side: answering by code and opting out.

The invitation is not made here: the journal writes it with the completion's events
(hotline/store/quality.py). `answer` takes the portal page's or the IVR's post of one code's
answer (integration only: the citizen never holds a token, the portal and the switch post for
them): the answer and its counts in one transaction, then the live figures hear of it.

A code is random and unguessable (`[surveys] code_length` letters of `SURVEY_CODE_ALPHABET`);
a wrong one is 404 whatever it looks like, an expired one 410, a second answer 409. Every post
is counted against its source (the calling token) by a token bucket (`[surveys]
answers_per_minute`, `answers_burst`), checked before the code is looked up, so a source that
guesses is slowed to a crawl (429 with Retry-After) whether its guesses hit or not.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hotline.config import SURVEY_CODE_ALPHABET, Settings
from hotline.domain.errors import Conflict, Gone, Invalid, NotFound, TooManyRequests
from hotline.domain.phones import normalize_phone
from hotline.notify.sender import Notifier
from hotline.services import Services
from hotline.services.auth import Principal, Role
from hotline.services.live import LiveFigures
from hotline.store.outbox import MessageKind
from hotline.store.quality import (
    AnswerResult,
    QualityRules,
    QualityWritten,
    answer_survey,
    opt_out,
)
from hotline.store.rollups import LocalDays

DAY_S = 86_400.0
HOUR_S = 3600.0


def quality_rules(settings: Settings) -> QualityRules:
    s, kpi = settings.surveys, settings.kpi_rules()
    return QualityRules(
        repeat_window_s=settings.quality.repeat_window_h * HOUR_S,
        surveys=s.enabled,
        share=s.share,
        link_base=s.link_base,
        sms_text=s.sms_text,
        code_length=s.code_length,
        alphabet=SURVEY_CODE_ALPHABET,
        expire_s=s.expire_days * DAY_S,
        nps_every_s=s.nps_every_days * DAY_S,
        interval_s=kpi.interval_s,
        days=LocalDays(kpi.tz),
    )


def quality_committed(live: LiveFigures, notifier: Notifier) -> Callable[[QualityWritten], None]:
    """The journal's quality hook: the live figures count it, and the SMS sender looks at once
    when invitations were written (the journal's store has no post-commit hook of its own)."""

    def hook(written: QualityWritten) -> None:
        live.after_quality(written)
        if written.surveys:
            notifier.notify_new(MessageKind.SMS)

    return hook


@dataclass(frozen=True, slots=True)
class SurveyAnswer:
    csat: int
    nps: int | None = None
    comment: str | None = None


async def answer(sv: Services, caller: Principal, code: str, given: SurveyAnswer) -> AnswerResult:
    caller.require(Role.INTEGRATION)
    settings = sv.settings.surveys
    wait = sv.survey_limits.take(
        caller.token_id,
        now=sv.clock.now(),
        per_s=settings.answers_per_minute / 60.0,
        burst=settings.answers_burst,
    )
    if wait is not None:
        raise TooManyRequests("too many survey answers from this caller", retry_after_s=wait)
    if not 1 <= given.csat <= 5:
        raise Invalid("a rating from 1 to 5", field="csat")
    if given.nps is not None and not 0 <= given.nps <= 10:
        raise Invalid("a score from 0 to 10", field="nps")
    if len(code) != settings.code_length or not set(code) <= set(SURVEY_CODE_ALPHABET):
        raise NotFound("no survey with this code")  # no hint of what a code looks like
    rules = quality_rules(sv.settings)
    now = sv.clock.now()
    comment = given.comment.strip() or None if given.comment is not None else None
    result = await sv.store.transact(
        lambda tx: answer_survey(
            tx,
            code,
            csat=given.csat,
            nps=given.nps,
            comment=comment,
            source=caller.token_id,
            at=now,
            interval_s=rules.interval_s,
            days=rules.days,
        )
    )
    if result.outcome == "unknown":
        raise NotFound("no survey with this code")
    if result.outcome == "answered_before":
        raise Conflict("this survey was answered already")
    if result.outcome == "expired":
        raise Gone("this survey's code has expired")
    if result.outcome == "no_nps":
        raise Invalid("this survey did not ask for a recommendation score", field="nps")
    assert result.counts is not None
    sv.live.quality_counted(result.counts.line())
    return result


async def record_opt_out(sv: Services, caller: Principal, phone: str) -> tuple[str, float]:
    """No more surveys to `phone`; (its E.164 form, when it opted out)."""
    caller.require(Role.INTEGRATION)
    e164 = normalize_phone(phone)
    at = await sv.store.transact(
        lambda tx: opt_out(tx, e164, source=caller.token_id, at=sv.clock.now())
    )
    return e164, at
