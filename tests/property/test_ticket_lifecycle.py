"""Random sequences of status changes against a reference model of the lifecycle.

A Hypothesis state machine asks for any move at any time; the model (a plain table written from
the spec) says whether it should pass. Invariants: the ticket is where the model says; its
history replays to that status and every step in it is a legal move; every status it reached is
reachable from accepted by legal moves alone; once completed it never moves again.
"""

from __future__ import annotations

from hypothesis import note
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from hotline.tickets import (
    INITIAL_STATUS,
    IllegalTransition,
    TicketStatus,
    is_terminal,
    replay_history,
    transition,
)

MODEL: dict[str, set[str]] = {
    "accepted": {"in_progress"},
    "in_progress": {"approved", "rejected"},
    "approved": {"completed"},
    "rejected": {"completed", "accepted"},
    "completed": set(),
}


def _reachable_from_accepted() -> set[str]:
    seen, frontier = {"accepted"}, ["accepted"]
    while frontier:
        for nxt in MODEL[frontier.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                frontier.append(nxt)
    return seen


REACHABLE = _reachable_from_accepted()


class TicketLifecycle(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.status: TicketStatus = INITIAL_STATUS
        self.model: str = "accepted"
        self.history: list[tuple[TicketStatus | None, TicketStatus]] = [(None, INITIAL_STATUS)]
        self.refused = 0

    @rule(to=st.sampled_from(TicketStatus))
    def move(self, to: TicketStatus) -> None:
        legal = to.value in MODEL[self.model]
        note(f"{self.status} -> {to}: {'legal' if legal else 'refused'}")
        try:
            reached = transition(self.status, to)
        except IllegalTransition as error:
            assert not legal, f"{self.status} -> {to} was refused"
            assert {s.value for s in error.allowed} == MODEL[self.model]
            self.refused += 1
            return
        assert legal, f"{self.status} -> {to} was allowed"
        self.history.append((self.status, reached))
        self.status = reached
        self.model = to.value

    @invariant()
    def the_ticket_is_where_the_model_says(self) -> None:
        assert self.status.value == self.model

    @invariant()
    def the_history_replays_to_the_current_status(self) -> None:
        assert replay_history(self.history) is self.status
        for (_, reached), (start, _) in zip(self.history, self.history[1:], strict=False):
            assert start is reached

    @invariant()
    def every_status_reached_is_reachable_by_legal_moves(self) -> None:
        assert {to.value for _, to in self.history} <= REACHABLE

    @invariant()
    def completed_is_absorbing(self) -> None:
        finished = [i for i, (_, to) in enumerate(self.history) if is_terminal(to)]
        # At most one change ends in completed, and it is the last one.
        assert finished in ([], [len(self.history) - 1])
        if is_terminal(self.status):
            for to in TicketStatus:
                try:
                    transition(self.status, to)
                except IllegalTransition:
                    continue
                raise AssertionError(f"a completed ticket moved to {to}")


TestTicketLifecycle = TicketLifecycle.TestCase
