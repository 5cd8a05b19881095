"""The quality rollup (`kpi_quality`) counted again from its sources, for the KPI rebuild.

`kpi_quality` is kept per minute, `[kpi]` interval and local day like the other rollups, so when
`hotline.store.kpi_rebuild` counts those again (the interval or the time zone changed) it counts
this one again too, with the recorder's own counting (`QualityCounts`, hotline/store/quality.py)
applied to what the journal and the survey service left behind:
- a new contact, at its first `enqueued` event, as that event's queue, a repeat if the contact
  records `repeat_of`, credited to the operator the recorder credits (`CREDITED`: the one the
  earlier contact's events had left it with when the repeat arrived);
- a completed contact, at its `ended` event, a first contact resolved by its operator;
- a survey invitation at `created_at` and its answer at `answered_at`, from the `surveys` row.
Contacts are counted a window of event history per transaction (the rebuild's windows), the
surveys a range of ids per transaction; the upserts add up, so the cut does not matter.
"""

from __future__ import annotations

import json
from typing import Any

from hotline.store.quality import CREDITED, FIRST_ENQUEUED, QualityCounts, write_counts
from hotline.store.rollups import LocalDays
from hotline.store.tx import Tx

SURVEYS_PER_TX = 20_000

_ARRIVALS = f"""
SELECT x.at, x.data, c.repeat_of, ({CREDITED}) AS credited
  FROM contact_events AS x JOIN contacts AS c ON c.id = x.contact_id
 WHERE x.at >= :lo AND x.at < :hi AND {FIRST_ENQUEUED}
"""
_COMPLETIONS = """
SELECT x.at, COALESCE(x.operator_id, c.operator_id) AS operator_id, c.repeat_of
  FROM contact_events AS x JOIN contacts AS c ON c.id = x.contact_id
 WHERE x.at >= :lo AND x.at < :hi AND x.kind = 'ended' AND x.data ->> '$.state' = 'completed'
"""
_SURVEYS = """
SELECT created_at, answered_at, csat, nps, topic, priority, channel, operator_id
  FROM surveys WHERE id >= :lo AND id < :hi
"""


async def count_contacts_between(tx: Tx, lo: float, hi: float) -> QualityCounts:
    """The arrivals and completions recorded at `lo <= at < hi`."""
    counts = QualityCounts()
    window = {"lo": lo, "hi": hi}
    for r in await tx.fetchall(_ARRIVALS, window):
        d = json.loads(r["data"])
        repeat = r["repeat_of"] is not None
        counts.arrival(
            r["at"], d["topic"], d["priority"], d["channel"], repeat=repeat, of=r["credited"]
        )
    for r in await tx.fetchall(_COMPLETIONS, window):
        counts.completion(r["at"], r["operator_id"], repeat_of=r["repeat_of"])
    return counts


async def count_surveys_between(tx: Tx, lo: int, hi: int) -> QualityCounts:
    """The invitations and answers of the surveys with `lo <= id < hi`."""
    counts = QualityCounts()
    for r in await tx.fetchall(_SURVEYS, {"lo": lo, "hi": hi}):
        queue: tuple[Any, ...] = (r["topic"], r["priority"], r["channel"], r["operator_id"])
        counts.invitation(r["created_at"], *queue)
        if r["answered_at"] is not None:
            counts.answer(r["answered_at"], *queue, csat=r["csat"], nps=r["nps"])
    return counts


async def survey_id_span(tx: Tx) -> range:
    """The id ranges to count the surveys in, one transaction each."""
    r = await tx.fetchone("SELECT min(id) AS lo, max(id) AS hi FROM surveys")
    if r is None or r["lo"] is None:
        return range(0)
    return range(int(r["lo"]), int(r["hi"]) + 1, SURVEYS_PER_TX)


async def write_contacts_between(
    tx: Tx, lo: float, hi: float, interval_s: int, days: LocalDays, *, minute_since: float
) -> None:
    counts = await count_contacts_between(tx, lo, hi)
    await write_counts(tx, counts, interval_s, days, minute_since=minute_since)


async def write_surveys_from(
    tx: Tx, lo: int, interval_s: int, days: LocalDays, *, minute_since: float
) -> None:
    counts = await count_surveys_between(tx, lo, lo + SURVEYS_PER_TX)
    await write_counts(tx, counts, interval_s, days, minute_since=minute_since)
