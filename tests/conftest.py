"""Fixtures shared by every test package: a fresh database file and a running store on it.

The store runs real threads (aiosqlite) and real fsyncs, so tests that use it run on trio's real
clock and bound themselves with `fail_after` instead of a MockClock (the notifier's sender timing
is tested on a MockClock with a fake outbox instead).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hotline.store import StoreHandle, open_store


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "hotline.db"


@pytest.fixture
async def store(db_path: Path) -> AsyncIterator[StoreHandle]:
    async with open_store(db_path) as handle:
        yield handle
