"""The routing policy: priority classes (target, limit), overflow pools, offer and wrap-up times.

Plain frozen data built from `config/hotline.toml` by `hotline.config`; the pure core reads it and
never changes it. No numbers for SLAs live in code: they all come through here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from hotline.domain.errors import Invalid


@dataclass(frozen=True, slots=True)
class PriorityClass:
    """A class of contacts: `rank` 0 is served first; target and limit count from arrival."""

    name: str
    rank: int
    target_s: float
    limit_s: float


@dataclass(frozen=True, slots=True)
class RoutingPolicy:
    classes: Mapping[str, PriorityClass]
    topic_class: Mapping[str, str]
    default_class: str
    # topic -> skills that may take a contact of that topic once it is past its target;
    # the key "*" applies to every topic without its own entry.
    overflow: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    offer_timeout_s: float = 15.0
    wrap_up_s: float = 60.0
    default_language: str = "ru"

    def __post_init__(self) -> None:
        if self.default_class not in self.classes:
            raise Invalid(f"unknown default class {self.default_class!r}", field="default_class")
        for topic, name in self.topic_class.items():
            if name not in self.classes:
                raise Invalid(f"topic {topic!r} names unknown class {name!r}", field="topic_class")
        if len({pc.rank for pc in self.classes.values()}) != len(self.classes):
            raise Invalid("priority classes need distinct ranks", field="classes")
        for pc in self.classes.values():
            if not 0 < pc.target_s <= pc.limit_s:
                raise Invalid(f"class {pc.name!r} needs 0 < target <= limit", field="classes")
        if self.offer_timeout_s <= 0 or self.wrap_up_s < 0:
            raise Invalid("offer timeout must be > 0 and wrap-up >= 0", field="offer_timeout_s")

    def class_of(self, topic: str, explicit: str | None = None) -> PriorityClass:
        name = explicit if explicit is not None else self.topic_class.get(topic, self.default_class)
        try:
            return self.classes[name]
        except KeyError:
            raise Invalid(f"unknown priority class {name!r}", field="priority") from None

    def fallback_skills(self, topic: str) -> tuple[str, ...]:
        return self.overflow.get(topic, self.overflow.get("*", ()))
