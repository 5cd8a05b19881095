"""Builders shared by the routing tests: a small policy and terse operator/contact specs."""

from __future__ import annotations

from collections.abc import Iterable

from hotline.routing import Channel, NewContact, OperatorSpec, PriorityClass, RoutingPolicy
from hotline.routing.model import Event, Offered

MIN = 60.0
T0 = 1_800_000_000.0  # a fixed instant; the core never reads a clock


def policy(*, offer_timeout_s: float = 15.0, wrap_up_s: float = 30.0) -> RoutingPolicy:
    return RoutingPolicy(
        classes={
            "urgent": PriorityClass("urgent", 0, 5 * MIN, 10 * MIN),
            "normal": PriorityClass("normal", 1, 15 * MIN, 30 * MIN),
        },
        topic_class={"payments": "urgent", "emergency": "urgent", "account_blocked": "urgent"},
        default_class="normal",
        overflow={"*": ("general",)},
        offer_timeout_s=offer_timeout_s,
        wrap_up_s=wrap_up_s,
    )


def operator(
    op_id: str,
    skills: dict[str, int],
    *,
    languages: tuple[str, ...] = ("ru",),
    voice: int = 1,
    chat: int = 0,
    certified: bool = True,
) -> OperatorSpec:
    return OperatorSpec(
        id=op_id,
        skills=skills,
        languages=frozenset(languages),
        capacity={Channel.VOICE: voice, Channel.CHAT: chat},
        certified_until=T0 + 365 * 86400 if certified else None,
    )


def contact(
    cid: str, topic: str, *, channel: Channel = Channel.VOICE, language: str = "ru"
) -> NewContact:
    return NewContact(id=cid, channel=channel, topic=topic, language=language)


def offers(events: Iterable[Event]) -> list[tuple[str, str]]:
    """(contact, operator) of every offer among `events`, in order."""
    return [(e.contact_id, e.operator_id) for e in events if isinstance(e, Offered)]
