"""Router events into the store, and back out at start-up: the only place that maps the two.

The journal hands each batch of events the router published to `append_router_events` inside
`StoreHandle.transact`; it writes the append-only event rows and brings the current-state tables
(contacts, operators, and the callback attempts of voicemails) up to date in the same
transaction. `new_contact_row` is the same projection in memory, for a create's answer.
Start-up rebuilds the router from `load_live_contacts` and `load_operators`; services save
operator profiles with `save_operator`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from hotline.routing.model import (
    Accepted,
    Breached,
    Channel,
    ContactState,
    Ended,
    Enqueued,
    Event,
    Offered,
    OfferWithdrawn,
    OperatorChanged,
    OperatorState,
    Overflowed,
    Presence,
    event_fields,
)
from hotline.store.rows import (
    ContactRow,
    LiveContact,
    OperatorProfile,
    StoredOperator,
    contact_fields,
)
from hotline.store.tx import Rows, Tx

# A new contact's `seq` (its place in the queue) is the largest so far plus its place in the
# batch: unique and in the batch's order whether SQLite reads the largest once per statement
# (it does: the subquery is not correlated) or after each row, with gaps between statements.
_INSERT_CONTACTS = Rows(
    head="""INSERT INTO contacts (id, channel, topic, language, skills, phone, priority, state,
                      arrived_at, target_at, deadline_at, seq, created_at, updated_at)""",
    width=13,
    row="""(?, ?, ?, ?, ?, ?, ?, 'waiting', ?, ?, ?,
            (SELECT COALESCE(MAX(seq), 0) FROM contacts) + ?, ?, ?)""",
    tail="""ON CONFLICT (id) DO UPDATE SET phone = COALESCE(excluded.phone, contacts.phone),
  state = 'waiting', operator_id = NULL, channel = excluded.channel, topic = excluded.topic,
  language = excluded.language, priority = excluded.priority, arrived_at = excluded.arrived_at,
  target_at = excluded.target_at, deadline_at = excluded.deadline_at, ended_at = NULL,
  updated_at = excluded.updated_at""",
)
# On conflict (the router re-enqueues a restored contact) the row keeps its place in the queue
# and takes the rest of what an Enqueued event sets, as a new row does: a contact whose only
# event in a batch is its Enqueued (every create) needs no UPDATE after its INSERT.

_INSERT_CONTACT_EVENTS = Rows(
    "INSERT INTO contact_events (contact_id, at, kind, operator_id, data)", width=5
)
_INSERT_OPERATOR_EVENTS = Rows("INSERT INTO operator_events (operator_id, at, kind, data)", width=4)
_INSERT_IDEMPOTENCY_KEYS = Rows(
    "INSERT INTO idempotency_keys (scope, key, request_hash, response, created_at)", width=5
)

_PRESENCE_SHOWN = {  # an operator's presence follows from the state the router shows
    OperatorState.OFFLINE: Presence.OFFLINE,
    OperatorState.BREAK: Presence.BREAK,
    OperatorState.READY: Presence.READY,
    OperatorState.BUSY: Presence.READY,
    OperatorState.WRAP_UP: Presence.READY,
}


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    """The `Idempotency-Key` a contact was created with: the same key and body find it again."""

    scope: str
    key: str
    request_hash: str


@dataclass(slots=True)
class RepeatReply:
    """Where the journal leaves, once a new contact's row is committed, the `repeat_of` it wrote
    there (hotline/store/quality.py works it out in the batch's transaction): a create answers
    with it instead of reading the row back, one store round trip less per create. `answered`
    stays False when no quality recorder wrote the column (nor the journal's answer)."""

    repeat_of: str | None = None
    answered: bool = False


@dataclass(frozen=True, slots=True)
class ContactNote:
    """What the router does not know about a contact, attached by the router's actor to its
    `Enqueued` event (`phone`, `idempotency`) or to its `Ended` event (`outcome`) for the command
    that brought it, and written with that event. `repeat` is a reply slot, not a fact: the
    journal fills it after the commit (see `RepeatReply`)."""

    phone: str | None = None
    idempotency: IdempotencyRecord | None = None
    outcome: str | None = None
    repeat: RepeatReply | None = field(default=None, compare=False)


@dataclass(slots=True)
class _Projection:
    """What a batch of events does to the tables, worked out without touching them."""

    new_contacts: list[dict[str, Any]] = field(default_factory=list)
    keys: list[tuple[Any, ...]] = field(default_factory=list)
    contact_rows: list[tuple[Any, ...]] = field(default_factory=list)
    operator_rows: list[tuple[Any, ...]] = field(default_factory=list)
    contact_patch: dict[str, dict[str, Any]] = field(default_factory=dict)
    operator_patch: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Acceptances and breaches, in order: those of callback contacts reach their voicemail.
    callback_facts: list[Accepted | Breached] = field(default_factory=list)


def _project(events: Iterable[Event], *, log: bool = True) -> _Projection:
    """`log=False`: the current-state rows only, without the event log's rows (their JSON)."""
    p = _Projection()
    for event in events:
        if log:
            kind, data = _describe(event)
        if isinstance(event, OperatorChanged):
            if log:
                p.operator_rows.append((event.operator_id, event.at, kind, data))
            p.operator_patch[event.operator_id] = {
                "state": event.state.value,
                "presence": _PRESENCE_SHOWN[event.state].value,
                "updated_at": event.at,
            }
            continue
        if log:
            operator_id = getattr(event, "operator_id", None)
            p.contact_rows.append((event.contact_id, event.at, kind, operator_id, data))
        if isinstance(event, Enqueued):
            note = _note_of(event.note)
            p.new_contacts.append(_new_contact(event, note.phone))
            if note.idempotency is not None:
                k = note.idempotency
                response = _json({"contact_id": event.contact_id})
                p.keys.append((k.scope, k.key, k.request_hash, response, event.at))
            # The INSERT (or its ON CONFLICT) sets all that the event does. Only when an earlier
            # event of this batch patches the row (applied after the INSERT) must this one too.
            patch = p.contact_patch.get(event.contact_id)
            if patch is not None:
                patch.update(
                    state=ContactState.WAITING.value,
                    operator_id=None,
                    channel=event.channel.value,
                    topic=event.topic,
                    language=event.language,
                    priority=event.priority,
                    arrived_at=event.arrived_at,
                    target_at=event.target_at,
                    deadline_at=event.deadline_at,
                    ended_at=None,
                    updated_at=event.at,
                )
            continue
        patch = p.contact_patch.setdefault(event.contact_id, {})
        patch["updated_at"] = event.at
        if isinstance(event, Offered):
            patch.update(state=ContactState.OFFERED.value, operator_id=event.operator_id)
        elif isinstance(event, Accepted):
            patch.update(
                state=ContactState.ASSIGNED.value,
                operator_id=event.operator_id,
                answered_at=event.at,  # the KPI tracker's, given back at a restart
            )
            p.callback_facts.append(event)
        elif isinstance(event, OfferWithdrawn):
            patch.update(state=ContactState.WAITING.value, operator_id=None)
        elif isinstance(event, Overflowed):
            patch["overflowed"] = 1
        elif isinstance(event, Breached):
            patch["breached"] = 1
            p.callback_facts.append(event)
        elif isinstance(event, Ended):
            patch.update(state=event.state.value, ended_at=event.at)
            outcome = _note_of(event.note).outcome
            if outcome is not None:
                patch["outcome"] = outcome
            patch["transferred_to"] = event.transferred_to
            if event.operator_id is not None:  # who had it last, kept for history
                patch["operator_id"] = event.operator_id
    return p


async def append_router_events(tx: Tx, events: Iterable[Event]) -> None:
    """Record `events` (in the order the router decided them) and apply them to the contact,
    operator and voicemail tables. What the API knows beside them (a phone, an idempotency
    key, an outcome) comes as the `ContactNote` attached to an `Enqueued` or `Ended` event.

    Each changed row is updated once, with the net effect of its events, and each statement runs
    once for the batch (executemany). An event for a contact the store never saw enqueued fails
    the transaction (foreign key); one for an operator without a profile is logged only.
    """
    p = _project(events)
    # Rows first (the event rows reference them), then the log, then the net state.
    if p.new_contacts:
        await tx.insert_rows(
            _INSERT_CONTACTS, [_contact_values(c, n) for n, c in enumerate(p.new_contacts, 1)]
        )
    if p.keys:
        await tx.insert_rows(_INSERT_IDEMPOTENCY_KEYS, p.keys)
    if p.contact_rows:
        await tx.insert_rows(_INSERT_CONTACT_EVENTS, p.contact_rows)
    if p.operator_rows:
        await tx.insert_rows(_INSERT_OPERATOR_EVENTS, p.operator_rows)
    await _apply_patches(tx, "contacts", p.contact_patch)
    await _apply_patches(tx, "operators", p.operator_patch)
    if p.callback_facts:
        await _project_callbacks(tx, p.callback_facts)


def new_contact_row(events: list[Event]) -> ContactRow:
    """The row `append_router_events` writes for the contact whose `Enqueued` leads `events`
    (a creation's events): the same projection, applied in memory, so a create is answered
    without reading its row back. `seq` is not known before the row is written: 0."""
    first = events[0]
    assert isinstance(first, Enqueued)
    p = _project(events, log=False)
    values = {**p.new_contacts[0], **p.contact_patch.get(first.contact_id, {})}
    return ContactRow(
        id=first.contact_id,
        channel=Channel(values["channel"]),
        topic=values["topic"],
        language=values["language"],
        phone=values["phone"],
        priority=values["priority"],
        state=ContactState(values["state"]),
        operator_id=values["operator_id"],
        arrived_at=values["arrived_at"],
        target_at=values["target_at"],
        deadline_at=values["deadline_at"],
        seq=0,
        breached=bool(values.get("breached", 0)),
        overflowed=bool(values.get("overflowed", 0)),
        transferred_to=values.get("transferred_to"),
        ended_at=values["ended_at"],
        outcome=values.get("outcome"),
    )


# A callback contact's acceptance and breach, recorded on its voicemail in the journal's own
# transaction: on disk for the contact means on disk for the voicemail. (Migration 0005 did
# this with triggers on `contact_events`; 0009 dropped them: it is done here, beside the rest.)
_CALLBACKS_AMONG = """
SELECT contact_id FROM voicemail_attempts WHERE contact_id IN (SELECT value FROM json_each(?))
"""
_INSERT_CALLBACK_EVENT = """
INSERT INTO voicemail_events (voicemail_id, at, kind, attempt, data)
SELECT voicemail_id, :at, :kind, attempt,
       CASE :kind WHEN 'breached'
            THEN json_object('contact_id', contact_id, 'deadline_at', deadline_at)
            ELSE json_object('contact_id', contact_id, 'operator_id', :operator_id) END
  FROM voicemail_attempts WHERE contact_id = :contact_id
"""
_CALLBACK_ACCEPTED = """
UPDATE voicemail_attempts SET accepted_at = COALESCE(accepted_at, ?),
                              operator_id = COALESCE(operator_id, ?)
 WHERE contact_id = ?
"""
_CALLBACK_BREACHED = (
    "UPDATE voicemail_attempts SET breached_at = COALESCE(breached_at, ?) WHERE contact_id = ?"
)
_VOICEMAIL_BREACHED = """
UPDATE voicemails SET breached = 1
 WHERE id = (SELECT voicemail_id FROM voicemail_attempts WHERE contact_id = ? AND attempt = 1)
"""


async def _project_callbacks(tx: Tx, facts: list[Accepted | Breached]) -> None:
    ids = sorted({f.contact_id for f in facts})
    rows = await tx.fetchall(_CALLBACKS_AMONG, (_json(ids),))
    if not rows:
        return
    callbacks = {r["contact_id"] for r in rows}
    history: list[dict[str, Any]] = []
    accepted: list[tuple[Any, ...]] = []
    breached: list[tuple[Any, ...]] = []
    for f in facts:
        if f.contact_id not in callbacks:
            continue
        if isinstance(f, Accepted):
            kind = "callback_accepted"
            accepted.append((f.at, f.operator_id, f.contact_id))
            operator_id: str | None = f.operator_id
        else:
            kind = "breached"
            breached.append((f.at, f.contact_id))
            operator_id = None
        history.append(
            {"at": f.at, "kind": kind, "operator_id": operator_id, "contact_id": f.contact_id}
        )
    await tx.executemany(_INSERT_CALLBACK_EVENT, history)
    if accepted:
        await tx.executemany(_CALLBACK_ACCEPTED, accepted)
    if breached:
        await tx.executemany(_CALLBACK_BREACHED, breached)
        await tx.executemany(_VOICEMAIL_BREACHED, [(cid,) for _, cid in breached])


def _note_of(note: object) -> ContactNote:
    return note if isinstance(note, ContactNote) else _NO_NOTE


_NO_NOTE = ContactNote()


async def load_live_contacts(tx: Tx) -> list[LiveContact]:
    """Every contact that has not ended, in queue order."""
    rows = await tx.fetchall(
        "SELECT id, channel, topic, language, priority, state, operator_id, arrived_at,"
        " target_at, deadline_at, seq, breached, overflowed, skills"
        " FROM contacts WHERE ended_at IS NULL ORDER BY seq"
    )
    return [
        LiveContact(
            **contact_fields(r),
            skills=frozenset(json.loads(r["skills"])) if r["skills"] else None,
        )
        for r in rows
    ]


async def save_operator(tx: Tx, profile: OperatorProfile, *, at: float) -> None:
    """Create or change an operator's profile; presence and state are the router's to change."""
    skills = dict(profile.skills)
    languages = sorted(profile.languages)
    capacity = {str(ch): n for ch, n in profile.capacity.items()}
    certified_until = profile.certified_until.isoformat() if profile.certified_until else None
    values = {
        "id": profile.id,
        "name": profile.name,
        "skills": _json(skills),
        "languages": _json(languages),
        "capacity": _json(capacity),
        "certified_until": certified_until,
        "at": at,
    }
    await tx.execute(
        "INSERT INTO operators (id, name, skills, languages, capacity, certified_until,"
        " created_at, updated_at)"
        " VALUES (:id, :name, :skills, :languages, :capacity, :certified_until, :at, :at)"
        " ON CONFLICT (id) DO UPDATE SET name = excluded.name, skills = excluded.skills,"
        " languages = excluded.languages, capacity = excluded.capacity,"
        " certified_until = excluded.certified_until, updated_at = excluded.updated_at",
        values,
    )
    data: dict[str, Any] = {"name": profile.name, "skills": skills, "languages": languages}
    data.update(capacity=capacity, certified_until=certified_until)
    await tx.insert_rows(_INSERT_OPERATOR_EVENTS, [(profile.id, at, "profile_saved", _json(data))])


async def load_operators(tx: Tx, *, operator_id: str | None = None) -> list[StoredOperator]:
    """Every operator by id, or only the one named (an empty list if there is none)."""
    where, params = ("WHERE id = ?", (operator_id,)) if operator_id is not None else ("", ())
    rows = await tx.fetchall(
        "SELECT id, name, skills, languages, capacity, certified_until, presence, state,"
        f" updated_at FROM operators {where} ORDER BY id",
        params,
    )
    return [
        StoredOperator(
            profile=OperatorProfile(
                id=r["id"],
                name=r["name"],
                skills=json.loads(r["skills"]),
                languages=frozenset(json.loads(r["languages"])),
                capacity={Channel(ch): n for ch, n in json.loads(r["capacity"]).items()},
                certified_until=(
                    date.fromisoformat(r["certified_until"]) if r["certified_until"] else None
                ),
            ),
            presence=Presence(r["presence"]),
            state=OperatorState(r["state"]),
            updated_at=r["updated_at"],
        )
        for r in rows
    ]


_KINDS: dict[type, str] = {
    Enqueued: "enqueued",
    Offered: "offered",
    OfferWithdrawn: "offer_withdrawn",
    Accepted: "accepted",
    Overflowed: "overflowed",
    Breached: "breached",
    Ended: "ended",
    OperatorChanged: "state_changed",
}


def _describe(event: Event) -> tuple[str, str]:
    """The event's kind and its remaining fields as JSON (the columns hold the rest)."""
    fields = event_fields(event)
    for column in ("contact_id", "operator_id", "at"):
        fields.pop(column, None)
    return _KINDS[type(event)], _json(fields)


def _new_contact(event: Enqueued, phone: str | None) -> dict[str, Any]:
    return {
        "id": event.contact_id,
        "channel": event.channel.value,
        "topic": event.topic,
        "language": event.language,
        "skills": _skills_column(event),
        "phone": phone,
        "priority": event.priority,
        "arrived_at": event.arrived_at,
        "target_at": event.target_at,
        "deadline_at": event.deadline_at,
        "at": event.at,
        # What the row holds after the INSERT, for `new_contact_row`:
        "state": ContactState.WAITING.value,
        "operator_id": None,
        "ended_at": None,
    }


def _contact_values(c: Mapping[str, Any], place: int) -> tuple[Any, ...]:
    """A `_new_contact` as the values of a row of `_INSERT_CONTACTS`, `place` its place in the
    batch (from 1)."""
    return (
        c["id"],
        c["channel"],
        c["topic"],
        c["language"],
        c["skills"],
        c["phone"],
        c["priority"],
        c["arrived_at"],
        c["target_at"],
        c["deadline_at"],
        place,
        c["at"],
        c["at"],
    )


async def _apply_patches(tx: Tx, table: str, patches: Mapping[str, Mapping[str, Any]]) -> None:
    """One UPDATE per distinct set of changed columns; the names come from this module only."""
    by_columns: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
    for row_id, patch in patches.items():
        columns = tuple(sorted(patch))
        by_columns.setdefault(columns, []).append((*(patch[c] for c in columns), row_id))
    for columns, rows in by_columns.items():
        assignments = ", ".join(f"{c} = ?" for c in columns)
        await tx.executemany(f"UPDATE {table} SET {assignments} WHERE id = ?", rows)


def _skills_column(event: Enqueued) -> str | None:
    skills = event.skills
    return None if not skills or skills == (event.topic,) else _json(sorted(skills))


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
