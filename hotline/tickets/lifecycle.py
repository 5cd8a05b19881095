"""The ticket lifecycle: five statuses and the moves allowed between them.

accepted → in_progress → approved | rejected → completed, and rejected → accepted when the
citizen corrects and resubmits. The ticket service (`hotline.services.tickets`) calls
`transition` before it writes a status change (the API parses the requested status with its
schema); the API shows `TicketStatus.label` beside every ASCII code. Pure: no I/O, no clock.

A refused move is `IllegalTransition` (409), carrying the moves that are allowed from where the
ticket is, so a client can offer them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from itertools import pairwise
from types import MappingProxyType

from hotline.domain.errors import Conflict, Invalid


class TicketStatus(StrEnum):
    """A ticket's status: the ASCII code is what the API and the store use."""

    ACCEPTED = "accepted"
    IN_PROGRESS = "in_progress"
    APPROVED = "approved"
    REJECTED = "rejected"
    COMPLETED = "completed"

    @property
    def label(self) -> str:
        """The Russian label a citizen and an operator see (Принято, Одобрено, ...)."""
        return _LABELS[self]


_LABELS: Mapping[TicketStatus, str] = MappingProxyType(
    {
        TicketStatus.ACCEPTED: "Принято",
        TicketStatus.IN_PROGRESS: "В обработке",  # noqa: RUF001
        TicketStatus.APPROVED: "Одобрено",
        TicketStatus.REJECTED: "Отклонено",
        TicketStatus.COMPLETED: "Завершено",
    }
)

INITIAL_STATUS = TicketStatus.ACCEPTED

# In the order a client would offer them: the usual next step first.
_MOVES: Mapping[TicketStatus, tuple[TicketStatus, ...]] = MappingProxyType(
    {
        TicketStatus.ACCEPTED: (TicketStatus.IN_PROGRESS,),
        TicketStatus.IN_PROGRESS: (TicketStatus.APPROVED, TicketStatus.REJECTED),
        TicketStatus.APPROVED: (TicketStatus.COMPLETED,),
        # Resubmission with corrections starts the ticket over under the same number.
        TicketStatus.REJECTED: (TicketStatus.COMPLETED, TicketStatus.ACCEPTED),
        TicketStatus.COMPLETED: (),
    }
)


class IllegalTransition(Conflict):
    """A status change the lifecycle does not allow. `allowed` lists the moves that are, from
    `current` (empty once the ticket is completed); the API puts them beside the error."""

    code = "illegal_transition"

    def __init__(self, current: TicketStatus, to: TicketStatus) -> None:
        self.current = current
        self.to = to
        self.allowed = allowed_moves(current)
        if self.allowed:
            options = ", ".join(self.allowed)
            message = (
                f"a ticket cannot move from {current} to {to}; from {current} it can move to"
                f" {options}"
            )
        else:
            message = f"a ticket cannot move from {current} to {to}: {current} is final"
        super().__init__(
            message,
            field="to",
            extra={"status": str(current), "allowed": [str(s) for s in self.allowed]},
        )


def allowed_moves(status: TicketStatus) -> tuple[TicketStatus, ...]:
    """The statuses a ticket in `status` may move to, usual next step first."""
    return _MOVES[status]


def is_terminal(status: TicketStatus) -> bool:
    """True for a status no move leaves (completed): the ticket is closed for good."""
    return not _MOVES[status]


def transition(current: TicketStatus, to: TicketStatus) -> TicketStatus:
    """The status after moving from `current` to `to`; `IllegalTransition` if that move is not
    allowed (staying where the ticket is counts as a move, and is refused)."""
    if to not in _MOVES[current]:
        raise IllegalTransition(current, to)
    return to


def parse_status(text: str, *, field: str = "status") -> TicketStatus:
    """The status an API code names (`"in_progress"`); `Invalid` naming `field` otherwise."""
    try:
        return TicketStatus(text)
    except ValueError:
        known = ", ".join(TicketStatus)
        raise Invalid(f"unknown ticket status; one of {known}", field=field) from None


def replay_history(
    changes: Iterable[tuple[TicketStatus | None, TicketStatus]],
) -> TicketStatus:
    """The status a ticket ends in after its recorded status changes, checking them on the way.

    `changes` are (from, to) pairs in history order, the first being the creation (None,
    accepted). Raises `ValueError` if the history is empty, does not start with the creation,
    or a change does not start where the previous one ended, and `IllegalTransition` for a move
    the lifecycle forbids. Used by consistency checks and tests over stored histories."""
    pairs = list(changes)
    if not pairs:
        raise ValueError("a ticket history starts with its creation")
    if pairs[0] != (None, INITIAL_STATUS):
        raise ValueError(f"a ticket history starts with (None, {INITIAL_STATUS})")
    for (_, reached), (start, to) in pairwise(pairs):
        if start is None or start != reached:
            raise ValueError(f"a change from {start} follows a change that ended in {reached}")
        transition(start, to)
    return pairs[-1][1]
