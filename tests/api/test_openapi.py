"""`/openapi.json` is the contract: a valid OpenAPI 3.1 document that says, for every operation,
each status it can answer (errors with the one error body), which bodies, query parameters and
headers it takes, under an operationId of its own. tests/e2e/test_fuzz.py holds the server to it."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
import trio
from openapi_spec_validator import validate
from quart import Quart

from hotline.api import create_app
from hotline.api.roles import ROUTES
from hotline.app import start_services
from hotline.config import Settings
from tests.api.conftest import Clients

Operation = tuple[str, str, dict[str, Any]]
ERROR_BODY = {"$ref": "#/components/schemas/ErrorDetail"}


@pytest.fixture
async def document(app: Quart) -> dict[str, Any]:
    response = await app.test_client().get("/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = await response.get_json()
    return body


def _operations(document: dict[str, Any]) -> list[Operation]:
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


def _operation(document: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    operation: dict[str, Any] = document["paths"][path][method]
    return operation


async def test_the_document_is_valid_openapi(document: dict[str, Any]) -> None:
    validate(document)  # raises on the first violation


async def test_every_operation_has_an_operation_id_of_its_own(document: dict[str, Any]) -> None:
    ids = Counter(op.get("operationId") for _, _, op in _operations(document))
    assert None not in ids
    assert [name for name, n in ids.items() if n > 1] == []


async def test_every_operation_documents_its_answers(document: dict[str, Any]) -> None:
    for method, path, operation in _operations(document):
        assert any(str(s).startswith("2") for s in operation["responses"]), (method, path)


async def test_every_error_status_is_documented_with_the_error_body(
    document: dict[str, Any],
) -> None:
    for method, path, operation in _operations(document):
        for status, response in operation["responses"].items():
            if int(status) < 400 or (method, path) == ("get", "/healthz"):
                continue  # a probe reads healthz's own body, 503 too (`"store": "read-only"`)
            schema = response["content"]["application/json"]["schema"]
            assert schema["properties"]["error"] == ERROR_BODY, (method, path, status)
            assert schema["required"] == ["error"]
    detail = document["components"]["schemas"]["ErrorDetail"]
    assert set(detail["properties"]) == {"code", "message", "field"}
    assert sorted(detail["required"]) == ["code", "message"]


async def test_401_and_403_follow_the_route_role_table(document: dict[str, Any]) -> None:
    by_id = {endpoint.replace(".", "_"): access for endpoint, access in ROUTES.items()}
    for method, path, operation in _operations(document):
        access = by_id[operation["operationId"]]
        statuses = set(operation["responses"])
        if access.scrape:  # `[metrics] access = "loopback"`: no token, 403 from elsewhere
            assert ("401" in statuses, "403" in statuses) == (False, True), (method, path)
            assert operation["security"] == []
            continue
        assert ("401" in statuses) == (not access.public), (method, path)
        if access.public:
            assert "403" not in statuses, (method, path)
        elif not access.everyone:
            assert "403" in statuses, (method, path)  # a role, or an operator, is refused
        if access.public:
            assert operation["security"] == []
        else:
            header = operation["responses"]["401"]["headers"]["WWW-Authenticate"]
            assert header["required"] is True


async def test_a_scrape_behind_a_token_documents_401_and_403(
    nursery: trio.Nursery, settings: Settings
) -> None:
    metrics = settings.metrics.model_copy(update={"access": "token"})
    app = create_app(
        await start_services(nursery, settings.model_copy(update={"metrics": metrics}))
    )
    document = await (await app.test_client().get("/openapi.json")).get_json()
    operation = _operation(document, "get", "/metrics")
    assert {"401", "403"} <= set(operation["responses"])
    assert "security" not in operation  # the document's bearer scheme
    assert set(operation["responses"]["200"]["content"]) == {
        "text/plain",
        "application/openmetrics-text",
    }


async def test_bodies_queries_and_paths_document_their_own_errors(
    document: dict[str, Any],
) -> None:
    for method, path, operation in _operations(document):
        statuses = set(operation["responses"])
        if "requestBody" in operation:
            assert {"400", "413", "415", "422"} <= statuses, (method, path)
        if any(p["in"] == "query" for p in operation["parameters"]):
            assert "422" in statuses, (method, path)
        if "{" in path:
            assert "404" in statuses, (method, path)
        if method in ("post", "put"):
            assert "Retry-After" in operation["responses"]["503"]["headers"], (method, path)
    assert {"404", "423"} <= set(_operation(document, "post", "/v1/identity/check")["responses"])
    assert "409" in _operation(document, "post", "/v1/contacts/{contact_id}/accept")["responses"]


async def test_required_bodies_and_query_parameters_are_marked_required(
    document: dict[str, Any],
) -> None:
    assert _operation(document, "post", "/v1/contacts")["requestBody"]["required"] is True
    complete = _operation(document, "post", "/v1/contacts/{contact_id}/complete")
    assert complete["requestBody"]["required"] is True
    # Every field of an accept has a default: no body at all is an accept by the token's operator.
    accept = _operation(document, "post", "/v1/contacts/{contact_id}/accept")
    assert accept["requestBody"]["required"] is False
    compliance = _operation(document, "get", "/v1/voicemails/compliance")
    required = {p["name"]: p.get("required", False) for p in compliance["parameters"]}
    assert required == {"from": True, "to": True}
    contacts = _operation(document, "get", "/v1/contacts")
    assert not any(p.get("required") for p in contacts["parameters"])


async def test_the_idempotency_key_is_documented_where_it_is_honoured(
    document: dict[str, Any],
) -> None:
    honoured = {
        (method, path)
        for method, path, operation in _operations(document)
        if any(p["name"] == "Idempotency-Key" for p in operation["parameters"])
    }
    assert {("post", "/v1/contacts"), ("post", "/v1/voicemails")} <= honoured
    header = next(
        p
        for p in _operation(document, "post", "/v1/contacts")["parameters"]
        if p["name"] == "Idempotency-Key"
    )
    assert (header["in"], header["required"]) == ("header", False)


async def test_the_routes_that_answer_no_json_say_what_they_answer(
    document: dict[str, Any],
) -> None:
    stream = _operation(document, "get", "/v1/operators/{operator_id}/offers/stream")
    assert set(stream["responses"]["200"]["content"]) == {"text/event-stream"}
    audio = _operation(document, "get", "/v1/voicemails/{voicemail_id}/audio")
    assert set(audio["responses"]["200"]["content"]) == {
        "audio/wav",
        "audio/ogg; codecs=opus",
        "audio/mpeg",
    }


@pytest.mark.parametrize("sent", ["0.5", "2026-12-02", "2026-12-02T07:30:00"])
async def test_an_instant_in_a_query_is_taken_only_as_documented(api: Clients, sent: str) -> None:
    # The document says RFC 3339 date-time with an offset; an epoch or a bare date is refused
    # rather than read as something the client may not have meant (found by the fuzz).
    status, body = await api.supervisor.get(f"/v1/audit/reads?to={sent}")
    assert (status, body["error"]["field"]) == (422, "to")


async def test_an_instant_in_a_body_is_taken_only_as_documented(api: Clients) -> None:
    receipt = {"provider_id": "p-1", "status": "delivered", "at": 1767225600}
    status, body = await api.integration.post("/v1/sms/receipts", receipt)
    assert (status, body["error"]["field"]) == (422, "at")
    status, body = await api.supervisor.get("/v1/audit/reads?to=2026-12-02T07:30:00%2B03:00")
    assert status == 200, body
