"""The whole service on trio's virtual clock, for the voicemail watcher and the router's timers.

The store runs real threads (aiosqlite, fsync), so the clock never jumps by itself (autojump
would take a database call for idleness): a test moves it with `Line.jump_to(wall time)` while
nothing is in flight, and waits for what must follow with `eventually`, which polls in real time
from a worker thread. Virtual time stands still meanwhile, so every recorded instant is exact.
"""

from __future__ import annotations

import io
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import pytest
import trio
import trio.testing
from quart import Quart
from werkzeug.datastructures import FileStorage

from hotline.api import create_app
from hotline.app import start_services
from hotline.clock import WallClock
from hotline.config import Settings, load_settings
from hotline.services import Services
from hotline.services.auth import Role, create_token
from tests.api.conftest import SHIPPED, Api
from tests.voicemail import samples

T = TypeVar("T")
MSK = ZoneInfo("Europe/Moscow")
PHONE = "+79123456789"
CALLBACK_DESK = {
    "name": "Ольга Смирнова",
    "skills": {"callback": 3, "payments": 4},
    "languages": ["ru"],
    "capacity": {"voice": 1, "callback": 1},
    "certified_until": "2099-12-31",
}


def msk(text: str) -> float:
    """Epoch seconds of a Moscow wall-clock time, e.g. "2026-03-16 10:00"."""
    return datetime.fromisoformat(text).replace(tzinfo=MSK).timestamp()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """The shipped configuration (real voice hours) on a temporary database and recordings dir."""
    return load_settings(SHIPPED).with_db(tmp_path / "hotline.db")


REAL_TIME_LIMIT_S = 60.0


@pytest.fixture
async def real_time_limit(nursery: trio.Nursery) -> None:
    """Fail a test that runs this long in real time: on a clock that stands still, `fail_after`
    would never fire, and a test waiting on virtual time would hang the suite instead."""

    async def watchdog() -> None:
        give_up = time.monotonic() + REAL_TIME_LIMIT_S
        while time.monotonic() < give_up:
            await trio.to_thread.run_sync(time.sleep, 0.05)
        raise AssertionError(f"the test ran for {REAL_TIME_LIMIT_S} s of real time")

    nursery.start_soon(watchdog)


async def eventually(probe: Callable[[], Awaitable[T | None]], *, within_s: float = 10.0) -> T:
    """The first truthy answer of `probe`, asked until it gives one (real time)."""
    give_up = time.monotonic() + within_s
    while True:
        answer = await probe()
        if answer:
            return answer
        if time.monotonic() > give_up:
            raise AssertionError(f"nothing came within {within_s} s: last answer {answer!r}")
        await trio.to_thread.run_sync(time.sleep, 0.005)


@dataclass
class Line:
    services: Services
    app: Quart
    clock: trio.testing.MockClock
    integration: Api
    supervisor: Api
    operator: Api  # acts as op-1

    def now(self) -> float:
        return self.services.clock.now()

    def jump_to(self, wall: float) -> None:
        """Move virtual time on to wall time `wall` (never back)."""
        self.clock.jump(max(0.0, self.services.clock.trio_time(wall) - trio.current_time()))

    async def post_voicemail(self, topic: str = "payments", **extra: Any) -> dict[str, Any]:
        status, body = await self.integration.call(
            "POST",
            "/v1/voicemails",
            form={"phone": PHONE, "topic": topic, **extra},
            files={"audio": FileStorage(io.BytesIO(samples.wav()), "message.wav")},
        )
        assert status == 201, body
        return body  # type: ignore[no-any-return]

    async def ready_callback_desk(self, op_id: str = "op-1") -> None:
        status, body = await self.supervisor.put(f"/v1/operators/{op_id}", CALLBACK_DESK)
        assert status in (200, 201), body
        status, body = await self.supervisor.post(
            f"/v1/operators/{op_id}/state", {"state": "ready"}
        )
        assert status == 200, body

    async def voicemail(self, voicemail_id: str) -> dict[str, Any]:
        status, body = await self.supervisor.get(f"/v1/voicemails/{voicemail_id}")
        assert status == 200, body
        return body  # type: ignore[no-any-return]

    async def fetch(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        async def work(tx: Any) -> list[tuple[Any, ...]]:
            return [tuple(r) for r in await tx.fetchall(sql, params)]

        return await self.services.store.read(work)


async def open_line(nursery: trio.Nursery, settings: Settings, clock: Any, epoch: float) -> Line:
    """The service started at wall time `epoch` in `nursery`, with a token per role."""
    services = await start_services(nursery, settings, clock=WallClock(epoch))
    app = create_app(services)

    async def token(role: Role, operator_id: str | None = None) -> str:
        return (await create_token(services.store, role, operator_id=operator_id))[1]

    return Line(
        services,
        app,
        clock,
        Api(app, await token(Role.INTEGRATION)),
        Api(app, await token(Role.SUPERVISOR)),
        Api(app, await token(Role.OPERATOR, "op-1")),
    )


@asynccontextmanager
async def running_line(settings: Settings, clock: Any, epoch: float) -> AsyncIterator[Line]:
    """The service started at wall time `epoch` for the length of the block, then stopped."""
    async with trio.open_nursery() as nursery:
        yield await open_line(nursery, settings, clock, epoch)
        nursery.cancel_scope.cancel()
