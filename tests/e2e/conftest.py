"""Fixtures of the end-to-end tests that run the server in-process (`hotline.app.serve`)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
import trio

import hotline.app
from hotline.api import HotlineApp, Services, create_app


@dataclass
class SlowRoute:
    """`GET /slow` on the app `serve` builds: it sets `entered`, then answers `{"done": true}`
    once `release` is set, so a test holds a request in flight for as long as it needs; if it
    is cancelled meanwhile, it sets `cancelled`."""

    entered: trio.Event = field(default_factory=trio.Event)
    release: trio.Event = field(default_factory=trio.Event)
    cancelled: trio.Event = field(default_factory=trio.Event)


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

        return app

    monkeypatch.setattr(hotline.app, "create_app", app_with_a_slow_route)
    return route
