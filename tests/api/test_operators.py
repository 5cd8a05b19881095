"""`/v1/operators` and auth through the test client."""

from __future__ import annotations

from quart import Quart

from hotline.services import Services
from tests.api.conftest import PAYMENTS_DESK, Clients, Tokens, auth


async def test_a_supervisor_creates_then_replaces_a_profile(api: Clients) -> None:
    status, body = await api.supervisor.put("/v1/operators/op-1", PAYMENTS_DESK)
    assert status == 201
    assert body == {
        "id": "op-1",
        "name": "Анна Петрова",
        "skills": {"payments": 4, "applications": 2},
        "languages": ["ru"],
        "capacity": {"voice": 1, "chat": 2},
        "certified_until": "2099-12-31",
        "state": "offline",
    }
    status, body = await api.supervisor.put(
        "/v1/operators/op-1", {**PAYMENTS_DESK, "skills": {"documents": 5}}
    )
    assert (status, body["skills"]) == (200, {"documents": 5})


async def test_capacity_defaults_to_the_configured_one(api: Clients) -> None:
    profile = {k: v for k, v in PAYMENTS_DESK.items() if k != "capacity"}
    _, body = await api.supervisor.put("/v1/operators/op-1", profile)
    assert body["capacity"] == {"voice": 1, "chat": 3, "callback": 1, "form": 5}


async def test_bad_profiles_are_422_naming_the_field(api: Clients) -> None:
    cases = [
        ({**PAYMENTS_DESK, "skills": {"payments": 9}}, "skills.payments"),
        ({**PAYMENTS_DESK, "skills": {"astrology": 3}}, "skills.astrology"),
        ({**PAYMENTS_DESK, "languages": ["fr"]}, "languages"),
        ({**PAYMENTS_DESK, "certified_until": "next year"}, "certified_until"),
        ({**PAYMENTS_DESK, "capacity": {"voice": 0}}, "capacity"),
        ({**PAYMENTS_DESK, "name": ""}, "name"),
    ]
    for body, field in cases:
        status, answer = await api.supervisor.put("/v1/operators/op-9", body)
        assert status == 422, (body, answer)
        assert answer["error"]["field"] == field, (body, answer)
    assert (await api.supervisor.get("/v1/operators/op-9"))[0] == 404


async def test_profile_and_list_are_for_supervisors(api: Clients) -> None:
    await api.supervisor.put("/v1/operators/op-1", PAYMENTS_DESK)
    await api.supervisor.put("/v1/operators/op-2", PAYMENTS_DESK)

    assert (await api.operator.put("/v1/operators/op-1", PAYMENTS_DESK))[0] == 403
    assert (await api.integration.get("/v1/operators"))[0] == 403
    _status, listing = await api.supervisor.get("/v1/operators")
    assert [o["id"] for o in listing["operators"]] == ["op-1", "op-2"]
    assert (await api.operator.get("/v1/operators/op-1"))[0] == 200
    assert (await api.operator.get("/v1/operators/op-2"))[0] == 403


async def test_an_operator_sets_its_own_state_only(api: Clients) -> None:
    await api.supervisor.put("/v1/operators/op-1", PAYMENTS_DESK)
    await api.supervisor.put("/v1/operators/op-2", PAYMENTS_DESK)

    status, body = await api.operator.post("/v1/operators/op-1/state", {"state": "ready"})
    assert (status, body["state"]) == (200, "ready")
    status, body = await api.operator.post("/v1/operators/op-2/state", {"state": "ready"})
    assert status == 403
    status, body = await api.operator.post("/v1/operators/op-1/state", {"state": "asleep"})
    assert (status, body["error"]["field"]) == (422, "state")


async def test_going_offline_with_a_contact_in_hand_is_a_conflict(api: Clients) -> None:
    await api.supervisor.put("/v1/operators/op-1", PAYMENTS_DESK)
    await api.operator.post("/v1/operators/op-1/state", {"state": "ready"})
    call = {"channel": "voice", "topic": "payments", "phone": "+79123456789"}
    cid = (await api.integration.post("/v1/contacts", call))[1]["id"]
    await api.operator.post(f"/v1/contacts/{cid}/accept")

    status, body = await api.operator.post("/v1/operators/op-1/state", {"state": "offline"})

    assert (status, body["error"]["code"]) == (409, "conflict")


async def test_missing_unknown_and_malformed_tokens_are_401(app: Quart) -> None:
    client = app.test_client()
    for headers in ({}, auth("hl_not-a-token"), {"Authorization": "Basic dXNlcjpwYXNz"}):
        response = await client.get("/v1/queues", headers=headers)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert (await response.get_json())["error"]["code"] == "unauthorized"


async def test_queues_are_for_supervisors(app: Quart, tokens: Tokens) -> None:
    client = app.test_client()
    assert (await client.get("/v1/queues", headers=auth(tokens.operator))).status_code == 403
    assert (await client.get("/v1/queues", headers=auth(tokens.admin))).status_code == 200


async def test_tokens_are_stored_only_as_hashes(services: Services, tokens: Tokens) -> None:
    async def read(tx):  # type: ignore[no-untyped-def]
        return [tuple(r) for r in await tx.fetchall("SELECT * FROM api_tokens")]

    rows = await services.store.read(read)
    assert rows and not any(tokens.admin in map(str, row) for row in rows)


async def test_openapi_documents_every_route(app: Quart) -> None:
    response = await app.test_client().get("/openapi.json")
    assert response.status_code == 200
    doc = await response.get_json()
    for path in (
        "/v1/contacts",
        "/v1/contacts/{contact_id}/accept",
        "/v1/operators/{operator_id}",
        "/v1/operators/{operator_id}/offers",
        "/v1/queues",
        "/healthz",
    ):
        assert path in doc["paths"], path
    create = doc["paths"]["/v1/contacts"]["post"]
    assert "phone" in str(create["requestBody"]) and "201" in create["responses"]
