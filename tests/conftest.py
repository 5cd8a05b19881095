"""Fixtures shared by every test package: a fresh database file and a running store on it.

The store runs real threads (aiosqlite) and real fsyncs, so tests that use it run on trio's real
clock and bound themselves with `fail_after` instead of a MockClock (the notifier's sender timing
is tested on a MockClock with a fake outbox instead).

No test may write into the checkout's `var/`: a live server beside the checkout owns it. The
session fails at its end if anything there was created or changed while it ran, unless a live
server holds a database lock there (then its own writes would be counted too, and the check is
left out).
"""

from __future__ import annotations

import fcntl
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from hotline.store import StoreHandle, open_store

CHECKOUT_VAR = Path(__file__).resolve().parents[1] / "var"


def _files_under(folder: Path) -> dict[Path, float]:
    found: dict[Path, float] = {}
    for path in folder.rglob("*") if folder.exists() else ():
        try:
            found[path] = path.stat().st_mtime
        except FileNotFoundError:  # removed while the folder was being walked
            continue
    return found


def _a_live_server_holds(folder: Path) -> bool:
    for lock in folder.glob("*.lock") if folder.exists() else ():
        with lock.open("rb") as f:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(f, fcntl.LOCK_UN)
    return False


@pytest.fixture(scope="session", autouse=True)
def _checkout_var_is_left_alone() -> Iterator[None]:
    before = _files_under(CHECKOUT_VAR)
    yield
    if _a_live_server_holds(CHECKOUT_VAR):
        return
    touched = sorted(str(p) for p, t in _files_under(CHECKOUT_VAR).items() if before.get(p) != t)
    assert not touched, f"tests wrote into the checkout's var/: {touched[:5]}"


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "hotline.db"


@pytest.fixture
async def store(db_path: Path) -> AsyncIterator[StoreHandle]:
    async with open_store(db_path) as handle:
        yield handle


# -- figures a test reports in the run's summary ---------------------------------------------------
# A test that measures something (the feedback themes' accuracy) records each line with
# `record_property(SUMMARY, (section, line))`; the lines travel in its report (so also from an
# xdist worker to the controller, which runs this root conftest) and are written at the end of the
# run whatever the output capture.
SUMMARY = "summary_line"
_summary: dict[str, list[str]] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when != "call":
        return
    for name, value in report.user_properties:
        if name == SUMMARY:
            section, line = value
            _summary.setdefault(str(section), []).append(str(line))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for section, lines in _summary.items():
        terminalreporter.section(section)
        for line in lines:
            terminalreporter.write_line(line)
