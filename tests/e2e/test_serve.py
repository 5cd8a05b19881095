"""The real server over real HTTP: in-process through `hotline.app.serve`, and as a process
that a deployer starts with `python -m hotline serve` and stops with a signal."""

from __future__ import annotations

import signal
import socket
import sys
from functools import partial
from pathlib import Path

import httpx
import pytest
import trio

from hotline.app import serve
from hotline.config import Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "config" / "hotline.toml"
START_TIMEOUT_S = 15.0
STOP_TIMEOUT_S = 5.0


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    shipped = load_settings(SHIPPED)
    store = shipped.store.model_copy(update={"path": tmp_path / "hotline.db"})
    return shipped.model_copy(update={"store": store})


async def test_served_app_answers_over_http_on_the_reported_port(
    nursery: trio.Nursery, settings: Settings
) -> None:
    urls = await nursery.start(partial(serve, settings, bind="127.0.0.1:0"))

    [base] = urls
    assert base.startswith("http://127.0.0.1:") and not base.endswith(":0")
    async with httpx.AsyncClient(base_url=base) as client:
        health = await client.get("/healthz")
        queues = await client.get("/v1/queues")
        missing = await client.get("/nope")
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    assert queues.status_code == 200
    assert queues.json()["created"] == 0
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    nursery.cancel_scope.cancel()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def wait_until_healthy(client: httpx.AsyncClient, process: trio.Process) -> None:
    with trio.fail_after(START_TIMEOUT_S):
        while True:
            assert process.returncode is None, "the server exited during start-up"
            try:
                if (await client.get("/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass  # not listening yet
            await trio.sleep(0.1)


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_server_process_stops_cleanly_on_a_signal(
    tmp_path: Path, stop: signal.Signals
) -> None:
    port = free_port()
    log_path = tmp_path / "stderr.log"
    command = [
        sys.executable,
        "-m",
        "hotline",
        "serve",
        "--bind",
        f"127.0.0.1:{port}",
        "--db",
        str(tmp_path / "hotline.db"),
    ]
    with log_path.open("wb") as log:
        process = await trio.lowlevel.open_process(command, cwd=ROOT, stderr=log)
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
                await wait_until_healthy(client, process)
                assert (await client.get("/v1/queues")).status_code == 200
            process.send_signal(stop)
            with trio.fail_after(STOP_TIMEOUT_S):
                returncode = await process.wait()
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()

    logged = log_path.read_text(encoding="utf-8")
    assert returncode == 0, logged
    assert '"event": "hotline.stopping"' in logged
    assert '"event": "hotline.stopped"' in logged
