"""Start-up: the routing state rebuilt from the store, as the last commit left it.

Called by the composition root before the router actor starts. Operators come back with their
profiles, offline (whoever was on shift logs in again). Live contacts come back in queue order
with their arrival, class, deadlines, skills, and whether they already overflowed or breached,
so no event is recorded twice. Offers in flight go back to the queue at their place; contacts an
operator was handling stay assigned to that operator. The facts the restart itself changed
(operators offline, offers withdrawn) are recorded as events, like any other change, and go
through the journal's `KpiRecorder` like any other event: its tracker is loaded from the store
first, so an operator's state before the restart ends as one piece of its time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from hotline.jsonlog import log_event
from hotline.routing import RoutingPolicy, RoutingState
from hotline.routing.model import (
    ContactState,
    Event,
    OfferWithdrawn,
    OperatorChanged,
    OperatorState,
)
from hotline.services.operators import operator_spec
from hotline.store import StoreHandle, Tx
from hotline.store.events import append_router_events, load_live_contacts, load_operators
from hotline.store.rollups import KpiRecorder
from hotline.store.rows import LiveContact, StoredOperator

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Recovered:
    state: RoutingState
    operators: int
    waiting: int
    assigned: int
    offers_withdrawn: int


async def rebuild_router(
    store: StoreHandle, policy: RoutingPolicy, tz: ZoneInfo, *, now: float, kpi: KpiRecorder
) -> Recovered:
    async def load(tx: Tx) -> tuple[list[StoredOperator], list[LiveContact]]:
        return await load_operators(tx), await load_live_contacts(tx)

    operators, contacts = await store.read(load)
    state = RoutingState(policy)
    restart: list[Event] = []
    for stored in operators:
        state.upsert_operator(operator_spec(stored.profile, tz), now)
        if stored.state is not OperatorState.OFFLINE:
            restart.append(
                OperatorChanged(stored.profile.id, now, OperatorState.OFFLINE, "restart")
            )
    known = {s.profile.id for s in operators}
    assigned = withdrawn = 0
    for c in contacts:
        holder = c.operator_id if c.state is ContactState.ASSIGNED else None
        if holder is not None and holder not in known:
            holder = None  # cannot happen unless rows were edited by hand: route it afresh
        if c.state is ContactState.OFFERED and c.operator_id is not None:
            restart.append(OfferWithdrawn(c.id, c.operator_id, now, "restart"))
            withdrawn += 1
        assigned += holder is not None
        events = state.restore_contact(
            c.as_new_contact(),
            now,
            overflowed=c.overflowed,
            breached=c.breached,
            assigned_to=holder,
        )
        assert not events, "every operator is offline during recovery: nothing can be offered"
    if restart:
        counted = kpi.count(restart)

        async def record(tx: Tx) -> None:
            await append_router_events(tx, restart)
            await kpi.write(tx, counted)

        await store.transact(record)
    recovered = Recovered(state, len(operators), len(contacts) - assigned, assigned, withdrawn)
    log_event(
        log,
        "hotline.recovered",
        operators=recovered.operators,
        waiting=recovered.waiting,
        assigned=recovered.assigned,
        offers_withdrawn=recovered.offers_withdrawn,
    )
    return recovered
