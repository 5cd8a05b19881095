"""Retries, breaches, repairs and retention of voicemails on trio's virtual clock: the service
runs whole (store, router, journal, watcher, API), and time moves only when a test moves it."""

from __future__ import annotations

import errno
import os
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
import trio
import trio.testing

from hotline.config import Settings
from hotline.files import OWNER_MARKER
from hotline.schedule.settings import ScheduleSettings
from hotline.store import open_store
from hotline.store.voicemails import (
    NewAttempt,
    NewVoicemail,
    get_voicemail,
    insert_voicemail,
    record_outcome,
)
from hotline.voicemail.policy import callback_times
from tests.voicemail.conftest import Line, eventually, msk, running_line

pytestmark = pytest.mark.usefixtures("real_time_limit")

MONDAY_10 = msk("2026-03-16 10:00")
CALENDAR = ScheduleSettings().working_calendar()


def epoch(iso: str | None) -> float | None:
    return None if iso is None else datetime.fromisoformat(iso).timestamp()


async def quiet() -> None:
    """Give anything that wrongly woke up a moment (real time) to show itself."""
    await trio.to_thread.run_sync(time.sleep, 0.2)


async def take(line: Line, vm: dict[str, Any]) -> None:
    """op-1 accepts the voicemail's current callback contact."""
    status, body = await line.operator.post(f"/v1/contacts/{vm['contact_id']}/accept")
    assert status == 200, body


async def report(line: Line, vm: dict[str, Any], outcome: str) -> dict[str, Any]:
    status, body = await line.operator.post(
        f"/v1/voicemails/{vm['id']}/attempts", {"outcome": outcome}
    )
    assert status == 200, body
    return body  # type: ignore[no-any-return]


async def offered_to_op1(line: Line, voicemail_id: str, attempts: int) -> dict[str, Any]:
    """The voicemail once its attempt number `attempts` is offered to op-1."""

    async def probe() -> dict[str, Any] | None:
        vm = await line.voicemail(voicemail_id)
        if len(vm["attempts"]) < attempts:
            return None
        rows = await line.fetch("SELECT state FROM contacts WHERE id = ?", vm["contact_id"])
        return vm if rows == [("offered",)] else None

    return await eventually(probe)


async def voicemail_when(
    line: Line, voicemail_id: str, ready: Callable[[dict[str, Any]], Any]
) -> dict[str, Any]:
    """The voicemail as soon as `ready` holds for it."""

    async def probe() -> dict[str, Any] | None:
        body = await line.voicemail(voicemail_id)
        return body if ready(body) else None

    return await eventually(probe)


async def taken_voicemail(line: Line) -> dict[str, Any]:
    """A fresh voicemail whose first callback op-1, ready at the callback desk, has accepted."""
    await line.ready_callback_desk()
    vm = await line.post_voicemail()
    await take(line, vm)
    return vm


async def a_first_life_ending_in_retry_wait(
    settings: Settings, clock: trio.testing.MockClock
) -> dict[str, Any]:
    """The voicemail of a service run that stopped at MONDAY_10, right after op-1 reported its
    first callback not reached."""
    async with running_line(settings, clock, MONDAY_10) as line:
        vm = await taken_voicemail(line)
        await report(line, vm, "not_reached")
    return vm


async def test_a_callback_that_does_not_reach_the_citizen_is_retried_exactly_after_the_delay(
    mock_clock: trio.testing.MockClock, settings: Settings
) -> None:
    async with running_line(settings, mock_clock, MONDAY_10) as line:
        vm = await taken_voicemail(line)
        line.jump_to(msk("2026-03-16 10:05"))

        reported = await report(line, vm, "not_reached")
        due = msk("2026-03-16 10:35")  # 30 minutes after the report
        assert reported["state"] == "retry_wait"
        assert epoch(reported["next_attempt_at"]) == pytest.approx(due, abs=1e-3)
        assert reported["attempts"][0]["outcome"] == "not_reached"

        line.jump_to(due - 1)
        await quiet()
        assert len((await line.voicemail(vm["id"]))["attempts"]) == 1  # not a second early

        line.jump_to(due)
        retried = await offered_to_op1(line, vm["id"], attempts=2)
        second = retried["attempts"][1]
        assert retried["state"] == "calling"
        assert epoch(second["arrived_at"]) == pytest.approx(due, abs=1e-3)
        assert epoch(second["deadline_at"]) == pytest.approx(due + 3600, abs=1e-3)
        enqueued = await line.fetch(
            "SELECT at FROM contact_events WHERE contact_id = ? AND kind = 'enqueued'",
            second["contact_id"],
        )
        assert enqueued == [(pytest.approx(due, abs=1e-3),)]  # queued at the due time itself


async def test_the_last_attempt_not_reached_closes_the_voicemail_with_one_sms(
    mock_clock: trio.testing.MockClock, settings: Settings
) -> None:
    async with running_line(settings, mock_clock, MONDAY_10) as line:
        await line.ready_callback_desk()
        vm = await line.post_voicemail()
        for attempt in (1, 2, 3):
            vm = await offered_to_op1(line, vm["id"], attempts=attempt)
            await take(line, vm)
            vm = await report(line, vm, "not_reached")
            line.jump_to(line.now() + 30 * 60)

        assert (vm["state"], len(vm["attempts"]), vm["next_attempt_at"]) == ("closed", 3, None)
        kinds = [e["kind"] for e in vm["history"]]
        assert kinds[-3:] == ["attempt_reported", "closed", "sms_queued"]
        messages = await line.fetch("SELECT kind, recipient, dedupe_key, body FROM messages")
        assert len(messages) == 1
        kind, recipient, dedupe_key, body = messages[0]
        assert (kind, recipient, dedupe_key) == (
            "sms",
            "+79123456789",
            f"voicemail:{vm['id']}:call_again",
        )
        assert "позвоните" in body.lower()

        async def sent() -> list[tuple[Any, ...]] | None:
            rows = await line.fetch("SELECT state FROM messages")
            return rows if rows != [("pending",)] and rows != [("sending",)] else None

        assert await eventually(sent) == [("sent",)]  # and the sender delivered it
        callbacks = await line.fetch(
            "SELECT state, outcome FROM contacts WHERE channel = 'callback' ORDER BY seq"
        )
        assert callbacks == [("completed", "not_reached")] * 3
        line.jump_to(line.now() + 3 * 3600)
        await quiet()
        assert len((await line.voicemail(vm["id"]))["attempts"]) == 3  # nothing after closing


async def test_reaching_the_citizen_completes_the_voicemail_and_its_callback_contact(
    mock_clock: trio.testing.MockClock, settings: Settings
) -> None:
    async with running_line(settings, mock_clock, MONDAY_10) as line:
        vm = await taken_voicemail(line)
        line.jump_to(MONDAY_10 + 240)
        done = await report(line, vm, "reached")

        assert (done["state"], done["next_attempt_at"]) == ("completed", None)
        assert epoch(done["ended_at"]) == pytest.approx(MONDAY_10 + 240, abs=1e-3)
        assert done["attempts"][0]["accepted_at"] is not None
        contact = await line.fetch(
            "SELECT state, outcome FROM contacts WHERE id = ?", vm["contact_id"]
        )
        assert contact == [("completed", "reached")]
        # A callback that reached the citizen is a conversation to rate (the attempts that did
        # not reach them, in the test above, get no survey).
        surveys = await line.fetch("SELECT contact_id FROM surveys")
        assert surveys == [(vm["contact_id"],)]
        status, kpi = await line.supervisor.get(
            "/v1/voicemails/compliance", query_string={"from": "2026-03-16", "to": "2026-03-16"}
        )
        assert status == 200, kpi
        assert (kpi["days"][0]["within_hour"], kpi["days"][0]["share"]) == (1, 1.0)


async def test_a_callback_not_taken_within_its_working_hour_is_a_breach_of_its_voicemail(
    mock_clock: trio.testing.MockClock, settings: Settings
) -> None:
    async with running_line(settings, mock_clock, msk("2026-03-13 21:00")) as line:  # Friday
        vm = await line.post_voicemail()
        saturday_10 = msk("2026-03-14 10:00")
        assert epoch(vm["deadline_at"]) == pytest.approx(saturday_10, abs=1e-3)

        line.jump_to(saturday_10 - 1)
        await quiet()
        assert (await line.voicemail(vm["id"]))["breached"] is False
        line.jump_to(saturday_10)

        late = await voicemail_when(line, vm["id"], lambda body: body["breached"])
        breach = [e for e in late["history"] if e["kind"] == "breached"]
        assert len(breach) == 1 and breach[0]["attempt"] == 1
        assert epoch(breach[0]["at"]) == pytest.approx(saturday_10, abs=1e-3)
        assert epoch(late["attempts"][0]["breached_at"]) == pytest.approx(saturday_10, abs=1e-3)

        status, queues = await line.supervisor.get("/v1/queues")
        assert status == 200, queues
        assert queues["breaches"] == 1
        assert queues["voicemail"] == {
            "calling": 1,
            "overdue": 1,
            "retry_wait": 0,
            "next_retry_at": None,
            "breaches_today": 1,
        }
        status, kpi = await line.supervisor.get(
            "/v1/voicemails/compliance", query_string={"from": "2026-03-13", "to": "2026-03-14"}
        )
        assert status == 200, kpi
        friday, saturday = kpi["days"]
        assert (friday["voicemails"], friday["late"], friday["share"]) == (1, 1, 0.0)
        assert saturday["voicemails"] == 0


async def test_a_restart_in_the_middle_of_a_retry_delay_keeps_the_due_time(
    mock_clock: trio.testing.MockClock, settings: Settings
) -> None:
    due = MONDAY_10 + 30 * 60
    vm = await a_first_life_ending_in_retry_wait(settings, mock_clock)
    # Back ten minutes later: twenty minutes of the delay are left, not thirty.
    async with running_line(settings, mock_clock, MONDAY_10 + 600) as line:
        await quiet()
        waiting = await line.voicemail(vm["id"])
        assert (waiting["state"], len(waiting["attempts"])) == ("retry_wait", 1)
        assert epoch(waiting["next_attempt_at"]) == pytest.approx(due, abs=1e-3)

        line.jump_to(due - 1)
        await quiet()
        assert len((await line.voicemail(vm["id"]))["attempts"]) == 1

        line.jump_to(due)

        async def retried() -> list[tuple[Any, ...]] | None:
            return await line.fetch(
                "SELECT a.arrived_at, e.at FROM voicemail_attempts a"
                " JOIN contact_events e ON e.contact_id = a.contact_id AND e.kind = 'enqueued'"
                " WHERE a.voicemail_id = ? AND a.attempt = 2",
                vm["id"],
            )

        [(arrived, enqueued)] = await eventually(retried)
        assert arrived == pytest.approx(due, abs=1e-3)
        assert enqueued == pytest.approx(due, abs=1e-3)


async def test_a_retry_that_fell_due_while_the_service_was_down_is_queued_at_start_as_due(
    mock_clock: trio.testing.MockClock, settings: Settings
) -> None:
    due = MONDAY_10 + 30 * 60
    vm = await a_first_life_ending_in_retry_wait(settings, mock_clock)
    async with running_line(settings, mock_clock, MONDAY_10 + 3600) as line:

        async def retried() -> dict[str, Any] | None:
            body = await line.voicemail(vm["id"])
            if len(body["attempts"]) < 2:
                return None
            queued = await line.fetch("SELECT 1 FROM contacts WHERE id = ?", body["contact_id"])
            return body if queued else None

        body = await eventually(retried)
        second = body["attempts"][1]
        # It arrived when it was due: its hour is counted from then, not from the restart.
        assert epoch(second["arrived_at"]) == pytest.approx(due, abs=1e-3)
        assert epoch(second["deadline_at"]) == pytest.approx(due + 3600, abs=1e-3)


async def test_a_voicemail_whose_callback_never_reached_the_store_is_queued_at_start(
    mock_clock: trio.testing.MockClock, settings: Settings
) -> None:
    # As if the process died between committing the voicemail and queueing its contact.
    times = callback_times(settings.voicemail.callback_policy(), CALENDAR, MONDAY_10)
    orphan = NewVoicemail(
        id="vm_0123456789abcdef",
        phone="+79123456789",
        topic="payments",
        language="ru",
        transcript=None,
        audio_type="wav",
        audio_size=10,
        audio_sha256="0" * 64,
        audio_file="vm_0123456789abcdef.wav",
        arrived_at=MONDAY_10,
        deadline_at=times.deadline_at,
    )
    first = NewAttempt(1, "c_00000000000000aa", MONDAY_10, times.target_at, times.deadline_at)
    async with open_store(settings.store.path) as store:
        await store.transact(lambda tx: insert_voicemail(tx, orphan, first, at=MONDAY_10))

    async with running_line(settings, mock_clock, MONDAY_10 + 120) as line:
        contact = await line.fetch(
            "SELECT state, channel, skills, phone, arrived_at, deadline_at FROM contacts"
            " WHERE id = ?",
            first.contact_id,
        )
        assert contact == [
            (
                "waiting",
                "callback",
                '["callback","payments"]',
                "+79123456789",
                MONDAY_10,
                times.deadline_at,
            )
        ]
        history = [e["kind"] for e in (await line.voicemail(orphan.id))["history"]]
        assert history == ["received", "callback_queued", "callback_requeued"]


async def test_an_outcome_recorded_while_its_contact_stayed_live_ends_the_contact_at_start(
    mock_clock: trio.testing.MockClock, settings: Settings
) -> None:
    async with running_line(settings, mock_clock, MONDAY_10) as line:
        vm = await taken_voicemail(line)
        # As if the process died between recording the outcome and completing the contact.
        row = await line.services.store.read(lambda tx: get_voicemail(tx, vm["id"]))
        assert row is not None
        await line.services.store.transact(
            lambda tx: record_outcome(
                tx,
                row,
                outcome="reached",
                comment=None,
                reported_by="op-1",
                state="completed",
                next_attempt_at=None,
                at=MONDAY_10 + 60,
            )
        )

    async with running_line(settings, mock_clock, MONDAY_10 + 120) as line:
        contact = await line.fetch(
            "SELECT state, outcome, operator_id FROM contacts WHERE id = ?", vm["contact_id"]
        )
        assert contact == [("completed", "reached", "op-1")]
        assert (await line.voicemail(vm["id"]))["state"] == "completed"


async def test_a_callback_completed_through_the_contacts_api_still_settles_its_voicemail(
    mock_clock: trio.testing.MockClock, settings: Settings
) -> None:
    async with running_line(settings, mock_clock, MONDAY_10) as line:
        vm = await taken_voicemail(line)
        status, body = await line.operator.post(
            f"/v1/contacts/{vm['contact_id']}/complete", {"outcome": "автоответчик"}
        )
        assert status == 200, body
        line.jump_to(MONDAY_10 + settings.voicemail.sweep_interval_s)

        body = await voicemail_when(line, vm["id"], lambda body: body["state"] != "calling")
        # Not "reached" in so many words: treated as not reached, retried from the contact's end.
        assert body["state"] == "retry_wait"
        assert epoch(body["next_attempt_at"]) == pytest.approx(MONDAY_10 + 1800, abs=1e-3)
        assert body["attempts"][0]["outcome"] == "not_reached"


async def test_recordings_past_their_retention_are_deleted_and_each_deletion_recorded(
    mock_clock: trio.testing.MockClock, settings: Settings
) -> None:
    voicemail = settings.voicemail.model_copy(update={"retention_days": 1.0})
    settings = settings.model_copy(update={"voicemail": voicemail})
    async with running_line(settings, mock_clock, MONDAY_10) as line:
        old = await line.post_voicemail()
        line.jump_to(MONDAY_10 + 12 * 3600)
        young = await line.post_voicemail()
        line.jump_to(MONDAY_10 + 86_400 + 60)

        body = await voicemail_when(line, old["id"], lambda body: body["audio"]["deleted_at"])
        assert [e["kind"] for e in body["history"]].count("audio_deleted") == 1
        assert body["audio"]["sha256"] == old["audio"]["sha256"]  # the metadata stays
        assert not (voicemail.dir / f"{old['id']}.wav").exists()
        assert (voicemail.dir / f"{young['id']}.wav").exists()
        status, error = await line.supervisor.get(f"/v1/voicemails/{old['id']}/audio")
        assert (status, error["error"]["code"]) == (404, "audio_deleted")


async def test_files_a_crash_left_in_the_recordings_folder_are_removed_and_uploads_kept(
    mock_clock: trio.testing.MockClock, settings: Settings
) -> None:
    folder = settings.voicemail.dir
    folder.mkdir(parents=True, exist_ok=True)
    an_hour_ago = time.time() - 3600
    # Written, then the process died before the row was committed; and a write cut short.
    leftovers = ["vm_0000000000000001.wav", ".vm_0000000000000002.wav.1a2b3c4d.part"]
    for name in leftovers:
        (folder / name).write_bytes(b"RIFF")
        os.utime(folder / name, (an_hour_ago, an_hour_ago))
    in_flight = folder / "vm_0000000000000003.wav"  # just written: its row may be on its way
    in_flight.write_bytes(b"RIFF")

    async with running_line(settings, mock_clock, MONDAY_10) as line:  # sweeps at start
        kept = await line.post_voicemail()

        async def swept() -> list[str] | None:
            names = sorted(p.name for p in folder.iterdir() if p.name != OWNER_MARKER)
            return names if not set(leftovers) & set(names) else None

        assert await eventually(swept) == sorted([in_flight.name, f"{kept['id']}.wav"])
        line.jump_to(MONDAY_10 + settings.voicemail.sweep_interval_s + 1)  # another sweep
        await quiet()
        assert (folder / f"{kept['id']}.wav").exists() and in_flight.exists()


async def test_a_sweep_that_runs_out_of_file_descriptors_is_tried_again_and_the_service_lives(
    mock_clock: trio.testing.MockClock, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = settings.voicemail.dir
    folder.mkdir(parents=True, exist_ok=True)
    stray = folder / "vm_0000000000000001.wav"  # left by a crash: the sweep removes it
    stray.write_bytes(b"RIFF")
    an_hour_ago = time.time() - 3600
    os.utime(stray, (an_hour_ago, an_hour_ago))
    real_scandir = os.scandir
    refused: list[str] = []

    def scandir(path: Any = ".") -> Any:
        if str(path) == str(folder) and len(refused) < 3:
            refused.append(str(path))
            raise OSError(errno.EMFILE, "Too many open files", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    async with running_line(settings, mock_clock, MONDAY_10) as line:  # the first sweep fails
        await eventually(lambda: _true(len(refused) >= 1))
        for step in range(1, 8):  # past the pauses (1, 2, 4 s): the sweep comes back
            line.jump_to(MONDAY_10 + 4 * step)
            await quiet()
            if not stray.exists():
                break
        assert len(refused) == 3 and not stray.exists()
        vm = await line.post_voicemail()  # the service still answers
        assert (folder / f"{vm['id']}.wav").exists()


async def _true(value: bool) -> bool:
    return value
