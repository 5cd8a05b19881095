"""The quality figures: repeat contacts and rating surveys, counted and turned into FIGURES.

Pure (no clock, no store). `QualityTally` is additive like `Tally` (hotline.kpi.tally): the
store keeps it per minute, interval and day (`kpi_quality`, hotline/store/quality.py), the
period API adds those up, and `quality_figures` gives the five figures `figures()` adds to
FIGURES. `LiveQuality` keeps today's and the last quarter hour's for the live view.

Definitions (README "Surveys and repeat contacts"):
- a contact is a *repeat* when an earlier contact from the same phone (or the same identified
  citizen) on the same topic arrived at most `repeat_window_h` before it; else a *first* contact;
- csat = answers rating 4 or 5 / answers (CSAT 1-5);
- nps = % of NPS answers 9-10 minus % of 0-6, in points from -100 to 100;
- survey_response_rate = answers / surveys sent (each counted when it happened: an answer in
  the period to a survey sent before it counts too, so a short period may show more than 1);
- repeat_rate = repeats / (firsts + repeats);
- first_contact_resolution = 1 - repeats / firsts (the issue's formula: a chain of three or more
  contacts on one problem can take it below 0).
On the queue side (by topic, class, channel, and the whole line) a contact counts when it
arrives. On the operator side a first contact counts for the operator who completes it, a
repeat for the operator of the contact it repeats (whose contact came back), and a survey and
its answer for the operator of the surveyed contact.
"""

from __future__ import annotations

import hashlib
import math
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

QUALITY_COUNTERS: tuple[str, ...] = (
    "firsts",
    "repeats",
    "surveys_sent",
    "answers",
    "csat_good",
    "nps_answers",
    "nps_promoters",
    "nps_detractors",
)
QUALITY_FIGURES = (
    "csat",
    "nps",
    "survey_response_rate",
    "repeat_rate",
    "first_contact_resolution",
)
CSAT_GOOD = 4  # ratings at least this are satisfied (4 and 5 of 1..5)
NPS_PROMOTER = 9  # 9-10
NPS_DETRACTOR = 6  # 0-6


class QualityTally:
    """Counters of repeat contacts and survey answers (see the module's definitions)."""

    __slots__ = QUALITY_COUNTERS

    def __init__(self, *values: int) -> None:
        if not values:  # the usual case, spelt out: a committed batch makes a few per contact
            self.firsts = self.repeats = self.surveys_sent = self.answers = 0
            self.csat_good = self.nps_answers = self.nps_promoters = self.nps_detractors = 0
            return
        for name, value in zip(QUALITY_COUNTERS, values, strict=True):
            setattr(self, name, value)

    firsts: int
    repeats: int
    surveys_sent: int
    answers: int
    csat_good: int
    nps_answers: int
    nps_promoters: int
    nps_detractors: int

    def count_contact(self, *, repeat: bool) -> QualityTally:
        if repeat:
            self.repeats += 1
        else:
            self.firsts += 1
        return self

    def count_answer(self, csat: int, nps: int | None) -> QualityTally:
        self.answers += 1
        self.csat_good += csat >= CSAT_GOOD
        if nps is not None:
            self.nps_answers += 1
            self.nps_promoters += nps >= NPS_PROMOTER
            self.nps_detractors += nps <= NPS_DETRACTOR
        return self

    def merge(self, other: QualityTally) -> QualityTally:
        """Add `other` into this tally; returns self."""
        # Spelt out: every committed batch merges each contact's tally three times, and a
        # loop of getattr/setattr over the names cost five times this.
        self.firsts += other.firsts
        self.repeats += other.repeats
        self.surveys_sent += other.surveys_sent
        self.answers += other.answers
        self.csat_good += other.csat_good
        self.nps_answers += other.nps_answers
        self.nps_promoters += other.nps_promoters
        self.nps_detractors += other.nps_detractors
        return self

    def values(self) -> tuple[int, ...]:
        return tuple(getattr(self, name) for name in QUALITY_COUNTERS)

    def __bool__(self) -> bool:
        return any(self.values())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, QualityTally):
            return NotImplemented
        return self.values() == other.values()

    def __repr__(self) -> str:
        fields = ", ".join(f"{n}={getattr(self, n)}" for n in QUALITY_COUNTERS)
        return f"QualityTally({fields})"


def _ratio(part: float, whole: float) -> float | None:
    return part / whole if whole > 0 else None


def quality_figures(q: QualityTally | None) -> dict[str, float | None]:
    """The five quality FIGURES of `q` (None: nothing counted): ratios 0..1, nps in points."""
    if q is None:
        return dict.fromkeys(QUALITY_FIGURES)
    nps = None
    if q.nps_answers:
        nps = 100.0 * (q.nps_promoters - q.nps_detractors) / q.nps_answers
    repeats_of_firsts = _ratio(q.repeats, q.firsts)
    return {
        "csat": _ratio(q.csat_good, q.answers),
        "nps": nps,
        "survey_response_rate": _ratio(q.answers, q.surveys_sent),
        "repeat_rate": _ratio(q.repeats, q.firsts + q.repeats),
        "first_contact_resolution": None if repeats_of_firsts is None else 1 - repeats_of_firsts,
    }


def sampled(contact_id: str, share: float) -> bool:
    """Whether a completed contact is in the survey sample: a hash of its id against `share`,
    so the same contact gets the same answer however often its batch is written."""
    if share >= 1:
        return True
    if share <= 0:
        return False
    digest = hashlib.blake2b(contact_id.encode(), digest_size=8).digest()
    return int.from_bytes(digest) / 2**64 < share


class LiveQuality:
    """Today's quality tally and the last quarter hour's, by minute (the line's queue side).

    `add(at, tally)` after each commit that counted something at `at`; `tallies(now)` gives
    (today, last 15 minutes), as `LiveView.tallies` does for the service figures; today is the
    local day of the line's zone `tz`."""

    __slots__ = ("_day", "_minutes", "_today", "tz", "version")

    WINDOW_MIN = 15

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz
        self._day = (-math.inf, -math.inf)
        self._today = QualityTally()
        self._minutes: dict[float, QualityTally] = {}
        self.version = 0

    def day_bounds(self, at: float) -> tuple[float, float]:
        """The local day holding `at`: (its midnight, the next one)."""
        return _local_day(at, self.tz)

    def restore(
        self, *, today: QualityTally, minutes: dict[float, QualityTally], day: tuple[float, float]
    ) -> None:
        """Start from what the store counted: the day `day`'s tally and the window's minutes."""
        self._today, self._minutes, self._day = today, dict(minutes), day
        self.version += 1

    def add(self, at: float, tally: QualityTally) -> None:
        if not tally:
            return
        if not self._day[0] <= at < self._day[1]:
            if at < self._day[0]:
                return  # a day already left behind: in no live figure
            self._day = self.day_bounds(at)
            self._today = QualityTally()
        self._today.merge(tally)
        minute = at - at % 60
        self._minutes.setdefault(minute, QualityTally()).merge(tally)
        self.version += 1

    def tallies(self, now: float) -> tuple[QualityTally, QualityTally]:
        since = now - now % 60 - (self.WINDOW_MIN - 1) * 60
        for minute in [m for m in self._minutes if m < since]:
            del self._minutes[minute]
        window = QualityTally()
        for t in self._minutes.values():
            window.merge(t)
        today = QualityTally() if now >= self._day[1] else QualityTally().merge(self._today)
        return today, window


def _local_day(at: float, tz: ZoneInfo) -> tuple[float, float]:
    # As hotline.kpi.live.local_day, which imports the tally module that imports this one.
    day = datetime.fromtimestamp(at, tz).date()
    start = datetime.combine(day, time(), tz).timestamp()
    end = datetime.combine(day + timedelta(days=1), time(), tz).timestamp()
    return start, end
