"""What the store hands back and takes in for contacts and operators, as plain frozen values.

Filled by `hotline.store.events` from rows; read by the start-up code that rebuilds the router and
by services that save operator profiles. Phone numbers are not in these records: recovery does not
need them, and a record that holds none cannot leak one into a log.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from hotline.routing.model import Channel, ContactState, NewContact, OperatorState, Presence


def contact_fields(r: sqlite3.Row) -> dict[str, Any]:
    """The columns a live contact and a shown contact share, typed, from a `contacts` row."""
    return {
        "id": r["id"],
        "channel": Channel(r["channel"]),
        "topic": r["topic"],
        "language": r["language"],
        "priority": r["priority"],
        "state": ContactState(r["state"]),
        "operator_id": r["operator_id"],
        "arrived_at": r["arrived_at"],
        "target_at": r["target_at"],
        "deadline_at": r["deadline_at"],
        "seq": r["seq"],
        "breached": bool(r["breached"]),
        "overflowed": bool(r["overflowed"]),
    }


@dataclass(frozen=True, slots=True)
class LiveContact:
    """A contact that has not ended, with everything the router needs to take it back."""

    id: str
    channel: Channel
    topic: str
    language: str
    priority: str
    state: ContactState
    operator_id: str | None
    arrived_at: float
    target_at: float
    deadline_at: float
    seq: int
    breached: bool
    overflowed: bool
    skills: frozenset[str] | None = None  # None: the topic alone

    def as_new_contact(self) -> NewContact:
        """The contact as the router takes it back: same skills, class, arrival and deadlines."""
        return NewContact(
            id=self.id,
            channel=self.channel,
            topic=self.topic,
            language=self.language,
            skills=self.skills,
            priority=self.priority,
            arrived_at=self.arrived_at,
            target_at=self.target_at,
            deadline_at=self.deadline_at,
        )


@dataclass(frozen=True, slots=True)
class ContactRow:
    """A contact as the API shows it: its current state and what the API recorded beside it."""

    id: str
    channel: Channel
    topic: str
    language: str
    phone: str | None
    priority: str
    state: ContactState
    operator_id: str | None
    arrived_at: float
    target_at: float
    deadline_at: float
    seq: int
    breached: bool
    overflowed: bool
    transferred_to: str | None
    ended_at: float | None
    outcome: str | None
    repeat_of: str | None = None  # the earlier contact this one repeats (hotline.store.quality)


@dataclass(frozen=True, slots=True)
class OperatorProfile:
    """An operator as a supervisor defines them; `certified_until` is a calendar date, and
    turning it into an instant (end of that day, in the line's time zone) is the caller's."""

    id: str
    name: str
    skills: Mapping[str, int]
    languages: frozenset[str]
    capacity: Mapping[Channel, int]
    certified_until: date | None


@dataclass(frozen=True, slots=True)
class StoredOperator:
    profile: OperatorProfile
    presence: Presence
    state: OperatorState
    updated_at: float


@dataclass(frozen=True, slots=True)
class StoredToken:
    """An API token's identity; the token itself is never stored, only its hash."""

    id: str
    role: str
    operator_id: str | None
    name: str
