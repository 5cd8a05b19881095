"""The routing state's five timers, as heaps of plain tuples that the state pushes straight onto.

- offer: an offer not answered in time is a missed offer (`offer_timeout_s`);
- wrap-up: after-contact work ends by itself (`wrap_up_s`);
- target: a contact still waiting at its target overflows to the fallback skills;
- limit: a contact not taken by its deadline is a breach (set only once its target passed);
- lapse: an operator's certification runs out: from that instant it is offered nothing, an
  open offer goes back to the queue and a ready operator is put on break (a contact it holds
  stays with it).

`RoutingState.next_deadline` and `tick` read the five heaps directly, in this order (the one
place that does: they run before every step of a simulation). Entries are never removed early:
the state checks, when one falls due, whether it still applies (the offer is the same offer, the
operator still wraps up until that time, the contact still waits). Pure: times are arguments,
nothing here reads a clock.
"""

from __future__ import annotations

from typing import Final

OfferTimer = tuple[float, int, str]  # expires_at, offer number, contact
WrapTimer = tuple[float, str]  # wrap-up ends, operator
TargetTimer = tuple[float, int, float, float, int, str]  # target, then the contact's queue order
LimitTimer = tuple[float, int, float, int, str]  # limit, rank, arrival, seq, contact
LapseTimer = tuple[float, str]  # certification runs out, operator

# What fell due, in the order timers due at the same moment are applied.
OFFER: Final = 0
WRAP_UP: Final = 1
TARGET: Final = 2
LIMIT: Final = 3
LAPSE: Final = 4


class Timers:
    __slots__ = ("lapses", "limits", "offers", "targets", "wrap_ups")

    def __init__(self) -> None:
        self.offers: list[OfferTimer] = []
        self.wrap_ups: list[WrapTimer] = []
        self.targets: list[TargetTimer] = []
        self.limits: list[LimitTimer] = []
        self.lapses: list[LapseTimer] = []
