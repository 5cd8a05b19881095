"""A restart: contacts the store remembers come back into a fresh routing state.

SPEC/ARCHITECTURE: waiting contacts keep their arrival, deadlines and order; operators come back
offline; contacts being handled stay assigned. Nothing recorded before the restart is recorded
again: no second `Enqueued`, `Overflowed` or `Breached`. Every scenario runs on both matchers in
audit mode, with every routing rule checked after every step. Times are seconds after `T0`.
"""

from __future__ import annotations

import pytest

from hotline.domain.errors import Conflict, NotFound
from hotline.routing import (
    Channel,
    ContactState,
    NewContact,
    OperatorState,
    Presence,
    RoutingState,
)
from hotline.routing.model import (
    Breached,
    Ended,
    Enqueued,
    Event,
    OperatorChanged,
    Overflowed,
)
from hotline.routing.state import ScanRoutingState
from tests.routing_fixtures import MIN, T0, AuditedRouter, contact, of_type, offers, operator


@pytest.fixture(params=[RoutingState, ScanRoutingState], ids=["indexed", "scan"])
def router(request: pytest.FixtureRequest) -> AuditedRouter:
    return AuditedRouter(request.param)


def remembered(
    cid: str,
    *,
    arrived: float,
    topic: str = "documents",
    channel: Channel = Channel.VOICE,
    skills: frozenset[str] | None = None,
) -> NewContact:
    """A contact as the store gives it back: arrival and deadlines as they were first set
    (normal class: target 15 min, limit 30 min after arrival)."""
    urgent = topic == "payments"
    return NewContact(
        cid,
        channel,
        topic,
        "ru",
        skills,
        "urgent" if urgent else "normal",
        T0 + arrived,
        T0 + arrived + (5 if urgent else 15) * MIN,
        T0 + arrived + (10 if urgent else 30) * MIN,
    )


def ticks(router: AuditedRouter, *ats: float) -> list[Event]:
    return [e for at in ats for e in router.tick(at=at)]


# -- waiting contacts -----------------------------------------------------------------------------


def test_restored_contacts_are_not_enqueued_again(router: AuditedRouter) -> None:
    assert router.restore(remembered("r1", arrived=-5 * MIN), at=0) == []
    stats = router.statistics(at=0)
    assert stats.created == 1
    assert {s: n for s, n in stats.by_state.items() if n} == {ContactState.WAITING: 1}
    assert router.contact("r1") is ContactState.WAITING


def test_restored_contacts_keep_their_order_ahead_of_new_arrivals(router: AuditedRouter) -> None:
    router.restore(remembered("older", arrived=-10 * MIN), at=0)
    router.restore(remembered("old", arrived=-5 * MIN), at=0)
    router.enqueue(contact("new", "documents"), at=1)
    assert offers(router.add_ready(operator("ann", {"documents": 3}), at=2)) == [("older", "ann")]
    assert offers(router.handle("older", "ann", at=3)) == [("old", "ann")]
    assert offers(router.handle("old", "ann", at=4)) == [("new", "ann")]


@pytest.mark.parametrize("order", [("x", "y"), ("y", "x")])
def test_restore_order_decides_between_equal_deadlines_and_arrivals(
    router: AuditedRouter, order: tuple[str, str]
) -> None:
    first, second = order
    for cid in order:
        router.restore(remembered(cid, arrived=-MIN), at=0)
    router.enqueue(NewContact("new", Channel.VOICE, "documents", arrived_at=T0 - MIN), at=0)
    assert offers(router.add_ready(operator("ann", {"documents": 3}), at=1)) == [(first, "ann")]
    assert offers(router.handle(first, "ann", at=2)) == [(second, "ann")]
    assert offers(router.handle(second, "ann", at=3)) == [("new", "ann")]


def test_restored_contact_is_routed_at_once_when_an_operator_is_free(
    router: AuditedRouter,
) -> None:
    router.add_ready(operator("ann", {"documents": 3}), at=0)
    events = router.restore(remembered("r1", arrived=-MIN), at=5)
    assert offers(events) == [("r1", "ann")]
    assert of_type(events, Enqueued) == []


def test_an_operator_going_ready_after_a_restart_is_offered_the_oldest_contact(
    router: AuditedRouter,
) -> None:
    router.add(operator("ann", {"documents": 3, "payments": 3}), at=0)
    router.restore(remembered("normal-old", arrived=-12 * MIN), at=0)
    router.restore(remembered("normal-older", arrived=-14 * MIN), at=0)
    router.restore(remembered("urgent", arrived=-MIN, topic="payments"), at=0)
    router.restore(remembered("other-topic", arrived=-20 * MIN, topic="passport"), at=0)
    events = router.presence("ann", Presence.READY, at=10)
    assert offers(events) == [("urgent", "ann")]  # rule 4: the urgent class still comes first
    assert offers(router.handle("urgent", "ann", at=20)) == [("normal-older", "ann")]
    assert offers(router.handle("normal-older", "ann", at=30)) == [("normal-old", "ann")]


def test_restored_contact_overflows_at_its_own_target_and_breaches_at_its_own_limit(
    router: AuditedRouter,
) -> None:
    router.add_ready(operator("busy-gen", {"general": 3}), at=0)
    router.restore(remembered("blocker", arrived=-MIN, topic="general"), at=0)
    router.accept("blocker", "busy-gen", at=0)
    router.restore(remembered("r1", arrived=-10 * MIN), at=0)
    assert ticks(router, 5 * MIN - 1) == []
    assert of_type(router.tick(at=5 * MIN), Overflowed) == [
        Overflowed("r1", T0 + 5 * MIN, ("general",))
    ]
    assert of_type(router.tick(at=20 * MIN), Breached) == [
        Breached("r1", T0 + 20 * MIN, "normal", T0 + 20 * MIN)
    ]


# -- overflowed and breached before the restart ---------------------------------------------------


def test_restored_overflowed_contact_is_in_the_fallback_pool_at_once(
    router: AuditedRouter,
) -> None:
    router.add_ready(operator("gen", {"general": 4}), at=0)
    events = router.restore(remembered("r1", arrived=-20 * MIN), at=1, overflowed=True)
    assert offers(events) == [("r1", "gen")]
    assert of_type(events, Overflowed) == []


def test_restored_overflowed_contact_does_not_overflow_again_but_breaches_once(
    router: AuditedRouter,
) -> None:
    router.restore(remembered("r1", arrived=-20 * MIN), at=0, overflowed=True)
    events = ticks(router, 1, 5 * MIN, 10 * MIN, 11 * MIN, 60 * MIN)
    assert of_type(events, Overflowed) == []
    assert of_type(events, Breached) == [Breached("r1", T0 + 10 * MIN, "normal", T0 + 10 * MIN)]
    stats = router.statistics(at=60 * MIN)
    assert (stats.overflows, stats.breaches) == (0, 1)


def test_restored_breached_contact_is_not_breached_again(router: AuditedRouter) -> None:
    router.restore(remembered("r1", arrived=-40 * MIN), at=0, overflowed=True, breached=True)
    assert ticks(router, 0, 1, 15 * MIN, 30 * MIN, 120 * MIN) == []
    assert router.state.next_deadline() is None
    router.add_ready(operator("gen", {"general": 2}), at=121 * MIN)  # still routed, by fallback
    assert router.contact("r1") is ContactState.OFFERED


def test_restored_breached_contact_that_never_overflowed_overflows_once(
    router: AuditedRouter,
) -> None:
    """An offer in flight at its target, then at its limit, then the restart withdrew it."""
    router.restore(remembered("r1", arrived=-40 * MIN), at=0, breached=True)
    events = ticks(router, 0, 1, 60 * MIN)
    assert of_type(events, Overflowed) == [Overflowed("r1", T0, ("general",))]
    assert of_type(events, Breached) == []


# -- contacts being handled -----------------------------------------------------------------------


def restored_with_assignment(router: AuditedRouter, *, chat: int = 0) -> None:
    """ann (offline, as every operator after a restart) was handling r1; r2 waits."""
    router.add(operator("ann", {"documents": 3}, chat=chat), at=0)
    assert router.restore(remembered("r1", arrived=-5 * MIN), at=0, assigned_to="ann") == []
    assert router.restore(remembered("r2", arrived=-2 * MIN), at=0) == []


def test_restored_assignment_stays_with_its_offline_operator(router: AuditedRouter) -> None:
    restored_with_assignment(router)
    assert router.contact("r1") is ContactState.ASSIGNED
    assert router.state.holder_of("r1") == "ann"
    assert router.operator("ann") is OperatorState.OFFLINE
    stats = router.statistics(at=0)
    assert stats.created == 2 == sum(stats.by_state.values())
    assert {s: n for s, n in stats.by_state.items() if n} == {
        ContactState.ASSIGNED: 1,
        ContactState.WAITING: 1,
    }
    # Taken before the restart: its target and limit can no longer overflow or breach it.
    events = ticks(router, 15 * MIN, 60 * MIN)
    assert {e.contact_id for e in of_type(events, Overflowed | Breached)} == {"r2"}


def test_restored_assignment_counts_against_capacity_when_the_operator_goes_ready(
    router: AuditedRouter,
) -> None:
    restored_with_assignment(router)
    events = router.presence("ann", Presence.READY, at=10)
    assert offers(events) == []  # one voice call in hand, voice capacity one
    assert of_type(events, OperatorChanged) == [
        OperatorChanged("ann", T0 + 10, OperatorState.BUSY, "requested")
    ]
    assert router.contact("r2") is ContactState.WAITING


def test_completing_a_restored_assignment_starts_wrap_up_then_the_next_offer(
    router: AuditedRouter,
) -> None:
    restored_with_assignment(router)
    router.presence("ann", Presence.READY, at=10)
    events = router.complete("r1", "ann", at=20)
    assert of_type(events, Ended) == [Ended("r1", T0 + 20, ContactState.COMPLETED, "ann")]
    assert router.operator("ann") is OperatorState.WRAP_UP
    assert offers(router.tick(at=50)) == [("r2", "ann")]


def test_a_restored_assignment_can_be_completed_while_still_offline(
    router: AuditedRouter,
) -> None:
    restored_with_assignment(router)
    events = router.complete("r1", "ann", at=20)
    assert of_type(events, Ended) == [Ended("r1", T0 + 20, ContactState.COMPLETED, "ann")]
    assert router.operator("ann") is OperatorState.OFFLINE
    assert offers(router.presence("ann", Presence.READY, at=30)) == [("r2", "ann")]


def test_an_offline_operator_holding_a_restored_contact_stays_put(router: AuditedRouter) -> None:
    restored_with_assignment(router)
    assert router.presence("ann", Presence.OFFLINE, at=5) == []  # already offline: nothing to do
    with pytest.raises(Conflict):
        router.remove("ann", at=5)
    router.presence("ann", Presence.READY, at=6)
    with pytest.raises(Conflict):
        router.presence("ann", Presence.OFFLINE, at=7)
    assert router.state.holder_of("r1") == "ann"


def test_a_chat_operator_with_a_restored_chat_takes_only_what_fits(router: AuditedRouter) -> None:
    router.add(operator("ann", {"documents": 3}, voice=0, chat=2), at=0)
    router.restore(
        remembered("r1", arrived=-5 * MIN, channel=Channel.CHAT), at=0, assigned_to="ann"
    )
    for n in (2, 3):
        router.restore(remembered(f"r{n}", arrived=-n * MIN, channel=Channel.CHAT), at=0)
    assert offers(router.presence("ann", Presence.READY, at=1)) == [("r3", "ann")]
    router.accept("r3", "ann", at=2)
    assert router.contact("r2") is ContactState.WAITING


def test_restoring_more_than_an_operator_can_hold_is_refused_and_changes_nothing(
    router: AuditedRouter,
) -> None:
    restored_with_assignment(router)
    before = router.statistics(at=0)
    with pytest.raises(Conflict) as refused:
        router.restore(remembered("r3", arrived=-MIN), at=0, assigned_to="ann")
    assert refused.value.field == "assigned_to"
    with pytest.raises(NotFound):
        router.restore(remembered("r4", arrived=-MIN), at=0, assigned_to="nobody")
    with pytest.raises(Conflict):
        router.restore(remembered("r2", arrived=-MIN), at=0)  # already there
    assert router.statistics(at=0) == before
    with pytest.raises(NotFound):
        router.contact("r3")


# -- what a restart needs from the log ------------------------------------------------------------


def test_enqueued_carries_the_skills_a_restart_needs(router: AuditedRouter) -> None:
    cb = NewContact(
        "cb", Channel.CALLBACK, "documents", skills=frozenset({"documents", "callback"})
    )
    events = router.enqueue(cb, at=0) + router.enqueue(contact("v", "passport"), at=0)
    assert [e.skills for e in of_type(events, Enqueued)] == [
        ("callback", "documents"),
        ("passport",),
    ]


def test_a_restored_callback_still_needs_both_skills(router: AuditedRouter) -> None:
    router.add_ready(operator("docs-only", {"documents": 5}), at=0)
    spec = remembered(
        "cb", arrived=-MIN, channel=Channel.VOICE, skills=frozenset({"callback", "documents"})
    )
    assert offers(router.restore(spec, at=0)) == []
    router.add_ready(operator("caller", {"documents": 2, "callback": 2}), at=1)
    assert router.state.holder_of("cb") == "caller"
