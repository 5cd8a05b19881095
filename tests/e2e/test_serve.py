"""The real server over real HTTP: in-process through `hotline.app.serve`, and as a process
that a deployer starts with `python -m hotline serve` and stops with a signal."""

from __future__ import annotations

import logging
import signal
import socket
import subprocess
import sys
from functools import partial
from pathlib import Path

import httpx
import pytest
import trio
import trio.testing

from hotline.app import serve
from hotline.config import Settings, load_settings
from hotline.services.auth import Role, create_token
from hotline.store import open_store
from tests.e2e.conftest import SlowRoute
from tests.e2e.processes import start_server

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "config" / "hotline.toml"
STOP_TIMEOUT_S = 5.0


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(SHIPPED).with_db(tmp_path / "hotline.db")


async def test_served_app_answers_over_http_on_the_reported_port(
    nursery: trio.Nursery, settings: Settings
) -> None:
    async with open_store(settings.store.path) as store:
        _, token = await create_token(store, Role.ADMIN)
    urls = await nursery.start(partial(serve, settings, bind="127.0.0.1:0"))

    [base] = urls
    assert base.startswith("http://127.0.0.1:") and not base.endswith(":0")
    headers = {"Authorization": f"Bearer {token}"}
    call = {"channel": "chat", "topic": "documents", "phone": "+79123456789"}
    async with httpx.AsyncClient(base_url=base, headers=headers) as client:
        health = await client.get("/healthz")
        created = await client.post("/v1/contacts", json=call)
        queues = await client.get("/v1/queues")
        missing = await client.get("/nope")
    assert (health.status_code, health.json()) == (200, {"status": "ok", "store": "ok"})
    assert created.status_code == 201
    assert queues.status_code == 200
    assert queues.json()["contacts"]["waiting"] == 1
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    nursery.cancel_scope.cancel()


async def test_sigterm_lets_the_request_in_flight_finish_then_stops(
    settings: Settings, slow_route: SlowRoute, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="hotline.app")
    entered, release = slow_route.entered, slow_route.release
    answers: list[httpx.Response] = []

    async def call_slow(base: str) -> None:
        async with httpx.AsyncClient(base_url=base) as client:
            answers.append(await client.get("/slow"))

    with trio.fail_after(STOP_TIMEOUT_S):
        async with trio.open_nursery() as nursery:
            [base] = await nursery.start(partial(serve, settings, bind="127.0.0.1:0"))
            nursery.start_soon(call_slow, base)
            await entered.wait()
            signal.raise_signal(signal.SIGTERM)
            await trio.testing.wait_all_tasks_blocked()
            assert "hotline.stopping" in caplog.messages  # draining, with the request held
            release.set()
        # The nursery closed on its own: serve() returned after the drain, nobody cancelled it.

    [answer] = answers
    assert (answer.status_code, answer.json()) == (200, {"done": True})
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient(base_url=base) as client:
            await client.get("/healthz")


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_server_process_stops_cleanly_on_a_signal(
    tmp_path: Path, stop: signal.Signals
) -> None:
    log_path = tmp_path / "stderr.log"
    server = await start_server(tmp_path / "hotline.db", log_path, cwd=tmp_path)
    try:
        async with httpx.AsyncClient(base_url=server.url) as client:
            assert (await client.get("/healthz")).status_code == 200
            assert (await client.get("/v1/queues")).status_code == 401  # the API needs a token
        server.process.send_signal(stop)
        with trio.fail_after(STOP_TIMEOUT_S):
            returncode = await server.process.wait()
    finally:
        if server.alive:
            server.process.kill()
            await server.process.wait()

    logged = log_path.read_text(encoding="utf-8")
    assert returncode == 0, logged
    assert '"event": "hotline.stopping"' in logged
    assert '"event": "hotline.stopped"' in logged


def test_an_address_in_use_stops_start_up_with_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [
                *(sys.executable, "-m", "hotline", "serve"),
                *("--bind", f"127.0.0.1:{port}", "--db", str(tmp_path / "hotline.db")),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )

    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        f"hotline: cannot listen on 127.0.0.1:{port}: Address already in use"
    )
    assert "Traceback" not in result.stderr
