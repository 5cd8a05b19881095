"""Citizens' feedback sorted by theme: complaints operators record, what supervisors read and
correct, and the trends that show recurring problems.

Called by `hotline.api.feedback` (and the complaint route of the contacts API); writes and reads
through `hotline.store.feedback`, where each comment is classified as it is written. Feedback
forms reach the store from `hotline.services.forms` and survey comments from the surveys'
completion path, both through `add_feedback` inside their own transactions.

Who: an operator records a complaint about the contact it holds (a supervisor about any
contact); supervisors read, correct and see the trends. Texts are citizens' own words and may hold
their phone, INN or SNILS: every answer here masks them (`mask_personal_numbers`), so reads are
not personal-data reads to record.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from hotline.domain.errors import Invalid, NotFound
from hotline.quality.themes import THEMES, Theme
from hotline.quality.trends import Comment, Trend, by_group, trend
from hotline.routing.model import ContactState
from hotline.services import Services
from hotline.services.auth import Principal, Role
from hotline.services.paging import read_page
from hotline.store import Tx
from hotline.store.feedback import (
    CorrectionRow,
    FeedbackRow,
    FeedbackSource,
    add_feedback,
    correct_categories,
    corrections,
    get_feedback,
    list_feedback,
    trend_rows,
)
from hotline.store.queries import get_contact

_DAY_S = 86_400.0


@dataclass(frozen=True, slots=True)
class FeedbackPage:
    items: list[FeedbackRow]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class FeedbackView:
    item: FeedbackRow
    corrections: list[CorrectionRow]


@dataclass(frozen=True, slots=True)
class TrendReport:
    start: float
    end: float
    previous_start: float  # the period compared with: [previous_start, start)
    total: Trend
    groups: dict[str | None, Trend]  # empty unless grouped


async def record_complaint(
    sv: Services, caller: Principal, contact_id: str, text: str
) -> tuple[FeedbackView, bool]:
    """A citizen's complaint about contact `contact_id`, as its operator heard it: the view and
    whether it is new. The same text about the same contact again is the same complaint (a
    retried request), not a second one."""
    caller.require(Role.SUPERVISOR, Role.OPERATOR)
    text = text.strip()
    if not text:
        raise Invalid("a complaint needs its text", field="text")
    contact = await sv.store.read(lambda tx: get_contact(tx, contact_id))
    holds = (
        contact is not None
        and contact.operator_id == caller.operator_id
        and contact.state is ContactState.ASSIGNED
    )
    if contact is None or (caller.role is Role.OPERATOR and not holds):
        raise NotFound(f"no contact {contact_id}")  # an operator sees only what it holds
    topic, operator_id = contact.topic, contact.operator_id
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    source_id = f"{contact_id}:{digest}"
    now = sv.clock.now()

    async def work(tx: Tx) -> tuple[FeedbackView, bool]:
        existing = await tx.fetchone(
            "SELECT 1 FROM feedback WHERE source = ? AND source_id = ?",
            (FeedbackSource.COMPLAINT.value, source_id),
        )
        fid = await add_feedback(
            tx,
            source=FeedbackSource.COMPLAINT,
            source_id=source_id,
            text=text,
            topic=topic,
            operator_id=operator_id,
            at=now,
        )
        return await _view(tx, fid), existing is None

    return await sv.store.transact(work)


async def list_feedback_page(
    sv: Services,
    caller: Principal,
    *,
    category: Theme | None,
    topic: str | None,
    since: float | None,
    until: float | None,
    limit: int,
    cursor: str | None,
) -> FeedbackPage:
    caller.require(Role.SUPERVISOR)
    if since is not None and until is not None and until <= since:
        raise Invalid("after `from`", field="to")

    async def fetch(after: int, n: int) -> list[FeedbackRow]:
        return await sv.store.read(
            lambda tx: list_feedback(
                tx,
                category=category,
                topic=topic,
                since=since,
                until=until,
                after_id=after,
                limit=n,
            )
        )

    return FeedbackPage(*await read_page("f", cursor, limit, fetch, key=lambda row: row.id))


async def get_feedback_view(sv: Services, caller: Principal, feedback_id: int) -> FeedbackView:
    caller.require(Role.SUPERVISOR)

    async def work(tx: Tx) -> FeedbackView | None:
        if await get_feedback(tx, feedback_id) is None:
            return None
        return await _view(tx, feedback_id)

    view = await sv.store.read(work)
    if view is None:
        raise NotFound(f"no feedback {feedback_id}")
    return view


async def correct_label(
    sv: Services, caller: Principal, feedback_id: int, categories: list[Theme]
) -> FeedbackView:
    """Make `categories` the comment's label (supervisor); the correction is kept with who made
    it, and the latest correction is the label."""
    caller.require(Role.SUPERVISOR)
    label = normalized_label(categories)
    now = sv.clock.now()

    async def work(tx: Tx) -> FeedbackView | None:
        row = await correct_categories(tx, feedback_id, label, token_id=caller.token_id, at=now)
        return None if row is None else await _view(tx, feedback_id)

    view = await sv.store.transact(work)
    if view is None:
        raise NotFound(f"no feedback {feedback_id}")
    return view


def normalized_label(categories: list[Theme]) -> tuple[Theme, ...]:
    """A label as stored: its themes once each, in `THEMES` order; `other` only alone."""
    if not categories:
        raise Invalid("at least one category", field="categories")
    if len(set(categories)) != len(categories):
        raise Invalid("a category given twice", field="categories")
    if Theme.OTHER in categories and len(categories) > 1:
        raise Invalid("`other` is a label of its own, never beside a theme", field="categories")
    return tuple(t for t in THEMES if t in categories)


async def trends(
    sv: Services, caller: Principal, *, start: float, end: float, by: str | None
) -> TrendReport:
    """Counts per theme from `start` to `end` and the terms that rose against the period of the
    same length just before, in all and per topic with `by="topic"` (supervisor)."""
    caller.require(Role.SUPERVISOR)
    settings = sv.settings.feedback
    if end <= start:
        raise Invalid("after `from`", field="to")
    if end - start > settings.trend_max_days * _DAY_S:
        raise Invalid(f"a period of at most {settings.trend_max_days} days", field="to")
    previous_start = start - (end - start)
    if previous_start < 0:  # nothing was written before 1970, and no instant is shown before
        raise Invalid("a period whose period before starts after 1970-01-01", field="from")

    async def work(tx: Tx) -> tuple[list[Comment], list[Comment]]:
        rows = await trend_rows(tx, since=previous_start, until=end)
        now = [_comment(r.topic, r.categories, r.terms) for r in rows if r.at >= start]
        before = [_comment(r.topic, r.categories, r.terms) for r in rows if r.at < start]
        return now, before

    now, before = await sv.store.read(work)
    limit, least = settings.trend_terms, settings.trend_min_count
    total = trend(now, before, limit=limit, min_count=least)
    groups = by_group(now, before, limit=limit, min_count=least) if by == "topic" else {}
    return TrendReport(start, end, previous_start, total, groups)


def _comment(topic: str | None, categories: tuple[Theme, ...], terms: tuple[str, ...]) -> Comment:
    return Comment(topic, categories, terms)


async def _view(tx: Tx, feedback_id: int) -> FeedbackView:
    row = await get_feedback(tx, feedback_id)
    assert row is not None  # the caller has just found or written it
    return FeedbackView(row, await corrections(tx, feedback_id))
