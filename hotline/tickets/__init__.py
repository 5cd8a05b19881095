"""Tickets (обращения), the pure part: the status lifecycle and ticket numbers.

`lifecycle` is the transition table every status change goes through; `numbers` makes and checks
ticket numbers. The ticket service (`hotline.services.tickets`) calls both inside its store
transactions; nothing here does I/O or reads a clock.
"""

from hotline.tickets.lifecycle import (
    INITIAL_STATUS,
    IllegalTransition,
    TicketStatus,
    allowed_moves,
    is_terminal,
    parse_status,
    replay_history,
    transition,
)
from hotline.tickets.numbers import new_number, parse_number

__all__ = [
    "INITIAL_STATUS",
    "IllegalTransition",
    "TicketStatus",
    "allowed_moves",
    "is_terminal",
    "new_number",
    "parse_number",
    "parse_status",
    "replay_history",
    "transition",
]
