"""Start a real `hotline serve` for a script or an end-to-end test (soak, benchmarks, crash
tests, the fuzz): in a temporary folder, on 127.0.0.1 with a free port, with tokens made by
`hotline create-token`. The e2e tests' trio helpers (`tests/e2e/processes.py`) build on its
command line and its reading of the log.

    from launch import Server, create_token
    with tempfile.TemporaryDirectory() as tmp:
        server = Server.start(Path(tmp))
        token = create_token(server.db, "admin")
        ...
        server.stop()

The server runs with the checkout's configuration (`config/hotline.toml`) but its working
directory is the temporary folder, so every path the configuration gives relative to it (the
voicemail recordings, `var/...`) lands there, never in the checkout. Its stderr (the JSON log)
goes to `server.log` in that folder. `Server.sample()` reads what the kernel says of the process
(resident memory, open file descriptors, threads, CPU) from /proc: Linux only.

Every wait has a time limit; `stop()` sends SIGTERM, then SIGKILL if the server is still up.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "config" / "hotline.toml"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 20.0  # SIGTERM waits up to http.shutdown_grace_s (10 s) for requests in flight
TOKEN_TIMEOUT_S = 60.0
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def hotline_command(command: str, *args: str, config: Path = CONFIG) -> list[str]:
    """`python -m hotline COMMAND --config CONFIG ARGS...`."""
    return [sys.executable, "-m", "hotline", command, "--config", str(config), *args]


def serving_url(log_path: Path) -> str | None:
    """The URL a server's `hotline.serving` log line gives, or None before it is written."""
    for line in log_path.read_text(encoding="utf-8", errors="replace").splitlines():
        if '"hotline.serving"' in line:
            url: str = json.loads(line)["urls"][0]
            return url
    return None


def _environment() -> dict[str, str]:
    # The server runs from the temporary folder: make sure it still finds the package.
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return env


def create_token(db: Path, role: str, *, operator: str | None = None) -> str:
    """A new bearer token of `role` in the database `db` (created if missing)."""
    command = hotline_command("create-token", "--db", str(db), "--role", role)
    if operator is not None:
        command += ["--operator", operator]
    done = subprocess.run(
        command,
        cwd=db.parent,
        env=_environment(),
        capture_output=True,
        text=True,
        timeout=TOKEN_TIMEOUT_S,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"create-token failed: {done.stderr[-2000:]}")
    return done.stdout.strip()


@dataclass(frozen=True, slots=True)
class Sample:
    """What the kernel says of the server process at one instant."""

    at: float  # time.monotonic()
    rss_bytes: int
    fds: int
    threads: int
    cpu_s: float


class Server:
    """One `hotline serve` process on `workdir/hotline.db`."""

    def __init__(
        self, process: subprocess.Popen[bytes], workdir: Path, url: str, log_path: Path
    ) -> None:
        self.process = process
        self.workdir = workdir
        self.db = workdir / "hotline.db"
        self.log_path = log_path
        self.url = url
        self.port = int(url.rsplit(":", 1)[1])

    @classmethod
    def start(
        cls,
        workdir: Path,
        *,
        config: Path = CONFIG,
        log_name: str = "server.log",
        profile: Path | None = None,
        port: int = 0,
    ) -> Server:
        """A server on `workdir/hotline.db`, once it serves; its stderr in `workdir/log_name`.
        With `profile`, it runs under cProfile, which writes its statistics there at exit.
        `port` 0 picks a free one; a fixed one (`free_port()`) lets a restart keep its URL."""
        db = workdir / "hotline.db"
        log_path = workdir / log_name
        bind = f"127.0.0.1:{port}"
        command = hotline_command("serve", "--db", str(db), "--bind", bind, config=config)
        if profile is not None:
            command[1:1] = ["-m", "cProfile", "-o", str(profile)]
        with log_path.open("wb") as log:
            process = subprocess.Popen(command, cwd=workdir, env=_environment(), stderr=log)
        try:
            url = _wait_serving(process, log_path)
        except BaseException:
            end_process(process)
            raise
        return cls(process, workdir, url, log_path)

    def sample(self) -> Sample:
        pid = self.process.pid
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        # Fields after the command name: state is [0], so field n of proc(5) is [n - 3].
        threads = int(stat[17])
        cpu_s = (int(stat[11]) + int(stat[12])) / CLK_TCK
        rss_pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
        fds = len(os.listdir(f"/proc/{pid}/fd"))
        return Sample(time.monotonic(), rss_pages * PAGE_SIZE, fds, threads, cpu_s)

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> int | None:
        """SIGTERM (a clean stop, exit 0 expected); SIGKILL if it does not end in time."""
        return end_process(self.process)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now (the kernel's pick)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _wait_serving(process: subprocess.Popen[bytes], log_path: Path) -> str:
    give_up = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < give_up:
        if (url := serving_url(log_path)) is not None:
            return url
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}; see {log_path}")
        time.sleep(0.05)
    raise TimeoutError(f"the server did not start within {START_TIMEOUT_S} s")


def end_process(
    process: subprocess.Popen[bytes], how: signal.Signals = signal.SIGTERM
) -> int | None:
    """Send `how` (SIGTERM: a clean stop) unless it has ended; SIGKILL if it outlives
    STOP_TIMEOUT_S. Its exit code."""
    if process.poll() is None:
        process.send_signal(how)
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_TIMEOUT_S)
    return process.returncode
