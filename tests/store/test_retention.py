"""Retention of personal data: rows finished longer ago than `[retention] personal_data_days`
lose the phone, the name and the texts and keep their figures; younger rows, live contacts and
open tickets are untouched; a sweep does a bounded amount and a second one finds nothing new.

Rows are written with SQL, as the services leave them, on a real store; the sweep is the
watcher's own `scrub_personal_data`."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

from hotline.config import RetentionSettings
from hotline.kpi import Tally
from hotline.services import Services
from hotline.store import StoreHandle, Tx, open_store
from hotline.store import retention as retention_store
from hotline.store.feedback import add_feedback
from hotline.store.kb_usage import SearchRecord, record_search
from hotline.store.rollups import RollupRows, counters_of, write_rows
from hotline.voicemail import watcher as watcher_module
from hotline.voicemail.watcher import VoicemailWatcher

DAY = 86_400.0
NOW = 1_780_000_000.0
OLD = NOW - 31 * DAY  # finished before the window (30 days in these tests)
YOUNG = NOW - 29 * DAY
PHONE = "+79123456789"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[StoreHandle]:
    async with open_store(tmp_path / "hotline.db") as store:
        yield store


def watcher(store: StoreHandle, days: float = 30) -> VoicemailWatcher:
    """The watcher over just what the retention sweep uses: the store and the settings."""
    settings = SimpleNamespace(retention=RetentionSettings(personal_data_days=days))
    return VoicemailWatcher(cast(Services, SimpleNamespace(store=store, settings=settings)))


async def write(store: StoreHandle, sql: str, *params: Any) -> None:
    async def work(tx: Tx) -> None:
        await tx.execute(sql, params)

    await store.transact(work)


async def rows(store: StoreHandle, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    async def work(tx: Tx) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in await tx.fetchall(sql, params)]

    return await store.read(work)


async def contact(store: StoreHandle, cid: str, seq: int, ended_at: float | None) -> None:
    state = "waiting" if ended_at is None else "completed"
    await write(
        store,
        "INSERT INTO contacts (id, channel, topic, language, phone, priority, state, operator_id,"
        " arrived_at, target_at, deadline_at, seq, created_at, updated_at, ended_at, outcome)"
        " VALUES (?, 'voice', 'payments', 'ru', ?, 'urgent', ?, 'op-1', ?, ?, ?, ?, ?, ?, ?, ?)",
        *(cid, PHONE, state, OLD - 600, OLD - 300, OLD, seq, OLD - 600, ended_at or OLD),
        *(ended_at, None if ended_at is None else "Объяснил Ивану Петрову, как подать"),
    )


async def ticket(store: StoreHandle, number: str, status: str, updated_at: float) -> None:
    await write(
        store,
        "INSERT INTO tickets (number, status, topic, phone, full_name, email, description,"
        " source, revision, created_at, updated_at) VALUES (?, ?, 'payments', ?,"
        " 'Иван Петров', 'ivan@example.org', 'Выплата за март так и не пришла', 'api', 3, ?, ?)",
        number,
        status,
        PHONE,
        OLD - DAY,
        updated_at,
    )
    await write(
        store,
        "INSERT INTO ticket_events (number, revision, at, kind, actor, from_status, to_status,"
        " comment, data) VALUES (?, 2, ?, 'status_changed', 'op-1', 'accepted', 'in_progress',"
        " 'Иван просил перезвонить на +79123456789', '{}')",
        number,
        OLD - DAY,
    )


async def message(store: StoreHandle, key: str, state: str, updated_at: float) -> None:
    await write(
        store,
        "INSERT INTO messages (kind, recipient, body, dedupe_key, state, attempts,"
        " next_attempt_at, provider, provider_id, segments, created_at, updated_at)"
        " VALUES ('sms', ?, 'Иван, обращение HL-1 принято', ?, ?, 1, ?, 'file', ?, 1, ?, ?)",
        *(PHONE, key, state, OLD, f"p-{key}", OLD - 60, updated_at),
    )


async def voicemail(store: StoreHandle, vid: str, state: str, updated_at: float) -> None:
    await write(
        store,
        "INSERT INTO voicemails (id, phone, topic, language, transcript, audio_type, audio_size,"
        " audio_sha256, audio_file, arrived_at, deadline_at, state, attempts, contact_id,"
        " updated_at) VALUES (?, ?, 'payments', 'ru', 'Здравствуйте, это Иван Петров', 'wav',"
        " 4, 'ab', ?, ?, ?, ?, 1, ?, ?)",
        *(vid, PHONE, f"{vid}.wav", OLD - DAY, OLD, state, f"c-{vid}", updated_at),
    )
    await write(
        store,
        "INSERT INTO voicemail_attempts (voicemail_id, attempt, contact_id, arrived_at,"
        " target_at, deadline_at, outcome, comment, reported_by, reported_at)"
        " VALUES (?, 1, ?, ?, ?, ?, 'reached', 'Иван всё понял', 'op-1', ?)",
        *(vid, f"c-{vid}", OLD - DAY, OLD - DAY, OLD, OLD),
    )
    await write(
        store,
        "INSERT INTO voicemail_events (voicemail_id, at, kind, attempt, data)"
        " VALUES (?, ?, 'outcome', 1, ?)",
        vid,
        OLD,
        json.dumps({"outcome": "reached", "comment": "Иван всё понял"}),
    )


async def test_finished_rows_past_the_window_lose_personal_data_and_keep_their_figures(
    store: StoreHandle,
) -> None:
    await contact(store, "c-old", 1, OLD)
    await contact(store, "c-young", 2, YOUNG)
    await contact(store, "c-live", 3, None)  # still waiting after a month: never scrubbed
    await ticket(store, "HL-OLD", "completed", OLD)
    await ticket(store, "HL-OPEN", "rejected", OLD)  # not final: its citizen may resubmit
    await ticket(store, "HL-YOUNG", "completed", YOUNG)
    await message(store, "m-old", "delivered", OLD)
    await message(store, "m-pending", "pending", OLD)  # still to send: never scrubbed
    await message(store, "m-young", "sent", YOUNG)
    await voicemail(store, "vm-old", "completed", OLD)
    await voicemail(store, "vm-retry", "retry_wait", OLD)
    await write(
        store,
        "INSERT INTO identity_checks (contact_id, phone, at, method, verified)"
        " VALUES ('c-old', ?, ?, 'inn', 1), ('c-young', ?, ?, 'inn', 0)",
        *(PHONE, OLD, PHONE, YOUNG),
    )
    figures = (
        "SELECT id, channel, topic, language, priority, state, operator_id, arrived_at,"
        " target_at, deadline_at, seq, breached, overflowed, ended_at FROM contacts ORDER BY id"
    )
    before = await rows(store, figures)

    counts = await watcher(store).scrub_personal_data(NOW)

    assert counts == {
        "contacts": 1,
        "tickets": 1,
        "messages": 1,
        "voicemails": 1,
        "identity_checks": 1,
    }
    assert await rows(store, figures) == before
    assert await rows(store, "SELECT id, phone, outcome IS NULL FROM contacts ORDER BY id") == [
        ("c-live", PHONE, True),
        ("c-old", None, True),
        ("c-young", PHONE, False),
    ]
    tickets = await rows(
        store,
        "SELECT number, status, topic, revision, phone, full_name, email, description"
        " FROM tickets ORDER BY number",
    )
    assert tickets[0] == ("HL-OLD", "completed", "payments", 3, "", None, None, "")
    assert [t[4:] for t in tickets[1:]] == [
        (PHONE, "Иван Петров", "ivan@example.org", "Выплата за март так и не пришла")
    ] * 2
    comments = await rows(store, "SELECT number, comment FROM ticket_events ORDER BY number")
    assert [(n, c is None) for n, c in comments] == [
        ("HL-OLD", True),
        ("HL-OPEN", False),
        ("HL-YOUNG", False),
    ]
    messages = await rows(
        store,
        "SELECT dedupe_key, state, recipient, body, provider_id, segments, attempts"
        " FROM messages ORDER BY dedupe_key",
    )
    assert messages[0] == ("m-old", "delivered", "", "", "p-m-old", 1, 1)
    assert [m[2] for m in messages[1:]] == [PHONE, PHONE]
    vms = await rows(store, "SELECT id, state, phone, transcript FROM voicemails ORDER BY id")
    assert vms == [
        ("vm-old", "completed", "", None),
        ("vm-retry", "retry_wait", PHONE, "Здравствуйте, это Иван Петров"),
    ]
    attempts = await rows(
        store, "SELECT voicemail_id, outcome, comment FROM voicemail_attempts ORDER BY 1"
    )
    assert attempts == [("vm-old", "reached", None), ("vm-retry", "reached", "Иван всё понял")]
    events = await rows(store, "SELECT voicemail_id, data FROM voicemail_events ORDER BY 1")
    assert [(v, json.loads(d)) for v, d in events] == [
        ("vm-old", {"outcome": "reached"}),
        ("vm-retry", {"outcome": "reached", "comment": "Иван всё понял"}),
    ]
    checks = await rows(store, "SELECT contact_id, phone FROM identity_checks ORDER BY 1")
    assert checks == [("c-old", None), ("c-young", PHONE)]

    # Idempotent: a second sweep finds nothing, and changes nothing.
    snapshot = await rows(store, "SELECT * FROM tickets ORDER BY number")
    assert await watcher(store).scrub_personal_data(NOW) == {}
    assert await rows(store, "SELECT * FROM tickets ORDER BY number") == snapshot


async def test_old_feedback_loses_its_text_and_keeps_its_themes(store: StoreHandle) -> None:
    text = f"Иван Петров, {PHONE}: ждал ответа сорок минут"

    async def given(tx: Tx) -> None:
        for source_id, at in (("old", OLD), ("young", YOUNG)):
            await add_feedback(
                tx,
                source="complaint",
                source_id=source_id,
                text=text,
                topic="payments",
                operator_id="op-1",
                at=at,
            )

    await store.transact(given)
    themes = "SELECT source_id, categories, topic, operator_id, at FROM feedback ORDER BY 1"
    before = await rows(store, themes)

    assert await watcher(store).scrub_personal_data(NOW) == {"feedback": 1}

    assert await rows(store, themes) == before
    kept = await rows(store, "SELECT source_id, text, terms != '' FROM feedback ORDER BY 1")
    assert kept == [("old", "", False), ("young", text, True)]


async def test_old_knowledge_base_searches_lose_their_text(store: StoreHandle) -> None:
    async def given(tx: Tx) -> None:
        for at in (OLD, YOUNG):
            record = SearchRecord("пособие Петровой", "пособ петров", 0, "tok-1", "op-1", None)
            await record_search(tx, record, at=at)

    await store.transact(given)

    assert await watcher(store).scrub_personal_data(NOW) == {"kb_searches": 1}

    kept = await rows(store, "SELECT at, query, normalised, hits, token_id FROM kb_searches")
    assert sorted(kept) == [
        (OLD, "", "", 0, "tok-1"),
        (YOUNG, "пособие Петровой", "пособ петров", 0, "tok-1"),
    ]


async def test_a_sweep_does_a_bounded_amount_and_the_next_goes_on(
    store: StoreHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(watcher_module, "SCRUB_BATCH", 3)
    monkeypatch.setattr(watcher_module, "SCRUB_BATCHES", 2)
    for n in range(10):
        await contact(store, f"c-{n:02d}", n + 1, OLD)
    swept = watcher(store)
    assert await swept.scrub_personal_data(NOW) == {"contacts": 6}  # 2 batches of 3
    assert await swept.scrub_personal_data(NOW) == {"contacts": 4}
    assert await swept.scrub_personal_data(NOW) == {}
    assert await rows(store, "SELECT count(*) FROM contacts WHERE phone IS NOT NULL") == [(0,)]


async def test_each_sweep_query_reads_only_rows_still_to_scrub(store: StoreHandle) -> None:
    # Through a partial index of the unscrubbed rows: a sweep costs what it scrubs, not the
    # size of a table that grows by the hour.
    for kind in retention_store.KINDS:
        plan = await rows(
            store,
            f"EXPLAIN QUERY PLAN SELECT rowid FROM {kind.table} INDEXED BY {kind.index}"
            f" WHERE {kind.due} LIMIT 10",
            NOW,
        )
        details = " ".join(str(r[-1]) for r in plan)
        assert f"USING INDEX {kind.index} (" in details, (kind.name, details)


async def test_the_sweep_purges_minute_rollups_past_two_days_and_keeps_the_others(
    store: StoreHandle,
) -> None:
    answered = Tally(3)
    answered.offered = answered.answered = 1

    def row(grain: str, start: float) -> tuple[object, ...]:
        return (grain, int(start), "payments", "urgent", "voice", *counters_of(answered), 1, 1)

    starts = {"old": NOW - 3 * DAY, "young": NOW - DAY}
    written = [row(g, s) for g in ("minute", "interval", "day") for s in starts.values()]
    await store.transact(lambda tx: write_rows(tx, RollupRows(queue=written)))

    await watcher(store).purge_minute_rollups(NOW)

    left = await rows(store, "SELECT grain, start FROM kpi_queue ORDER BY grain, start")
    kept = {(g, int(s)) for g in ("interval", "day") for s in starts.values()}
    assert set(left) == kept | {("minute", int(starts["young"]))}
