"""Worked examples of every figure, counted by hand from the definitions (README "Service
levels, defined"), through the whole KPI core: router events -> KpiTracker -> Buckets ->
figures. Thresholds 20, 25, 30 s; an abandon within 5 s is short."""

from __future__ import annotations

from typing import Any

import pytest

from hotline.kpi import Buckets, KpiRules, KpiTracker, Tally, figures
from hotline.kpi.facts import Fact
from hotline.kpi.rules import Basis
from hotline.routing.model import (
    Accepted,
    Breached,
    Channel,
    ContactState,
    Ended,
    Enqueued,
    Event,
    OperatorChanged,
    OperatorState,
)
from tests.figures import FIGURES as FIGURE_ORDER

T = 1_800_000_000.0  # on a quarter hour: everything below happens in one 15-minute interval
FIGURES = list(FIGURE_ORDER)


def arrives(
    cid: str, at: float, *, priority: str = "normal", channel: Channel = Channel.VOICE
) -> Enqueued:
    return Enqueued(cid, T + at, channel, "a", "ru", priority, T + at, T + at + 300, T + at + 600)


def waits(cid: str, seconds: float, end: ContactState | None) -> list[Event]:
    """A contact that arrives at T and is answered after `seconds` (end None), or ends so."""
    if end is None:
        return [arrives(cid, 0), Accepted(cid, "op1", T + seconds, seconds)]
    return [arrives(cid, 0), Ended(cid, T + seconds, end)]


def counted(events: list[Event], rules: KpiRules, now: float | None = None) -> dict[str, Any]:
    tracker = KpiTracker()
    facts: list[Fact] = []
    tracker.feed_all(events, facts.append)
    if now is not None:
        facts.extend(tracker.open_time(T + now))
    buckets = Buckets(rules)
    buckets.add_all(facts)
    assert len({key[0] for key in buckets.queues}) <= 1, "one interval"
    return figures(buckets.total(), rules)


# Answered after 3, 10, 20, 22, 28 and 40 s; abandoned after 2 and 5 s (short), 15 and 50 s;
# one expired after 600 s. Offered 11, of which answered or abandoned 10, short 2. Answered
# within 20 s: 3 (25 s: 4, 30 s: 5); abandoned within 20, 25 and 30 s: 3 (2, 5, 15).
DAY = [
    e
    for i, (seconds, end) in enumerate(
        [
            (3, None),
            (10, None),
            (20, None),
            (22, None),
            (28, None),
            (40, None),
            (2, ContactState.ABANDONED),
            (5, ContactState.ABANDONED),
            (15, ContactState.ABANDONED),
            (50, ContactState.ABANDONED),
            (600, ContactState.EXPIRED),
        ]
    )
    for e in waits(f"c{i}", seconds, end)
]


@pytest.mark.parametrize(
    ("basis", "levels"),
    [
        ("answered", (3 / 6, 4 / 6, 5 / 6)),  # Asterisk's SL: of the answered
        ("offered", (3 / 10, 4 / 10, 5 / 10)),  # of the answered and abandoned
        ("offered_minus_short", (3 / 8, 4 / 8, 5 / 8)),  # short abandons left out too
        ("sl2", (6 / 10, 7 / 10, 8 / 10)),  # Asterisk's SL2: abandons within T count as met
    ],
)
def test_service_level_of_a_worked_example_on_each_basis(
    basis: Basis, levels: tuple[float, float, float]
) -> None:
    f = counted(DAY, KpiRules(basis=basis))
    assert f["service_level"] == {"20": levels[0], "25": levels[1], "30": levels[2]}
    assert (f["offered"], f["answered"], f["abandoned"], f["short_abandoned"], f["expired"]) == (
        11,
        6,
        4,
        2,
        1,
    )
    assert f["asa_s"] == (3 + 10 + 20 + 22 + 28 + 40) / 6
    assert f["max_wait_s"] == 50  # answered or abandoned: the expired one's 600 s is left out
    assert f["abandon_rate"] == 2 / 9  # (4 - 2 short) / (11 - 2 short)
    assert f["deadline_met"] == {"urgent": None, "normal": 1.0}  # 6 answered in time of 6 due


def test_handle_time_and_occupancy_of_one_operators_call() -> None:
    """Ready at 0, offered a call at 60 (busy from then: ringing is work), answers at 70, ends
    it at 250 (talk 180 s), wraps up until 280, ready until 400, then offline."""
    events: list[Event] = [
        OperatorChanged("op1", T, OperatorState.READY, "requested"),
        arrives("c1", 60),
        OperatorChanged("op1", T + 60, OperatorState.BUSY, "offered"),
        Accepted("c1", "op1", T + 70, 10.0),
        Ended("c1", T + 250, ContactState.COMPLETED, "op1"),
        OperatorChanged("op1", T + 250, OperatorState.WRAP_UP, "completed"),
        OperatorChanged("op1", T + 280, OperatorState.READY, "wrap_up_timeout"),
        OperatorChanged("op1", T + 400, OperatorState.OFFLINE, "requested"),
    ]
    f = counted(events, KpiRules(), now=800)
    assert (f["talk_s"], f["wrap_s"], f["aht_s"]) == (180.0, 30.0, 210.0)
    assert f["occupancy"] == (280 - 60) / 400  # offline time counts in neither
    assert (f["asa_s"], f["service_level"]["20"]) == (10.0, 1.0)


def test_callbacks_count_only_in_their_one_hour_compliance() -> None:
    """Answered in time; answered after its deadline passed; abandoned before its deadline
    (due nowhere); expired after it: 1 met of 3 due. None of them is an inbound contact."""
    events: list[Event] = [
        arrives("v1", 0, channel=Channel.CALLBACK),
        Accepted("v1", "op1", T + 100, 100.0),
        arrives("v2", 0, channel=Channel.CALLBACK),
        Breached("v2", T + 600, "normal", T + 600),
        Accepted("v2", "op1", T + 610, 610.0),
        arrives("v3", 0, channel=Channel.CALLBACK),
        Ended("v3", T + 10, ContactState.ABANDONED),
        arrives("v4", 0, channel=Channel.CALLBACK),
        Breached("v4", T + 600, "normal", T + 600),
        Ended("v4", T + 700, ContactState.EXPIRED),
    ]
    f = counted(events, KpiRules())
    assert f["voicemail_within_hour"] == 1 / 3
    assert (f["offered"], f["answered"], f["abandoned"], f["expired"]) == (0, 0, 0, 0)
    assert f["service_level"] == {"20": None, "25": None, "30": None}
    assert (f["asa_s"], f["max_wait_s"], f["deadline_met"]["normal"]) == (None, None, None)


def test_deadline_compliance_counts_the_answered_and_those_whose_deadline_passed() -> None:
    """Urgent: answered in time; breached then answered; breached then abandoned; abandoned
    before its deadline (due nowhere): 1 met of 3 due."""
    events: list[Event] = [
        arrives("u1", 0, priority="urgent"),
        Accepted("u1", "op1", T + 30, 30.0),
        arrives("u2", 0, priority="urgent"),
        Breached("u2", T + 600, "urgent", T + 600),
        Accepted("u2", "op1", T + 620, 620.0),
        arrives("u3", 0, priority="urgent"),
        Breached("u3", T + 600, "urgent", T + 600),
        Ended("u3", T + 650, ContactState.ABANDONED),
        arrives("u4", 0, priority="urgent"),
        Ended("u4", T + 40, ContactState.ABANDONED),
    ]
    f = counted(events, KpiRules())
    assert f["deadline_met"] == {"urgent": 1 / 3, "normal": None}


def test_figures_carry_the_issues_names_and_nothing_to_divide_is_none() -> None:
    rules = KpiRules()
    f = figures(Tally(len(rules.thresholds)), rules)
    assert list(f) == FIGURES
    assert f["service_level"] == {"20": None, "25": None, "30": None}
    assert f["deadline_met"] == {"urgent": None, "normal": None}
    counts = ("offered", "answered", "abandoned", "short_abandoned", "expired")
    assert all(f[name] == 0 for name in counts)
    assert all(
        f[name] is None for name in FIGURES if name not in counts and not isinstance(f[name], dict)
    )
