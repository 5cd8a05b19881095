"""Each routing event becomes one log line named after it, with the event's fields."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import trio
import trio.testing

from hotline.config import load_settings
from hotline.eventlog import log_router_events
from hotline.jsonlog import JsonLineFormatter
from hotline.routing import Channel, NewContact, RoutingState
from hotline.routing.actor import RouterActor

SHIPPED = Path(__file__).resolve().parents[2] / "config" / "hotline.toml"


async def test_an_enqueued_contact_is_logged_with_its_fields(
    nursery: trio.Nursery, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="hotline.eventlog")
    actor = RouterActor(RoutingState(load_settings(SHIPPED).routing_policy()))
    router = await nursery.start(actor.run)
    nursery.start_soon(log_router_events, actor)
    await trio.testing.wait_all_tasks_blocked()  # subscribed

    await router.enqueue(NewContact(id="c-1", channel=Channel.VOICE, topic="payments"))
    await trio.testing.wait_all_tasks_blocked()

    [record] = [r for r in caplog.records if r.getMessage() == "router.enqueued"]
    line = json.loads(JsonLineFormatter().format(record))
    assert line["contact_id"] == "c-1"
    assert line["topic"] == "payments"
    assert line["priority"] == "urgent"


async def test_events_that_pile_up_are_logged_each_once_in_the_routers_order(
    nursery: trio.Nursery, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="hotline.eventlog")
    actor = RouterActor(RoutingState(load_settings(SHIPPED).routing_policy()))
    router = await nursery.start(actor.run)
    published = actor.subscribe(lossless=True)
    nursery.start_soon(log_router_events, actor)
    await trio.testing.wait_all_tasks_blocked()

    async with trio.open_nursery() as burst:  # the log task runs only once they are all in
        for n in range(20):
            burst.start_soon(router.enqueue, NewContact(f"c-{n}", Channel.VOICE, "payments"))
    await trio.testing.wait_all_tasks_blocked()

    order = [published.receive_nowait().contact_id for _ in range(20)]  # type: ignore[attr-defined]
    logged = [r.hotline_fields["contact_id"] for r in caplog.records]  # type: ignore[attr-defined]
    assert logged == order
