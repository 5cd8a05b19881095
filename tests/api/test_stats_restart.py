"""The figures across restarts of the real service: a report of a closed window is the same
before and after a restart; an operator's time up to a restart is one piece, counted once however
often the service starts again; a contact answered before a restart has its talk time counted
from its acceptance when it completes after it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import trio

from hotline.api import create_app
from hotline.app import start_services
from hotline.clock import WallClock
from hotline.config import Settings
from hotline.services import Services
from hotline.services.auth import Role, create_token
from hotline.services.periods import PeriodQuery
from hotline.services.stats import period
from hotline.store import Tx
from hotline.store.kpi import load_buckets
from tests.api.conftest import PAYMENTS_DESK, Api
from tests.kpi_day import DAY_START

CALL = {"channel": "voice", "topic": "payments", "phone": "+79123456789"}
TEN = float(DAY_START + 10 * 3600)  # 10:00 local: the first life starts here
WINDOW = PeriodQuery("2027-03-10T10:00", "2027-03-10T10:15", "15m")


@asynccontextmanager
async def life(settings: Settings, epoch: float) -> AsyncIterator[tuple[Services, Api, Api]]:
    """The service started on the database at wall time `epoch`: a supervisor and an
    integration client."""
    async with trio.open_nursery() as nursery:
        services = await start_services(nursery, settings, clock=WallClock(epoch=epoch))
        app = create_app(services)
        sup = Api(app, (await create_token(services.store, Role.SUPERVISOR))[1])
        integ = Api(app, (await create_token(services.store, Role.INTEGRATION))[1])
        yield services, sup, integ
        nursery.cancel_scope.cancel()


async def events_of(services: Services, kind: str) -> list[Any]:
    async def work(tx: Tx) -> list[Any]:
        if kind == "state_changed":
            sql = "SELECT at, json_extract(data, '$.state') AS what FROM operator_events"
        else:
            sql = "SELECT at, contact_id AS what FROM contact_events"
        rows = await tx.fetchall(f"{sql} WHERE kind = ? ORDER BY id", (kind,))
        return [(r["at"], r["what"]) for r in rows]

    return await services.store.read(work)


async def open_seconds(services: Services) -> float:
    rules = services.settings.kpi_rules()
    found = await services.store.read(lambda tx: load_buckets(tx, rules, "interval", 0, 4e9))
    return sum(t.open_s for t in found.operators.values())


def close(a: Any, b: Any) -> bool:
    """Figures alike but for the last bits of sums taken in other orders."""
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(close(a[k], b[k]) for k in a)
    if isinstance(a, float) and isinstance(b, float):
        return a == pytest.approx(b, rel=1e-9)
    return bool(a == b)


async def test_figures_and_operators_time_hold_across_restarts(settings: Settings) -> None:
    async with life(settings, TEN) as (services, sup, integ):
        rules = services.settings.kpi_rules()
        await sup.put("/v1/operators/op-1", PAYMENTS_DESK)
        await sup.post("/v1/operators/op-1/state", {"state": "ready"})
        first = (await integ.post("/v1/contacts", CALL))[1]["id"]
        await sup.post(f"/v1/contacts/{first}/accept", {"operator_id": "op-1"})
        await sup.post(f"/v1/contacts/{first}/complete", {"operator_id": "op-1", "outcome": "ok"})
        await sup.post("/v1/operators/op-1/wrap-up/end")
        held = (await integ.post("/v1/contacts", CALL))[1]["id"]
        await sup.post(f"/v1/contacts/{held}/accept", {"operator_id": "op-1"})
        # op-1 holds `held` when the service stops: busy, not a fact yet. As of 10:15 the
        # report counts that time up to 10:15, as the rollups will once the state changes.
        before = await period(services.store.handle, rules, WINDOW, now=TEN + 900)
        assert before.total["answered"] == 2 and before.total["occupancy"] is not None

    async with life(settings, TEN + 3600) as (services, sup, integ):
        after = await period(services.store.handle, rules, WINDOW, now=services.clock.now())
        assert close(after.total, before.total) and close(after.rows, before.rows)
        states = await events_of(services, "state_changed")
        ready_at = next(at for at, state in states if state == "ready")
        restart_at = states[-1][0]
        assert [s for _, s in states][-1] == "offline"  # the restart's
        assert await open_seconds(services) == pytest.approx(restart_at - ready_at)

        await sup.post("/v1/operators/op-1/state", {"state": "ready"})
        await sup.post(f"/v1/contacts/{held}/complete", {"operator_id": "op-1", "outcome": "ok"})
        await sup.post("/v1/operators/op-1/wrap-up/end")
        await sup.post("/v1/operators/op-1/state", {"state": "offline"})
        later = (await events_of(services, "state_changed"))[len(states) :]
        logged_in, logged_out = later[0], later[-1]
        assert (logged_in[1], logged_out[1]) == ("busy", "offline")  # it still holds `held`
        accepted = dict((cid, at) for at, cid in await events_of(services, "accepted"))
        ended = dict((cid, at) for at, cid in await events_of(services, "ended"))
        talk = [ended[c] - accepted[c] for c in (first, held)]
        day = PeriodQuery("2027-03-10T00:00", "2027-03-11T00:00", "1d")
        whole = await period(services.store.handle, rules, day, now=services.clock.now())
        assert whole.total["talk_s"] == pytest.approx(sum(talk) / 2)  # from the acceptance
        worked = (restart_at - ready_at) + (logged_out[0] - logged_in[0])
        assert await open_seconds(services) == pytest.approx(worked)

    async with life(settings, TEN + 7200) as (services, _, _):
        assert await open_seconds(services) == pytest.approx(worked)  # nothing counted again
