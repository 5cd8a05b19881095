"""The whole service behind the app's test client: a real store on a temporary file, the router
rebuilt from it, the journal and the offer board, and a token for each role."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import trio
from quart import Quart

from hotline.api import create_app
from hotline.app import start_services
from hotline.config import Settings, load_settings
from hotline.schedule.settings import ScheduleSettings
from hotline.services import Services
from hotline.services.auth import Role, create_token

SHIPPED = Path(__file__).resolve().parents[2] / "config" / "hotline.toml"
WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALWAYS = {day: ["00:00-24:00"] for day in WEEK}
NEVER: dict[str, list[str]] = {day: [] for day in WEEK}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # On a database in tmp_path, whose upload folders follow it there: never the checkout's var/.
    shipped = load_settings(SHIPPED).with_db(tmp_path / "hotline.db")
    # The API tests run at any hour: the voice line is open around the clock for them.
    schedule = ScheduleSettings.model_validate({"channels": {"voice": ALWAYS}})
    return shipped.model_copy(update={"schedule": schedule})


@pytest.fixture
async def services(nursery: trio.Nursery, settings: Settings) -> Services:
    return await start_services(nursery, settings)


@pytest.fixture
def app(services: Services) -> Quart:
    return create_app(services)


@dataclass(frozen=True)
class Tokens:
    admin: str
    supervisor: str
    integration: str
    operator: str  # acts as "op-1"
    other_operator: str  # acts as "op-2"
    editor: str  # writes the knowledge base


@pytest.fixture
async def tokens(services: Services) -> Tokens:
    async def make(role: Role, operator_id: str | None = None) -> str:
        return (await create_token(services.store, role, operator_id=operator_id))[1]

    return Tokens(
        admin=await make(Role.ADMIN),
        supervisor=await make(Role.SUPERVISOR),
        integration=await make(Role.INTEGRATION),
        operator=await make(Role.OPERATOR, "op-1"),
        other_operator=await make(Role.OPERATOR, "op-2"),
        editor=await make(Role.EDITOR),
    )


def auth(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **extra}


class Api:
    """Calls as one role; every answer is checked to be JSON before it is returned."""

    def __init__(self, app: Quart, token: str | None) -> None:
        self._client = app.test_client()
        self._token = token

    async def call(
        self,
        method: str,
        path: str,
        json: Any = None,
        *,
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> tuple[int, Any]:
        all_headers = dict(headers or {})
        if self._token is not None:
            all_headers.setdefault("Authorization", f"Bearer {self._token}")
        if json is not None:
            kwargs["json"] = json
        response = await self._client.open(path, method=method, headers=all_headers, **kwargs)
        assert response.content_type.startswith("application/json"), response.content_type
        return response.status_code, await response.get_json()

    async def get(self, path: str, **kw: Any) -> tuple[int, Any]:
        return await self.call("GET", path, **kw)

    async def post(self, path: str, json: Any = None, **kw: Any) -> tuple[int, Any]:
        return await self.call("POST", path, json if json is not None else {}, **kw)

    async def put(self, path: str, json: Any, **kw: Any) -> tuple[int, Any]:
        return await self.call("PUT", path, json, **kw)


@dataclass(frozen=True)
class Clients:
    admin: Api
    supervisor: Api
    integration: Api
    operator: Api
    other_operator: Api
    anonymous: Api


@pytest.fixture
def api(app: Quart, tokens: Tokens) -> Clients:
    return Clients(
        admin=Api(app, tokens.admin),
        supervisor=Api(app, tokens.supervisor),
        integration=Api(app, tokens.integration),
        operator=Api(app, tokens.operator),
        other_operator=Api(app, tokens.other_operator),
        anonymous=Api(app, None),
    )


PAYMENTS_DESK = {
    "name": "Анна Петрова",
    "skills": {"payments": 4, "applications": 2},
    "languages": ["ru"],
    "capacity": {"voice": 1, "chat": 2},
    "certified_until": "2099-12-31",
}
