"""What the figures are measured against: `[kpi]` of the config, as plain values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

Basis = Literal["answered", "offered", "offered_minus_short", "sl2"]
BASES: tuple[Basis, ...] = ("answered", "offered", "offered_minus_short", "sl2")

MOSCOW = ZoneInfo("Europe/Moscow")
# Every zone's offset from UTC is a whole number of quarter hours: intervals dividing one are the
# same on every wall clock, counted from the epoch without asking the zone.
_QUARTER_HOUR = 900


@dataclass(frozen=True, slots=True)
class KpiRules:
    """`thresholds`: the service-level thresholds T in seconds, ascending.
    `basis`: the service level's denominator (see `hotline.kpi.tally.figures`).
    `short_abandon_s`: an abandon after at most this wait is a short abandon.
    `interval_s`: the smallest period reported; facts are kept in intervals this long, aligned
    to `tz`'s wall clock: a day runs from midnight to midnight in `tz`, an hour from its hour.
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
        """The start of the interval holding the instant `at`, on `tz`'s wall clock (with the
        offset in force at `at`: Moscow keeps one all year; in a zone with summer time a day
        interval on the day of a change would start an hour off)."""
        step = self.interval_s
        if _QUARTER_HOUR % step == 0:
            return at - at % step
        offset = datetime.fromtimestamp(at, self.tz).utcoffset()
        assert offset is not None  # a ZoneInfo always knows its offset
        return at - (at + offset.total_seconds()) % step
