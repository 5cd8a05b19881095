"""`GET /v1/stats`: period reports over the HTTP API, from what the line did through it, and a
422 naming the field for every query it cannot answer."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
import trio
from quart import Quart

from hotline.api import create_app
from hotline.app import start_services
from hotline.config import KpiSettings, Settings
from hotline.services import Services
from hotline.services.auth import Role, create_token
from tests.api.conftest import PAYMENTS_DESK, Api, Clients
from tests.figures import FIGURES as FIGURE_ORDER

CALL = {"channel": "voice", "topic": "payments", "phone": "+79123456789"}
CHAT = {"channel": "chat", "topic": "applications", "phone": "+79123456780"}
FIGURES = frozenset(FIGURE_ORDER)


def local_day(services: Services, days: int = 0) -> str:
    """Local midnight of today (plus `days`) in the line's zone, as the query writes it."""
    now = datetime.fromtimestamp(services.clock.now(), services.settings.timezone)
    return (now.date() + timedelta(days=days)).isoformat() + "T00:00"


def window(services: Services, **query: str) -> dict[str, str]:
    """Yesterday and today (a test that runs across midnight still finds its contacts)."""
    return {"from": local_day(services, -1), "to": local_day(services, 1), **query}


async def a_handled_call(api: Clients) -> str:
    """op-1 answers and completes a payments call, ends its wrap-up and logs out (its time is
    all in the rollups then: an operator still logged in has more of it at each request)."""
    await api.supervisor.put("/v1/operators/op-1", PAYMENTS_DESK)
    await api.operator.post("/v1/operators/op-1/state", {"state": "ready"})
    cid = (await api.integration.post("/v1/contacts", CALL))[1]["id"]
    await api.operator.post(f"/v1/contacts/{cid}/accept")
    await api.operator.post(f"/v1/contacts/{cid}/complete", {"outcome": "done"})
    await api.operator.post("/v1/operators/op-1/wrap-up/end")
    await api.operator.post("/v1/operators/op-1/state", {"state": "offline"})
    return str(cid)


async def test_a_handled_call_is_in_its_day_and_in_the_total(
    api: Clients, services: Services
) -> None:
    await a_handled_call(api)
    abandoned = (await api.integration.post("/v1/contacts", CHAT))[1]["id"]
    await api.integration.post(f"/v1/contacts/{abandoned}/abandon")

    status, body = await api.supervisor.get(
        "/v1/stats", query_string=window(services, interval="1d")
    )

    assert status == 200, body
    assert [set(row) - FIGURES for row in body["rows"]] == [{"start", "end"}] * 2
    total = body["total"]
    assert set(total) == FIGURES
    assert (total["offered"], total["answered"], total["abandoned"]) == (2, 1, 1)
    assert total["short_abandoned"] == 1  # it waited well under 5 s
    assert total["service_level"]["20"] == 1.0  # short abandons left out (the default basis)
    assert total["abandon_rate"] == 0.0  # (abandoned - short) / (offered - short)
    assert total["talk_s"] is not None and total["wrap_s"] is not None
    assert total["aht_s"] == pytest.approx(total["talk_s"] + total["wrap_s"])
    assert total["deadline_met"] == {"urgent": 1.0, "normal": None}
    assert 0 < total["occupancy"] <= 1
    assert sum(row["offered"] for row in body["rows"]) == 2
    empty = next(row for row in body["rows"] if row["offered"] == 0)
    assert (empty["asa_s"], empty["service_level"]["20"]) == (None, None)


async def test_rows_cover_every_interval_and_every_group_present(
    api: Clients, services: Services
) -> None:
    await a_handled_call(api)

    _, by_hour = await api.supervisor.get("/v1/stats", query_string=window(services, interval="1h"))
    status, by_topic = await api.supervisor.get(
        "/v1/stats", query_string=window(services, interval="1d", by="topic")
    )
    _, by_operator = await api.supervisor.get(
        "/v1/stats", query_string=window(services, interval="1d", by="operator")
    )

    assert len(by_hour["rows"]) == 48
    assert [r["start"] < r["end"] for r in by_hour["rows"]] == [True] * 48
    assert status == 200
    assert [r["group"] for r in by_topic["rows"]] == ["payments", "payments"]
    assert sum(r["answered"] for r in by_topic["rows"]) == 1
    assert {r["occupancy"] for r in by_topic["rows"]} == {None}  # time is an operator's
    assert [r["group"] for r in by_operator["rows"]] == ["op-1", "op-1"]
    handled = [r for r in by_operator["rows"] if r["answered"]]
    assert [(r["offered"], r["answered"]) for r in handled] == [(1, 1)]  # offered = answered
    assert by_topic["total"] == by_operator["total"] == by_hour["total"]


async def test_hours_keep_the_intervals_that_start_within_them(
    api: Clients, services: Services
) -> None:
    day = {"from": local_day(services), "to": local_day(services, 1), "interval": "1h"}

    _, night = await api.supervisor.get("/v1/stats", query_string={**day, "hours": "20:00-08:00"})
    _, office = await api.supervisor.get("/v1/stats", query_string={**day, "hours": "08:00-20:00"})
    _, days = await api.supervisor.get(
        "/v1/stats", query_string={**day, "interval": "1d", "hours": "08:30-09:00"}
    )

    def hours(body: dict[str, Any]) -> list[int]:
        zone = services.settings.timezone
        return [
            datetime.fromisoformat(r["start"].replace("Z", "+00:00")).astimezone(zone).hour
            for r in body["rows"]
        ]

    assert hours(night) == [0, 1, 2, 3, 4, 5, 6, 7, 20, 21, 22, 23]
    assert hours(office) == list(range(8, 20))
    assert len(days["rows"]) == 1  # the day, counting 08:30 and 08:45 only


async def test_only_supervisors_read_reports(api: Clients, services: Services) -> None:
    query = window(services, interval="1d")
    assert (await api.operator.get("/v1/stats", query_string=query))[0] == 403
    assert (await api.integration.get("/v1/stats", query_string=query))[0] == 403
    assert (await api.admin.get("/v1/stats", query_string=query))[0] == 200


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"from": "2026-03-01 00:00"}, "from"),
        ({"from": "2026-02-30T00:00"}, "from"),
        ({"from": "0999-03-01T00:00"}, "from"),
        ({"from": "2026-03-01T00:05"}, "from"),
        ({"to": "2026-03-02T07:59"}, "to"),
        ({"to": "2026-03-01T00:00"}, "to"),
        ({"to": "2026-02-28T00:00"}, "to"),
        ({"to": "2027-03-01T00:00", "interval": "15m"}, "to"),  # 35,040 rows
        ({"interval": "2h"}, "interval"),
        ({"by": "phone"}, "by"),
        ({"hours": "8:00-20:00"}, "hours"),
        ({"hours": "08:00-25:00"}, "hours"),
        ({"hours": "08:60-20:00"}, "hours"),
        ({"hours": "08:00-08:00"}, "hours"),
        ({"colour": "red"}, "colour"),
    ],
)
async def test_a_query_it_cannot_answer_is_422_naming_the_field(
    api: Clients, change: dict[str, str], field: str
) -> None:
    query = {"from": "2026-03-01T00:00", "to": "2026-03-02T00:00", "interval": "1h", **change}

    status, body = await api.supervisor.get("/v1/stats", query_string=query)

    assert (status, body["error"]["field"]) == (422, field), body


async def test_a_query_without_from_is_422(api: Clients) -> None:
    query = {"to": "2026-03-02T00:00", "interval": "1h"}
    status, body = await api.supervisor.get("/v1/stats", query_string=query)
    assert (status, body["error"]["field"]) == (422, "from")


async def test_too_many_rows_of_groups_is_422_naming_by(api: Clients, services: Services) -> None:
    await a_handled_call(api)
    chat = (await api.integration.post("/v1/contacts", CHAT))[1]["id"]
    await api.integration.post(f"/v1/contacts/{chat}/abandon")
    # 6,720 quarter hours are a report; times two topics they are too many rows.
    query = {"from": local_day(services, -69), "to": local_day(services, 1), "interval": "15m"}

    assert (await api.supervisor.get("/v1/stats", query_string=query))[0] == 200
    status, body = await api.supervisor.get("/v1/stats", query_string={**query, "by": "topic"})

    assert (status, body["error"]["field"]) == (422, "by")


async def test_an_interval_finer_than_the_lines_is_422(settings: Settings) -> None:
    hourly = settings.model_copy(update={"kpi": KpiSettings(interval_min=60)})
    async with trio.open_nursery() as nursery:
        services = await start_services(nursery, hourly)
        sup = Api(create_app(services), (await create_token(services.store, Role.SUPERVISOR))[1])
        day = {"from": "2026-03-01T00:00", "to": "2026-03-02T00:00"}

        status, body = await sup.get("/v1/stats", query_string={**day, "interval": "15m"})
        assert (status, body["error"]["field"]) == (422, "interval")
        assert (await sup.get("/v1/stats", query_string={**day, "interval": "1h"}))[0] == 200
        nursery.cancel_scope.cancel()


async def test_the_report_is_in_the_openapi_document(app: Quart) -> None:
    document = await (await app.test_client().get("/openapi.json")).get_json()
    operation = document["paths"]["/v1/stats"]["get"]
    assert {"200", "401", "403", "422"} <= set(operation["responses"])
    required = {p["name"] for p in operation["parameters"] if p.get("required")}
    assert required == {"from", "to", "interval"}
