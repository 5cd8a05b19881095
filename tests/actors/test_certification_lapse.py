"""The router actor wakes by itself when a certification lapses, mid-shift, on trio's virtual
clock: the lapse is published the instant it happens (for the journal, the wallboard and the
KPIs), an open offer goes to the next operator, and a contact in hand stays."""

from __future__ import annotations

from dataclasses import replace

import trio
import trio.testing

from hotline.routing import Channel, ContactState, OperatorState, Presence
from hotline.routing.model import Offered, OfferWithdrawn, OperatorChanged
from tests.actors.test_router_actor import add_ready, contact_state, open_router, operator_state
from tests.routing_fixtures import T0, contact, offers, operator


async def test_a_certification_lapses_on_its_instant_and_the_offer_moves_on(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with open_router() as r:
        lapses_at = T0 + 3600
        ann = replace(operator("ann", {"documents": 5}, chat=3), certified_until=lapses_at)
        await add_ready(r.handle, ann)
        await add_ready(r.handle, operator("bob", {"documents": 3}))
        await r.handle.enqueue(contact("held", "documents", channel=Channel.CHAT))
        await r.handle.accept("held", "ann")
        await trio.sleep(3600 - 5 - r.clock.now() + T0)  # five seconds before the lapse
        assert offers(await r.handle.enqueue(contact("ringing", "documents"))) == [
            ("ringing", "ann")
        ]
        feed = r.actor.subscribe()

        withdrawn = await feed.receive()
        assert r.clock.now() == lapses_at  # woken by the lapse timer, not by a command
        assert withdrawn == OfferWithdrawn("ringing", "ann", lapses_at, "certification_lapsed")
        assert await feed.receive() == Offered("ringing", "bob", lapses_at, lapses_at + 15)
        assert await feed.receive() == OperatorChanged(
            "bob", lapses_at, OperatorState.BUSY, "offered"
        )
        assert await feed.receive() == OperatorChanged(
            "ann", lapses_at, OperatorState.BREAK, "certification_lapsed"
        )
        assert await contact_state(r.handle, "held") is ContactState.ASSIGNED
        assert await operator_state(r.handle, "ann") is OperatorState.BREAK
        await r.handle.complete("held", "ann")  # finished as usual

        await r.handle.certify("ann", lapses_at + 86400)  # renewed: it may work again
        await r.handle.set_presence("ann", Presence.READY)
        assert await operator_state(r.handle, "ann") is OperatorState.READY
