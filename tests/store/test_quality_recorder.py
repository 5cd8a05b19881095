"""The journal's quality recorder in the store: a batch whose transaction fails and is written
again (the journal's retry) leaves one survey, one SMS and single counts; a contact enqueued
again at a restart is not counted again; each new contact's create hears the `repeat_of` its row
was given."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from hotline.config import load_settings
from hotline.routing.model import Accepted, Channel, ContactState, Ended, Enqueued, Event
from hotline.services.surveys import quality_rules
from hotline.store import StoreHandle, Tx
from hotline.store.events import ContactNote, RepeatReply, append_router_events
from hotline.store.quality import _SET_REPEAT_OF, QualityRecorder, QualityWritten
from tests.api.conftest import SHIPPED

T = 1_800_000_000.0
PHONE = "+79123456789"
OTHER = "+79120000000"


class Boom(Exception):
    pass


def arrived(
    cid: str, at: float, phone: str | None = PHONE, reply: RepeatReply | None = None
) -> Enqueued:
    note = ContactNote(phone=phone, repeat=reply)
    return Enqueued(cid, at, Channel.VOICE, "payments", "ru", "urgent", at, at + 300, at + 600,
                    note=note)  # fmt: skip


def handled(cid: str, at: float) -> list[Event]:
    return [
        arrived(cid, at),
        Accepted(cid, "op-1", at + 5, 5.0),
        Ended(cid, at + 60, ContactState.COMPLETED, operator_id="op-1"),
    ]


async def write(
    store: StoreHandle, recorder: QualityRecorder, batch: list[Event], *, fail: bool = False
) -> QualityWritten:
    async def work(tx: Tx) -> QualityWritten:
        new = await recorder.new_contacts(tx, batch)
        await append_router_events(tx, batch)
        written = await recorder.write(tx, batch, new)
        if fail:
            raise Boom  # as a COMMIT that fails: nothing of the batch stays
        return written

    return await store.transact(work)


async def rows(store: StoreHandle, sql: str) -> list[dict[str, Any]]:
    async def read(tx: Tx) -> list[dict[str, Any]]:
        return [dict(r) for r in await tx.fetchall(sql)]

    return await store.read(read)


async def test_a_batch_written_again_after_a_failure_leaves_one_survey_and_one_count(
    store: StoreHandle,
) -> None:
    recorder = QualityRecorder(quality_rules(load_settings(SHIPPED)))
    batch = handled("c1", T)
    with pytest.raises(Boom):
        await write(store, recorder, batch, fail=True)
    written = await write(store, recorder, batch)

    assert written.surveys == 1
    assert len(await rows(store, "SELECT * FROM surveys")) == 1
    sms = await rows(store, "SELECT dedupe_key, state FROM messages")
    assert sms == [{"dedupe_key": "survey:c1", "state": "pending"}]
    history = await rows(store, "SELECT kind, state FROM message_events")
    assert history == [{"kind": "enqueued", "state": "pending"}]  # as enqueue_message writes
    day = await rows(
        store,
        "SELECT operator_id, firsts, repeats, surveys_sent FROM kpi_quality"
        " WHERE grain = 'day' ORDER BY operator_id",
    )
    assert day == [
        {"operator_id": "", "firsts": 1, "repeats": 0, "surveys_sent": 1},
        {"operator_id": "op-1", "firsts": 1, "repeats": 0, "surveys_sent": 1},
    ]


async def test_a_contact_enqueued_again_at_a_restart_is_not_counted_again(
    store: StoreHandle,
) -> None:
    recorder = QualityRecorder(quality_rules(load_settings(SHIPPED)))
    await write(store, recorder, [arrived("c1", T)])
    await write(store, recorder, [arrived("c2", T + 60)])
    again = await write(store, recorder, [arrived("c2", T + 60)])  # recovery re-enqueues it

    assert again.counts.tallies == {}
    contacts = await rows(store, "SELECT id, repeat_of FROM contacts ORDER BY id")
    assert contacts == [{"id": "c1", "repeat_of": None}, {"id": "c2", "repeat_of": "c1"}]
    [line] = await rows(
        store, "SELECT sum(firsts) AS f, sum(repeats) AS r FROM kpi_quality WHERE grain = 'day'"
    )
    assert line == {"f": 1, "r": 1}


async def test_each_new_contacts_reply_holds_the_repeat_of_its_committed_row(
    store: StoreHandle,
) -> None:
    recorder = QualityRecorder(quality_rules(load_settings(SHIPPED)))
    await write(store, recorder, [arrived("c0", T - 3600)])
    replies = {cid: RepeatReply() for cid in ("c0", "c1", "c2", "c3", "c4")}
    batch: list[Event] = [
        arrived("c0", T - 3600, reply=replies["c0"]),  # enqueued again at a restart: not new
        arrived("c1", T, reply=replies["c1"]),  # repeats c0
        arrived("c2", T + 60, reply=replies["c2"]),  # repeats c1, in the same batch
        arrived("c3", T + 60, phone=None, reply=replies["c3"]),  # no phone: never a repeat
        arrived("c4", T + 60, phone="+79120000000", reply=replies["c4"]),  # a first contact
    ]
    with pytest.raises(Boom):
        await write(store, recorder, batch, fail=True)
    written = await write(store, recorder, batch)
    written.answer_repeats(batch)

    stored = await rows(store, "SELECT id, repeat_of FROM contacts ORDER BY id")
    assert [("c0", False, None)] + [(r["id"], True, r["repeat_of"]) for r in stored[1:]] == [
        (cid, reply.answered, reply.repeat_of) for cid, reply in replies.items()
    ]
    assert [r["repeat_of"] for r in stored] == [None, "c0", "c1", None, None]


async def test_a_contact_repeats_the_latest_of_many_earlier_ones_the_last_queued_of_a_tie(
    store: StoreHandle,
) -> None:
    recorder = QualityRecorder(quality_rules(load_settings(SHIPPED)))
    window = recorder.rules.repeat_window_s
    await write(store, recorder, [arrived("old", T - 600 - window - 1)])  # before every window
    await write(store, recorder, [arrived(f"e{n:02d}", T - 600 + n) for n in range(30)])
    await write(store, recorder, [arrived("tie-a", T), arrived("tie-b", T)])  # queued a, then b
    await write(store, recorder, [arrived("new", T)])
    await write(store, recorder, [arrived("later", T + window)])  # exactly at the window's edge

    stored = {r["id"]: r["repeat_of"] for r in await rows(store, "SELECT * FROM contacts")}
    assert (stored["old"], stored["e00"], stored["e29"]) == (None, None, "e28")
    assert (stored["tie-a"], stored["tie-b"], stored["new"]) == ("e29", "tie-a", "tie-b")
    assert stored["later"] == "new"


async def test_finding_the_contact_repeated_costs_the_same_however_many_came_before(
    store: StoreHandle, db_path: Path
) -> None:
    # SQLite's own count of the steps it runs (not a time): the lookup walks the phone's index
    # back from the new contact and stops, rather than sorting every earlier contact.
    recorder = QualityRecorder(quality_rules(load_settings(SHIPPED)))
    await write(store, recorder, [arrived(f"a{n:02d}", T + n) for n in range(5)])
    await write(store, recorder, [arrived(f"b{n:02d}", T + n, phone=OTHER) for n in range(60)])
    await write(store, recorder, [arrived("a", T + 100), arrived("b", T + 100, phone=OTHER)])

    def steps(contact_id: str, repeats: str) -> int:
        count = 0

        def step() -> int:
            nonlocal count
            count += 1
            return 0

        with closing(sqlite3.connect(db_path)) as db:
            db.set_progress_handler(step, 1)
            db.execute("BEGIN")
            params = {"ids": json.dumps([contact_id]), "window": recorder.rules.repeat_window_s}
            db.execute(_SET_REPEAT_OF, params)
            db.set_progress_handler(None, 1)
            found = db.execute("SELECT repeat_of FROM contacts WHERE id = ?", (contact_id,))
            assert found.fetchall() == [(repeats,)]
            db.execute("ROLLBACK")
        return count

    assert steps("b", "b59") == steps("a", "a04")
