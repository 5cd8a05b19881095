"""The ticket lifecycle as the spec states it: every pair of statuses, the labels, the error a
refused move gives a client, and the check of a stored history."""

from __future__ import annotations

from itertools import product

import pytest

from hotline.domain.errors import Conflict, Invalid
from hotline.tickets import (
    INITIAL_STATUS,
    IllegalTransition,
    TicketStatus,
    allowed_moves,
    is_terminal,
    parse_status,
    replay_history,
    transition,
)

A, P, OK, NO, DONE = (
    TicketStatus.ACCEPTED,
    TicketStatus.IN_PROGRESS,
    TicketStatus.APPROVED,
    TicketStatus.REJECTED,
    TicketStatus.COMPLETED,
)

# The spec's table, written out independently of the module's.
SPEC_MOVES = {(A, P), (P, OK), (P, NO), (OK, DONE), (NO, DONE), (NO, A)}


@pytest.mark.parametrize(
    ("current", "to"), list(product(TicketStatus, repeat=2)), ids=lambda s: str(s)
)
def test_every_pair_of_statuses_is_allowed_exactly_when_the_spec_says(
    current: TicketStatus, to: TicketStatus
) -> None:
    if (current, to) in SPEC_MOVES:
        assert transition(current, to) is to
    else:
        with pytest.raises(IllegalTransition) as caught:
            transition(current, to)
        assert caught.value.current is current
        assert caught.value.to is to
        assert set(caught.value.allowed) == {b for a, b in SPEC_MOVES if a is current}


def test_the_api_codes_are_ascii_and_the_labels_are_the_seeds_words() -> None:
    assert [(s.value, s.label) for s in TicketStatus] == [
        ("accepted", "Принято"),
        ("in_progress", "В обработке"),  # noqa: RUF001
        ("approved", "Одобрено"),
        ("rejected", "Отклонено"),
        ("completed", "Завершено"),
    ]
    assert all(s.value.isascii() for s in TicketStatus)


def test_a_new_ticket_is_accepted() -> None:
    assert INITIAL_STATUS is TicketStatus.ACCEPTED


def test_allowed_moves_put_the_usual_next_step_first() -> None:
    assert allowed_moves(A) == (P,)
    assert allowed_moves(P) == (OK, NO)
    assert allowed_moves(OK) == (DONE,)
    assert allowed_moves(NO) == (DONE, A)
    assert allowed_moves(DONE) == ()


def test_only_completed_is_terminal() -> None:
    assert [s for s in TicketStatus if is_terminal(s)] == [DONE]


def test_a_refused_move_is_a_409_conflict_that_names_the_allowed_moves() -> None:
    with pytest.raises(IllegalTransition) as caught:
        transition(A, OK)
    error = caught.value
    assert isinstance(error, Conflict)
    assert error.code == "illegal_transition"
    assert error.field == "to"
    assert error.allowed == (P,)
    assert error.extra == {"status": "accepted", "allowed": ["in_progress"]}
    assert "accepted" in error.message and "approved" in error.message
    assert "in_progress" in error.message


def test_a_refused_move_from_rejected_lists_both_ways_out() -> None:
    with pytest.raises(IllegalTransition) as caught:
        transition(NO, OK)
    assert caught.value.extra["allowed"] == ["completed", "accepted"]
    assert "completed, accepted" in caught.value.message


def test_a_completed_ticket_says_it_is_final() -> None:
    with pytest.raises(IllegalTransition) as caught:
        transition(DONE, A)
    assert caught.value.allowed == ()
    assert caught.value.extra["allowed"] == []
    assert "final" in caught.value.message


def test_staying_in_the_same_status_is_not_a_move() -> None:
    for status in TicketStatus:
        with pytest.raises(IllegalTransition):
            transition(status, status)


def test_a_status_code_from_a_request_is_parsed() -> None:
    assert parse_status("in_progress") is P


@pytest.mark.parametrize("text", ["", "In_Progress", "в обработке", "closed", " accepted"])
def test_an_unknown_status_code_is_invalid_naming_the_field(text: str) -> None:
    with pytest.raises(Invalid) as caught:
        parse_status(text, field="to")
    assert caught.value.field == "to"
    assert "accepted" in caught.value.message  # the known codes are listed


def test_a_stored_history_replays_to_its_last_status() -> None:
    history = [(None, A), (A, P), (P, NO), (NO, A), (A, P), (P, OK), (OK, DONE)]
    assert replay_history(history) is DONE


def test_a_history_with_only_its_creation_is_accepted() -> None:
    assert replay_history([(None, A)]) is A


@pytest.mark.parametrize(
    "history",
    [
        [],
        [(None, P)],
        [(A, P)],
        [(None, A), (P, OK)],
        [(None, A), (None, A)],
    ],
)
def test_a_broken_history_is_refused(
    history: list[tuple[TicketStatus | None, TicketStatus]],
) -> None:
    with pytest.raises(ValueError, match=r"history|change"):
        replay_history(history)


def test_a_history_with_a_forbidden_move_is_refused() -> None:
    with pytest.raises(IllegalTransition):
        replay_history([(None, A), (A, OK)])
