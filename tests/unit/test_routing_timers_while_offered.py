"""Targets and limits that pass while a contact is being offered (rare for random search)."""

from __future__ import annotations

from hotline.routing import Channel, ContactState, NewContact, Presence, RoutingState
from hotline.routing.model import Breached, Offered, Overflowed
from tests.routing_fixtures import MIN, T0, contact, operator, policy


def _ready(state: RoutingState, op_id: str, skills: dict[str, int], now: float) -> None:
    state.upsert_operator(operator(op_id, skills), now)
    state.set_presence(op_id, Presence.READY, now)


def test_target_passing_during_an_offer_overflows_only_when_the_offer_fails() -> None:
    state = RoutingState(policy(offer_timeout_s=60), audit=True)
    _ready(state, "generalist", {"general": 5}, T0)
    state.enqueue(contact("c1", "documents"), T0)
    _ready(state, "specialist", {"documents": 3}, T0 + 14 * MIN + 30)
    assert state.contact_state("c1") is ContactState.OFFERED

    at_target = state.tick(T0 + 15 * MIN)
    assert not any(isinstance(e, Overflowed | Offered) for e in at_target)
    assert state.holder_of("c1") == "specialist"
    state.check_invariants(T0 + 15 * MIN)

    events = state.reject("c1", "specialist", T0 + 15 * MIN + 10)
    assert [type(e) for e in events if isinstance(e, Overflowed | Offered)] == [Overflowed, Offered]
    assert state.holder_of("c1") == "generalist"
    state.check_invariants(T0 + 15 * MIN + 10)


def test_limit_passing_during_an_offer_is_a_breach_and_an_accept_after_it_is_not_undone() -> None:
    state = RoutingState(policy(offer_timeout_s=60), audit=True)
    state.enqueue(contact("c1", "documents"), T0)
    _ready(state, "specialist", {"documents": 3}, T0 + 29 * MIN + 30)
    events = state.tick(T0 + 30 * MIN)
    assert [e for e in events if isinstance(e, Breached)] == [
        Breached("c1", T0 + 30 * MIN, "normal", T0 + 30 * MIN)
    ]
    state.accept("c1", "specialist", T0 + 30 * MIN + 5)
    assert state.tick(T0 + 31 * MIN) == []
    assert state.statistics(T0 + 31 * MIN).breaches == 1


def test_an_overflowing_callback_still_needs_the_callback_skill() -> None:
    state = RoutingState(policy(), audit=True)
    _ready(state, "plain_generalist", {"general": 5}, T0)
    state.enqueue(
        NewContact("cb1", Channel.VOICE, "documents", skills=frozenset({"callback", "documents"})),
        T0,
    )
    events = state.tick(T0 + 15 * MIN)
    assert [e.skills for e in events if isinstance(e, Overflowed)] == [("general",)]
    assert state.contact_state("cb1") is ContactState.WAITING  # no `callback` skill: no offer

    _ready(state, "callback_generalist", {"general": 2, "callback": 4}, T0 + 15 * MIN + 1)
    assert state.holder_of("cb1") == "callback_generalist"
    state.check_invariants(T0 + 15 * MIN + 1)
