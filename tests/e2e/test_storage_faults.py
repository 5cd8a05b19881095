"""A full or failing disk under a running server, over real HTTP: every write is refused with 503
and Retry-After, nothing half-done, /healthz says read-only, the process stays up, and once the
disk takes writes again everything works by itself and what was decided during the fault is on
disk, in order.

Two faults, each a real kernel refusal of the server's writes, not a mock: a tmpfs filled to the
brim by a filler file (needs root to mount; skipped with the reason otherwise), and a file-size
limit of one byte set on the server process with prlimit (runs anywhere: every write of a file
past its first byte fails with EFBIG).
"""

from __future__ import annotations

import contextlib
import os
import resource
import sqlite3
import subprocess
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Protocol

import httpx
import pytest
import trio

from tests.e2e.processes import Server, create_token, run_hotline, start_server
from tests.voicemail import samples

RECOVERY_TIMEOUT_S = 60.0
CHAT = {"channel": "chat", "topic": "documents"}
OPERATOR = "op-1"


class Fault(Protocol):
    def begin(self, server: Server) -> None: ...
    def end(self, server: Server) -> None: ...


class FullDisk:
    """The disk the database lives on is full: a filler file takes every free byte."""

    def __init__(self, disk: Path) -> None:
        self.filler = disk / "filler"

    def begin(self, server: Server) -> None:
        fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            for chunk in (1 << 20, 1 << 12, 1):
                with contextlib.suppress(OSError):
                    while True:
                        os.write(fd, b"\0" * chunk)
        finally:
            os.close(fd)

    def end(self, server: Server) -> None:
        self.filler.unlink()


class FileSizeLimit:
    """Every write of the server's past a file's first byte fails (RLIMIT_FSIZE, EFBIG)."""

    def begin(self, server: Server) -> None:
        _, hard = resource.prlimit(server.process.pid, resource.RLIMIT_FSIZE)
        resource.prlimit(server.process.pid, resource.RLIMIT_FSIZE, (1, hard))

    def end(self, server: Server) -> None:
        _, hard = resource.prlimit(server.process.pid, resource.RLIMIT_FSIZE)
        resource.prlimit(server.process.pid, resource.RLIMIT_FSIZE, (hard, hard))


@contextlib.contextmanager
def tmpfs(where: Path, size: str) -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root; the file-size-limit fault runs instead")
    where.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(where)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


async def test_a_full_disk_is_503_with_retry_after_and_the_server_recovers_by_itself(
    tmp_path: Path,
) -> None:
    with tmpfs(tmp_path / "disk", "8m") as disk:
        await _a_fault_refuses_writes_and_the_server_recovers(tmp_path, disk, FullDisk(disk))


async def test_a_disk_that_refuses_every_write_is_503_and_the_server_recovers_by_itself(
    tmp_path: Path,
) -> None:
    disk = tmp_path / "disk"
    disk.mkdir()
    await _a_fault_refuses_writes_and_the_server_recovers(tmp_path, disk, FileSizeLimit())


async def test_start_up_on_a_full_disk_is_one_line_and_exit_code_3(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "disk", "1m") as disk:
        FullDisk(disk).begin(None)  # type: ignore[arg-type]  # the filler needs no server
        code, _, err = await run_hotline(
            "serve", "--db", str(disk / "hotline.db"), "--bind", "127.0.0.1:0", cwd=tmp_path
        )

    assert code == 3, err
    [line] = err.strip().splitlines()[-1:]
    assert line.startswith(f"hotline: cannot write to {disk / 'hotline.db'}")
    assert "Traceback" not in err


async def _a_fault_refuses_writes_and_the_server_recovers(
    tmp_path: Path, disk: Path, fault: Fault
) -> None:
    db = disk / "hotline.db"
    tokens = {
        role: await create_token(db, role, cwd=tmp_path) for role in ("supervisor", "integration")
    }
    tokens["operator"] = await create_token(db, "operator", cwd=tmp_path, operator=OPERATOR)
    server = await start_server(db, tmp_path / "server.log", cwd=tmp_path)
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            api = Api(http, tokens)
            before = await api.set_up_an_operator_with_contacts()
            fault.begin(server)
            during = await api.every_write_is_refused(server, disk)
            fault.end(server)
            await api.wait_until_writable()
            await api.every_write_goes_through(before, during)
        assert server.alive
        assert await server.stop() == 0
    finally:
        if server.alive:
            server.process.kill()
    _decided_during_the_fault_is_on_disk_in_order(db, before, during)


class Api:
    def __init__(self, http: httpx.AsyncClient, tokens: dict[str, str]) -> None:
        self.http = http
        self.tokens = tokens
        self.accepted = self.offered = ""

    async def call(
        self, role: str, method: str, path: str, **kwargs: Any
    ) -> tuple[int, dict[str, Any], httpx.Response]:
        headers = {"Authorization": f"Bearer {self.tokens[role]}", **kwargs.pop("headers", {})}
        response = await self.http.request(method, path, headers=headers, **kwargs)
        return response.status_code, response.json(), response

    async def create_contact(self, key: str, phone: str) -> tuple[int, dict[str, Any]]:
        status, body, _ = await self.call(
            "integration",
            "POST",
            "/v1/contacts",
            json={**CHAT, "phone": phone},
            headers={"Idempotency-Key": key},
        )
        return status, body

    async def set_up_an_operator_with_contacts(self) -> dict[str, str]:
        """An operator ready, holding one accepted chat and offered a second."""
        until = (date.today() + timedelta(days=365)).isoformat()
        profile = {"name": "Оператор", "skills": {"documents": 3}, "languages": ["ru"]}
        status, body, _ = await self.call(
            "supervisor",
            "PUT",
            f"/v1/operators/{OPERATOR}",
            json={**profile, "certified_until": until},
        )
        assert status == 201, body
        status, body, _ = await self.operator_state("ready")
        assert status == 200, body
        status, first = await self.create_contact("k-first", "+79120000001")
        assert status == 201, first
        status, body, _ = await self.call(
            "operator", "POST", f"/v1/contacts/{first['id']}/accept", json={}
        )
        assert status == 200, body
        status, second = await self.create_contact("k-second", "+79120000002")
        assert (status, second["state"]) == (201, "offered"), second
        self.accepted, self.offered = first["id"], second["id"]
        return {"accepted": first["id"], "offered": second["id"]}

    async def operator_state(self, state: str) -> tuple[int, dict[str, Any], httpx.Response]:
        return await self.call(
            "operator", "POST", f"/v1/operators/{OPERATOR}/state", json={"state": state}
        )

    async def upload_voicemail(self, key: str) -> tuple[int, dict[str, Any], httpx.Response]:
        return await self.call(
            "integration",
            "POST",
            "/v1/voicemails",
            data={"phone": "+79120000009", "topic": "documents"},
            files={"audio": ("m.wav", samples.wav(samples=40_000), "audio/wav")},
            headers={"Idempotency-Key": key},
        )

    async def create_ticket(self) -> tuple[int, dict[str, Any], httpx.Response]:
        ticket = {"topic": "documents", "phone": "+79120000008", "description": "Code not received"}
        return await self.call("supervisor", "POST", "/v1/tickets", json=ticket)

    async def every_write_is_refused(self, server: Server, disk: Path) -> dict[str, str]:
        # First an upload: its recording cannot be written, and nothing of it is left.
        status, body, response = await self.upload_voicemail("k-vm-during")
        assert status == 503, body
        assert int(response.headers["Retry-After"]) > 0
        recordings = disk / "hotline.files" / "voicemail"
        assert sorted(p.name for p in recordings.iterdir() if p.name != ".hotline-owner") == []
        # A feedback form likewise: no ticket, and no folder of its attachments left.
        status, body, response = await self.call(
            "integration",
            "POST",
            "/v1/forms/feedback",
            data={
                "phone": "+79120000007",
                "full_name": "Ivanov Ivan",
                "email": "citizen@example.org",
                "type": "technical",
                "description": "The scan does not upload",
            },
            files={"attachments": ("scan.pdf", b"%PDF-1.7" + bytes(200_000), "application/pdf")},
        )
        assert status == 503, body
        assert "Retry-After" in response.headers
        attachments = disk / "hotline.files" / "attachments"
        assert sorted(p.name for p in attachments.iterdir() if p.name != ".hotline-owner") == []
        # A contact the router takes but whose events cannot be written: 503, kept for later.
        status, body = await self.create_contact("k-during", "+79120000003")
        assert status == 503, body
        refused = [
            await self.create_contact("k-other", "+79120000004"),
            (await self.operator_state("break"))[:2],
            (await self.call("operator", "POST", f"/v1/contacts/{self.offered}/accept", json={}))[
                :2
            ],
            (
                await self.call(
                    "operator",
                    "POST",
                    f"/v1/contacts/{self.accepted}/complete",
                    json={"outcome": "решено"},
                )
            )[:2],
            (await self.upload_voicemail("k-vm-other"))[:2],
            (await self.create_ticket())[:2],
        ]
        assert [status for status, _ in refused] == [503] * len(refused), refused
        health = await self.http.get("/healthz")
        assert (health.status_code, health.json()) == (
            503,
            {"status": "unavailable", "store": "read-only"},
        )
        status, queues, _ = await self.call("supervisor", "GET", "/v1/queues")
        assert status == 200, queues  # reads go on
        assert server.alive
        return {"contact_key": "k-during"}

    async def wait_until_writable(self) -> None:
        with trio.fail_after(RECOVERY_TIMEOUT_S):
            while (await self.http.get("/healthz")).status_code != 200:
                await trio.sleep(0.1)

    async def every_write_goes_through(
        self, before: dict[str, str], during: dict[str, str]
    ) -> None:
        # The contact decided during the fault is on disk: its retry finds it, no second one.
        status, body = await self.create_contact(during["contact_key"], "+79120000003")
        assert status == 200, body
        during["contact"] = body["id"]
        status, body, _ = await self.call(
            "operator", "POST", f"/v1/contacts/{before['offered']}/accept", json={}
        )
        assert status == 200, body
        status, body, _ = await self.call(
            "operator",
            "POST",
            f"/v1/contacts/{before['accepted']}/complete",
            json={"outcome": "решено"},
        )
        assert (status, body["state"]) == (200, "completed"), body
        assert (await self.create_contact("k-after", "+79120000005"))[0] == 201
        assert (await self.upload_voicemail("k-vm-after"))[0] == 201
        assert (await self.create_ticket())[0] == 201
        status, body, _ = await self.call(
            "integration", "GET", f"/v1/contacts/{before['accepted']}"
        )
        assert (status, body["state"]) == (200, "completed")


def _decided_during_the_fault_is_on_disk_in_order(
    db: Path, before: dict[str, str], during: dict[str, str]
) -> None:
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        phones = conn.execute("SELECT count(*) FROM contacts WHERE phone = '+79120000003'")
        assert phones.fetchone()[0] == 1  # the retry found it: no second contact
        events = conn.execute(
            "SELECT id, contact_id, kind FROM contact_events ORDER BY id"
        ).fetchall()
    kinds = [(contact, kind) for _, contact, kind in events]
    enqueued_during = kinds.index((during["contact"], "enqueued"))
    # After everything acknowledged before the fault, before everything done after it.
    assert kinds.index((before["offered"], "offered")) < enqueued_during
    assert enqueued_during < kinds.index((before["offered"], "accepted"))
    assert kinds.index((before["accepted"], "ended")) > enqueued_during
