"""The certification journal: supervisors record theory tests and practical exams; the operator's
certification is derived from it (`hotline.domain.certification`) and handed to the router at
once, so a new entry renews or ends routing to that operator without waiting for anything else.

Writes to one operator's journal take turns (a lock per operator, also held by a profile PUT
that imports a typed date): each commits the entry with the derived date beside the profile,
then tells the router, so the router always ends with the date of the last commit. A crash in
between loses nothing: start-up rebuilds the router from the committed date.

The typed `certified_until` of `PUT /v1/operators/{id}` is accepted only as an import of history:
a date that differs from the latest import becomes an `imported` entry (`plan_import`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from hotline.domain.certification import (
    EXAM_KINDS,
    IMPORTED,
    Entry,
    certified_instant,
    certified_until,
    latest_import,
)
from hotline.domain.errors import Conflict, Invalid, NotFound
from hotline.services import Services
from hotline.services.auth import Principal, Role
from hotline.store import Tx
from hotline.store.certifications import (
    JournalRow,
    NewEntry,
    add_entry,
    certified_between,
    entry_by_id,
    journal_of,
    set_certified_until,
)
from hotline.store.events import load_operators

LOCK_SCOPE = "certification"
CLOCK_SKEW_S = 300.0  # a test "taken" a little ahead of the server's clock is still accepted
MAX_WITHIN_DAYS = 366


@dataclass(frozen=True, slots=True)
class ExamResult:
    kind: str  # theory | practical
    score: float
    max_score: float
    examiner: str
    taken_at: float
    recommendations: str | None = None
    corrects: int | None = None


@dataclass(frozen=True, slots=True)
class Journal:
    operator_id: str
    entries: list[JournalRow]
    certified_until: date | None  # the last day
    lapses_at: float | None  # the instant routing stops (end of that day, line's zone)
    certified: bool


@dataclass(frozen=True, slots=True)
class Lapsing:
    operator_id: str
    name: str
    certified_until: date
    lapses_at: float
    days_left: int


@asynccontextmanager
async def journal_turn(sv: Services, operator_id: str) -> AsyncIterator[None]:
    """Hold while reading, committing and routing one change of `operator_id`'s journal."""
    async with sv.key_locks.hold(LOCK_SCOPE, operator_id):
        yield


def plan_import(
    sv: Services, entries: Sequence[JournalRow], typed: date | None
) -> tuple[date | None, date | None]:
    """(the date to import, or None; the operator's last certified day with it). A typed date
    that is the last import, or the date the journal already gives (a profile read and written
    back unchanged), imports nothing: importing the derived date would pin it against later
    corrections of the exams it came from."""
    rules = sv.settings.certification.journal_rules()
    tz = sv.settings.timezone
    mine = [e.entry() for e in entries]
    unchanged = (latest_import(mine), certified_until(mine, rules, tz))
    imported = typed if typed is not None and typed not in unchanged else None
    if imported is not None:
        mine.append(Entry(max((e.id for e in mine), default=0) + 1, IMPORTED, True, 0.0, imported))
    return imported, certified_until(mine, rules, tz)


def imported_entry(operator_id: str, day: date, caller: Principal, at: float) -> NewEntry:
    return NewEntry(operator_id, IMPORTED, True, at, caller.name, valid_until=day)


async def record(
    sv: Services, caller: Principal, operator_id: str, result: ExamResult
) -> JournalRow:
    """Add a test or exam to the journal (supervisor); the router learns the new date at once."""
    caller.require(Role.SUPERVISOR)
    now = sv.clock.now()
    _check_result(result, now)
    rules = sv.settings.certification.journal_rules()
    tz = sv.settings.timezone
    new = NewEntry(
        operator_id,
        result.kind,
        rules.passed(result.kind, result.score, result.max_score),
        result.taken_at,
        caller.name,
        score=result.score,
        max_score=result.max_score,
        examiner=result.examiner,
        recommendations=result.recommendations,
        corrects=result.corrects,
    )

    async def work(tx: Tx) -> tuple[JournalRow, date | None, bool]:
        operator = await load_operators(tx, operator_id=operator_id)
        if not operator:
            raise NotFound(f"no operator {operator_id}")
        if result.corrects is not None:
            await _check_correction(tx, operator_id, result.corrects)
        entry_id = await add_entry(tx, new, at=now)
        entries = await journal_of(tx, operator_id)
        until = certified_until((e.entry() for e in entries), rules, tz)
        changed = until != operator[0].profile.certified_until
        if changed:
            await set_certified_until(tx, operator_id, until, at=now, why=f"entry {entry_id}")
        row = next(e for e in entries if e.id == entry_id)
        return row, until, changed

    async with journal_turn(sv, operator_id):
        row, until, changed = await sv.store.transact(work)
        if changed:
            await sv.router.certify(operator_id, certified_instant(until, tz))
    return row


async def journal(sv: Services, caller: Principal, operator_id: str) -> Journal:
    """Every entry of the operator's journal and what it gives (supervisor, or the operator)."""
    caller.may_see_operator(operator_id)

    async def work(tx: Tx) -> tuple[bool, list[JournalRow]]:
        found = await load_operators(tx, operator_id=operator_id)
        return bool(found), await journal_of(tx, operator_id)

    exists, entries = await sv.store.read(work)
    if not exists:
        raise NotFound(f"no operator {operator_id}")
    rules = sv.settings.certification.journal_rules()
    tz = sv.settings.timezone
    until = certified_until((e.entry() for e in entries), rules, tz)
    lapses_at = certified_instant(until, tz)
    certified = lapses_at is not None and sv.clock.now() < lapses_at
    return Journal(operator_id, entries, until, lapses_at, certified)


async def expiring(sv: Services, caller: Principal, within_days: int) -> list[Lapsing]:
    """Operators still certified whose certification ends within `within_days` days."""
    caller.require(Role.SUPERVISOR)
    if not 0 <= within_days <= MAX_WITHIN_DAYS:
        raise Invalid(f"0 to {MAX_WITHIN_DAYS}", field="within_days")
    return await lapsing_within(sv, within_days)


async def lapsing_within(sv: Services, days: int) -> list[Lapsing]:
    tz = sv.settings.timezone
    now = sv.clock.now()
    today = datetime.fromtimestamp(now, tz).date()
    rows = await sv.store.read(lambda tx: certified_between(tx, today, today + timedelta(days)))
    found = []
    for operator_id, name, until in rows:
        lapses_at = certified_instant(until, tz)
        assert lapses_at is not None
        if lapses_at > now:
            found.append(Lapsing(operator_id, name, until, lapses_at, (until - today).days))
    return found


def _check_result(result: ExamResult, now: float) -> None:
    if result.kind not in EXAM_KINDS:
        raise Invalid(f"one of {', '.join(EXAM_KINDS)}", field="kind")
    if result.max_score <= 0:
        raise Invalid("more than 0", field="max_score")
    if not 0 <= result.score <= result.max_score:
        raise Invalid("from 0 to max_score", field="score")
    if result.taken_at > now + CLOCK_SKEW_S:
        raise Invalid("a test cannot be taken in the future", field="taken_at")
    if result.taken_at < 0:
        raise Invalid("a test taken after 1970", field="taken_at")


async def _check_correction(tx: Tx, operator_id: str, corrected: int) -> None:
    target = await entry_by_id(tx, corrected)
    if target is None or target.operator_id != operator_id:
        raise Invalid(f"no entry {corrected} in this operator's journal", field="corrects")
    if target.corrected_by is not None:
        raise Conflict(
            f"entry {corrected} is already corrected by entry {target.corrected_by}: "
            "correct that one",
            field="corrects",
        )
