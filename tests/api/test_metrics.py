"""`GET /metrics`: the line's figures for Prometheus, scraped from this host without a token (or
with one, as configured), in the format the scraper asks for, never labelled by a person."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import trio
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample
from quart import Quart

from hotline.api import create_app
from hotline.app import start_services
from hotline.config import Settings
from hotline.services.auth import Role, create_token
from tests.api.conftest import PAYMENTS_DESK, Clients, Tokens, auth

LOCAL = {"client": ("127.0.0.1", 50_000)}
LOCAL6 = {"client": ("::1", 50_000)}
REMOTE = {"client": ("10.1.2.3", 50_000)}
PHONE = "+79123456789"
CALL = {"channel": "voice", "topic": "payments", "phone": PHONE}
QUEUE_LABELS = {"topic", "priority", "channel"}


async def _scrape(
    app: Quart, *, scope: dict[str, Any] = LOCAL, **headers: str
) -> tuple[int, str, str]:
    response = await app.test_client().get("/metrics", headers=headers, scope_base=scope)
    return response.status_code, response.mimetype, (await response.get_data()).decode()


def _samples(text: str) -> Iterator[Sample]:
    for family in text_string_to_metric_families(text):
        yield from family.samples


async def _a_day_of_calls(api: Clients) -> list[str]:
    await api.supervisor.put("/v1/operators/op-1", PAYMENTS_DESK)
    await api.supervisor.post("/v1/operators/op-1/state", {"state": "ready"})
    answered = (await api.integration.post("/v1/contacts", CALL))[1]["id"]
    await api.supervisor.post(f"/v1/contacts/{answered}/accept", {"operator_id": "op-1"})
    await api.supervisor.post(
        f"/v1/contacts/{answered}/complete", {"operator_id": "op-1", "outcome": "done"}
    )
    await api.supervisor.post("/v1/operators/op-1/wrap-up/end")
    await api.supervisor.post("/v1/operators/op-1/state", {"state": "break"})
    left = (await api.integration.post("/v1/contacts", CALL))[1]["id"]
    await api.integration.post(f"/v1/contacts/{left}/abandon")
    waiting = (await api.integration.post("/v1/contacts", CALL))[1]["id"]
    return [answered, left, waiting]


async def test_this_host_scrapes_without_a_token_and_others_are_refused(
    app: Quart, tokens: Tokens
) -> None:
    for scope in (LOCAL, LOCAL6, {"client": ("::ffff:127.0.0.1", 1)}):
        status, content_type, _ = await _scrape(app, scope=scope)
        assert (status, content_type) == (200, "text/plain"), scope
    # From elsewhere, no token opens it: not even an admin's.
    assert (await _scrape(app, scope=REMOTE))[0] == 403
    assert (await _scrape(app, scope=REMOTE, **auth(tokens.admin)))[0] == 403
    assert (await _scrape(app, scope={}))[0] == 403  # no peer address known


async def test_with_token_access_a_supervisors_token_scrapes_from_anywhere(
    nursery: trio.Nursery, settings: Settings
) -> None:
    metrics = settings.metrics.model_copy(update={"access": "token"})
    services = await start_services(nursery, settings.model_copy(update={"metrics": metrics}))
    app = create_app(services)

    async def token(role: Role) -> dict[str, str]:
        operator = "op-1" if role is Role.OPERATOR else None
        return auth((await create_token(services.store, role, operator_id=operator))[1])

    assert (await _scrape(app, scope=REMOTE))[0] == 401
    assert (await _scrape(app, scope=LOCAL))[0] == 401  # this host needs one too now
    assert (await _scrape(app, scope=REMOTE, **await token(Role.OPERATOR)))[0] == 403
    assert (await _scrape(app, scope=REMOTE, **await token(Role.INTEGRATION)))[0] == 403
    assert (await _scrape(app, scope=REMOTE, **await token(Role.SUPERVISOR)))[0] == 200
    assert (await _scrape(app, scope=REMOTE, **await token(Role.ADMIN)))[0] == 200


async def test_the_format_is_the_one_the_scraper_accepts(app: Quart) -> None:
    status, content_type, text = await _scrape(app)
    assert status == 200 and content_type == "text/plain"
    assert "# TYPE hotline_contacts_waiting gauge" in text
    response = await app.test_client().get(
        "/metrics",
        headers={"Accept": "application/openmetrics-text; version=1.0.0; charset=utf-8"},
        scope_base=LOCAL,
    )
    body = (await response.get_data()).decode()
    assert response.status_code == 200
    assert response.mimetype == "application/openmetrics-text"
    assert body.endswith("# EOF\n")
    # An Accept it cannot read is answered in the text format, not with an error.
    for accept in ("application/openmetrics-text; version=x.y", "text/plain; version=banana"):
        status, content_type, text = await _scrape(app, Accept=accept)
        assert (status, content_type) == (200, "text/plain"), accept


async def test_counters_and_gauges_follow_the_line_and_name_no_contact_or_phone(
    app: Quart, api: Clients
) -> None:
    contact_ids = await _a_day_of_calls(api)
    await api.supervisor.get(f"/v1/contacts/{contact_ids[0]}")  # a path holding an id
    _, _, text = await _scrape(app)
    samples = list(_samples(text))
    values = {(s.name, tuple(sorted(s.labels.items()))): s.value for s in samples}
    queue = (("channel", "voice"), ("priority", "urgent"), ("topic", "payments"))
    assert values["hotline_contacts_offered_total", queue] == 2
    assert values["hotline_contacts_answered_total", queue] == 1
    assert values["hotline_contacts_abandoned_total", (*queue[:2], ("short", "true"), queue[2])]
    assert values["hotline_contacts_expired_total", queue] == 0
    assert values["hotline_contacts_waiting", ()] == 1
    assert values["hotline_operators", (("state", "break"),)] == 1
    assert values["hotline_outbox_messages", (("kind", "sms"), ("state", "failed"))] == 0
    assert ("hotline_voicemail_overdue", ()) in values
    talk = [s for s in samples if s.name == "hotline_handle_seconds_count"]
    assert {s.labels["part"] for s in talk} == {"talk", "wrap"}
    # Every label of every series: a queue, an outcome, a state, a kind, a route; never a person.
    routes = {s.labels["route"] for s in samples if "route" in s.labels}
    assert "/v1/contacts/<contact_id>" in routes
    for s in samples:
        for value in s.labels.values():
            assert PHONE not in value and "79123456789" not in value, s
            assert not any(cid in value for cid in contact_ids), s
            assert "op-1" not in value, s
        assert set(s.labels) <= {
            *QUEUE_LABELS,
            "short",
            "outcome",
            "part",
            "le",
            "state",
            "kind",
            "route",
            "method",
            "status",
            "repeat",  # quality counters: a yes/no and a rating band, never a person
            "csat",
        }, s


async def test_the_wait_histogram_has_a_bucket_at_every_service_level_threshold(
    app: Quart, api: Clients, settings: Settings
) -> None:
    await _a_day_of_calls(api)
    _, _, text = await _scrape(app)
    bounds = {
        float(s.labels["le"]) for s in _samples(text) if s.name == "hotline_wait_seconds_bucket"
    }
    assert set(map(float, settings.kpi.service_level_s)) <= bounds
    assert settings.kpi.short_abandon_s in bounds and float("inf") in bounds


async def test_request_durations_are_labelled_by_route_template(app: Quart, api: Clients) -> None:
    await api.supervisor.get("/v1/contacts/c_0000000000000000")  # 404: no such contact
    await api.supervisor.get("/no/such/path")
    _, _, text = await _scrape(app)
    counts = {
        (s.labels["route"], s.labels["status"]): s.value
        for s in _samples(text)
        if s.name == "hotline_http_request_duration_seconds_count"
    }
    assert counts[("/v1/contacts/<contact_id>", "404")] == 1
    assert counts[("unmatched", "404")] == 1
    assert not any("c_0000000000000000" in route for route, _ in counts)


async def test_methods_no_route_takes_share_one_label(app: Quart) -> None:
    # Any token is a method to HTTP: one series per made-up name would grow for ever.
    client = app.test_client()
    for method in ("BREW", "WHEN", "PROPFIND"):
        await client.open("/no/such/path", method=method)
    await client.open("/no/such/path", method="DELETE")
    _, _, text = await _scrape(app)
    methods = {
        s.labels["method"]: s.value
        for s in _samples(text)
        if s.name == "hotline_http_request_duration_seconds_count"
        and s.labels["route"] == "unmatched"
    }
    assert methods == {"other": 3, "DELETE": 1}
