"""Skill-based priority routing.

`state` is the pure, synchronous routing state machine (time is an argument, no I/O);
`actor` is the trio task that owns one `RoutingState`, feeds it commands and timers and
publishes what it decides. Everything else talks to the router through `RouterHandle`.
"""

from hotline.routing.model import (
    Channel,
    ContactState,
    NewContact,
    OperatorSpec,
    OperatorState,
    Presence,
)
from hotline.routing.policy import PriorityClass, RoutingPolicy
from hotline.routing.state import RoutingState

__all__ = [
    "Channel",
    "ContactState",
    "NewContact",
    "OperatorSpec",
    "OperatorState",
    "Presence",
    "PriorityClass",
    "RoutingPolicy",
    "RoutingState",
]
