"""The certification journal's rules: who passed, and until when an operator is certified.

Pure: entries in, a date out. The store keeps the journal (`hotline.store.certifications`), the
service (`hotline.services.certifications`) records entries and hands the router the result.

- A theory test or practical exam is passed when score / max_score reaches its kind's pass mark.
- Entries are never edited: a correction is a new entry naming the one it corrects, and a
  corrected entry counts no more.
- An operator is certified while both its latest passed theory test and its latest passed
  practical exam are younger than `valid_months`: through the day `valid_months` calendar
  months after the earlier of the two (local dates of the line's zone; the 31 August plus six
  months is the 28 or 29 February), to the end of that day, as the typed date always ran.
- An `imported` entry carries a date from before the journal (the typed `certified_until` of
  the profile): certified through it. The latest import counts; exams passed since may carry
  the operator further, never shorter.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

EXAM_KINDS = ("theory", "practical")
IMPORTED = "imported"


@dataclass(frozen=True, slots=True)
class JournalRules:
    pass_share: dict[str, float]  # per exam kind
    valid_months: int

    def passed(self, kind: str, score: float, max_score: float) -> bool:
        return score >= self.pass_share[kind] * max_score


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of the journal, as the derivation needs it."""

    id: int
    kind: str  # theory | practical | imported
    passed: bool
    taken_at: float  # epoch seconds
    valid_until: date | None = None  # imported entries only
    corrects: int | None = None


def add_months(day: date, months: int) -> date:
    """`day` plus calendar months, the day clamped to the month's last (31 Aug + 6 = 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def certified_until(entries: Iterable[Entry], rules: JournalRules, tz: ZoneInfo) -> date | None:
    """The last day the operator is certified, or None if it never was."""
    entries = list(entries)
    corrected = {e.corrects for e in entries if e.corrects is not None}
    live = [e for e in entries if e.id not in corrected]
    latest: dict[str, float] = {}
    for e in live:
        if e.kind in EXAM_KINDS and e.passed and e.taken_at > latest.get(e.kind, -1e18):
            latest[e.kind] = e.taken_at
    found: list[date] = []
    if len(latest) == len(EXAM_KINDS):
        earlier = datetime.fromtimestamp(min(latest.values()), tz).date()
        found.append(add_months(earlier, rules.valid_months))
    imports = [e for e in live if e.kind == IMPORTED and e.valid_until is not None]
    if imports:
        newest = max(imports, key=lambda e: e.id)
        assert newest.valid_until is not None
        found.append(newest.valid_until)
    return max(found) if found else None


def latest_import(entries: Iterable[Entry]) -> date | None:
    """The date of the latest import still counting (to tell a repeated PUT from a new date)."""
    entries = list(entries)
    corrected = {e.corrects for e in entries if e.corrects is not None}
    imports = [e for e in entries if e.kind == IMPORTED and e.id not in corrected]
    return max(imports, key=lambda e: e.id).valid_until if imports else None


def certified_instant(day: date | None, tz: ZoneInfo) -> float | None:
    """The end of `day` in the line's time zone, as epoch seconds: when routing stops."""
    if day is None:
        return None
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    return end.timestamp()
