"""Scenarios of SPEC "Contacts and routing", played step by step on the pure routing state.

Every scenario runs on both matchers (the indexed one and the scanning oracle), in audit mode,
and checks all routing rules after every step, so a scenario also fails when a rule breaks on
the way to its outcome. Times are seconds after `T0`.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from hotline.domain.errors import Conflict, Invalid, NotFound
from hotline.routing import (
    Channel,
    ContactState,
    NewContact,
    OperatorSpec,
    OperatorState,
    Presence,
    RoutingState,
)
from hotline.routing.model import (
    Accepted,
    Breached,
    Ended,
    Enqueued,
    Offered,
    OfferWithdrawn,
    OperatorChanged,
    Overflowed,
)
from hotline.routing.state import ScanRoutingState
from tests.routing_fixtures import (
    MIN,
    T0,
    AuditedRouter,
    contact,
    of_type,
    offers,
    operator,
)


@pytest.fixture(params=[RoutingState, ScanRoutingState], ids=["indexed", "scan"])
def router(request: pytest.FixtureRequest) -> AuditedRouter:
    return AuditedRouter(request.param)


def docs_contact(cid: str, *, arrived: float, deadline: float) -> NewContact:
    return NewContact(
        cid, Channel.VOICE, "documents", arrived_at=T0 + arrived, deadline_at=T0 + deadline
    )


def with_callbacks(spec: OperatorSpec) -> OperatorSpec:
    return replace(spec, capacity={**spec.capacity, Channel.CALLBACK: 1})


def callback(cid: str) -> NewContact:
    return NewContact(
        cid, Channel.CALLBACK, "documents", skills=frozenset({"callback", "documents"})
    )


# -- priority (rule 4) ----------------------------------------------------------------------------


def test_urgent_contact_is_offered_before_older_normal_contact(router: AuditedRouter) -> None:
    router.enqueue(contact("older-normal", "documents"), at=0)
    router.enqueue(contact("urgent", "payments"), at=60)
    events = router.add_ready(operator("ann", {"documents": 3, "payments": 3}), at=120)
    assert offers(events) == [("urgent", "ann")]
    assert router.contact("older-normal") is ContactState.WAITING
    assert offers(router.handle("urgent", "ann", at=180)) == [("older-normal", "ann")]


def test_within_a_class_the_earlier_deadline_wins(router: AuditedRouter) -> None:
    router.enqueue(docs_contact("late-deadline", arrived=0, deadline=30 * MIN), at=0)
    router.enqueue(docs_contact("early-deadline", arrived=60, deadline=20 * MIN), at=60)
    events = router.add_ready(operator("ann", {"documents": 3}), at=120)
    assert offers(events) == [("early-deadline", "ann")]
    assert offers(router.handle("early-deadline", "ann", at=130)) == [("late-deadline", "ann")]


def test_equal_deadlines_go_to_the_earlier_arrival(router: AuditedRouter) -> None:
    router.enqueue(docs_contact("arrived-later", arrived=50, deadline=20 * MIN), at=100)
    router.enqueue(docs_contact("arrived-earlier", arrived=10, deadline=20 * MIN), at=100)
    events = router.add_ready(operator("ann", {"documents": 3}), at=120)
    assert offers(events) == [("arrived-earlier", "ann")]


# -- choice of operator (rule 5) -------------------------------------------------------------------


def test_most_proficient_operator_gets_the_offer(router: AuditedRouter) -> None:
    router.add_ready(operator("novice", {"documents": 2}), at=0)  # idle longest, still second
    router.add_ready(operator("expert", {"documents": 5}), at=60)
    events = router.enqueue(contact("c1", "documents"), at=120)
    assert offers(events) == [("c1", "expert")]
    assert offers(router.enqueue(contact("c2", "documents"), at=130)) == [("c2", "novice")]


def test_among_equally_proficient_the_longest_idle_gets_the_offer(router: AuditedRouter) -> None:
    router.add(operator("amy", {"documents": 3}), at=0)
    router.add(operator("zoe", {"documents": 3}), at=0)
    router.presence("zoe", Presence.READY, at=10)
    router.presence("amy", Presence.READY, at=20)
    assert offers(router.enqueue(contact("c1", "documents"), at=30)) == [("c1", "zoe")]
    router.handle("c1", "zoe", at=70)  # zoe is idle again since 70, amy since 20
    assert offers(router.enqueue(contact("c2", "documents"), at=80)) == [("c2", "amy")]


# -- eligibility (rule 2) -------------------------------------------------------------------------


def test_uncertified_operator_is_never_offered_anything(router: AuditedRouter) -> None:
    router.add(operator("rookie", {"documents": 5}, certified=False), at=0)
    with pytest.raises(Conflict):
        router.presence("rookie", Presence.READY, at=0)
    lapsing = replace(operator("ann", {"documents": 5}), certified_until=T0 + 100)
    router.add_ready(lapsing, at=0)
    lapsed = router.tick(at=100)
    assert [(e.operator_id, e.state, e.reason) for e in of_type(lapsed, OperatorChanged)] == [
        ("ann", OperatorState.BREAK, "certification_lapsed")
    ]
    assert offers(router.enqueue(contact("c1", "documents"), at=150)) == []
    assert offers(router.tick(at=200)) == []
    assert router.contact("c1") is ContactState.WAITING
    assert router.operator("rookie") is OperatorState.OFFLINE


def test_lapse_mid_shift_takes_back_the_open_offer_and_keeps_the_held_contact(
    router: AuditedRouter,
) -> None:
    ann = replace(operator("ann", {"documents": 5}, chat=3), certified_until=T0 + 100)
    router.add_ready(ann, at=0)
    router.enqueue(contact("held", "documents", channel=Channel.CHAT), at=10)
    router.accept("held", "ann", at=11)
    assert offers(router.enqueue(contact("ringing", "documents"), at=90)) == [("ringing", "ann")]
    events = router.tick(at=100)
    withdrawn = of_type(events, OfferWithdrawn)
    assert [(e.contact_id, e.reason) for e in withdrawn] == [("ringing", "certification_lapsed")]
    assert router.contact("ringing") is ContactState.WAITING
    assert router.contact("held") is ContactState.ASSIGNED
    assert router.operator("ann") is OperatorState.BREAK
    with pytest.raises(Conflict):
        router.accept("ringing", "ann", at=100)
    router.complete("held", "ann", at=120)  # the held contact is finished as usual
    assert router.operator("ann") is OperatorState.BREAK


def test_renewed_certification_makes_an_operator_eligible_again(router: AuditedRouter) -> None:
    lapsing = replace(operator("ann", {"documents": 5}), certified_until=T0 + 100)
    router.add_ready(lapsing, at=0)
    router.tick(at=150)
    router.enqueue(contact("c1", "documents"), at=150)
    assert offers(router.step(160, lambda now: router.state.certify("ann", T0 + 86400, now))) == []
    assert offers(router.presence("ann", Presence.READY, at=170)) == [("c1", "ann")]


def test_certification_cut_short_lapses_at_once(router: AuditedRouter) -> None:
    router.add_ready(operator("ann", {"documents": 5}), at=0)
    events = router.step(10, lambda now: router.state.certify("ann", now - 1, now))
    assert [e.state for e in of_type(events, OperatorChanged)] == [OperatorState.BREAK]
    assert offers(router.enqueue(contact("c1", "documents"), at=20)) == []


def test_the_same_certification_given_again_sets_no_second_timer(router: AuditedRouter) -> None:
    # Every profile save passes the operator's certification again: unchanged, it must not
    # push another lapse timer (the heap grew by one per save, until the lapse).
    router.add_ready(operator("ann", {"documents": 5}), at=0)
    ends = T0 + 100
    for at in range(1, 50):
        router.step(at, lambda now: router.state.certify("ann", ends, now))
    assert [t for t in router.state._lapse_timers if t == (ends, "ann")] == [(ends, "ann")]
    lapsed = of_type(router.tick(at=100), OperatorChanged)
    assert [(e.state, e.reason) for e in lapsed] == [(OperatorState.BREAK, "certification_lapsed")]


def test_contact_in_english_is_never_offered_to_a_russian_only_operator(
    router: AuditedRouter,
) -> None:
    router.add_ready(operator("ivan", {"documents": 5}), at=0)
    assert offers(router.enqueue(contact("en-1", "documents", language="en"), at=10)) == []
    assert router.operator("ivan") is OperatorState.READY
    kate = operator("kate", {"documents": 1}, languages=("ru", "en"))
    assert offers(router.add_ready(kate, at=20)) == [("en-1", "kate")]
    assert offers(router.enqueue(contact("ru-1", "documents"), at=30)) == [("ru-1", "ivan")]


def test_callback_goes_only_to_operators_with_both_skills(router: AuditedRouter) -> None:
    router.add_ready(with_callbacks(operator("docs-only", {"documents": 5})), at=0)
    router.add_ready(with_callbacks(operator("callbacks-only", {"callback": 5})), at=0)
    assert offers(router.enqueue(callback("cb-1"), at=10)) == []
    both = with_callbacks(operator("both", {"callback": 1, "documents": 1}))
    assert offers(router.add_ready(both, at=20)) == [("cb-1", "both")]


def test_proficiency_for_a_callback_is_the_weaker_of_its_two_skills(
    router: AuditedRouter,
) -> None:
    lopsided = with_callbacks(operator("lopsided", {"callback": 5, "documents": 1}))
    router.add_ready(lopsided, at=0)  # idle longest, but only 1 on the weaker skill
    router.add_ready(with_callbacks(operator("even", {"callback": 3, "documents": 3})), at=10)
    assert offers(router.enqueue(callback("cb-1"), at=20)) == [("cb-1", "even")]


# -- capacity (rule 1) ----------------------------------------------------------------------------


def test_chat_operator_takes_up_to_three_chats_one_offer_at_a_time(router: AuditedRouter) -> None:
    for i in range(1, 5):
        router.enqueue(contact(f"chat-{i}", "documents", channel=Channel.CHAT), at=i)
    events = router.add_ready(operator("ann", {"documents": 3}, voice=0, chat=3), at=10)
    assert offers(events) == [("chat-1", "ann")]
    assert offers(router.accept("chat-1", "ann", at=11)) == [("chat-2", "ann")]
    assert offers(router.accept("chat-2", "ann", at=12)) == [("chat-3", "ann")]
    assert offers(router.accept("chat-3", "ann", at=13)) == []
    assert router.contact("chat-4") is ContactState.WAITING
    assert offers(router.tick(at=60)) == []
    router.complete("chat-1", "ann", at=70)
    assert offers(router.end_wrap_up("ann", at=75)) == [("chat-4", "ann")]


def test_voice_operator_takes_one_call_at_a_time(router: AuditedRouter) -> None:
    router.enqueue(contact("call-1", "documents"), at=0)
    router.enqueue(contact("call-2", "documents"), at=1)
    router.add_ready(operator("ann", {"documents": 3}, voice=1, chat=0), at=10)
    assert offers(router.accept("call-1", "ann", at=11)) == []
    assert offers(router.enqueue(contact("call-3", "documents"), at=12)) == []
    stats = router.statistics(at=12)
    assert stats.by_state[ContactState.WAITING] == 2
    assert stats.by_state[ContactState.ASSIGNED] == 1


def test_statistics_name_every_contact_state_with_its_count(router: AuditedRouter) -> None:
    assert router.statistics(at=0).by_state == dict.fromkeys(ContactState, 0)
    router.add_ready(operator("ann", {"documents": 3}), at=0)
    router.enqueue(contact("c1", "documents"), at=1)
    router.enqueue(contact("c2", "documents"), at=2)
    router.abandon("c2", at=3)
    stats = router.statistics(at=3)
    assert stats.by_state == {
        **dict.fromkeys(ContactState, 0),
        ContactState.OFFERED: 1,
        ContactState.ABANDONED: 1,
    }
    assert stats.created == 2


# -- offers that are not accepted -----------------------------------------------------------------


def test_missed_offer_goes_back_to_its_original_place_and_operator_goes_on_break(
    router: AuditedRouter,
) -> None:
    router.enqueue(contact("first", "documents"), at=0)
    router.enqueue(contact("second", "documents"), at=1)
    events = router.add_ready(operator("ann", {"documents": 3}), at=10)
    assert of_type(events, Offered) == [Offered("first", "ann", T0 + 10, T0 + 25)]
    assert router.tick(at=24.5) == []
    assert router.tick(at=25) == [
        OfferWithdrawn("first", "ann", T0 + 25, "missed"),
        OperatorChanged("ann", T0 + 25, OperatorState.BREAK, "missed_offer"),
    ]
    assert router.contact("first") is ContactState.WAITING
    assert router.operator("ann") is OperatorState.BREAK
    assert router.statistics(at=25).missed_offers == 1
    assert offers(router.add_ready(operator("bob", {"documents": 3}), at=30)) == [("first", "bob")]


def test_rejected_offer_returns_contact_and_sends_operator_on_break(router: AuditedRouter) -> None:
    router.enqueue(contact("first", "documents"), at=0)
    router.enqueue(contact("second", "documents"), at=1)
    router.add_ready(operator("ann", {"documents": 3}), at=10)
    assert router.reject("first", "ann", at=12) == [
        OfferWithdrawn("first", "ann", T0 + 12, "rejected"),
        OperatorChanged("ann", T0 + 12, OperatorState.BREAK, "rejected_offer"),
    ]
    assert router.operator("ann") is OperatorState.BREAK
    assert router.statistics(at=12).missed_offers == 0
    assert offers(router.add_ready(operator("bob", {"documents": 3}), at=20)) == [("first", "bob")]


def test_accepted_offer_does_not_time_out(router: AuditedRouter) -> None:
    router.add_ready(operator("ann", {"documents": 3}), at=0)
    router.enqueue(contact("c1", "documents"), at=0)
    assert router.accept("c1", "ann", at=5) == [
        Accepted("c1", "ann", T0 + 5, 5.0),
    ]
    assert router.tick(at=60) == []
    assert router.contact("c1") is ContactState.ASSIGNED
    assert router.statistics(at=60).missed_offers == 0


def test_an_offer_made_again_gets_its_own_full_time_to_answer(router: AuditedRouter) -> None:
    router.add_ready(operator("ann", {"documents": 5}), at=0)
    router.enqueue(contact("c1", "documents"), at=10)  # to ann, until 25
    router.reject("c1", "ann", at=12)
    router.add_ready(operator("bob", {"documents": 3}), at=20)  # to bob, until 35
    assert router.tick(at=25) == []
    assert router.state.holder_of("c1") == "bob"
    assert of_type(router.tick(at=35), OfferWithdrawn) == [
        OfferWithdrawn("c1", "bob", T0 + 35, "missed")
    ]


# -- deadlines: target -> overflow, limit -> breach -----------------------------------------------


def test_contact_past_its_target_overflows_to_the_fallback_pool(router: AuditedRouter) -> None:
    router.add_ready(operator("gen", {"general": 4}), at=0)
    assert offers(router.enqueue(contact("c1", "documents"), at=0)) == []
    assert router.tick(at=15 * MIN - 1) == []
    events = router.tick(at=15 * MIN)
    assert of_type(events, Overflowed) == [Overflowed("c1", T0 + 15 * MIN, ("general",))]
    assert offers(events) == [("c1", "gen")]
    rejected = router.reject("c1", "gen", at=15 * MIN + 5)
    later = router.tick(at=25 * MIN)
    assert of_type(rejected + later, Overflowed) == []
    assert router.statistics(at=25 * MIN).overflows == 1


def test_offer_missed_after_the_target_overflows_the_contact_once(router: AuditedRouter) -> None:
    router.add_ready(operator("gen", {"general": 4}), at=0)
    router.enqueue(contact("c1", "documents"), at=0)
    router.add_ready(operator("ann", {"documents": 3}), at=15 * MIN - 5)  # offered, then missed
    assert of_type(router.tick(at=15 * MIN), Overflowed) == []
    events = router.tick(at=15 * MIN + 10)
    assert of_type(events, Overflowed) == [Overflowed("c1", T0 + 15 * MIN + 10, ("general",))]
    assert offers(events) == [("c1", "gen")]
    assert router.statistics(at=15 * MIN + 10).overflows == 1


def test_offer_refused_on_the_instant_of_the_target_overflows_the_contact(
    router: AuditedRouter,
) -> None:
    # The target's timer fires while the contact is offered (nothing to do then); the refusal
    # comes at that same instant, so the withdrawal is the contact's one chance to overflow.
    router.add_ready(operator("gen", {"general": 4}), at=0)
    router.enqueue(contact("c1", "documents"), at=0)
    router.add_ready(operator("ann", {"documents": 3}), at=15 * MIN - 5)
    assert of_type(router.tick(at=15 * MIN), Overflowed) == []
    events = router.reject("c1", "ann", at=15 * MIN)
    assert of_type(events, Overflowed) == [Overflowed("c1", T0 + 15 * MIN, ("general",))]
    assert offers(events) == [("c1", "gen")]


def test_breach_is_recorded_once_at_the_limit(router: AuditedRouter) -> None:
    router.enqueue(contact("c1", "documents"), at=0)
    assert of_type(router.tick(at=30 * MIN - 1), Breached) == []
    breached = of_type(router.tick(at=30 * MIN), Breached)
    assert breached == [Breached("c1", T0 + 30 * MIN, "normal", T0 + 30 * MIN)]
    for at in (30 * MIN + 1, 45 * MIN, 120 * MIN):
        assert of_type(router.tick(at=at), Breached) == []
    assert router.statistics(at=120 * MIN).breaches == 1
    assert router.contact("c1") is ContactState.WAITING


def test_contact_taken_before_its_limit_is_never_breached(router: AuditedRouter) -> None:
    router.add_ready(operator("ann", {"documents": 3}), at=0)
    router.enqueue(contact("c1", "documents"), at=0)
    router.accept("c1", "ann", at=29 * MIN)
    assert of_type(router.tick(at=30 * MIN) + router.tick(at=60 * MIN), Breached) == []
    assert router.statistics(at=60 * MIN).breaches == 0


def test_breached_contact_is_still_routed_first_within_its_class(router: AuditedRouter) -> None:
    router.enqueue(contact("breached", "documents"), at=0)
    router.enqueue(contact("fresh", "documents"), at=10 * MIN)
    assert [e.contact_id for e in of_type(router.tick(at=30 * MIN), Breached)] == ["breached"]
    router.enqueue(contact("urgent", "payments"), at=31 * MIN)
    events = router.add_ready(operator("ann", {"documents": 3, "payments": 3}), at=32 * MIN)
    assert offers(events) == [("urgent", "ann")]  # rule 4 still puts the urgent class first
    assert offers(router.handle("urgent", "ann", at=33 * MIN)) == [("breached", "ann")]
    assert offers(router.handle("breached", "ann", at=34 * MIN)) == [("fresh", "ann")]


# -- contacts that end ----------------------------------------------------------------------------


def test_contact_abandoned_while_waiting_ends_as_abandoned(router: AuditedRouter) -> None:
    router.enqueue(contact("c1", "documents"), at=0)
    assert router.abandon("c1", at=10) == [Ended("c1", T0 + 10, ContactState.ABANDONED)]
    stats = router.statistics(at=10)
    assert stats.by_state[ContactState.ABANDONED] == 1
    assert stats.by_state[ContactState.WAITING] == 0
    with pytest.raises(NotFound):
        router.contact("c1")


def test_contact_abandoned_while_offered_frees_the_operator_for_the_next(
    router: AuditedRouter,
) -> None:
    router.enqueue(contact("c1", "documents"), at=0)
    router.enqueue(contact("c2", "documents"), at=1)
    router.add_ready(operator("ann", {"documents": 3}), at=10)
    events = router.abandon("c1", at=12)
    assert events[:2] == [
        OfferWithdrawn("c1", "ann", T0 + 12, "abandoned"),
        Ended("c1", T0 + 12, ContactState.ABANDONED, "ann"),
    ]
    assert offers(events) == [("c2", "ann")]
    assert router.statistics(at=12).missed_offers == 0


def test_assigned_contact_cannot_be_abandoned(router: AuditedRouter) -> None:
    router.add_ready(operator("ann", {"documents": 3}), at=0)
    router.enqueue(contact("c1", "documents"), at=0)
    router.accept("c1", "ann", at=5)
    with pytest.raises(Conflict):
        router.abandon("c1", at=10)
    assert router.contact("c1") is ContactState.ASSIGNED
    assert router.state.holder_of("c1") == "ann"


def test_completed_contact_puts_the_operator_in_wrap_up_until_it_ends(
    router: AuditedRouter,
) -> None:
    router.add_ready(operator("ann", {"documents": 3}), at=0)
    router.enqueue(contact("c1", "documents"), at=0)
    router.enqueue(contact("c2", "documents"), at=1)
    router.accept("c1", "ann", at=5)
    assert router.complete("c1", "ann", at=100) == [
        Ended("c1", T0 + 100, ContactState.COMPLETED, "ann"),
        OperatorChanged("ann", T0 + 100, OperatorState.WRAP_UP, "completed"),
    ]
    assert router.contact("c2") is ContactState.WAITING
    events = router.end_wrap_up("ann", at=110)
    assert events[0] == OperatorChanged("ann", T0 + 110, OperatorState.READY, "wrap_up_ended")
    assert offers(events) == [("c2", "ann")]
    assert router.end_wrap_up("ann", at=111) == []  # ending it again changes nothing


def test_wrap_up_ends_by_itself_after_the_wrap_up_time(router: AuditedRouter) -> None:
    router.add_ready(operator("ann", {"documents": 3}), at=0)
    router.enqueue(contact("c1", "documents"), at=0)
    router.enqueue(contact("c2", "documents"), at=1)
    router.accept("c1", "ann", at=5)
    router.complete("c1", "ann", at=100)
    assert router.tick(at=129) == []
    assert router.operator("ann") is OperatorState.WRAP_UP
    events = router.tick(at=130)
    assert events[0] == OperatorChanged("ann", T0 + 130, OperatorState.READY, "wrap_up_timeout")
    assert offers(events) == [("c2", "ann")]


def test_an_earlier_wrap_up_timer_does_not_cut_a_later_wrap_up_short(
    router: AuditedRouter,
) -> None:
    router.add_ready(operator("ann", {"documents": 3}), at=0)
    router.enqueue(contact("c1", "documents"), at=0)
    router.accept("c1", "ann", at=5)
    router.complete("c1", "ann", at=100)  # wrap-up until 130
    router.end_wrap_up("ann", at=105)
    router.enqueue(contact("c2", "documents"), at=110)
    router.accept("c2", "ann", at=111)
    router.complete("c2", "ann", at=120)  # wrap-up until 150
    assert router.tick(at=130) == []
    assert router.operator("ann") is OperatorState.WRAP_UP
    assert router.tick(at=150) == [
        OperatorChanged("ann", T0 + 150, OperatorState.READY, "wrap_up_timeout")
    ]


def test_transfer_ends_the_contact_as_transferred_and_queues_the_new_one(
    router: AuditedRouter,
) -> None:
    router.add_ready(operator("ann", {"documents": 3}), at=0)
    router.add_ready(operator("bob", {"payments": 3}), at=0)
    router.enqueue(contact("c1", "documents"), at=0)
    router.accept("c1", "ann", at=5)
    events = router.transfer("c1", contact("c2", "payments"), at=60)
    assert of_type(events, Ended) == [
        Ended("c1", T0 + 60, ContactState.TRANSFERRED, "ann", transferred_to="c2")
    ]
    assert [e.contact_id for e in of_type(events, Enqueued)] == ["c2"]
    assert offers(events) == [("c2", "bob")]
    assert router.operator("ann") is OperatorState.WRAP_UP
    router.accept("c2", "bob", at=65)
    router.complete("c2", "bob", at=120)
    stats = router.statistics(at=120)
    assert stats.created == 2 == sum(stats.by_state.values())
    assert stats.by_state[ContactState.TRANSFERRED] == 1
    assert stats.by_state[ContactState.COMPLETED] == 1


def test_refused_transfer_leaves_the_contact_with_its_operator(router: AuditedRouter) -> None:
    router.add_ready(operator("ann", {"documents": 3}), at=0)
    router.enqueue(contact("c1", "documents"), at=0)
    router.accept("c1", "ann", at=5)
    unknown_class = NewContact("c2", Channel.VOICE, "payments", priority="vip")
    with pytest.raises(Invalid):
        router.transfer("c1", unknown_class, at=60)
    assert router.contact("c1") is ContactState.ASSIGNED
    assert router.operator("ann") is OperatorState.BUSY
    stats = router.statistics(at=60)
    assert stats.by_state.get(ContactState.TRANSFERRED, 0) == 0


# -- operators who change -------------------------------------------------------------------------


@pytest.mark.parametrize("presence", [Presence.BREAK, Presence.OFFLINE])
def test_leaving_with_an_open_offer_withdraws_it(router: AuditedRouter, presence: Presence) -> None:
    router.add_ready(operator("ann", {"documents": 5}), at=0)
    router.add_ready(operator("bob", {"documents": 3}), at=0)
    router.enqueue(contact("c1", "documents"), at=10)
    events = router.presence("ann", presence, at=12)
    assert of_type(events, OfferWithdrawn) == [
        OfferWithdrawn("c1", "ann", T0 + 12, "operator_unavailable")
    ]
    assert offers(events) == [("c1", "bob")]
    assert router.operator("ann") is OperatorState(presence.value)


def test_going_offline_while_holding_a_contact_is_refused(router: AuditedRouter) -> None:
    router.add_ready(operator("ann", {"documents": 3}), at=0)
    router.enqueue(contact("c1", "documents"), at=0)
    router.accept("c1", "ann", at=5)
    with pytest.raises(Conflict):
        router.presence("ann", Presence.OFFLINE, at=10)
    assert router.operator("ann") is OperatorState.BUSY
    assert router.state.holder_of("c1") == "ann"


def test_removing_the_skill_of_an_open_offer_withdraws_it(router: AuditedRouter) -> None:
    router.add_ready(operator("ann", {"documents": 5, "payments": 5}), at=0)
    router.add_ready(operator("bob", {"documents": 2}), at=0)
    router.enqueue(contact("c1", "documents"), at=10)
    events = router.add(operator("ann", {"payments": 5}), at=12)
    assert of_type(events, OfferWithdrawn) == [
        OfferWithdrawn("c1", "ann", T0 + 12, "operator_changed")
    ]
    assert offers(events) == [("c1", "bob")]
    assert router.operator("ann") is OperatorState.READY


def test_removing_an_operator_with_an_open_offer_passes_the_contact_on(
    router: AuditedRouter,
) -> None:
    router.add_ready(operator("ann", {"documents": 5}), at=0)
    router.add_ready(operator("bob", {"documents": 2}), at=0)
    router.enqueue(contact("c1", "documents"), at=10)
    events = router.remove("ann", at=12)
    assert offers(events) == [("c1", "bob")]
    with pytest.raises(NotFound):
        router.operator("ann")


# -- refused requests -----------------------------------------------------------------------------


def test_unknown_operator_or_contact_is_not_found(router: AuditedRouter) -> None:
    router.add_ready(operator("ann", {"documents": 3}), at=0)
    router.enqueue(contact("c1", "documents"), at=0)
    with pytest.raises(NotFound):
        router.presence("ghost", Presence.READY, at=1)
    with pytest.raises(NotFound):
        router.accept("c1", "ghost", at=1)
    with pytest.raises(NotFound):
        router.accept("nope", "ann", at=1)
    with pytest.raises(NotFound):
        router.abandon("nope", at=1)
    assert router.state.holder_of("c1") == "ann"


def test_accept_by_another_operator_is_a_conflict(router: AuditedRouter) -> None:
    router.add_ready(operator("ann", {"documents": 3}), at=0)
    router.add_ready(operator("bob", {"documents": 3}), at=1)
    router.enqueue(contact("c1", "documents"), at=2)
    with pytest.raises(Conflict):
        router.accept("c1", "bob", at=3)
    assert router.contact("c1") is ContactState.OFFERED
    assert router.state.holder_of("c1") == "ann"


def test_duplicate_contact_id_is_a_conflict(router: AuditedRouter) -> None:
    router.enqueue(contact("c1", "documents"), at=0)
    with pytest.raises(Conflict):
        router.enqueue(contact("c1", "payments"), at=1)
    assert router.statistics(at=1).created == 1


@pytest.mark.parametrize("level", [0, 6])
def test_proficiency_outside_one_to_five_is_invalid(router: AuditedRouter, level: int) -> None:
    with pytest.raises(Invalid):
        router.add(operator("ann", {"documents": level}), at=0)
    router.add(operator("bob", {"documents": 3}), at=0)
    with pytest.raises(Invalid):
        router.add(operator("bob", {"documents": 3, "payments": level}), at=1)
    with pytest.raises(NotFound):
        router.operator("ann")
