"""`hotline` run as a deployer runs it, for end-to-end tests: a server process on a database
in a temporary folder, its tokens made with the CLI, its structured log read from stderr.

The trio side of `scripts/launch.py` (which scripts and the synchronous fuzz use): the same
command line and the same reading of the `hotline.serving` log line.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import trio

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "scripts") not in sys.path:
    sys.path.insert(0, str(ROOT / "scripts"))

# The synchronous launcher itself, re-exported for a test that runs no trio loop (the fuzz), and
# the headless browser of the wallboard's test.
import browser as browser  # noqa: E402
import launch as launch  # noqa: E402
from launch import CONFIG, START_TIMEOUT_S, hotline_command, serving_url  # noqa: E402

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


async def start_server(
    db: Path,
    log: Path,
    *,
    cwd: Path,
    config: Path = CONFIG,
    umask: int | None = None,
    before_exec: Callable[[], None] | None = None,
) -> Server:
    """A server on `db`, bound to 127.0.0.1:0, once it serves (its URL read from its
    `hotline.serving` log line). `umask` and `before_exec` apply in its process before it starts."""
    command = hotline_command("serve", "--db", str(db), "--bind", "127.0.0.1:0", config=config)

    def prepare() -> None:
        if umask is not None:
            os.umask(umask)
        if before_exec is not None:
            before_exec()

    with log.open("wb") as stderr:
        process = await trio.lowlevel.open_process(
            command, cwd=cwd, stderr=stderr, preexec_fn=prepare
        )
    try:
        with trio.fail_after(START_TIMEOUT_S):
            while (url := serving_url(log)) is None:
                if process.poll() is not None:
                    raise AssertionError(
                        f"the server exited with {process.returncode}: {log.read_text()}"
                    )
                await trio.sleep(0.05)
    except BaseException:
        # Too slow to start (a busy machine) or cancelled: never leave a server behind the test.
        process.kill()
        await process.wait()
        raise
    return Server(process, url, log)


def run_script(script: Path, *args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    """A script of `scripts/` run to its end from the checkout, as a developer runs it."""
    return subprocess.run(
        [sys.executable, str(script), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
