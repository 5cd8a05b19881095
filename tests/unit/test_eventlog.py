"""Each routing event becomes one log line named after it, with the event's fields: at `debug`
every one, at `info` only those a supervisor acts on (overflow, breach)."""

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
from hotline.routing.model import Breached, Overflowed
from tests.routing_fixtures import MIN, contact, policy

SHIPPED = Path(__file__).resolve().parents[2] / "config" / "hotline.toml"


async def test_an_enqueued_contact_is_logged_with_its_fields(
    nursery: trio.Nursery, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="hotline.eventlog")
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
    caplog.set_level(logging.DEBUG, logger="hotline.eventlog")
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


async def test_at_info_only_overflows_and_breaches_are_logged(
    nursery: trio.Nursery,
    caplog: pytest.LogCaptureFixture,
    autojump_clock: trio.testing.MockClock,
) -> None:
    # Every event is in the store's events table; the log repeats the everyday ones at debug.
    caplog.set_level(logging.INFO, logger="hotline.eventlog")
    actor = RouterActor(RoutingState(policy()))
    router = await nursery.start(actor.run)
    feed = actor.subscribe(lossless=True)
    nursery.start_soon(log_router_events, actor)
    await trio.testing.wait_all_tasks_blocked()

    await router.enqueue(contact("c1", "documents"))  # no operator: it overflows, then breaches
    kinds = []
    with trio.move_on_after(4 * 30 * MIN):
        async for event in feed:
            kinds.append(type(event))
            if isinstance(event, Breached):
                break
    await trio.testing.wait_all_tasks_blocked()

    assert kinds[1:] == [Overflowed, Breached]  # after the contact's own Enqueued
    logged = [(r.getMessage(), r.levelno) for r in caplog.records]
    assert logged == [("router.overflowed", logging.INFO), ("router.breached", logging.INFO)]
