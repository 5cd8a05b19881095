"""Fixtures for the notifier's tests: a fresh database and a running store on it.

The store runs real threads (aiosqlite), so tests that need it use the real clock, bounded with
`fail_after`; the sender's timing is tested on a MockClock with a fake outbox instead.
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
