"""One server per database, and nobody else's files: a second `serve` on a live database is
refused before it writes a thing, upload folders belong to their database (beside it by default,
never swept by another), and every file that holds personal data is private to the deployer."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
import time
from datetime import date, timedelta
from pathlib import Path

import httpx
import trio

from hotline.app import start_services
from hotline.config import Settings, load_settings
from hotline.voicemail.watcher import VoicemailWatcher
from tests.e2e.processes import CONFIG, create_token, run_hotline, start_server
from tests.voicemail import samples

OPERATOR = "op-1"
NOTIFY_TIMEOUT_S = 30.0


def _events(db: Path) -> list[tuple[str, str]]:
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        rows = conn.execute("SELECT operator_id, kind FROM operator_events ORDER BY id")
        return [(str(o), str(k)) for o, k in rows.fetchall()]


async def test_a_second_server_on_a_live_database_is_refused_before_it_writes_anything(
    tmp_path: Path,
) -> None:
    db = tmp_path / "hotline.db"
    supervisor = await create_token(db, "supervisor", cwd=tmp_path)
    operator = await create_token(db, "operator", cwd=tmp_path, operator=OPERATOR)
    live = await start_server(db, tmp_path / "live.log", cwd=tmp_path)
    try:
        async with httpx.AsyncClient(base_url=live.url) as http:
            until = (date.today() + timedelta(days=365)).isoformat()
            profile = {"name": "A", "skills": {"documents": 3}, "languages": ["ru"]}
            put = await http.put(
                f"/v1/operators/{OPERATOR}",
                json={**profile, "certified_until": until},
                headers={"Authorization": f"Bearer {supervisor}"},
            )
            assert put.status_code == 201, put.text
            ready = await http.post(
                f"/v1/operators/{OPERATOR}/state",
                json={"state": "ready"},
                headers={"Authorization": f"Bearer {operator}"},
            )
            assert ready.status_code == 200, ready.text
            events = _events(db)

            code, _, err = await run_hotline(
                "serve", "--db", str(db), "--bind", "127.0.0.1:0", cwd=tmp_path
            )
            migrate_code, _, migrate_err = await run_hotline(
                "migrate", "--db", str(db), cwd=tmp_path
            )
            # A short write beside a live server is fine: SQLite serialises it.
            await create_token(db, "integration", cwd=tmp_path)

            assert code == 4, err
            line = err.strip().splitlines()[-1]  # after the JSON log lines of its start
            assert "Traceback" not in err
            assert line.startswith(
                f"hotline: not started: {db} is in use by pid {live.process.pid}"
            )
            assert migrate_code == 4, migrate_err
            assert f"in use by pid {live.process.pid}" in migrate_err
            assert _events(db) == events  # no "restart" written into the live database
            me = await http.get(
                f"/v1/operators/{OPERATOR}", headers={"Authorization": f"Bearer {operator}"}
            )
            assert me.json()["state"] == "ready"
    finally:
        live.process.kill()  # as a crash would: the kernel drops the lock with the process
        await live.process.wait()

    again = await start_server(db, tmp_path / "again.log", cwd=tmp_path)
    assert await again.stop() == 0


def _settings(db: Path, **voicemail: object) -> Settings:
    settings = load_settings(CONFIG).with_db(db)
    if not voicemail:
        return settings
    return settings.model_copy(
        update={"voicemail": settings.voicemail.model_copy(update=voicemail)}
    )


def test_upload_folders_default_beside_their_database() -> None:
    settings = _settings(Path("/srv/line/live.db"))

    assert settings.voicemail.dir == Path("/srv/line/live.files/voicemail")
    assert settings.forms.attachments_dir == Path("/srv/line/live.files/attachments")


async def test_a_server_on_another_database_never_sweeps_the_recordings_it_does_not_own(
    tmp_path: Path,
) -> None:
    # Both configured onto one folder, as a test run in a deployment's checkout once was.
    shared = tmp_path / "voicemail"
    live_recording = shared / "vm_00000000000000aa.wav"
    async with trio.open_nursery() as nursery:
        await start_services(nursery, _settings(tmp_path / "live.db", dir=shared))
        live_recording.write_bytes(samples.wav())  # named by the live database's rows
        an_hour_ago = time.time() - 3600  # long past the grace an upload in flight gets
        os.utime(live_recording, (an_hour_ago, an_hour_ago))
        nursery.cancel_scope.cancel()

    async with trio.open_nursery() as nursery:
        other = await start_services(nursery, _settings(tmp_path / "other.db", dir=shared))
        removed = await VoicemailWatcher(other).delete_stray_files()
        nursery.cancel_scope.cancel()

    assert removed == []
    assert live_recording.exists()


async def test_every_file_of_personal_data_is_0600_and_every_folder_0700(tmp_path: Path) -> None:
    db = tmp_path / "line" / "hotline.db"
    db.parent.mkdir(mode=0o755)
    integration = await create_token(db, "integration", cwd=tmp_path)
    server = await start_server(db, tmp_path / "server.log", cwd=tmp_path, umask=0o022)
    try:
        auth = {"Authorization": f"Bearer {integration}"}
        async with httpx.AsyncClient(base_url=server.url, headers=auth) as http:
            voicemail = await http.post(
                "/v1/voicemails",
                data={"phone": "+79120000009", "topic": "documents"},
                files={"audio": ("m.wav", samples.wav(), "audio/wav")},
            )
            assert voicemail.status_code == 201, voicemail.text
            form = await http.post(
                "/v1/forms/feedback",
                data={
                    "phone": "+79120000008",
                    "full_name": "Иванов Иван",
                    "email": "citizen@example.org",
                    "type": "technical",
                    "description": "The code does not come",
                },
                files={"attachments": ("scan.pdf", b"%PDF-1.7 scan", "application/pdf")},
            )
            assert form.status_code == 201, form.text
        outbox = db.parent / "outbox"
        with trio.fail_after(NOTIFY_TIMEOUT_S):  # the confirmation e-mail, written by the sender
            while not (outbox / "email.jsonl").exists():
                await trio.sleep(0.1)
        modes, expected = _modes(db)  # while it runs: the -wal and -shm files go at a clean stop
        assert await server.stop() == 0
    finally:
        if server.alive:
            server.process.kill()

    assert modes == expected


def _modes(db: Path) -> tuple[dict[str, int], dict[str, int]]:
    outbox = db.parent / "outbox"
    files = db.parent / "hotline.files"
    [form_folder] = (files / "attachments").glob("form-*")
    private_files = [
        db,
        db.with_name("hotline.db-wal"),
        db.with_name("hotline.db-shm"),
        db.with_name("hotline.db.lock"),
        next((files / "voicemail").glob("vm_*.wav")),
        files / "voicemail" / ".hotline-owner",
        next(form_folder.iterdir()),
        outbox / "email.jsonl",
    ]
    private_folders = [files, files / "voicemail", files / "attachments", form_folder, outbox]
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in private_files + private_folders}
    expected = {p.name: 0o600 for p in private_files} | {p.name: 0o700 for p in private_folders}
    return modes, expected
