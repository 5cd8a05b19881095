"""`KpiTracker`: router events in, facts out; what it keeps between events, and a tracker
restored from those records after a restart."""

from __future__ import annotations

from hotline.kpi import (
    Buckets,
    HandleEnded,
    KpiRules,
    KpiTracker,
    OpenContact,
    OpenOperator,
    OperatorTime,
    Outcome,
    WaitEnded,
)
from hotline.kpi.facts import Fact
from hotline.routing.model import (
    Accepted,
    Channel,
    ContactState,
    Ended,
    Enqueued,
    Event,
    OperatorChanged,
    OperatorState,
)

T = 1_800_000_000.0


def arrives(cid: str, at: float, topic: str = "a", channel: Channel = Channel.VOICE) -> Enqueued:
    return Enqueued(cid, at, channel, topic, "ru", "normal", at, at + 900, at + 1800)


def shown(op: str, at: float, state: OperatorState) -> OperatorChanged:
    return OperatorChanged(op, T + at, state, "test")


def facts_of(tracker: KpiTracker, events: list[Event]) -> list[Fact]:
    out: list[Fact] = []
    tracker.feed_all(events, out.append)
    return out


def test_a_tracker_restored_from_anothers_records_goes_on_to_the_same_facts() -> None:
    before: list[Event] = [
        shown("op1", 0, OperatorState.READY),
        arrives("c1", T),
        shown("op1", 5, OperatorState.BUSY),
    ]
    after: list[Event] = [
        Accepted("c1", "op1", T + 10, 10.0),
        Ended("c1", T + 70, ContactState.COMPLETED, "op1"),
        shown("op1", 70, OperatorState.READY),
    ]
    original = KpiTracker()
    facts_of(original, before)
    restored = KpiTracker(original.open_contacts(), original.open_operators())
    expected = [
        WaitEnded(T + 10, "a", "normal", "voice", "op1", Outcome.ANSWERED, 10.0, True),
        HandleEnded(T + 70, "a", "normal", "voice", "op1", 60.0),
        OperatorTime("op1", T + 5, T + 70, OperatorState.BUSY),
    ]
    assert facts_of(original, after) == expected
    assert facts_of(restored, after) == expected


def test_open_records_are_a_snapshot_that_the_next_events_leave_alone() -> None:
    tracker = KpiTracker()
    facts_of(tracker, [shown("op1", 0, OperatorState.READY), arrives("c1", T)])
    contacts, operators = tracker.open_contacts(), tracker.open_operators()
    facts_of(tracker, [shown("op1", 5, OperatorState.BUSY), Accepted("c1", "op1", T + 10, 10.0)])
    assert [(c.id, c.answered_at, c.operator_id) for c in contacts] == [("c1", None, None)]
    assert [(o.id, o.state, o.since) for o in operators] == [("op1", OperatorState.READY, T)]


def busy_and_open(facts: list[Fact]) -> tuple[float, float]:
    b = Buckets(KpiRules())
    b.add_all(facts)
    t = b.total()
    return t.busy_s, t.open_s


def test_an_operator_on_break_with_a_call_in_hand_is_busy_until_it_ends() -> None:
    """Occupancy counts time holding contacts: asking for a break during a call (so that no
    new one comes after it) shows the operator on break at once, but the call goes on."""
    tracker = KpiTracker()
    facts = facts_of(
        tracker,
        [
            shown("op1", 0, OperatorState.READY),
            arrives("c1", T),
            shown("op1", 0, OperatorState.BUSY),
            Accepted("c1", "op1", T, 0.0),
            shown("op1", 30, OperatorState.BREAK),
            Ended("c1", T + 90, ContactState.COMPLETED, "op1"),
            shown("op1", 120, OperatorState.READY),
        ],
    )
    assert busy_and_open(facts) == (90.0, 120.0)


def test_a_restored_tracker_knows_who_holds_a_contact_from_the_open_contacts() -> None:
    call = OpenContact("c1", "a", "normal", "voice", T, T + 1800, answered_at=T, operator_id="op1")
    tracker = KpiTracker([call], [OpenOperator("op1", OperatorState.BREAK, T + 30)])
    facts = facts_of(tracker, [Ended("c1", T + 90, ContactState.COMPLETED, "op1")])
    assert busy_and_open([*facts, *tracker.open_time(T + 120)]) == (60.0, 90.0)


def test_wrap_up_belongs_to_the_contact_ended_last_at_each_moment() -> None:
    """Two chats in hand: the wrap-up after the first runs until the second ends, and is the
    first chat's; then the second's starts (the router starts the wrap-up again)."""
    tracker = KpiTracker()
    facts = facts_of(
        tracker,
        [
            shown("op1", 0, OperatorState.READY),
            arrives("c1", T, "a", Channel.CHAT),
            arrives("c2", T, "b", Channel.CHAT),
            shown("op1", 0, OperatorState.BUSY),
            Accepted("c1", "op1", T, 0.0),
            Accepted("c2", "op1", T, 0.0),
            Ended("c1", T + 10, ContactState.COMPLETED, "op1"),
            shown("op1", 10, OperatorState.WRAP_UP),
            Ended("c2", T + 20, ContactState.COMPLETED, "op1"),
            shown("op1", 50, OperatorState.READY),
        ],
    )
    b = Buckets(KpiRules())
    b.add_all(facts)
    assert {key[1]: t.wrap_sum for key, t in b.queues.items()} == {"a": 10.0, "b": 30.0}
    assert b.total().wrap_sum == 40.0
