"""Brute-force checks of SPEC's six routing rules over a `RoutingState`.

Used by `RoutingState.check_invariants()` (rules 1, 2, 3, 6 on the whole state) and by its audit
mode (rules 4 and 5 on every offer, before it is made). Deliberately written with plain scans and
no use of the matcher's indexes, so that it can catch their mistakes. Cost: O(contacts x operators).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING

from hotline.routing.model import TERMINAL_STATES, Channel, ContactState, Presence
from hotline.routing.records import ContactRecord, OperatorRecord, can_take, operator_key

if TYPE_CHECKING:
    from hotline.routing.state import RoutingState


class InvariantViolation(AssertionError):
    """A routing rule does not hold: always a bug in the router, never bad input."""


def _waiting(state: RoutingState) -> Iterator[ContactRecord]:
    return (c for c in state._contacts.values() if c.state is ContactState.WAITING)


def _require(ok: bool, rule: int, what: str) -> None:
    if not ok:
        raise InvariantViolation(f"rule {rule}: {what}")


def check(state: RoutingState, now: float) -> None:
    ops = state._ops
    contacts = state._contacts

    # Rule 1: one holder per contact, holders and holdings agree, nobody over capacity.
    for c in contacts.values():
        _require(c.state not in TERMINAL_STATES, 6, f"ended contact {c.id} is still live")
        if c.state is ContactState.WAITING:
            _require(c.operator is None, 1, f"waiting contact {c.id} has a holder")
        else:
            _require(c.operator in ops, 1, f"contact {c.id} is held by an unknown operator")
    # A contact names its one holder; each operator's counts must agree with the contacts.
    load: Counter[tuple[str, Channel]] = Counter()
    offered: dict[str, list[str]] = {}
    for c in contacts.values():
        if c.operator is not None:
            load[c.operator, c.channel] += 1
            if c.state is ContactState.OFFERED:
                offered.setdefault(c.operator, []).append(c.id)
    for op in ops.values():
        for channel, n in op.load.items():
            _require(n == load[op.id, channel], 1, f"{op.id} miscounts {channel}")
            _require(n <= op.capacity.get(channel, 0), 1, f"{op.id} is over capacity on {channel}")
        mine = offered.get(op.id, [])
        _require(mine == ([op.offer] if op.offer else []), 1, f"{op.id} has stray offers")
    for holder, channel in load:
        _require(channel in ops[holder].load, 1, f"{holder} holds a channel it has no room for")

    # Rule 2: an open offer went to a ready, certified operator with the skill and the language.
    for c in contacts.values():
        if c.state is ContactState.OFFERED:
            assert c.operator is not None
            op = ops[c.operator]
            _require(op.presence is Presence.READY, 2, f"{c.id} offered to {op.id} not ready")
            _require(op.certified(c.offered_at), 2, f"{c.id} offered to uncertified {op.id}")
            _require(c.language in op.languages, 2, f"{c.id} offered in a foreign language")
            _require(
                any(r <= op.skills.keys() for r in c.routes), 2, f"{op.id} lacks skill for {c.id}"
            )

    # Rule 3: nothing idles.
    for c in _waiting(state):
        for op in ops.values():
            _require(not can_take(op, c, now), 3, f"{c.id} waits while {op.id} could take it")

    # Not a rule of SPEC's, but what the store and the wallboard rely on: every operator's last
    # published state (OperatorChanged) is its state, and the matcher's index agrees with itself.
    for op in ops.values():
        if op.shown is not op.state():
            raise InvariantViolation(f"{op.id} is {op.state()}, last published as {op.shown}")
    state._matcher.check()

    # Rule 6: every contact is live or ended exactly once, and the counts add up.
    by_state = state.counts_by_state()
    live = Counter(c.state for c in contacts.values())
    for s in (ContactState.WAITING, ContactState.OFFERED, ContactState.ASSIGNED):
        _require(by_state[s] == live[s], 6, f"{s} count {by_state[s]} != {live[s]} live")
    _require(sum(by_state.values()) == state.created, 6, "contact counts do not add up")
    _require(all(n >= 0 for n in by_state.values()), 6, "a negative count")


def audit_offer(state: RoutingState, c: ContactRecord, op: OperatorRecord, now: float) -> None:
    """Before `c` is offered to `op`: rules 2, 4 and 5 against every alternative."""
    _require(can_take(op, c, now), 2, f"{c.id} about to be offered to ineligible {op.id}")
    for other in _waiting(state):
        if other is not c and can_take(op, other, now):
            _require(c.key < other.key, 4, f"{op.id} given {c.id} while {other.id} comes first")
    mine = operator_key(op, c)
    for rival in state._ops.values():
        if rival is not op and can_take(rival, c, now):
            _require(mine < operator_key(rival, c), 5, f"{c.id} given {op.id} before {rival.id}")
