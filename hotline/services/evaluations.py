"""Quality evaluations: a supervisor scores a handled contact on a scorecard of `[scorecards]`
(`hotline.domain.scorecards`), and the period figures by operator show each operator's
average score and failed critical questions beside its certification (`operator_quality`).

A contact is evaluable once an operator has handled it: completed, or transferred from the
operator's hands. The evaluation belongs to that operator and counts in the figures at the
moment the contact ended, so a period's figures speak of the work done in it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date

from hotline.domain.errors import Conflict, Invalid, NotFound
from hotline.domain.scorecards import score
from hotline.routing.model import ContactState
from hotline.services import Services
from hotline.services.auth import Principal, Role
from hotline.store import StoreHandle, Tx
from hotline.store.evaluations import (
    EvaluationRow,
    OperatorQuality,
    add_evaluation,
    certified_until_of,
    evaluations_of,
    handled_between,
)
from hotline.store.queries import get_contact

HANDLED = (ContactState.COMPLETED, ContactState.TRANSFERRED)


@dataclass(frozen=True, slots=True)
class EvaluationRequest:
    scorecard: str
    answers: Mapping[str, bool]
    comment: str | None = None


async def evaluate(
    sv: Services, caller: Principal, contact_id: str, req: EvaluationRequest
) -> EvaluationRow:
    caller.require(Role.SUPERVISOR)
    card_settings = sv.settings.scorecards.get(req.scorecard)
    if card_settings is None:
        known = ", ".join(sorted(sv.settings.scorecards)) or "none configured"
        raise Invalid(f"no scorecard {req.scorecard!r} ({known})", field="scorecard")
    scored = score(card_settings.scorecard(req.scorecard), req.answers)
    at = sv.clock.now()

    async def work(tx: Tx) -> EvaluationRow:
        contact = await get_contact(tx, contact_id)
        if contact is None:
            raise NotFound(f"no contact {contact_id}")
        if contact.state not in HANDLED or contact.operator_id is None or contact.ended_at is None:
            raise Conflict(
                "only a contact an operator has handled is evaluated", field="contact_id"
            )
        return await add_evaluation(
            tx,
            contact_id=contact_id,
            operator_id=contact.operator_id,
            scorecard=req.scorecard,
            answers=dict(req.answers),
            score=scored.share,
            failed_criticals=scored.failed_criticals,
            passed=scored.passed,
            comment=req.comment,
            handled_at=contact.ended_at,
            evaluated_by=caller.name,
            at=at,
        )

    return await sv.store.transact(work)


async def list_evaluations(sv: Services, caller: Principal, contact_id: str) -> list[EvaluationRow]:
    caller.require(Role.SUPERVISOR)

    async def work(tx: Tx) -> list[EvaluationRow] | None:
        if await get_contact(tx, contact_id) is None:
            return None
        return await evaluations_of(tx, contact_id)

    found = await sv.store.read(work)
    if found is None:
        raise NotFound(f"no contact {contact_id}")
    return found


@dataclass(frozen=True, slots=True)
class QualityFigures:
    by_interval: dict[tuple[int, str], OperatorQuality]  # (report interval, operator)
    certified_until: dict[str, date | None]


async def operator_quality(
    store: StoreHandle, start: float, end: float, interval_of: Callable[[float], int | None]
) -> QualityFigures:
    """Evaluations of contacts handled in [start, end), added up per (report interval,
    operator) by `interval_of(handled_at) -> int | None`; and each operator's last certified day."""

    async def work(
        tx: Tx,
    ) -> tuple[list[tuple[float, str, float, int, bool]], dict[str, str | None]]:
        return await handled_between(tx, start, end), await certified_until_of(tx)

    rows, certified = await store.read(work)
    sums: dict[tuple[int, str], list[float]] = {}
    for handled_at, operator_id, share, failed_criticals, passed in rows:
        at = interval_of(handled_at)
        if at is None:
            continue
        acc = sums.setdefault((at, operator_id), [0, 0.0, 0, 0])
        acc[0] += 1
        acc[1] += share
        acc[2] += failed_criticals
        acc[3] += not passed
    return QualityFigures(
        {k: OperatorQuality(int(n), s, int(f), int(x)) for k, (n, s, f, x) in sums.items()},
        {op: date.fromisoformat(d) if d else None for op, d in certified.items()},
    )


def quality_keys(q: OperatorQuality | None, certified_until: date | None) -> dict[str, object]:
    """The keys a row of the figures by operator carries beside FIGURES."""
    return {
        "evaluations": 0 if q is None else q.evaluations,
        "evaluation_score": None if q is None else q.score_sum / q.evaluations,
        "evaluations_failed": 0 if q is None else q.failed,
        "failed_criticals": 0 if q is None else q.failed_criticals,
        "certified_until": certified_until,
    }
