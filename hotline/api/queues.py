"""`GET /v1/queues`: the router's live snapshot for wallboards and supervisors.

Reads through the router handle (one query, answered between two routing steps, so the figures
are consistent with each other) and renders them with the response models below, which are the
documented contract of the endpoint.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from quart import Blueprint
from quart_schema import validate_response

from hotline.api.services import caller, current_services
from hotline.api.voicemails import VoicemailQueue, queue_figures
from hotline.routing import ContactState, OperatorState
from hotline.routing.model import QueueFigures, RouterStatistics
from hotline.services.auth import Role

blueprint = Blueprint("queues", __name__, url_prefix="/v1/queues")


class QueueRow(BaseModel):
    """One (topic, priority class) queue."""

    model_config = ConfigDict(frozen=True)

    topic: str
    priority: str
    waiting: int
    offered: int
    longest_wait_s: float
    breached_waiting: int
    free_operators: int
    eligible_operators: int


class QueuesSnapshot(BaseModel):
    """Counts since start: `contacts` per state (they add up to `created`), `operators` per
    state now, and the rows of every queue that holds a waiting or offered contact."""

    model_config = ConfigDict(frozen=True)

    created: int
    contacts: dict[ContactState, int]
    operators: dict[OperatorState, int]
    breaches: int
    overflows: int
    offers: int
    missed_offers: int
    queues: list[QueueRow]
    voicemail: VoicemailQueue | None = None

    @classmethod
    def of(cls, stats: RouterStatistics) -> QueuesSnapshot:
        # Every state is listed, zeros included, so a client never has to guess a missing key.
        return cls(
            created=stats.created,
            contacts={s: stats.by_state.get(s, 0) for s in ContactState},
            operators={s: stats.operators.get(s, 0) for s in OperatorState},
            breaches=stats.breaches,
            overflows=stats.overflows,
            offers=stats.offers,
            missed_offers=stats.missed_offers,
            queues=[_row(q) for q in stats.queues],
        )


def _row(q: QueueFigures) -> QueueRow:
    return QueueRow(
        topic=q.topic,
        priority=q.priority,
        waiting=q.waiting,
        offered=q.offered,
        longest_wait_s=round(q.longest_wait_s, 3),
        breached_waiting=q.breached_waiting,
        free_operators=q.free_operators,
        eligible_operators=q.eligible_operators,
    )


@blueprint.get("")
@validate_response(QueuesSnapshot)
async def snapshot() -> QueuesSnapshot:
    """The live queues (supervisor)."""
    (await caller()).require(Role.SUPERVISOR)
    live = QueuesSnapshot.of(await current_services().router.statistics(queues=True))
    return live.model_copy(update={"voicemail": await queue_figures()})
