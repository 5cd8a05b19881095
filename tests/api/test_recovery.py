"""A restart rebuilds the router from the store: queue order, deadlines, offers and assignments."""

from __future__ import annotations

from pathlib import Path

import trio

from hotline.api import create_app
from hotline.app import start_services
from hotline.config import Settings
from hotline.services.auth import Role, create_token
from tests.api.conftest import PAYMENTS_DESK, Api

CALL = {"channel": "voice", "topic": "payments", "phone": "+79123456789"}


async def test_a_restart_keeps_the_queue_the_assignment_and_returns_offers(
    settings: Settings, tmp_path: Path
) -> None:
    async with trio.open_nursery() as first_life:
        services = await start_services(first_life, settings)
        app = create_app(services)
        sup = Api(app, (await create_token(services.store, Role.SUPERVISOR))[1])
        integ = Api(app, (await create_token(services.store, Role.INTEGRATION))[1])
        for op in ("op-1", "op-2"):
            await sup.put(f"/v1/operators/{op}", PAYMENTS_DESK)
            await sup.post(f"/v1/operators/{op}/state", {"state": "ready"})
        created = [(await integ.post("/v1/contacts", CALL))[1] for _ in range(5)]
        held, offered = created[0]["id"], created[1]["id"]
        await sup.post(f"/v1/contacts/{held}/accept", {"operator_id": "op-1"})
        # op-1 is busy with `held`; op-2 holds an unanswered offer of `offered`.
        _, before = await sup.get("/v1/contacts", query_string={"limit": "10"})
        first_life.cancel_scope.cancel()

    async with trio.open_nursery() as second_life:
        services = await start_services(second_life, settings)
        app = create_app(services)
        sup = Api(app, (await create_token(services.store, Role.SUPERVISOR))[1])
        _, after = await sup.get("/v1/contacts", query_string={"limit": "10"})
        by_id = {c["id"]: c for c in after["contacts"]}

        assert [c["id"] for c in after["contacts"]] == [c["id"] for c in before["contacts"]]
        for old in before["contacts"]:
            new = by_id[old["id"]]
            assert (new["arrived_at"], new["deadline_at"], new["priority"]) == (
                old["arrived_at"],
                old["deadline_at"],
                old["priority"],
            )
        assert (by_id[held]["state"], by_id[held]["operator_id"]) == ("assigned", "op-1")
        assert (by_id[offered]["state"], by_id[offered]["operator_id"]) == ("waiting", None)
        _, ops = await sup.get("/v1/operators")
        assert {o["id"]: o["state"] for o in ops["operators"]} == {
            "op-1": "offline",  # still holding `held`, which it can complete after logging in
            "op-2": "offline",
        }
        # The withdrawn offer went back to its place: first in the queue again.
        _, offered_now = await sup.get(f"/v1/contacts/{offered}")
        assert offered_now["position"] == 0
        # op-2 logs in and is offered the same contact again; op-1 completes its contact.
        await sup.post("/v1/operators/op-2/state", {"state": "ready"})
        _, offers = await sup.get("/v1/operators/op-2/offers")
        assert [o["contact_id"] for o in offers["offers"]] == [offered]
        status, done = await sup.post(
            f"/v1/contacts/{held}/complete", {"operator_id": "op-1", "outcome": "done"}
        )
        assert (status, done["state"]) == (200, "completed")
        second_life.cancel_scope.cancel()
