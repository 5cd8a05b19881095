"""Where a contact stands, for the answer to POST /v1/contacts: how many waiting contacts an
operator would take before it, and how many operators on shift could take it at all.

Runs on both matchers in audit mode; times are seconds after `T0`. The indexed matcher counts
the contacts ahead by bisection (O(log n)); a property test holds it to the walk of the lanes.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hotline.domain.errors import NotFound
from hotline.routing import Channel, ContactState, NewContact, Presence, RoutingState
from hotline.routing.matchers import IndexedMatcher
from hotline.routing.model import QueuePosition
from hotline.routing.state import ScanRoutingState
from tests.routing_fixtures import MIN, AuditedRouter, contact, offers, operator

TOPICS = ("documents", "payments", "general", "passport")


@pytest.fixture(params=[RoutingState, ScanRoutingState], ids=["indexed", "scan"])
def router(request: pytest.FixtureRequest) -> AuditedRouter:
    return AuditedRouter(request.param)


def urgent_documents(cid: str) -> NewContact:
    return replace(contact(cid, "documents"), priority="urgent")


def positions(router: AuditedRouter, *cids: str, at: float) -> list[int]:
    return [router.queue_position(cid, at=at).position for cid in cids]


def test_positions_count_the_contacts_ahead_in_the_order_they_will_be_offered(
    router: AuditedRouter,
) -> None:
    router.enqueue(contact("n1", "documents"), at=0)
    router.enqueue(contact("n2", "documents"), at=10)
    router.enqueue(contact("n3", "documents"), at=20)
    assert positions(router, "n1", "n2", "n3", at=30) == [0, 1, 2]
    router.enqueue(contact("u1", "documents"), at=30)
    router.enqueue(urgent_documents("u2"), at=40)  # goes first
    assert positions(router, "u2", "n1", "n2", "n3", "u1", at=50) == [0, 1, 2, 3, 4]

    router.add_ready(operator("ann", {"documents": 3}), at=60)
    taken = ["u2"]
    for at, cid in enumerate(["n1", "n2", "n3", "u1"], start=61):
        assert offers(router.handle(taken[-1], "ann", at=at)) == [(cid, "ann")]
        taken.append(cid)
    assert taken == ["u2", "n1", "n2", "n3", "u1"]


def test_only_contacts_sharing_a_queue_count(router: AuditedRouter) -> None:
    router.enqueue(contact("other-topic", "passport"), at=0)
    router.enqueue(contact("in-english", "documents", language="en"), at=0)
    router.enqueue(contact("a-chat", "documents", channel=Channel.CHAT), at=0)
    router.enqueue(contact("first", "documents"), at=5)
    router.enqueue(contact("me", "documents"), at=10)
    assert router.queue_position("me", at=20) == QueuePosition(1, 0, 0)


def test_eligible_operators_are_those_on_shift_who_could_take_it(router: AuditedRouter) -> None:
    router.add_ready(operator("busy", {"documents": 2}), at=0)
    router.enqueue(contact("taken", "documents"), at=0)
    router.accept("taken", "busy", at=1)
    router.add_ready(operator("on-break", {"documents": 4}), at=0)
    router.presence("on-break", Presence.BREAK, at=1)
    router.add(operator("offline", {"documents": 5}), at=0)
    router.add_ready(operator("english", {"documents": 5}, languages=("en",)), at=0)
    router.add(operator("uncertified", {"documents": 5}, certified=False), at=0)
    router.add_ready(operator("chat-only", {"documents": 5}, voice=0, chat=3), at=0)
    router.add_ready(operator("passport", {"passport": 5}), at=0)
    router.enqueue(contact("me", "documents"), at=2)
    assert router.queue_position("me", at=3) == QueuePosition(0, 2, 0)  # busy and on-break

    assert offers(router.complete("taken", "busy", at=4) + router.end_wrap_up("busy", at=5)) == [
        ("me", "busy")
    ]
    assert router.queue_position("me", at=6) == QueuePosition(0, 2, 0)  # offered: next, of course


def test_free_operators_are_ready_with_room_now(router: AuditedRouter) -> None:
    router.add_ready(operator("ann", {"documents": 3}, voice=0, chat=3), at=0)
    router.add_ready(operator("bob", {"documents": 3}, voice=0, chat=3), at=0)
    router.enqueue(contact("c1", "documents", channel=Channel.CHAT), at=1)
    holder = router.state.holder_of("c1")
    assert holder is not None
    router.accept("c1", holder, at=2)
    # Both may take another chat now: the holder has room for two more, the other is idle.
    assert router.queue_position("c1", at=3) == QueuePosition(0, 2, 2)


def test_after_overflow_the_fallback_pool_and_its_queue_count_too(router: AuditedRouter) -> None:
    router.add_ready(operator("gen", {"general": 3}), at=0)
    router.enqueue(contact("general-1", "general"), at=0)  # gen is busy with it
    router.accept("general-1", "gen", at=1)
    router.enqueue(contact("general-2", "general"), at=2)
    router.enqueue(contact("me", "documents"), at=3)
    assert router.queue_position("me", at=4) == QueuePosition(0, 0, 0)
    router.tick(at=15 * MIN + 3)  # past its target: generalists may take it, after general-2
    assert router.queue_position("me", at=15 * MIN + 4) == QueuePosition(1, 1, 0)


def test_the_position_of_an_unknown_or_ended_contact_is_not_found(router: AuditedRouter) -> None:
    router.enqueue(contact("gone", "documents"), at=0)
    router.abandon("gone", at=1)
    for cid in ("gone", "never"):
        with pytest.raises(NotFound):
            router.queue_position(cid, at=2)


# -- the O(log n) position against the walk of the lane it replaced ------------------------------

Step = tuple[str, int, str]
STEPS = st.one_of(
    st.tuples(st.just("arrive"), st.integers(1, 40), st.sampled_from(TOPICS)),
    st.tuples(st.just("abandon"), st.integers(0, 10_000), st.just("")),
    st.tuples(st.just("serve"), st.integers(1, 50), st.sampled_from(("accept", "reject"))),
    st.tuples(st.just("wait"), st.integers(1, 20), st.just("")),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(STEPS, min_size=1, max_size=40))
def test_the_fast_position_counts_what_the_walk_of_the_lane_counts(steps: list[Step]) -> None:
    """Contacts leave their queues from the front (taken), from the middle (abandoned, or taken
    through another queue once overflowed) and come back out of order (rejected): after every
    step, every waiting contact's position by bisection equals the count by a walk of its
    lanes (which the audit also checks against the matcher's own bookkeeping)."""
    router = AuditedRouter(RoutingState)
    matcher = router.state._matcher
    assert isinstance(matcher, IndexedMatcher)
    router.add(operator("ann", {"documents": 3, "payments": 3, "general": 3}), at=0)
    at, n = 0.0, 0
    waiting: list[str] = []
    for kind, count, what in steps:
        at += 1
        if kind == "arrive":
            for _ in range(count):
                n += 1
                channel = Channel.CHAT if n % 5 == 0 else Channel.VOICE
                router.enqueue(contact(f"c{n}", what, channel=channel), at=at)
                waiting.append(f"c{n}")
        elif kind == "abandon" and waiting:
            cid = waiting.pop(count % len(waiting))
            if router.contact(cid) is not ContactState.ASSIGNED:
                router.abandon(cid, at=at)
        elif kind == "serve":
            events = router.presence("ann", Presence.READY, at=at)
            for _ in range(count):
                taken = offers(events)
                if not taken:
                    break
                cid = taken[0][0]
                if what == "reject":  # back to its queue, out of order; ann goes on break
                    router.reject(cid, "ann", at=at)
                    break
                waiting.remove(cid)
                router.accept(cid, "ann", at=at)
                router.complete(cid, "ann", at=at)
                events = router.end_wrap_up("ann", at=at)
            else:
                for cid, _ in offers(events):  # an offer left open is declined
                    router.reject(cid, "ann", at=at)
            router.presence("ann", Presence.BREAK, at=at)
        elif kind == "wait":  # past the targets: contacts overflow to `general` as well
            at += count * MIN
            router.tick(at=at)
        for c in router.state._contacts.values():
            if c.state is ContactState.WAITING:
                assert matcher.contacts_ahead(c) == matcher.contacts_ahead_by_scan(c), c.id
