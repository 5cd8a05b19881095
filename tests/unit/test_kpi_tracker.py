"""`KpiTracker`: router events in, facts out; what it keeps between events, and a tracker
restored from those records after a restart."""

from __future__ import annotations

from hotline.kpi import HandleEnded, KpiTracker, OperatorTime, Outcome, WaitEnded
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
    before = [
        shown("op1", 0, OperatorState.READY),
        arrives("c1", T),
        shown("op1", 5, OperatorState.BUSY),
    ]
    after = [
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
