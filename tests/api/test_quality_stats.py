"""The quality figures (csat, nps, survey_response_rate, repeat_rate, first_contact_resolution)
of what the line did through the API: in the period report by topic, channel and operator and
for the whole line, in the live figures, on /metrics, and the same after a restart."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing
from prometheus_client.parser import text_string_to_metric_families
from quart import Quart

from hotline.api import create_app
from hotline.app import start_services
from hotline.clock import WallClock
from hotline.config import Settings
from hotline.services import Services
from hotline.store import Tx
from tests.api.conftest import Clients
from tests.api.test_metrics import LOCAL
from tests.api.test_surveys import T0, _clients, at_desk, completed

CHAT = {"channel": "chat", "topic": "applications", "phone": "+79123450000"}
QUALITY = ("csat", "nps", "survey_response_rate", "repeat_rate", "first_contact_resolution")


async def codes(services: Services) -> dict[str, str]:
    async def read(tx: Tx) -> dict[str, str]:
        rows = await tx.fetchall("SELECT contact_id, code FROM surveys")
        return {r["contact_id"]: r["code"] for r in rows}

    return await services.store.read(read)


async def a_day_of_ratings(api: Clients, services: Services) -> None:
    """op-1 completes a call, a chat and the call's repeat (same phone and topic); the call is
    rated 5 and 10, the chat 2 and 3; the repeat's survey (no NPS: asked this month) is not."""
    await at_desk(api)
    call = await completed(api)
    chat = await completed(api, CHAT)
    repeat = await completed(api)
    code = await codes(services)
    assert set(code) == {call, chat, repeat}
    for cid, answer in ((call, {"csat": 5, "nps": 10}), (chat, {"csat": 2, "nps": 3})):
        assert (await api.integration.post(f"/v1/surveys/{code[cid]}", answer))[0] == 200


def today(services: Services) -> dict[str, str]:
    day = datetime.fromtimestamp(services.clock.now(), services.settings.timezone).date()
    return {"from": f"{day}T00:00", "to": f"{day + timedelta(days=1)}T00:00", "interval": "1d"}


def quality(figures: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(figures[k] for k in QUALITY)


async def test_the_period_report_has_the_quality_figures_by_topic_channel_and_operator(
    api: Clients, services: Services, mock_clock: trio.testing.MockClock
) -> None:
    await a_day_of_ratings(api, services)

    reports = {}
    for by in (None, "topic", "channel", "operator", "priority"):
        query = today(services) if by is None else {**today(services), "by": by}
        status, reports[by] = await api.supervisor.get("/v1/stats", query_string=query)
        assert status == 200, reports[by]

    # Line: 2 of 3 surveys answered, one 4-5 of two; NPS one promoter and one detractor of two;
    # one repeat of three contacts, so 1 - 1/2 resolved at first contact.
    line = (0.5, 0.0, pytest.approx(2 / 3), pytest.approx(1 / 3), 0.5)
    assert quality(reports[None]["total"]) == line
    assert quality(reports[None]["rows"][0]) == line
    by_topic = {r["group"]: quality(r) for r in reports["topic"]["rows"]}
    assert by_topic == {
        "payments": (1.0, 100.0, 0.5, 0.5, 0.0),  # the call and its repeat
        "applications": (0.0, -100.0, 1.0, 0.0, 1.0),
    }
    by_channel = {r["group"]: quality(r) for r in reports["channel"]["rows"]}
    assert by_channel == {"voice": by_topic["payments"], "chat": by_topic["applications"]}
    # op-1 completed two first contacts, and one of them came back.
    [op] = reports["operator"]["rows"]
    assert (op["group"], quality(op)) == ("op-1", line)
    assert {r["group"] for r in reports["priority"]["rows"]} == {"urgent", "normal"}
    for by in ("topic", "channel", "operator", "priority"):
        assert quality(reports[by]["total"]) == line


async def test_live_figures_and_metrics_show_todays_quality(
    app: Quart, api: Clients, services: Services, mock_clock: trio.testing.MockClock
) -> None:
    await a_day_of_ratings(api, services)

    status, live = await api.supervisor.get("/v1/stats/live")
    assert status == 200
    _, report = await api.supervisor.get("/v1/stats", query_string=today(services))
    assert quality(live["today"]) == quality(report["total"])
    assert quality(live["last_15m"]) == quality(report["total"])  # time stood still
    assert live["today"]["csat"] == 0.5

    response = await app.test_client().get("/metrics", scope_base=LOCAL)
    metrics = await response.get_data(as_text=True)
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(metrics)
        for s in family.samples
    }
    payments = {"topic": "payments", "priority": "urgent", "channel": "voice"}
    chat = {"topic": "applications", "priority": "normal", "channel": "chat"}

    def sample(name: str, **labels: str) -> float:
        return samples[(name, tuple(sorted(labels.items())))]

    assert sample("hotline_today_csat") == 0.5
    assert sample("hotline_today_nps") == 0.0
    assert sample("hotline_today_first_contact_resolution") == 0.5
    assert sample("hotline_survey_answers_total", **payments, csat="good") == 1
    assert sample("hotline_survey_answers_total", **chat, csat="other") == 1
    assert sample("hotline_contacts_arrived_total", **payments, repeat="true") == 1
    assert sample("hotline_contacts_arrived_total", **payments, repeat="false") == 1
    assert sample("hotline_surveys_sent_total", **chat) == 1
    assert sample("hotline_survey_nps_answers_total", **payments, kind="promoter") == 1
    assert sample("hotline_survey_nps_answers_total", **chat, kind="detractor") == 1


async def test_a_restart_shows_the_same_live_quality_figures(
    settings: Settings, tmp_path: Path, mock_clock: trio.testing.MockClock
) -> None:
    async with trio.open_nursery() as first_life:
        sv = await start_services(first_life, settings, clock=WallClock(epoch=T0))
        await a_day_of_ratings(await _clients(create_app(sv), sv), sv)
        before = (await (await _clients(create_app(sv), sv)).supervisor.get("/v1/stats/live"))[1]
        first_life.cancel_scope.cancel()
    async with trio.open_nursery() as second_life:
        sv = await start_services(second_life, settings, clock=WallClock(epoch=T0))
        after = (await (await _clients(create_app(sv), sv)).supervisor.get("/v1/stats/live"))[1]
        second_life.cancel_scope.cancel()
    for period in ("today", "last_15m"):
        assert quality(after[period]) == quality(before[period]), period
    assert before["today"]["survey_response_rate"] == pytest.approx(2 / 3)


@pytest.fixture
async def services(
    nursery: trio.Nursery, settings: Settings, mock_clock: trio.testing.MockClock
) -> Services:
    return await start_services(nursery, settings, clock=WallClock(epoch=T0))
