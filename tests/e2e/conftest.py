"""Fixtures of the end-to-end tests that run the server in-process (`hotline.app.serve`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
import trio
from quart import Response

import hotline.app
from hotline.api import HotlineApp, Services, create_app


@dataclass
class SlowRoute:
    """`GET /slow` on the app `serve` builds: it sets `entered`, then answers `{"done": true}`
    once `release` is set, so a test holds a request in flight for as long as it needs; if it
    is cancelled meanwhile, it sets `cancelled`. `GET /slow-stream` streams a first line, then a
    last one once `release` is set, and sets `stream_ended` when it ends, however it ends."""

    entered: trio.Event = field(default_factory=trio.Event)
    release: trio.Event = field(default_factory=trio.Event)
    cancelled: trio.Event = field(default_factory=trio.Event)
    stream_ended: trio.Event = field(default_factory=trio.Event)  # `GET /slow-stream`'s end


@pytest.fixture
def slow_route(monkeypatch: pytest.MonkeyPatch) -> SlowRoute:
    route = SlowRoute()

    def app_with_a_slow_route(services: Services) -> HotlineApp:
        app = create_app(services)

        @app.get("/slow")
        async def slow() -> dict[str, bool]:
            route.entered.set()
            try:
                await route.release.wait()
            except trio.Cancelled:
                route.cancelled.set()
                raise
            return {"done": True}

        @app.get("/slow-stream")
        async def slow_stream() -> Response:
            async def chunks() -> AsyncIterator[bytes]:
                try:
                    yield b"first\n"
                    await route.release.wait()
                    yield b"last\n"
                finally:
                    route.stream_ended.set()

            response = Response(chunks(), content_type="text/plain")
            response.timeout = None
            return response

        return app

    monkeypatch.setattr(hotline.app, "create_app", app_with_a_slow_route)
    return route
