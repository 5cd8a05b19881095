"""The callback rules of a voicemail, pure: when a callback is due, what follows an attempt, and
the one-hour compliance of a set of voicemails per local day.

Called by the voicemail service and watcher (which pass the working calendar and `now` in) and by
the compliance endpoint. No clock, no I/O.

- A callback contact is due (`deadline_at`) once `callback_within_s` of the voice line's working
  time has passed since it arrived, and may overflow to the fallback desks (`target_at`) once
  `overflow_after_s` has: by default half the hour, so the wider pool still has half an hour to
  keep the promise. A retry is a new contact with the same rule counted from its own due time:
  the promise to a citizen is "called within a working hour of being due", whichever attempt.
- An attempt that reaches the citizen completes the voicemail. One that does not is retried
  `retry_delay_s` (wall time) later until `max_attempts` contacts were made; then the voicemail
  is closed and the citizen asked by SMS to call again.
- Compliance counts a voicemail on the local day it arrived: called back within the hour when an
  operator accepted its first callback contact no later than that contact's deadline.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Protocol
from zoneinfo import ZoneInfo

from hotline.domain.errors import Invalid
from hotline.schedule.rules import ScheduleChannel

MAX_COMPLIANCE_DAYS = 366
CALLBACK_SKILL = "callback"  # SPEC: a callback needs this skill besides its topic's


class VoicemailState(StrEnum):
    CALLING = "calling"  # a callback contact is live
    RETRY_WAIT = "retry_wait"  # the last attempt did not reach the citizen; another is due
    COMPLETED = "completed"  # reached
    CLOSED = "closed"  # attempts exhausted; the citizen was asked to call again


class AttemptOutcome(StrEnum):
    REACHED = "reached"
    NOT_REACHED = "not_reached"


class WorkingTime(Protocol):
    """What the policy needs of `hotline.schedule.WorkingCalendar`."""

    def add_working_time(self, channel: ScheduleChannel, at: float, seconds: float) -> float: ...


@dataclass(frozen=True, slots=True)
class CallbackPolicy:
    callback_within_s: float  # working time of the voice line
    overflow_after_s: float  # working time; at most callback_within_s
    retry_delay_s: float  # wall time
    max_attempts: int

    def __post_init__(self) -> None:
        if not 0 < self.overflow_after_s <= self.callback_within_s:
            raise Invalid("overflow must come after arrival and by the deadline")
        if self.retry_delay_s < 0 or self.max_attempts < 1:
            raise Invalid("a retry delay is >= 0 and there is at least one attempt")


@dataclass(frozen=True, slots=True)
class CallbackTimes:
    arrived_at: float
    target_at: float
    deadline_at: float


def callback_times(policy: CallbackPolicy, hours: WorkingTime, arrived_at: float) -> CallbackTimes:
    """When a callback contact that became due at `arrived_at` may overflow, and is late."""
    voice = ScheduleChannel.VOICE
    return CallbackTimes(
        arrived_at=arrived_at,
        target_at=hours.add_working_time(voice, arrived_at, policy.overflow_after_s),
        deadline_at=hours.add_working_time(voice, arrived_at, policy.callback_within_s),
    )


@dataclass(frozen=True, slots=True)
class Completed:
    pass


@dataclass(frozen=True, slots=True)
class Retry:
    attempt: int  # the number of the attempt to make
    due_at: float


@dataclass(frozen=True, slots=True)
class Closed:
    pass


Decision = Completed | Retry | Closed


def after_attempt(
    policy: CallbackPolicy, attempt: int, outcome: AttemptOutcome, now: float
) -> Decision:
    """What follows attempt number `attempt` (1-based) reported with `outcome` at `now`."""
    if outcome is AttemptOutcome.REACHED:
        return Completed()
    if attempt >= policy.max_attempts:
        return Closed()
    return Retry(attempt + 1, now + policy.retry_delay_s)


def state_after(decision: Decision) -> VoicemailState:
    if isinstance(decision, Completed):
        return VoicemailState.COMPLETED
    if isinstance(decision, Retry):
        return VoicemailState.RETRY_WAIT
    return VoicemailState.CLOSED


# -- one-hour compliance ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FirstCallback:
    """A voicemail's first callback contact, as compliance needs it."""

    arrived_at: float
    deadline_at: float
    accepted_at: float | None


@dataclass(frozen=True, slots=True)
class DayCompliance:
    day: date
    voicemails: int
    within_hour: int
    late: int
    pending: int  # neither taken yet nor past the hour

    @property
    def share(self) -> float | None:
        """Called back within the hour among those decided; None when none is."""
        decided = self.within_hour + self.late
        return None if decided == 0 else self.within_hour / decided


def compliance_period(tz: ZoneInfo, first: date, last: date) -> tuple[float, float]:
    """The instants [start, end) that the local days `first`..`last` cover."""
    if last < first:
        raise Invalid("`to` is before `from`", field="to")
    if (last - first).days >= MAX_COMPLIANCE_DAYS:
        raise Invalid(f"ask for at most {MAX_COMPLIANCE_DAYS} days at once", field="to")
    start = datetime.combine(first, time(), tz).timestamp()
    end = datetime.combine(last + timedelta(days=1), time(), tz).timestamp()
    return start, end


def compliance_by_day(
    callbacks: Iterable[FirstCallback], tz: ZoneInfo, first: date, last: date, *, now: float
) -> list[DayCompliance]:
    """One row per local day `first`..`last`, zeros included, in date order."""
    counts: dict[date, list[int]] = {
        first + timedelta(days=i): [0, 0, 0, 0] for i in range((last - first).days + 1)
    }
    for c in callbacks:
        row = counts.get(datetime.fromtimestamp(c.arrived_at, tz).date())
        if row is None:
            continue
        row[0] += 1
        if c.accepted_at is not None and c.accepted_at <= c.deadline_at:
            row[1] += 1
        elif c.accepted_at is None and now < c.deadline_at:
            row[3] += 1
        else:
            row[2] += 1
    return [DayCompliance(day, *row) for day, row in counts.items()]
