"""Start-up of the KPI rollups: the journal's recorder loaded from the store, and the rollups
counted again from the event tables when the rules they were counted with have changed.

`open_kpi` is called by the composition root after the store has started and before recovery
records its restart events. The counters depend on the service-level thresholds, the short
abandon, the interval and the time zone (`CountedWith`); a start with other values than those
recorded (or none recorded: a database from before migration 0012) replays every contact and
operator event through a fresh tracker into fresh rollups, a window of history per transaction,
and records the rules last. A crash in the middle leaves no record, so the next start does it
all again; the log says when a rebuild starts and how long it took. The quality rollup
(`kpi_quality`) is kept by the same interval and days, so it is counted again with them, from
the contacts, their events and the surveys (hotline/store/quality_rebuild.py): each window's
arrivals and completions in the transaction of its other rows, then the surveys.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from hotline.jsonlog import log_event
from hotline.kpi import KpiRules, KpiTracker
from hotline.kpi.facts import Fact
from hotline.routing.model import (
    Accepted,
    Breached,
    Channel,
    ContactState,
    Ended,
    Enqueued,
    Event,
    OperatorChanged,
    OperatorState,
)
from hotline.store.actor import StoreHandle
from hotline.store.quality_rebuild import (
    survey_id_span,
    write_contacts_between,
    write_surveys_from,
)
from hotline.store.rollups import (
    CountedWith,
    KpiRecorder,
    LocalDays,
    RollupRows,
    clear_rollups,
    count_facts,
    counting_rules,
    load_tracker,
    operator_state_rows,
    read_counted_with,
    rows_of,
    save_counted_with,
    write_operator_states,
    write_rows,
)
from hotline.store.tx import Tx

log = logging.getLogger(__name__)

WINDOW_S = 6 * 3600  # history replayed per transaction: bounded memory, short lock holds

_CONTACT_KINDS = "('enqueued', 'accepted', 'breached', 'ended')"  # those the tracker reads


async def open_kpi(
    store: StoreHandle, rules: KpiRules, *, now: float, keep_minutes_s: float
) -> KpiRecorder:
    """The journal's recorder with its tracker as the last commit left it; the rollups are
    counted again first if they were counted with other rules (minute rows only for the last
    `keep_minutes_s`: older ones are purged anyway)."""
    wanted = CountedWith.of(rules)
    found = await store.read(read_counted_with)
    changed = wanted.differences(found)
    if changed:
        log_event(log, "kpi.rollups_rebuilding", changed=changed)
        started = time.monotonic()
        events = await rebuild_rollups(store, rules, minute_since=now - keep_minutes_s)
        seconds = round(time.monotonic() - started, 3)
        log_event(log, "kpi.rollups_rebuilt", changed=changed, events=events, seconds=seconds)
    return KpiRecorder(await store.read(load_tracker), rules)


async def rebuild_rollups(store: StoreHandle, rules: KpiRules, *, minute_since: float) -> int:
    """Count every recorded event again into empty rollups; how many events were replayed.
    Also leaves the tracker's view of the operators in their rows (a database from before
    0012 has none) and records the rules last."""
    await store.transact(clear_rollups)
    tracker = KpiTracker()
    days = LocalDays(rules.tz)
    replayed = 0
    for lo, hi in _windows(await store.read(_event_span)):
        events = await store.read(_events_between(lo, hi))
        replayed += len(events)
        facts: list[Fact] = []
        tracker.feed_all(events, facts.append)
        counting = counting_rules(rules, facts, minutes=hi > minute_since)
        rows = rows_of(
            count_facts(counting, facts), rules.interval_s, days, minute_since=minute_since
        )
        # The window's quality counts (its arrivals and completions) in the same transaction.
        await store.transact(_writing(rows, lo, hi, rules.interval_s, days, minute_since))
    for first in await store.read(survey_id_span):  # the survey invitations and answers
        await store.transact(_writing_surveys(first, rules.interval_s, days, minute_since))
    operators = operator_state_rows(tracker.open_operators())

    async def finish(tx: Tx) -> None:
        await write_operator_states(tx, operators)
        await save_counted_with(tx, CountedWith.of(rules))

    await store.transact(finish)
    return replayed


def _events_between(lo: float, hi: float) -> Callable[[Tx], Awaitable[list[Event]]]:
    return lambda tx: events_between(tx, lo, hi)


def _writing(
    rows: RollupRows, lo: float, hi: float, interval_s: int, days: LocalDays, minute_since: float
) -> Callable[[Tx], Awaitable[None]]:
    async def work(tx: Tx) -> None:
        await write_rows(tx, rows)
        await write_contacts_between(tx, lo, hi, interval_s, days, minute_since=minute_since)

    return work


def _writing_surveys(
    first: int, interval_s: int, days: LocalDays, minute_since: float
) -> Callable[[Tx], Awaitable[None]]:
    return lambda tx: write_surveys_from(tx, first, interval_s, days, minute_since=minute_since)


async def _event_span(tx: Tx) -> tuple[float, float] | None:
    r = await tx.fetchone(
        "SELECT min(lo) AS lo, max(hi) AS hi FROM ("
        " SELECT min(at) AS lo, max(at) AS hi FROM contact_events"
        " UNION ALL SELECT min(at), max(at) FROM operator_events WHERE kind = 'state_changed'"
        " UNION ALL SELECT min(answered_at), max(answered_at) FROM surveys)"
    )
    if r is None or r["lo"] is None:
        return None
    return float(r["lo"]), float(r["hi"])


def _windows(span: tuple[float, float] | None) -> Iterator[tuple[float, float]]:
    if span is None:
        return
    lo = math.floor(span[0] / WINDOW_S) * WINDOW_S
    while lo <= span[1]:
        yield lo, lo + WINDOW_S
        lo += WINDOW_S


async def events_between(tx: Tx, lo: float, hi: float) -> list[Event]:
    """The events the tracker reads, recorded at `lo <= at < hi`, in the order it reads them:
    by time, a contact's events before an operator's of the same instant (a completion before
    the wrap-up it starts), each table in the order it was written."""
    contacts = await tx.fetchall(
        "SELECT id, contact_id, at, kind, operator_id, data FROM contact_events"
        f" WHERE at >= ? AND at < ? AND kind IN {_CONTACT_KINDS} ORDER BY at, id",
        (lo, hi),
    )
    operators = await tx.fetchall(
        "SELECT id, operator_id, at, data FROM operator_events"
        " WHERE at >= ? AND at < ? AND kind = 'state_changed' ORDER BY at, id",
        (lo, hi),
    )
    keyed: list[tuple[float, int, int, Event]] = [
        (r["at"], 0, r["id"], _contact_event(r)) for r in contacts
    ]
    keyed.extend((r["at"], 1, r["id"], _operator_event(r)) for r in operators)
    keyed.sort(key=lambda k: k[:3])
    return [k[3] for k in keyed]


def _contact_event(r: Any) -> Event:
    d = json.loads(r["data"])
    cid, at, kind = r["contact_id"], r["at"], r["kind"]
    if kind == "enqueued":
        return Enqueued(
            cid,
            at,
            Channel(d["channel"]),
            d["topic"],
            d.get("language", ""),
            d["priority"],
            d["arrived_at"],
            d.get("target_at", d["deadline_at"]),
            d["deadline_at"],
        )
    if kind == "accepted":
        return Accepted(cid, r["operator_id"], at, d.get("waited_s", 0.0))
    if kind == "breached":
        return Breached(cid, at, d.get("priority", ""), d.get("deadline_at", at))
    return Ended(cid, at, ContactState(d["state"]), r["operator_id"], d.get("transferred_to"))


def _operator_event(r: Any) -> Event:
    d = json.loads(r["data"])
    return OperatorChanged(
        r["operator_id"], r["at"], OperatorState(d["state"]), d.get("reason", "")
    )
