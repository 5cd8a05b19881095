"""Repeat contacts and survey invitations, written in the journal's transaction; the quality rollup.

The journal (hotline/journal.py) owns one `QualityRecorder`. For each batch of router events it
calls `new_contacts(tx, batch)` before the events are written (which `Enqueued` contacts the
store has never seen: a restored contact is enqueued again at a restart and is not new) and
`write(tx, batch, new)` after them, in the same transaction. So:
- a new contact gets its `repeat_of` (the latest earlier contact from the same phone, or one
  verified as the citizen whose registered phone this is, on the same topic, arrived at most
  `repeat_window_s` before it; a chat switched to a call is not a repeat of itself);
- a voice, chat or callback contact completed with a mobile phone that has not opted out, and
  in the sample, gets one survey (UNIQUE per contact) and one SMS in the outbox (dedupe key
  `survey:<contact id>`), asking NPS too unless that phone was asked it within `nps_every_s`;
- both are counted into `kpi_quality` (hotline.kpi.quality says what each counter is), by
  `QualityCounts`, which hotline/store/quality_rebuild.py uses too when the KPI rebuild counts
  the rollup again (a changed `[kpi]` interval or time zone).
Everything is worked out from the events and the tables inside the transaction, so a batch that
fails and is written again does it all again from scratch: nothing doubles, nothing is lost.

`answer_survey` (the survey service's) and `opt_out` write the citizen's side (a comment goes
to the feedback table through `hotline.store.feedback.add_feedback`, sorted by theme there);
`read_quality` serves the period reports, `load_live_quality` the live view's start.
"""

from __future__ import annotations

import json
import math
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from hotline.domain.phones import is_russian_mobile
from hotline.kpi.quality import QUALITY_COUNTERS, LiveQuality, QualityTally, sampled
from hotline.routing.model import ContactState, Ended, Enqueued, Event
from hotline.store.events import ContactNote
from hotline.store.feedback import FeedbackSource, add_feedback
from hotline.store.outbox import MessageKind, NewMessage, enqueue_messages
from hotline.store.rollups import LocalDays
from hotline.store.tx import Rows, Tx
from hotline.voicemail.policy import AttemptOutcome

SURVEYED_CHANNELS = ("voice", "chat", "callback")
NO_GROUP = ""  # the side a row is not of: operator_id on the queue side, the rest on the other
MINUTE_S = 60

QualityKey = tuple[str, int, str, str, str, str]  # grain, start, topic, priority, channel, op
LineCount = tuple[float, str, str, str, QualityTally]  # at, topic, priority, channel, tally

_COLUMNS = ("grain", "start", "topic", "priority", "channel", "operator_id", *QUALITY_COUNTERS)
_UPSERT = Rows(
    f"INSERT INTO kpi_quality ({', '.join(_COLUMNS)})",
    width=len(_COLUMNS),
    tail="ON CONFLICT (grain, start, topic, priority, channel, operator_id) DO UPDATE SET "
    + ", ".join(f"{c} = {c} + excluded.{c}" for c in QUALITY_COUNTERS),
)

_IDS = "(SELECT value FROM json_each(:ids))"
_SEEN = f"SELECT id FROM contacts WHERE id IN {_IDS}"
# The earlier contact each new one repeats (see the module's docstring).
_EARLIER = """
    e.topic = n.topic AND e.seq < n.seq
    AND e.arrived_at >= n.arrived_at - :window AND e.arrived_at <= n.arrived_at
    AND (e.transferred_to IS NULL OR e.transferred_to <> n.id)
"""
_LATEST = "ORDER BY e.arrived_at DESC, e.seq DESC LIMIT 1"
# Each side takes its own latest first (seq is unique, so the latest of the two latests is the
# latest of all): the phone's side then walks `contacts_phone_topic` backwards from the new
# contact's arrival and stops at the first earlier one, instead of sorting every contact of
# that phone and topic in the window (a cost that grew with the queue: 41 SQLite steps with
# none, 1,567 with 10,000 contacts over the bench's 64 phones; now about 240 at any depth).
_SET_REPEAT_OF = f"""
UPDATE contacts AS n SET repeat_of = (
  SELECT id FROM (
    SELECT * FROM (
      SELECT e.id, e.arrived_at, e.seq FROM contacts AS e
       WHERE e.phone = n.phone AND {_EARLIER} {_LATEST})
    UNION ALL
    SELECT * FROM (
      SELECT e.id, e.arrived_at, e.seq FROM citizens AS c
        JOIN identity_checks AS ic ON ic.citizen_id = c.id AND ic.verified = 1
        JOIN contacts AS e ON e.id = ic.contact_id
       WHERE c.phone = n.phone AND {_EARLIER} {_LATEST})
  ) ORDER BY arrived_at DESC, seq DESC LIMIT 1)
 WHERE n.id IN {_IDS} AND n.phone IS NOT NULL
"""
# What it set, as one row (a JSON object by id) rather than a row per contact: on SQLite's
# thread each row read is a step that gives the GIL away (see `hotline.store.tx.Rows`).
_REPEAT_OF_SET = f"""
SELECT json_group_object(id, repeat_of) FROM contacts WHERE id IN {_IDS} AND phone IS NOT NULL
"""
# The operator credited with a repeat (`c`, at its first `enqueued` event `x`): the one the
# earlier contact's row held just before, as its events left it (an enqueue or a withdrawn offer
# clears it; an end without one keeps it). Worked out from the event log rather than the row,
# so that it does not depend on where the journal's batches were cut, and a rebuild
# (hotline/store/quality_rebuild.py) finds it again.
CREDITED = """
SELECT CASE WHEN p.kind IN ('enqueued', 'offer_withdrawn') THEN NULL ELSE p.operator_id END
  FROM contact_events AS p
 WHERE p.contact_id = c.repeat_of AND p.id < x.id
   AND (p.kind IN ('enqueued', 'offered', 'offer_withdrawn', 'accepted')
        OR (p.kind = 'ended' AND p.operator_id IS NOT NULL))
 ORDER BY p.id DESC LIMIT 1
"""
# A contact's first `enqueued` event (a restored contact is enqueued again at a restart).
FIRST_ENQUEUED = """
x.kind = 'enqueued' AND NOT EXISTS (
  SELECT 1 FROM contact_events AS f
   WHERE f.contact_id = x.contact_id AND f.kind = 'enqueued' AND f.id < x.id)
"""
_CREDITED_FOR = f"""
SELECT json_group_object(id, credited) FROM (
SELECT c.id, ({CREDITED}) AS credited
  FROM contacts AS c JOIN contact_events AS x ON x.contact_id = c.id
 WHERE c.id IN {_IDS} AND c.repeat_of IS NOT NULL AND {FIRST_ENQUEUED})
"""
# The completed contacts, whether their phone opted out and when it was last asked NPS.
_COMPLETED = f"""
SELECT c.id, c.channel, c.topic, c.priority, c.phone, c.operator_id, c.repeat_of, c.outcome,
       EXISTS (SELECT 1 FROM survey_opt_outs AS o WHERE o.phone = c.phone) AS opted_out,
       (SELECT max(s.created_at) FROM surveys AS s
         WHERE s.ask_nps = 1 AND s.phone = c.phone) AS nps_at
  FROM contacts AS c WHERE c.id IN {_IDS}
"""
_INSERT_SURVEY = """
INSERT OR IGNORE INTO surveys (code, contact_id, phone, topic, priority, channel, operator_id,
                               ask_nps, created_at, expires_at)
VALUES (:code, :contact_id, :phone, :topic, :priority, :channel, :operator_id, :ask_nps, :at,
        :expires_at)
"""
_CODES = f"SELECT contact_id, code FROM surveys WHERE contact_id IN {_IDS}"


@dataclass(frozen=True, slots=True)
class QualityRules:
    """What the recorder needs of `[surveys]`, `[quality]` and `[kpi]`."""

    repeat_window_s: float
    surveys: bool
    share: float
    link_base: str
    sms_text: str
    code_length: int
    alphabet: str
    expire_s: float
    nps_every_s: float
    interval_s: int
    days: LocalDays

    def new_code(self) -> str:
        return "".join(secrets.choice(self.alphabet) for _ in range(self.code_length))


@dataclass(slots=True)
class QualityCounts:
    """What one transaction counted: tallies by rollup group, keyed by (instant, topic,
    priority, channel, operator id) with `NO_GROUP` for the side it is not of."""

    tallies: dict[tuple[float, str, str, str, str], QualityTally] = field(default_factory=dict)

    def at(self, at: float, topic: str, priority: str, channel: str, op: str) -> QualityTally:
        key = (at, topic, priority, channel, op)
        t = self.tallies.get(key)
        if t is None:
            t = self.tallies[key] = QualityTally()
        return t

    # What each happening counts, on the queue side and on its operator's: the journal's and
    # the survey service's counting, and the rebuild's (hotline/store/quality_rebuild.py).

    def arrival(
        self, at: float, topic: str, priority: str, channel: str, *, repeat: bool, of: str | None
    ) -> None:
        """A new contact; a repeat is also counted to `of`, the operator whose contact came
        back (when it had one)."""
        self.at(at, topic, priority, channel, NO_GROUP).count_contact(repeat=repeat)
        if repeat and of is not None:
            self.at(at, NO_GROUP, NO_GROUP, NO_GROUP, of).count_contact(repeat=True)

    def completion(self, at: float, operator_id: str | None, *, repeat_of: str | None) -> None:
        """A completed contact: a first contact its operator resolved."""
        if operator_id is not None and repeat_of is None:
            self.at(at, NO_GROUP, NO_GROUP, NO_GROUP, operator_id).count_contact(repeat=False)

    def invitation(
        self, at: float, topic: str, priority: str, channel: str, operator_id: str | None
    ) -> None:
        """A survey SMS put in the outbox."""
        self.at(at, topic, priority, channel, NO_GROUP).surveys_sent += 1
        if operator_id is not None:
            self.at(at, NO_GROUP, NO_GROUP, NO_GROUP, operator_id).surveys_sent += 1

    def answer(
        self,
        at: float,
        topic: str,
        priority: str,
        channel: str,
        operator_id: str | None,
        *,
        csat: int,
        nps: int | None,
    ) -> None:
        """A citizen's answer to a survey."""
        self.at(at, topic, priority, channel, NO_GROUP).count_answer(csat, nps)
        if operator_id is not None:
            self.at(at, NO_GROUP, NO_GROUP, NO_GROUP, operator_id).count_answer(csat, nps)

    def line(self) -> list[LineCount]:
        """The queue side's tallies by instant and queue: what the live view adds."""
        return [(*k[:4], t) for k, t in self.tallies.items() if k[4] == NO_GROUP]


@dataclass(frozen=True, slots=True)
class QualityWritten:
    counts: QualityCounts
    surveys: int  # SMS invitations put in the outbox
    # Each new contact of the batch and the `repeat_of` its row was given (None: a first contact).
    repeat_of: dict[str, str | None] = field(default_factory=dict)

    def answer_repeats(self, batch: Sequence[Event]) -> None:
        """Fill the reply slot (`RepeatReply`) of each new contact's note in `batch` with the
        `repeat_of` its committed row holds (call once the transaction is on disk)."""
        repeat_of = self.repeat_of
        if not repeat_of:
            return
        for e in batch:
            if isinstance(e, Enqueued) and isinstance(e.note, ContactNote):
                reply = e.note.repeat
                if reply is not None and e.contact_id in repeat_of:
                    reply.repeat_of = repeat_of[e.contact_id]
                    reply.answered = True


class QualityRecorder:
    """The journal's: repeat contacts, survey invitations and their counts, per batch."""

    __slots__ = ("rules",)

    def __init__(self, rules: QualityRules) -> None:
        self.rules = rules

    async def new_contacts(self, tx: Tx, batch: Sequence[Event]) -> set[str]:
        """The ids of the batch's enqueued contacts that no row holds yet (call before the
        events are written)."""
        ids = [e.contact_id for e in batch if isinstance(e, Enqueued)]
        if not ids:
            return set()
        seen = {r["id"] for r in await tx.fetchall(_SEEN, {"ids": json.dumps(ids)})}
        return set(ids) - seen

    async def write(self, tx: Tx, batch: Sequence[Event], new: set[str]) -> QualityWritten:
        """Repeats, surveys and their counts for `batch`, whose events are written already."""
        counts = QualityCounts()
        enqueued = [e for e in batch if isinstance(e, Enqueued) and e.contact_id in new]
        repeat_of = await self._repeats(tx, enqueued, counts) if enqueued else {}
        completed = [e for e in batch if isinstance(e, Ended) and e.state is ContactState.COMPLETED]
        sent = await self._completed(tx, completed, counts) if completed else 0
        await write_counts(tx, counts, self.rules.interval_s, self.rules.days)
        return QualityWritten(counts, sent, repeat_of)

    async def _repeats(
        self, tx: Tx, enqueued: list[Enqueued], counts: QualityCounts
    ) -> dict[str, str | None]:
        """Set and count the `repeat_of` of the new contacts `enqueued`; what each was given."""
        ids = json.dumps([e.contact_id for e in enqueued])
        await tx.execute(_SET_REPEAT_OF, {"ids": ids, "window": self.rules.repeat_window_s})
        repeat_of: dict[str, str | None] = await _json_object(tx, _REPEAT_OF_SET, ids)
        repeats = [cid for cid, first in repeat_of.items() if first is not None]
        credited: dict[str, str | None] = {}
        if repeats:
            credited = await _json_object(tx, _CREDITED_FOR, json.dumps(repeats))
        for e in enqueued:
            repeat = repeat_of.get(e.contact_id) is not None
            of = credited.get(e.contact_id)
            counts.arrival(e.at, e.topic, e.priority, e.channel.value, repeat=repeat, of=of)
        # A row without a phone is not updated: its repeat_of stays NULL.
        return {e.contact_id: repeat_of.get(e.contact_id) for e in enqueued}

    async def _completed(self, tx: Tx, ended: list[Ended], counts: QualityCounts) -> int:
        rows = await tx.fetchall(_COMPLETED, {"ids": json.dumps([e.contact_id for e in ended])})
        by_id = {r["id"]: r for r in rows}
        candidates: list[tuple[Ended, Any]] = []
        for e in ended:
            r = by_id[e.contact_id]
            counts.completion(e.at, e.operator_id or r["operator_id"], repeat_of=r["repeat_of"])
            if self._may_survey(e.contact_id, r) and _talked(e, r):
                candidates.append((e, r))
        if not candidates:
            return 0
        nps_at = {r["phone"]: r["nps_at"] for _, r in candidates if r["nps_at"] is not None}
        surveys: list[dict[str, Any]] = []
        for e, r in candidates:
            phone = r["phone"]
            if r["opted_out"]:
                continue
            last = nps_at.get(phone)
            ask_nps = last is None or e.at - last >= self.rules.nps_every_s
            if ask_nps:
                nps_at[phone] = e.at
            surveys.append(self._survey(e, r, ask_nps=ask_nps))
        if not surveys:
            return 0
        invited = await self._insert(tx, surveys)
        rules = self.rules
        messages = [
            (
                NewMessage(
                    MessageKind.SMS,
                    v["phone"],
                    rules.sms_text.format_map({"link": rules.link_base + v["code"]}),
                    f"survey:{v['contact_id']}",
                ),
                v["at"],
            )
            for v in invited
        ]
        await enqueue_messages(tx, messages)
        for v in invited:
            counts.invitation(v["at"], v["topic"], v["priority"], v["channel"], v["operator_id"])
        return len(invited)

    def _may_survey(self, contact_id: str, r: Any) -> bool:
        rules = self.rules
        phone = r["phone"]
        return (
            rules.surveys
            and r["channel"] in SURVEYED_CHANNELS
            and phone is not None
            and is_russian_mobile(phone)
            and sampled(contact_id, rules.share)
        )

    def _survey(self, e: Ended, r: Any, *, ask_nps: bool) -> dict[str, Any]:
        return {
            "code": self.rules.new_code(),
            "contact_id": e.contact_id,
            "phone": r["phone"],
            "topic": r["topic"],
            "priority": r["priority"],
            "channel": r["channel"],
            "operator_id": e.operator_id or r["operator_id"],
            "ask_nps": int(ask_nps),
            "at": e.at,
            "expires_at": e.at + self.rules.expire_s,
        }

    async def _insert(self, tx: Tx, surveys: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Insert `surveys` (one statement for the batch); those that are new, each with the
        code it got. A contact that has a survey already keeps it and is left out."""
        pending = surveys
        invited: list[dict[str, Any]] = []
        while pending:
            await tx.executemany(_INSERT_SURVEY, pending)
            ids = json.dumps([v["contact_id"] for v in pending])
            stored = {r["contact_id"]: r["code"] for r in await tx.fetchall(_CODES, {"ids": ids})}
            retry = []
            for v in pending:
                code = stored.get(v["contact_id"])
                if code == v["code"]:
                    invited.append(v)
                elif code is None:  # the code was taken (one in 2^49 at ten letters): again
                    retry.append({**v, "code": self.rules.new_code()})
            pending = retry
        return invited


# -- the rollup ---------------------------------------------------------------------------------


def rows_of(
    counts: QualityCounts, interval_s: int, days: LocalDays, *, minute_since: float | None = None
) -> list[tuple[Any, ...]]:
    """Upsert rows adding `counts` to their minute (from `minute_since` on, when given: a
    rebuild leaves out the minutes the retention would purge), interval and local day."""
    since = -math.inf if minute_since is None else minute_since
    folded: dict[QualityKey, QualityTally] = {}
    for (at, *group), t in counts.tallies.items():
        minute = int(at - at % MINUTE_S)
        for grain, start in (
            ("minute", minute),
            ("interval", minute - minute % interval_s),
            ("day", days.start_of(minute)),
        ):
            if grain == "minute" and minute < since:
                continue
            key: QualityKey = (grain, start, *group)  # type: ignore[assignment]
            folded.setdefault(key, QualityTally()).merge(t)
    return [(*key, *t.values()) for key, t in folded.items()]


async def _json_object(tx: Tx, sql: str, ids: str) -> dict[str, Any]:
    row = await tx.fetchone(sql, {"ids": ids})
    assert row is not None  # an aggregate answers one row, '{}' when nothing matched
    found: dict[str, Any] = json.loads(row[0])
    return found


async def write_counts(
    tx: Tx,
    counts: QualityCounts,
    interval_s: int,
    days: LocalDays,
    *,
    minute_since: float | None = None,
) -> None:
    if counts.tallies:
        await tx.insert_rows(_UPSERT, rows_of(counts, interval_s, days, minute_since=minute_since))


# -- the citizen's side -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SurveyRow:
    id: int
    contact_id: str
    topic: str
    priority: str
    channel: str
    operator_id: str | None
    ask_nps: bool
    expires_at: float
    answered_at: float | None


AnswerOutcome = Literal["answered", "unknown", "answered_before", "expired", "no_nps"]


@dataclass(frozen=True, slots=True)
class AnswerResult:
    outcome: AnswerOutcome
    survey: SurveyRow | None = None
    counts: QualityCounts | None = None
    at: float | None = None  # when it was answered (this time)


async def answer_survey(
    tx: Tx,
    code: str,
    *,
    csat: int,
    nps: int | None,
    comment: str | None,
    source: str,
    at: float,
    interval_s: int,
    days: LocalDays,
) -> AnswerResult:
    """Record the answer to the survey of `code` and count it, in the caller's transaction;
    else say why not (nothing written)."""
    r = await tx.fetchone(
        "SELECT id, contact_id, topic, priority, channel, operator_id, ask_nps, expires_at,"
        " answered_at FROM surveys WHERE code = ?",
        (code,),
    )
    if r is None:
        return AnswerResult("unknown")
    survey = SurveyRow(
        r["id"],
        r["contact_id"],
        r["topic"],
        r["priority"],
        r["channel"],
        r["operator_id"],
        bool(r["ask_nps"]),
        r["expires_at"],
        r["answered_at"],
    )
    if survey.answered_at is not None:
        return AnswerResult("answered_before", survey)
    if at >= survey.expires_at:
        return AnswerResult("expired", survey)
    if nps is not None and not survey.ask_nps:
        return AnswerResult("no_nps", survey)
    await tx.execute(
        "UPDATE surveys SET answered_at = ?, csat = ?, nps = ?, answered_by = ?"
        " WHERE id = ? AND answered_at IS NULL",
        (at, csat, nps, source, survey.id),
    )
    if comment is not None:  # sorted by theme with the other feedback, in this transaction
        await add_feedback(
            tx,
            source=FeedbackSource.SURVEY,
            source_id=str(survey.id),
            text=comment,
            topic=survey.topic,
            operator_id=survey.operator_id,
            at=at,
        )
    counts = QualityCounts()
    s = survey
    counts.answer(at, s.topic, s.priority, s.channel, s.operator_id, csat=csat, nps=nps)
    await write_counts(tx, counts, interval_s, days)
    return AnswerResult("answered", survey, counts, at)


async def opt_out(tx: Tx, phone: str, *, source: str, at: float) -> float:
    """No more surveys to `phone` (E.164); when it opted out (the first time, if it had)."""
    await tx.execute(
        "INSERT INTO survey_opt_outs (phone, at, source) VALUES (?, ?, ?)"
        " ON CONFLICT (phone) DO NOTHING",
        (phone, at, source),
    )
    row = await tx.fetchone("SELECT at FROM survey_opt_outs WHERE phone = ?", (phone,))
    assert row is not None
    return float(row["at"])


# -- reading --------------------------------------------------------------------------------------

QualityGroup = Literal["topic", "priority", "channel", "operator"]
_SUMS = ", ".join(f"sum(q.{c}) AS {c}" for c in QUALITY_COUNTERS)
_RANGES = (
    "(SELECT value ->> 0 AS i, value ->> 1 AS lo, value ->> 2 AS hi FROM json_each(:ranges)) AS r"
)


def _tally_of(r: Any) -> QualityTally:
    return QualityTally(*(int(r[c] or 0) for c in QUALITY_COUNTERS))


async def read_quality(
    tx: Tx,
    *,
    grain: str,
    ranges: Sequence[tuple[int, float, float]],
    by: QualityGroup | None,
) -> dict[tuple[int, str | None], QualityTally]:
    """The quality tallies per (report interval, group) of the rollups of `grain` starting in
    `ranges` (as `hotline.store.kpi.read_period` reads the service figures): the queue side,
    grouped by a queue column or not at all, or the operator side by operator."""
    if by == "operator":
        side, grp = "q.operator_id <> ''", "q.operator_id"
    else:
        side, grp = "q.operator_id = ''", f"q.{by}" if by is not None else "NULL"
    sql = (
        f"SELECT r.i AS i, {grp} AS grp, {_SUMS} FROM {_RANGES} CROSS JOIN kpi_quality AS q"
        f" WHERE q.grain = :grain AND q.start >= r.lo AND q.start < r.hi AND {side}"
        " GROUP BY r.i, grp"
    )
    rows = await tx.fetchall(sql, {"grain": grain, "ranges": json.dumps(list(ranges))})
    return {(r["i"], r["grp"]): _tally_of(r) for r in rows}


async def load_live_quality(tx: Tx, live: LiveQuality, *, now: float) -> LiveQuality:
    """`live` given today's day row and the window's minute rows (the queue side)."""
    day_start, day_end = live.day_bounds(now)
    q = "SELECT start, " + ", ".join(f"sum({c}) AS {c}" for c in QUALITY_COUNTERS)
    q += " FROM kpi_quality WHERE grain = ? AND start >= ? AND start < ? AND operator_id = ''"
    q += " GROUP BY start"
    today = QualityTally()
    for r in await tx.fetchall(q, ("day", day_start, day_end)):
        today.merge(_tally_of(r))
    since = now - now % MINUTE_S - (LiveQuality.WINDOW_MIN - 1) * MINUTE_S
    minutes = {
        float(r["start"]): _tally_of(r)
        for r in await tx.fetchall(q, ("minute", since, now + MINUTE_S))
    }
    live.restore(today=today, minutes=minutes, day=(day_start, day_end))
    return live


def _talked(e: Ended, r: Any) -> bool:
    """Whether the citizen was spoken to: a voicemail's callback reports whether it reached
    them, and one that did not is no conversation to rate."""
    if r["channel"] != "callback":
        return True
    outcome = getattr(e.note, "outcome", None) or r["outcome"]
    return bool(outcome == AttemptOutcome.REACHED)
