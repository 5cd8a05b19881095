"""`hotline` run as a deployer runs it, for end-to-end tests: a server process on a database
in a temporary folder, its tokens made with the CLI, its structured log read from stderr."""

from __future__ import annotations

import json
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

import trio

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "config" / "hotline.toml"
START_TIMEOUT_S = 30.0
COMMAND_TIMEOUT_S = 30.0


@dataclass
class Server:
    process: trio.Process
    url: str
    log: Path

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    async def stop(self) -> int:
        """SIGTERM, and the exit code once it is gone."""
        if self.alive:
            self.process.send_signal(signal.SIGTERM)
        with trio.fail_after(COMMAND_TIMEOUT_S):
            return await self.process.wait()


def hotline_command(*args: str, config: Path = CONFIG) -> list[str]:
    return [sys.executable, "-m", "hotline", args[0], "--config", str(config), *args[1:]]


async def run_hotline(*args: str, cwd: Path, config: Path = CONFIG) -> tuple[int, str, str]:
    """Run a `hotline` command to its end: exit code, stdout, stderr."""
    with trio.fail_after(COMMAND_TIMEOUT_S):
        done = await trio.run_process(
            hotline_command(*args, config=config),
            cwd=cwd,
            capture_stdout=True,
            capture_stderr=True,
            check=False,
        )
    return done.returncode, done.stdout.decode(), done.stderr.decode()


async def create_token(db: Path, role: str, *, cwd: Path, operator: str | None = None) -> str:
    extra = ["--operator", operator] if operator else []
    code, out, err = await run_hotline(
        "create-token", "--db", str(db), "--role", role, *extra, cwd=cwd
    )
    assert code == 0, err
    return out.strip()


async def start_server(db: Path, log: Path, *, cwd: Path, umask: int | None = None) -> Server:
    """A server on `db`, once it serves (its URL read from its `hotline.serving` log line)."""
    command = hotline_command("serve", "--db", str(db), "--bind", "127.0.0.1:0")

    def before_exec() -> None:
        if umask is not None:
            os.umask(umask)

    with log.open("wb") as stderr:
        process = await trio.lowlevel.open_process(
            command, cwd=cwd, stderr=stderr, preexec_fn=before_exec
        )
    with trio.fail_after(START_TIMEOUT_S):
        while True:
            for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
                if '"hotline.serving"' in line:
                    return Server(process, json.loads(line)["urls"][0], log)
            if process.poll() is not None:
                raise AssertionError(
                    f"the server exited with {process.returncode}: {log.read_text()}"
                )
            await trio.sleep(0.05)
