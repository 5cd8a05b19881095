"""What the routing state tells about its queues without changing them: where one contact stands,
and per-queue figures for the wallboard. Pure, like the state that calls these."""

from __future__ import annotations

from collections.abc import Iterable

from hotline.routing.matchers import Matcher
from hotline.routing.model import QueueFigures, QueuePosition
from hotline.routing.records import ASSIGNED, OFFLINE, WAITING, ContactRecord
from hotline.routing.skills import SkillIndex


def queue_position(
    c: ContactRecord, matcher: Matcher, skills: SkillIndex, now: float
) -> QueuePosition:
    """Where live `c` stands; costs the size of its own queues, not of all."""
    ahead = matcher.contacts_ahead(c) if c.state is WAITING else 0
    eligible = free = 0
    seen: set[str] = set()
    for route in c.routes:
        for op in skills.covering(route):
            if op.id in seen:
                continue
            seen.add(op.id)
            if (
                op.presence is not OFFLINE
                and op.certified(now)
                and c.language in op.languages
                and op.capacity.get(c.channel, 0) > 0
            ):
                eligible += 1
                free += op.routable and op.has_room(c.channel)
    return QueuePosition(ahead, eligible, free)


def queue_figures(
    contacts: Iterable[ContactRecord], skills: SkillIndex, now: float
) -> tuple[QueueFigures, ...]:
    """Per topic and class: waiting, offered, longest wait, breaches, free and eligible
    operators (a scan of the live contacts, for dashboards)."""
    rows: dict[tuple[str, str], list[float]] = {}
    for c in contacts:
        if c.state is ASSIGNED:
            continue
        row = rows.setdefault((c.topic, c.priority), [0, 0, 0.0, 0])
        if c.state is WAITING:
            row[0] += 1
            row[2] = max(row[2], now - c.arrived_at)
        else:
            row[1] += 1
        row[3] += c.breached
    figures = []
    for (topic, priority), (waiting, offered, longest, breached) in sorted(rows.items()):
        free = eligible = 0
        for op in skills.holders(topic):
            if op.presence is not OFFLINE and op.certified(now):
                eligible += 1
                free += op.routable
        figures.append(
            QueueFigures(
                topic, priority, int(waiting), int(offered), longest, int(breached), free, eligible
            )
        )
    return tuple(figures)
