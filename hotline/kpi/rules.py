"""What the figures are measured against: `[kpi]` of the config, as plain values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal
from zoneinfo import ZoneInfo

Basis = Literal["answered", "offered", "offered_minus_short", "sl2"]
BASES: tuple[Basis, ...] = ("answered", "offered", "offered_minus_short", "sl2")

MOSCOW = ZoneInfo("Europe/Moscow")


@dataclass(frozen=True, slots=True)
class KpiRules:
    """`thresholds`: the service-level thresholds T in seconds, ascending.
    `basis`: the service level's denominator (see `hotline.kpi.tally.figures`).
    `short_abandon_s`: an abandon after at most this wait is a short abandon.
    `interval_s`: the smallest period reported; facts are kept in intervals this long, aligned
    to the epoch (and so to the hour and the day in Moscow, whose offset is whole hours).
    `classes`: the priority classes, for deadline compliance. `goals`: shown, never routed on."""

    thresholds: tuple[int, ...] = (20, 25, 30)
    basis: Basis = "offered_minus_short"
    short_abandon_s: float = 5.0
    interval_s: int = 900
    classes: tuple[str, ...] = ("urgent", "normal")
    tz: ZoneInfo = MOSCOW
    goals: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.thresholds or list(self.thresholds) != sorted(set(self.thresholds)):
            raise ValueError("thresholds must be distinct and ascending")
        if self.basis not in BASES:
            raise ValueError(f"basis must be one of {', '.join(BASES)}")
        if self.interval_s <= 0 or 86_400 % self.interval_s:
            raise ValueError("interval_s must divide a day")

    def interval_of(self, at: float) -> float:
        """The start of the interval holding the instant `at`."""
        return at - at % self.interval_s
