"""A chat switched to a call (issue 14) on the pure routing state, step by step on both matchers
in audit mode (every rule checked after every step). Times are seconds after `T0`."""

from __future__ import annotations

import pytest

from hotline.domain.errors import Conflict, NotFound
from hotline.routing import Channel, ContactState, OperatorState, RoutingState
from hotline.routing.model import (
    Accepted,
    Breached,
    Ended,
    Enqueued,
    Event,
    Offered,
    Overflowed,
)
from hotline.routing.state import ScanRoutingState
from tests.routing_fixtures import MIN, T0, AuditedRouter, contact, of_type, operator


@pytest.fixture(params=[RoutingState, ScanRoutingState], ids=["indexed", "scan"])
def router(request: pytest.FixtureRequest) -> AuditedRouter:
    return AuditedRouter(request.param)


def switch(r: AuditedRouter, cid: str, op_id: str, new_id: str, *, at: float) -> list[Event]:
    return r.step(at, lambda now: r.state.switch_to_voice(cid, op_id, new_id, now))


def chat_in_hand(r: AuditedRouter, *, voice: int = 1) -> None:
    r.add_ready(operator("op1", {"payments": 3}, voice=voice, chat=2), at=0)
    r.enqueue(contact("chat", "payments", channel=Channel.CHAT), at=0)
    r.accept("chat", "op1", at=10)


def test_the_call_stays_with_the_operator_who_has_room_for_it(router: AuditedRouter) -> None:
    chat_in_hand(router)

    events = switch(router, "chat", "op1", "call", at=120)

    [ended] = of_type(events, Ended)
    assert (ended.contact_id, ended.state, ended.transferred_to) == (
        "chat",
        ContactState.TRANSFERRED,
        "call",
    )
    [enqueued] = of_type(events, Enqueued)
    assert (enqueued.channel, enqueued.arrived_at) == (Channel.VOICE, T0)
    assert [(a.contact_id, a.operator_id) for a in of_type(events, Accepted)] == [("call", "op1")]
    assert not of_type(events, Offered)
    assert router.contact("call") is ContactState.ASSIGNED
    assert router.operator("op1") is OperatorState.BUSY  # no wrap-up in between


def test_without_room_the_call_waits_ahead_of_later_contacts_and_past_its_limit_breaches(
    router: AuditedRouter,
) -> None:
    chat_in_hand(router, voice=0)
    router.enqueue(contact("later", "payments"), at=60)  # nobody takes calls yet
    router.tick(at=11 * MIN)  # as the actor does before each command

    events = switch(router, "chat", "op1", "call", at=11 * MIN)

    assert router.contact("call") is ContactState.WAITING
    assert router.queue_position("call", at=11 * MIN).position == 0
    assert router.queue_position("later", at=11 * MIN).position == 1
    # Its kept target and limit (5 and 10 minutes after the chat arrived) have passed.
    assert [e.contact_id for e in of_type(events, Overflowed)] == ["call"]
    assert [e.contact_id for e in of_type(events, Breached)] == ["call"]
    assert router.operator("op1") is OperatorState.WRAP_UP  # the chat finished as usual


def test_only_the_operator_handling_a_chat_switches_it(router: AuditedRouter) -> None:
    chat_in_hand(router)
    router.add_ready(operator("op2", {"payments": 3}), at=0)
    router.enqueue(contact("voice", "payments"), at=20)
    router.accept("voice", "op2", at=20)

    with pytest.raises(Conflict):
        switch(router, "chat", "op2", "x", at=30)
    with pytest.raises(Conflict):
        switch(router, "voice", "op2", "x", at=30)  # a call is no chat
    with pytest.raises(Conflict):
        switch(router, "chat", "op1", "voice", at=30)  # an id in use
    with pytest.raises(NotFound):
        switch(router, "gone", "op1", "x", at=30)
    assert router.contact("chat") is ContactState.ASSIGNED
