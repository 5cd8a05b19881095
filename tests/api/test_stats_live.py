"""`GET /v1/stats/live` and its stream: the line's figures now, from memory, for supervisors;
the same after a restart."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing
from quart import Quart

from hotline.api import create_app, stats
from hotline.app import start_services
from hotline.clock import WallClock
from hotline.config import Settings
from hotline.kpi.rules import MOSCOW
from hotline.services import Services
from hotline.services.auth import Role, create_token
from tests.api.conftest import PAYMENTS_DESK, Api, Clients, Tokens, auth

CALL = {"channel": "voice", "topic": "payments", "phone": "+79123456789"}
NOON = datetime(2026, 11, 10, 12, 0, tzinfo=MOSCOW).timestamp()
MORNING = datetime(2026, 11, 10, 8, 0, tzinfo=MOSCOW).timestamp()


async def _answered_call(api: Clients) -> str:
    """A call, offered to a ready operator, answered, completed, its wrap-up ended."""
    cid: str = (await api.integration.post("/v1/contacts", CALL))[1]["id"]
    operator = (await api.supervisor.get(f"/v1/contacts/{cid}"))[1]["operator_id"]
    assert operator is not None, "nobody was ready"
    await api.supervisor.post(f"/v1/contacts/{cid}/accept", {"operator_id": operator})
    await api.supervisor.post(
        f"/v1/contacts/{cid}/complete", {"operator_id": operator, "outcome": "done"}
    )
    await api.supervisor.post(f"/v1/operators/{operator}/wrap-up/end")
    return cid


async def test_only_supervisors_and_admins_see_the_live_figures(api: Clients) -> None:
    assert (await api.anonymous.get("/v1/stats/live"))[0] == 401
    assert (await api.operator.get("/v1/stats/live"))[0] == 403
    assert (await api.integration.get("/v1/stats/live"))[0] == 403
    assert (await api.admin.get("/v1/stats/live"))[0] == 200
    status, live = await api.supervisor.get("/v1/stats/live")
    assert status == 200
    assert set(live) == {
        "now",
        "today",
        "last_15m",
        "waiting",
        "oldest_wait_s",
        "operators",
        "queues",
        "goals",
        "voicemail_overdue",
    }
    assert live["today"]["offered"] == 0 and live["today"]["service_level"]["20"] is None
    assert live["goals"] == {
        "sl_20": 0.85,
        "sl_30": 0.95,
        "asa_s": 12,
        "max_wait_s": 45,
        "abandon_rate": 0.05,
    }


async def test_the_live_figures_show_what_the_router_did(api: Clients) -> None:
    await api.supervisor.put("/v1/operators/op-1", PAYMENTS_DESK)
    await api.supervisor.post("/v1/operators/op-1/state", {"state": "ready"})
    await _answered_call(api)
    await api.supervisor.post("/v1/operators/op-1/state", {"state": "break"})
    waiting = (await api.integration.post("/v1/contacts", CALL))[1]["id"]
    left = (await api.integration.post("/v1/contacts", CALL))[1]["id"]
    await api.integration.post(f"/v1/contacts/{left}/abandon")
    status, live = await api.supervisor.get("/v1/stats/live")
    assert status == 200
    for period in ("today", "last_15m"):
        figures = live[period]
        assert (figures["offered"], figures["answered"], figures["abandoned"]) == (2, 1, 1)
        assert figures["short_abandoned"] == 1  # it left at once
        assert figures["talk_s"] is not None and figures["occupancy"] is not None
    assert live["waiting"] == 1 and live["oldest_wait_s"] is not None
    assert live["operators"]["break"] == 1 and live["operators"]["ready"] == 0
    [queue] = live["queues"]
    assert (queue["topic"], queue["waiting"]) == ("payments", 1)
    assert waiting not in json.dumps(live)  # figures, never a contact


async def test_head_of_the_live_stream_answers_its_headers_and_opens_no_stream(
    app: Quart, tokens: Tokens
) -> None:
    client = app.test_client()
    with trio.fail_after(10):
        response = await client.head("/v1/stats/live/stream", headers=auth(tokens.supervisor))
    assert (response.status_code, response.content_type) == (200, "text/event-stream")
    assert await response.get_data() == b""
    for token, status in ((None, 401), (tokens.operator, 403), (tokens.integration, 403)):
        headers = auth(token) if token else {}
        assert (await client.head("/v1/stats/live/stream", headers=headers)).status_code == status


def _events(received: bytes) -> list[dict[str, Any]]:
    out = []
    for block in received.decode().split("\n\n"):
        if block.startswith("event: live\n"):
            out.append(json.loads(block.split("data: ", 1)[1]))
    return out


async def test_the_stream_sends_the_figures_at_once_then_each_change(
    app: Quart, api: Clients, tokens: Tokens, services: Services
) -> None:
    _, plain = await api.supervisor.get("/v1/stats/live")
    client = app.test_client()
    received = b""
    with trio.fail_after(20):
        async with client.request(
            "/v1/stats/live/stream", headers=auth(tokens.supervisor)
        ) as connection:
            await connection.send_complete()
            while not _events(received):
                received += await connection.receive()
            first = _events(received)[0]
            assert {**first, "now": None} == {**plain, "now": None}  # the JSON of /live
            await api.integration.post("/v1/contacts", CALL)
            while len(_events(received)) < 2:
                received += await connection.receive()
            assert _events(received)[1]["waiting"] == 1
            # Nothing is committed now, but the wait goes on: the stream tells it as it grows.
            while len(_events(received)) < 3:
                received += await connection.receive()
            second, third = _events(received)[1:3]
            assert third["oldest_wait_s"] > second["oldest_wait_s"]
            services.live.close_listeners()  # what a shutdown does: the stream ends
            while chunk := await connection.receive():  # b"": the body's end
                received += chunk
    assert received.startswith(b"retry: 2000\n\n")
    assert received.decode().split("\n\n")[1].startswith("event: live\ndata: {")


async def test_an_idle_stream_sends_a_comment_to_keep_the_connection(
    app: Quart, tokens: Tokens, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stats, "HEARTBEAT_S", 0.3)
    received = b""
    with trio.fail_after(20):
        async with app.test_client().request(
            "/v1/stats/live/stream", headers=auth(tokens.supervisor)
        ) as connection:
            await connection.send_complete()
            while b": keep-alive\n\n" not in received:  # nobody works, nothing waits
                received += await connection.receive()
            services.live.close_listeners()
    assert len(_events(received)) == 1


async def test_todays_live_figures_are_the_period_report_of_today(
    nursery: trio.Nursery, settings: Settings, mock_clock: trio.testing.MockClock
) -> None:
    # A day of the line, hour by hour from 08:00, read at 19:00 with time standing still, so
    # both answers count the operators' time up to the same instant.
    clock = WallClock(epoch=MORNING)
    services = await start_services(nursery, settings, clock=clock)
    api = await _clients(create_app(services), services)
    for op in ("op-1", "op-2"):
        await api.supervisor.put(f"/v1/operators/{op}", PAYMENTS_DESK)
        await api.supervisor.post(f"/v1/operators/{op}/state", {"state": "ready"})
    for hour in range(11):
        await _answered_call(api)
        if hour % 3 == 0:
            await api.supervisor.post("/v1/operators/op-2/state", {"state": "break"})
            await api.supervisor.post("/v1/operators/op-1/state", {"state": "break"})
            left = (await api.integration.post("/v1/contacts", CALL))[1]["id"]
            mock_clock.jump(4 + hour)
            await api.integration.post(f"/v1/contacts/{left}/abandon")
            await api.supervisor.post("/v1/operators/op-1/state", {"state": "ready"})
            await api.supervisor.post("/v1/operators/op-2/state", {"state": "ready"})
        mock_clock.jump(3600 - 4 - hour if hour % 3 == 0 else 3600)
    await api.supervisor.post("/v1/operators/op-2/state", {"state": "offline"})
    _, live = await api.supervisor.get("/v1/stats/live")
    day = datetime.fromtimestamp(clock.now(), MOSCOW).date()
    query = {"from": f"{day}T00:00", "to": f"{day + timedelta(days=1)}T00:00", "interval": "15m"}
    status, report = await api.supervisor.get("/v1/stats", query_string=query)
    assert status == 200, report
    assert live["today"]["answered"] == 11 and live["today"]["abandoned"] == 4
    _same(live["today"], report["total"], "today")


async def test_a_restart_shows_the_same_live_figures(
    settings: Settings, tmp_path: Path, mock_clock: trio.testing.MockClock
) -> None:
    # Time stands still unless the test moves it, so both lives are read at the same instant.
    clock = WallClock(epoch=NOON)
    async with trio.open_nursery() as first_life:
        services = await start_services(first_life, settings, clock=clock)
        api = await _clients(create_app(services), services)
        for op in ("op-1", "op-2"):
            await api.supervisor.put(f"/v1/operators/{op}", PAYMENTS_DESK)
            await api.supervisor.post(f"/v1/operators/{op}/state", {"state": "ready"})
        await _answered_call(api)
        mock_clock.jump(20 * 60)  # out of the last 15 minutes, still today
        await _answered_call(api)
        await api.supervisor.post("/v1/operators/op-2/state", {"state": "break"})
        mock_clock.jump(3 * 60)
        await api.supervisor.post("/v1/operators/op-1/state", {"state": "break"})
        left = (await api.integration.post("/v1/contacts", CALL))[1]["id"]
        mock_clock.jump(30)
        await api.integration.post(f"/v1/contacts/{left}/abandon")
        await api.integration.post("/v1/contacts", CALL)  # waits: nobody is ready
        mock_clock.jump(40)
        before = (await api.supervisor.get("/v1/stats/live"))[1]
        first_life.cancel_scope.cancel()

    async with trio.open_nursery() as second_life:
        services = await start_services(second_life, settings, clock=clock)
        api = await _clients(create_app(services), services)
        after = (await api.supervisor.get("/v1/stats/live"))[1]
        second_life.cancel_scope.cancel()
    assert before["today"]["answered"] == 2 and before["last_15m"]["answered"] == 1
    assert before["today"]["occupancy"] is not None
    for key in ("now", "today", "last_15m", "waiting", "oldest_wait_s", "voicemail_overdue"):
        _same(after[key], before[key], key)


def _same(a: Any, b: Any, where: str) -> None:
    if isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for key in a:
            _same(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, float):
        assert a == pytest.approx(b, rel=1e-9), where
    else:
        assert a == b, where


async def _clients(app: Quart, services: Services) -> Clients:
    async def api(role: Role, operator: str | None = None) -> Api:
        return Api(app, (await create_token(services.store, role, operator_id=operator))[1])

    return Clients(
        admin=await api(Role.ADMIN),
        supervisor=await api(Role.SUPERVISOR),
        integration=await api(Role.INTEGRATION),
        operator=await api(Role.OPERATOR, "op-1"),
        other_operator=await api(Role.OPERATOR, "op-2"),
        anonymous=Api(app, None),
    )
