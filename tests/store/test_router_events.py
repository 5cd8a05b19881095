"""Router events written through `append_router_events` come back, after a restart, as the live
queue in its order with its deadlines, and as the operators' last shown state."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import trio

from hotline.routing import (
    Channel,
    ContactState,
    NewContact,
    OperatorSpec,
    OperatorState,
    Presence,
    PriorityClass,
    RoutingPolicy,
    RoutingState,
)
from hotline.routing.model import (
    Accepted,
    Breached,
    Ended,
    Enqueued,
    Event,
    Offered,
    OfferWithdrawn,
    OperatorChanged,
    Overflowed,
)
from hotline.store import StoreHandle, Tx, open_store
from hotline.store.events import (
    ContactNote,
    append_router_events,
    load_live_contacts,
    load_operators,
    save_operator,
)
from hotline.store.migrate import _CREATE_LEDGER, available_migrations, split_statements
from hotline.store.rows import OperatorProfile

GIVE_UP_AFTER = 30.0
MIN = 60.0
T0 = 1_800_000_000.0


def profile(op_id: str, skills: dict[str, int]) -> OperatorProfile:
    return OperatorProfile(
        id=op_id,
        name=f"Operator {op_id}",
        skills=skills,
        languages=frozenset({"ru"}),
        capacity={Channel.VOICE: 1, Channel.CHAT: 2},
        certified_until=date(2027, 12, 31),
    )


def enqueued(cid: str, at: float, priority: str = "normal") -> Enqueued:
    return Enqueued(cid, at, Channel.VOICE, "passport", "ru", priority, at, at + MIN, at + 5 * MIN)


async def record(
    store: StoreHandle, events: list[Event], phones: dict[str, str] | None = None
) -> None:
    for event in events:  # as the router's actor attaches the note of a creation
        if isinstance(event, Enqueued) and event.contact_id in (phones or {}):
            event.note = ContactNote(phone=(phones or {})[event.contact_id])

    async def work(tx: Tx) -> None:
        await append_router_events(tx, events)

    await store.transact(work)


def contact_row(path: Path, cid: str) -> sqlite3.Row:
    with closing(sqlite3.connect(path)) as conn:
        conn.row_factory = sqlite3.Row
        row = conn.execute("SELECT * FROM contacts WHERE id = ?", (cid,)).fetchone()
    assert isinstance(row, sqlite3.Row)
    return row


def event_kinds(path: Path, cid: str) -> list[str]:
    with closing(sqlite3.connect(path)) as conn:
        query = "SELECT kind FROM contact_events WHERE contact_id = ? ORDER BY id"
        return [kind for (kind,) in conn.execute(query, (cid,))]


async def test_events_become_current_state_and_an_ordered_log(db_path: Path) -> None:
    with trio.fail_after(GIVE_UP_AFTER):
        async with open_store(db_path) as store:

            async def operators(tx: Tx) -> None:
                await save_operator(tx, profile("op1", {"passport": 3}), at=T0)
                await save_operator(tx, profile("op2", {"passport": 2}), at=T0)

            await store.transact(operators)
            await record(
                store,
                [
                    enqueued("c1", T0),
                    Offered("c1", "op1", T0, T0 + 15),
                    OperatorChanged("op1", T0, OperatorState.BUSY, "offered"),
                ],
                {"c1": "+79001234567"},
            )
            await record(store, [enqueued("c2", T0 + 1, "urgent"), enqueued("c3", T0 + 2)])
            await record(
                store,
                [
                    OfferWithdrawn("c1", "op1", T0 + 15, "missed"),
                    OperatorChanged("op1", T0 + 15, OperatorState.BREAK, "missed_offer"),
                    Offered("c2", "op2", T0 + 15, T0 + 30),
                    Accepted("c2", "op2", T0 + 20, 19.0),
                    Overflowed("c1", T0 + MIN, ("general",)),
                    Breached("c3", T0 + 5 * MIN + 2, "normal", T0 + 5 * MIN + 2),
                ],
            )
            await record(
                store,
                [
                    Ended("c2", T0 + 400, ContactState.COMPLETED, "op2"),
                    OperatorChanged("op2", T0 + 400, OperatorState.WRAP_UP, "completed"),
                    Offered("c3", "op2", T0 + 500, T0 + 515),
                ],
            )
        # A restart: the file alone holds what the router needs.
        async with open_store(db_path) as store:
            live = await store.read(load_live_contacts)
            ops = await store.read(load_operators)

    assert [c.id for c in live] == ["c1", "c3"]  # queue order, c2 has ended
    c1, c3 = live
    assert (c1.arrived_at, c1.target_at, c1.deadline_at) == (T0, T0 + MIN, T0 + 5 * MIN)
    assert (c1.state, c1.operator_id, c1.overflowed, c1.breached) == (
        ContactState.WAITING,
        None,
        True,
        False,
    )
    assert (c3.state, c3.operator_id, c3.breached) == (ContactState.OFFERED, "op2", True)
    assert c1.as_new_contact() == NewContact(
        "c1", Channel.VOICE, "passport", "ru", None, "normal", T0, T0 + MIN, T0 + 5 * MIN
    )
    assert event_kinds(db_path, "c1") == ["enqueued", "offered", "offer_withdrawn", "overflowed"]
    c2 = contact_row(db_path, "c2")
    assert (c2["state"], c2["operator_id"], c2["ended_at"]) == ("completed", "op2", T0 + 400)
    assert contact_row(db_path, "c1")["phone"] == "+79001234567"
    shown = {o.profile.id: (o.presence, o.state) for o in ops}
    assert shown == {
        "op1": (Presence.BREAK, OperatorState.BREAK),
        "op2": (Presence.READY, OperatorState.WRAP_UP),
    }
    assert ops[0].profile == profile("op1", {"passport": 3})


async def test_a_contact_enqueued_again_after_a_restart_keeps_its_place_and_phone(
    store: StoreHandle, db_path: Path
) -> None:
    with trio.fail_after(GIVE_UP_AFTER):
        await record(store, [enqueued("c1", T0), enqueued("c2", T0 + 1)], {"c1": "+79001234567"})
        await record(store, [Offered("c1", "op1", T0 + 2, T0 + 17)])
        await record(store, [enqueued("c1", T0)])  # the router, rebuilt, takes it back
        live = await store.read(load_live_contacts)
    assert [(c.id, c.state, c.operator_id) for c in live] == [
        ("c1", ContactState.WAITING, None),
        ("c2", ContactState.WAITING, None),
    ]
    assert contact_row(db_path, "c1")["phone"] == "+79001234567"


async def test_an_event_for_a_contact_never_enqueued_is_refused(store: StoreHandle) -> None:
    with trio.fail_after(GIVE_UP_AFTER), pytest.raises(sqlite3.IntegrityError):
        await record(store, [Offered("ghost", "op1", T0, T0 + 15)])


async def test_the_real_router_is_rebuilt_with_the_same_queue_and_deadlines(
    store: StoreHandle,
) -> None:
    policy = RoutingPolicy(
        classes={
            "urgent": PriorityClass("urgent", 0, 5 * MIN, 10 * MIN),
            "normal": PriorityClass("normal", 1, 15 * MIN, 30 * MIN),
        },
        topic_class={"payments": "urgent"},
        default_class="normal",
        overflow={"*": ("general",)},
    )
    router = RoutingState(policy)
    log: list[list[Event]] = [
        router.upsert_operator(
            OperatorSpec(
                "op1", {"passport": 2}, frozenset({"ru"}), {Channel.VOICE: 1}, T0 + 365 * 86400
            ),
            T0,
        ),
        router.set_presence("op1", Presence.READY, T0),
    ]
    for i, topic in enumerate(["passport", "payments", "passport", "taxes", "payments"]):
        log.append(router.enqueue(NewContact(f"c{i}", Channel.VOICE, topic), T0 + i))
    log.append(router.reject("c0", "op1", T0 + 10))
    log.append(router.abandon("c2", T0 + 20))
    log.append(router.tick(T0 + 16 * MIN))  # past the targets: overflows and breaches
    with trio.fail_after(GIVE_UP_AFTER):
        for events in log:
            await record(store, events)
        live = await store.read(load_live_contacts)

    flat = [e for events in log for e in events]
    ended = {e.contact_id for e in flat if isinstance(e, Ended)}
    assert ended == {"c2"}
    expected = [
        (e.contact_id, e.arrived_at, e.target_at, e.deadline_at)
        for e in flat
        if isinstance(e, Enqueued) and e.contact_id not in ended
    ]
    assert any(isinstance(e, Breached) for e in flat)  # the tick did reach the limits
    assert [(c.id, c.arrived_at, c.target_at, c.deadline_at) for c in live] == expected
    for c in live:
        assert c.state is router.contact_state(c.id)
        assert c.operator_id == router.holder_of(c.id)

    # Rebuilt from the store, a new router decides the same arrivals and deadlines.
    rebuilt = RoutingState(policy)
    again = [e for c in live for e in rebuilt.enqueue(c.as_new_contact(), T0 + 16 * MIN)]
    restored = [
        (e.contact_id, e.arrived_at, e.target_at, e.deadline_at)
        for e in again
        if isinstance(e, Enqueued)
    ]
    assert restored == expected


# -- the callback projection, on a database upgraded from the triggers' schema --------------------

CALLBACK = "c_callback"


def database_at_0006(path: Path) -> None:
    """A database as release 0006 left it (the two callback triggers of 0005 included), holding a
    voicemail whose callback contact waits and a plain voice contact."""
    with closing(sqlite3.connect(path)) as conn:
        conn.execute(_CREATE_LEDGER)
        for m in available_migrations():
            if m.version <= 6:
                for statement in split_statements(m.sql):
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES (?, ?)",
                    (m.version, m.name),
                )
        for seq, (cid, channel) in enumerate([(CALLBACK, "callback"), ("c_voice", "voice")], 1):
            conn.execute(
                "INSERT INTO contacts (id, channel, topic, language, phone, priority, state,"
                " arrived_at, target_at, deadline_at, seq, created_at, updated_at)"
                " VALUES (?, ?, 'passport', 'ru', '+79120000000', 'normal', 'waiting',"
                " ?, ?, ?, ?, ?, ?)",
                (cid, channel, T0, T0 + MIN, T0 + 60 * MIN, seq, T0, T0),
            )
        conn.execute(
            "INSERT INTO voicemails (id, phone, topic, language, audio_type, audio_size,"
            " audio_sha256, audio_file, arrived_at, deadline_at, state, attempts, contact_id,"
            " updated_at) VALUES ('vm_1', '+79120000000', 'passport', 'ru', 'wav', 44, 'ab',"
            " 'vm_1.wav', ?, ?, 'calling', 1, ?, ?)",
            (T0, T0 + 60 * MIN, CALLBACK, T0),
        )
        conn.execute(
            "INSERT INTO voicemail_attempts (voicemail_id, attempt, contact_id, arrived_at,"
            " target_at, deadline_at) VALUES ('vm_1', 1, ?, ?, ?, ?)",
            (CALLBACK, T0, T0 + MIN, T0 + 60 * MIN),
        )
        conn.commit()


def voicemail_facts(path: Path) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], int]:
    """What the voicemail tables say about `vm_1`: history, attempts and the breach flag."""
    with closing(sqlite3.connect(path)) as conn:
        history = [
            (at, kind, attempt, json.loads(data))
            for at, kind, attempt, data in conn.execute(
                "SELECT at, kind, attempt, data FROM voicemail_events ORDER BY id"
            )
        ]
        attempts = conn.execute(
            "SELECT attempt, accepted_at, operator_id, breached_at FROM voicemail_attempts"
        ).fetchall()
        (breached,) = conn.execute("SELECT breached FROM voicemails").fetchone()
    return history, attempts, breached


def triggers_on_router_events(path: Path) -> list[str]:
    with closing(sqlite3.connect(path)) as conn:
        rows = conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'contact_events'"
        )
        return [name for (name,) in rows]


async def test_an_upgraded_database_records_callbacks_as_the_dropped_triggers_did(
    tmp_path: Path,
) -> None:
    """Router events reach the voicemail tables through the journal's projection only: after
    0009 no trigger is left, and the rows come out as 0005's triggers made them."""
    events: list[Event] = [
        Accepted("c_voice", "bob", T0 + 10, 10.0),  # not a callback: no voicemail row moves
        Breached(CALLBACK, T0 + 60 * MIN, "normal", T0 + 60 * MIN),
        Accepted(CALLBACK, "ann", T0 + 61 * MIN, 61 * MIN),
        Ended(CALLBACK, T0 + 62 * MIN, ContactState.ABANDONED, "ann"),
    ]
    by_triggers, upgraded = tmp_path / "triggers.db", tmp_path / "upgraded.db"
    for path in (by_triggers, upgraded):
        database_at_0006(path)
    with closing(sqlite3.connect(by_triggers)) as conn:  # the old projection's event rows
        for e in events:
            conn.execute(
                "INSERT INTO contact_events (contact_id, at, kind, operator_id)"
                " VALUES (?, ?, ?, ?)",
                (e.contact_id, e.at, type(e).__name__.lower(), getattr(e, "operator_id", None)),
            )
        conn.commit()

    with trio.fail_after(GIVE_UP_AFTER):
        async with open_store(upgraded) as store:

            async def work(tx: Tx) -> None:
                await append_router_events(tx, events)

            await store.transact(work)

    assert triggers_on_router_events(by_triggers) != []
    assert triggers_on_router_events(upgraded) == []
    expected = voicemail_facts(by_triggers)
    assert [kind for _, kind, _, _ in expected[0]] == ["breached", "callback_accepted"]
    assert voicemail_facts(upgraded) == expected


@pytest.mark.parametrize("statements_only", [False, True], ids=["bridge", "thread"])
async def test_a_large_batch_gives_its_new_contacts_places_in_its_order(
    store: StoreHandle, db_path: Path, statements_only: bool
) -> None:
    # Written as INSERTs of many rows (256 and 45 for these 301), with a
    # restored contact re-enqueued among them, which keeps its place.
    with trio.fail_after(GIVE_UP_AFTER):
        await record(store, [enqueued("old", T0), enqueued("restored", T0 + 1)])
        batch: list[Event] = [enqueued(f"n{i:03d}", T0 + 2 + i) for i in range(300)]
        batch.insert(150, enqueued("restored", T0 + 1))

        async def work(tx: Tx) -> None:
            await append_router_events(tx, batch)

        await store.transact(work, statements_only=statements_only)
        live = await store.read(load_live_contacts)
    assert [c.id for c in live] == ["old", "restored", *(f"n{i:03d}" for i in range(300))]
    with closing(sqlite3.connect(db_path)) as conn:
        seqs = [seq for (seq,) in conn.execute("SELECT seq FROM contacts ORDER BY seq")]
        (logged,) = conn.execute("SELECT count(*) FROM contact_events").fetchone()
    assert len(set(seqs)) == len(seqs) == 302
    assert logged == 2 + 301
