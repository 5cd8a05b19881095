"""One time format in every answer: RFC 3339 in UTC with milliseconds and `Z`.

A walk through the answers of every kind of endpoint (contacts, offers and their live stream,
operators, voicemails with their attempts and history, queues, tickets, messages, the schedule
and the closed line's error) collects every time string and holds each to the one pattern.
"""

from __future__ import annotations

import io
import json
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import trio
from quart import Quart
from quart_schema import QuartSchema, validate_response
from quart_trio import QuartTrio
from werkzeug.datastructures import FileStorage, Headers

from hotline.api import create_app
from hotline.api.schemas import ApiJson, ContactOut, answer_models_at_once
from hotline.app import start_services
from hotline.config import Settings
from hotline.schedule.settings import ScheduleSettings
from hotline.services import Services
from hotline.services.auth import Role, create_token
from tests.api.conftest import WEEK, Clients, Tokens, auth
from tests.voicemail import samples

INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
LOOKS_LIKE_A_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d")
CALL = {"channel": "voice", "topic": "payments", "phone": "+79123456789"}
DESK = {
    "name": "Olga",
    "skills": {"callback": 3, "payments": 4},
    "languages": ["ru"],
    "capacity": {"voice": 1, "callback": 1},
    "certified_until": "2099-12-31",
}
TICKET = {
    "topic": "payments",
    "phone": "8 916 123-45-67",
    "description": "Payment is late",
    "full_name": "Ivanova Maria",
    "email": "maria@example.ru",
}


def time_strings(value: Any, key: str = "") -> list[tuple[str, str]]:
    """Every (key, string) in an answer that is, or ought to be, a time."""
    if isinstance(value, dict):
        return [pair for k, v in value.items() for pair in time_strings(v, str(k))]
    if isinstance(value, list):
        return [pair for v in value for pair in time_strings(v, key)]
    if isinstance(value, str) and (
        key == "at" or key.endswith("_at") or LOOKS_LIKE_A_TIME.match(value)
    ):
        return [(key, value)]
    if isinstance(value, int | float) and not isinstance(value, bool) and key.endswith("_at"):
        return [(key, repr(value))]  # an epoch where a time belongs fails the pattern below
    return []


def assert_one_format(answers: list[Any], keys: set[str]) -> None:
    found = [pair for answer in answers for pair in time_strings(answer)]
    bad = [pair for pair in found if not INSTANT.match(pair[1])]
    assert bad == []
    assert keys <= {key for key, _ in found}, keys - {key for key, _ in found}


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    voicemail = settings.voicemail.model_copy(update={"dir": tmp_path / "voicemail"})
    forms = settings.forms.model_copy(update={"attachments_dir": tmp_path / "attachments"})
    return settings.model_copy(update={"voicemail": voicemail, "forms": forms})


async def test_every_endpoint_writes_times_in_one_format(
    app: Quart, api: Clients, tokens: Tokens, services: Services
) -> None:
    answers: list[Any] = []

    async def keep(call: Any) -> Any:
        status, body = await call
        assert status < 300, body
        answers.append(body)
        return body

    await keep(api.supervisor.put("/v1/operators/op-1", DESK))
    await keep(api.operator.post("/v1/operators/op-1/state", {"state": "ready"}))
    stream = b""
    with trio.fail_after(20):
        async with app.test_client().request(
            "/v1/operators/op-1/offers/stream", headers=auth(tokens.operator)
        ) as connection:
            await connection.send_complete()
            contact = await keep(api.integration.post("/v1/contacts", CALL))
            await keep(api.operator.get("/v1/operators/op-1/offers"))
            await keep(api.operator.post(f"/v1/contacts/{contact['id']}/accept"))
            while stream.count(b"\n\n") < 3:  # retry, offered, withdrawn (accepted)
                stream += await connection.receive()
            services.offers.close_listeners()
    events = [
        json.loads(line.removeprefix("data: "))
        for line in stream.decode().splitlines()
        if line.startswith("data: ")
    ]
    answers.extend(events)
    await keep(api.operator.post(f"/v1/contacts/{contact['id']}/complete", {"outcome": "done"}))
    await keep(api.supervisor.get(f"/v1/contacts/{contact['id']}"))
    await keep(api.supervisor.get("/v1/contacts"))
    await keep(api.operator.post("/v1/operators/op-1/wrap-up/end"))

    audio = FileStorage(io.BytesIO(samples.wav()), "m.wav", content_type="audio/wav")
    form = {"phone": "8 (912) 345-67-89", "topic": "payments"}
    vm = await keep(
        api.integration.call("POST", "/v1/voicemails", form=form, files={"audio": audio})
    )
    await keep(api.operator.post(f"/v1/contacts/{vm['contact_id']}/accept"))
    await keep(api.operator.post(f"/v1/voicemails/{vm['id']}/attempts", {"outcome": "not_reached"}))
    await keep(api.supervisor.get(f"/v1/voicemails/{vm['id']}"))
    await keep(api.supervisor.get("/v1/queues"))
    await keep(api.supervisor.get("/v1/voicemails/compliance?from=2026-01-01&to=2026-01-02"))

    ticket = await keep(api.integration.post("/v1/tickets", TICKET))
    await keep(api.supervisor.get(f"/v1/tickets/{ticket['number']}"))
    await keep(api.supervisor.get("/v1/tickets"))
    messages = await keep(api.supervisor.get("/v1/messages"))
    await keep(api.supervisor.get(f"/v1/messages/{messages['messages'][0]['id']}"))
    await keep(api.integration.get("/v1/schedule"))

    assert_one_format(
        answers,
        {
            "at",  # the stream's events, the histories of tickets and voicemails
            "expires_at",
            "offered_at",
            "arrived_at",
            "target_at",
            "deadline_at",
            "ended_at",
            "accepted_at",
            "reported_at",
            "next_attempt_at",
            "due_at",  # inside a voicemail's history
            "next_retry_at",
            "created_at",
            "updated_at",
        },
    )


@pytest.fixture
def closed_settings(settings: Settings) -> Settings:
    """The voice line closed today and tomorrow (so a test at midnight still finds it closed)."""
    today = datetime.now(ZoneInfo(settings.schedule.timezone)).date()
    closed = [today.isoformat(), (today + timedelta(days=1)).isoformat()]
    days = {day: ["09:00-18:00"] for day in WEEK}
    schedule = ScheduleSettings.model_validate(
        {"channels": {"voice": {**days, "closed_dates": closed}}}
    )
    return settings.model_copy(update={"schedule": schedule})


async def test_the_closed_line_and_the_schedule_write_times_in_one_format(
    closed_settings: Settings, nursery: trio.Nursery
) -> None:
    services = await start_services(nursery, closed_settings)
    app = create_app(services)
    _, token = await create_token(services.store, Role.INTEGRATION)
    client = app.test_client()

    refused = await client.post("/v1/contacts", json=CALL, headers=auth(token))
    schedule = await client.get("/v1/schedule", headers=auth(token))

    assert refused.status_code == 409
    body = await refused.get_json()
    assert body["error"]["code"] == "closed" and body["opens_at"] is not None
    hours = await schedule.get_json()
    assert_one_format([body, hours], {"opens_at", "closes_at"})


def contact_out() -> ContactOut:
    """A contact's answer with times in another zone, fractions of a second and Russian text."""
    moment = datetime(2026, 12, 2, 7, 30, 0, 123456, tzinfo=ZoneInfo("Europe/Moscow"))
    return ContactOut.model_validate(
        {
            "id": "c-1",
            "channel": "voice",
            "topic": "платежи",
            "language": "ru",
            "phone": None,
            "priority": "normal",
            "state": "waiting",
            "operator_id": None,
            "arrived_at": moment,
            "target_at": moment + timedelta(minutes=30),
            "deadline_at": moment + timedelta(hours=1),
            "position": 3,
            "estimated_wait_s": 0.1,
            "breached": False,
            "overflowed": True,
            "ended_at": None,
            "outcome": None,
        }
    )


@pytest.mark.parametrize(
    "shape",
    [
        "model",
        "model, status",
        "model, status, headers",
        "model, status, None",  # what quart-schema's `validate_response` hands on
        "model, None",
        "model, headers",
        "model, status, Headers",  # not a plain mapping: left to quart-schema and Quart
    ],
)
async def test_a_model_answered_at_once_is_what_quart_schema_and_quart_would_answer(
    shape: str,
) -> None:
    # `answer_models_at_once` skips quart-schema's conversion for the API's models: the same
    # body byte for byte (times, enums, Russian text), status and headers.
    app = Quart(__name__)
    QuartSchema(app)
    app.json = ApiJson(app)
    model = contact_out()
    headers = {"Location": "/v1/contacts/c-1"}
    result: Any = {
        "model": model,
        "model, status": (model, 201),
        "model, status, headers": (model, 201, headers),
        "model, status, None": (model, 201, None),
        "model, None": (model, None),
        "model, headers": (model, headers),
        "model, status, Headers": (model, 201, Headers(headers)),
    }[shape]
    async with app.app_context():
        expected = await app.make_response(result)
        answer_models_at_once(app)
        got = await app.make_response(result)
        assert await got.get_data() == await expected.get_data()
        assert got.status_code == expected.status_code
        assert sorted(got.headers.items()) == sorted(expected.headers.items())
        assert INSTANT.match(json.loads(await got.get_data())["target_at"])


async def test_a_handler_under_validate_response_is_answered_at_once() -> None:
    # quart-schema's `validate_response` hands on (model, status, None): the fast path must take
    # that shape, or every validated route (a create among them) goes the slow way.
    app = QuartTrio(__name__)
    QuartSchema(app)
    app.json = ApiJson(app)
    slow_way: list[Any] = []
    make_response = app.make_response

    async def counted(result: Any) -> Any:
        slow_way.append(result)
        return await make_response(result)

    app.make_response = counted  # type: ignore[method-assign]
    answer_models_at_once(app)
    model = contact_out()

    @app.post("/made")
    @validate_response(ContactOut, 201)
    async def made() -> tuple[ContactOut, int]:
        return model, 201

    answer = await app.test_client().post("/made")
    assert answer.status_code == 201
    assert (await answer.get_json())["id"] == "c-1"
    assert slow_way == []
