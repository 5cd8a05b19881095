"""`/v1/contacts` through the test client: creation, idempotency, reads, lists and the moves."""

from __future__ import annotations

import pytest
import quart_schema.conversion
import trio

from hotline.api import create_app
from hotline.api.schemas import NewContactBody
from hotline.app import start_services
from hotline.config import Settings
from hotline.schedule.settings import ScheduleSettings
from hotline.services import Services
from hotline.services.auth import Role, create_token
from tests.api.conftest import NEVER, PAYMENTS_DESK, Api, Clients

CALL = {"channel": "voice", "topic": "payments", "phone": "8 (912) 345-67-89"}


async def ready_desk(api: Clients, op_id: str = "op-1") -> None:
    status, _ = await api.supervisor.put(f"/v1/operators/{op_id}", PAYMENTS_DESK)
    assert status == 201
    status, body = await api.supervisor.post(f"/v1/operators/{op_id}/state", {"state": "ready"})
    assert status == 200, body


async def test_a_new_contact_is_answered_with_its_class_deadline_and_place(api: Clients) -> None:
    status, body = await api.integration.post("/v1/contacts", CALL)

    assert status == 201
    assert body["id"].startswith("c_")
    assert (body["priority"], body["state"], body["channel"]) == ("urgent", "waiting", "voice")
    assert body["phone"] == "+79123456789"  # normalised to E.164
    assert body["position"] == 0
    assert body["estimated_wait_s"] is None  # nobody on shift can take it yet
    assert body["deadline_at"] > body["target_at"] > body["arrived_at"]


async def test_the_second_contact_in_a_queue_is_told_it_is_second(api: Clients) -> None:
    await ready_desk(api)
    first = (await api.integration.post("/v1/contacts", CALL))[1]
    second = (await api.integration.post("/v1/contacts", CALL))[1]
    third = (await api.integration.post("/v1/contacts", CALL))[1]

    assert first["state"] == "offered"  # went straight to the ready operator
    assert (second["state"], second["position"]) == ("waiting", 0)
    assert third["position"] == 1
    assert third["estimated_wait_s"] > second["estimated_wait_s"] > 0


async def test_a_created_contact_is_on_disk_before_the_answer(
    api: Clients, services: Services
) -> None:
    status, body = await api.integration.post("/v1/contacts", CALL)
    assert status == 201

    async def read(tx):  # type: ignore[no-untyped-def]
        return await tx.fetchone("SELECT state, phone FROM contacts WHERE id = ?", (body["id"],))

    row = await services.store.read(read)
    assert row is not None and tuple(row) == ("waiting", "+79123456789")


async def test_the_same_idempotency_key_and_body_finds_the_same_contact(api: Clients) -> None:
    key = {"Idempotency-Key": "switch-call-42"}
    status1, first = await api.integration.post("/v1/contacts", CALL, headers=key)
    status2, again = await api.integration.post("/v1/contacts", CALL, headers=key)

    assert (status1, status2) == (201, 200)
    assert again["id"] == first["id"]
    _status, listing = await api.supervisor.get("/v1/contacts")
    assert [c["id"] for c in listing["contacts"]] == [first["id"]]


async def test_the_same_idempotency_key_with_another_body_is_a_conflict(api: Clients) -> None:
    key = {"Idempotency-Key": "switch-call-43"}
    await api.integration.post("/v1/contacts", CALL, headers=key)
    status, body = await api.integration.post(
        "/v1/contacts", {**CALL, "topic": "documents"}, headers=key
    )

    assert status == 409
    assert body["error"]["field"] == "Idempotency-Key"


async def test_concurrent_retries_with_one_key_create_one_contact(api: Clients) -> None:
    key = {"Idempotency-Key": "retry-storm"}
    answers: list[tuple[int, dict[str, object]]] = []

    async def send() -> None:
        answers.append(await api.integration.post("/v1/contacts", CALL, headers=key))

    async with trio.open_nursery() as nursery:
        for _ in range(5):
            nursery.start_soon(send)

    assert sorted(status for status, _ in answers) == [200, 200, 200, 200, 201]
    assert len({body["id"] for _, body in answers}) == 1


async def test_bad_fields_are_422_naming_the_field(api: Clients) -> None:
    cases = [
        ({**CALL, "topic": "astrology"}, "topic"),
        ({**CALL, "channel": "pigeon"}, "channel"),
        ({**CALL, "phone": "call me maybe"}, "phone"),
        ({**CALL, "language": "fr"}, "language"),
        ({**CALL, "colour": "blue"}, "colour"),
        ({k: v for k, v in CALL.items() if k != "phone"}, "phone"),
    ]
    for body, field in cases:
        status, answer = await api.integration.post("/v1/contacts", body)
        assert status == 422, (body, answer)
        assert answer["error"]["field"] == field, (body, answer)
    status, listing = await api.supervisor.get("/v1/contacts")
    assert listing["contacts"] == []  # nothing was created by any of them


async def test_a_body_that_is_not_json_is_415_and_malformed_json_is_400(api: Clients) -> None:
    status, body = await api.integration.call(
        "POST", "/v1/contacts", data="channel=voice", headers={"Content-Type": "text/plain"}
    )
    assert (status, body["error"]["code"]) == (415, "unsupported_media_type")
    status, body = await api.integration.call(
        "POST", "/v1/contacts", data="{not json", headers={"Content-Type": "application/json"}
    )
    assert status == 400


async def test_a_body_over_the_limit_is_413(api: Clients) -> None:
    huge = {**CALL, "phone": "1" * 100_000}
    status, body = await api.integration.post("/v1/contacts", huge)
    assert status == 413
    assert body["error"]["code"] == "request_entity_too_large"


async def test_list_pages_with_a_cursor_in_arrival_order_and_masks_phones(api: Clients) -> None:
    ids = [(await api.integration.post("/v1/contacts", CALL))[1]["id"] for _ in range(5)]

    seen: list[str] = []
    cursor = None
    while True:
        query = {"limit": "2"} | ({"cursor": cursor} if cursor else {})
        status, page = await api.supervisor.get("/v1/contacts", query_string=query)
        assert status == 200
        seen += [c["id"] for c in page["contacts"]]
        assert all(c["phone"] == "+7 912 *** ** 89" for c in page["contacts"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ids


async def test_list_filters_by_state_and_topic(api: Clients) -> None:
    paid = (await api.integration.post("/v1/contacts", CALL))[1]["id"]
    docs = (await api.integration.post("/v1/contacts", {**CALL, "topic": "documents"}))[1]["id"]
    await api.integration.post(f"/v1/contacts/{paid}/abandon")

    _, by_topic = await api.supervisor.get("/v1/contacts", query_string={"topic": "documents"})
    _, abandoned = await api.supervisor.get("/v1/contacts", query_string={"state": "abandoned"})
    status, bad = await api.supervisor.get("/v1/contacts", query_string={"state": "lost"})

    assert [c["id"] for c in by_topic["contacts"]] == [docs]
    assert [c["id"] for c in abandoned["contacts"]] == [paid]
    assert (status, bad["error"]["field"]) == (422, "state")


async def test_a_bad_cursor_is_422(api: Clients) -> None:
    status, body = await api.supervisor.get("/v1/contacts", query_string={"cursor": "zzz"})
    assert (status, body["error"]["field"]) == (422, "cursor")


async def test_abandon_ends_a_waiting_contact_once(api: Clients) -> None:
    cid = (await api.integration.post("/v1/contacts", CALL))[1]["id"]

    status, body = await api.integration.post(f"/v1/contacts/{cid}/abandon")
    assert (status, body["state"]) == (200, "abandoned")
    status, body = await api.integration.post(f"/v1/contacts/{cid}/abandon")
    assert (status, body["error"]["code"]) == (409, "conflict")
    status, body = await api.integration.post("/v1/contacts/c_nothing/abandon")
    assert status == 404


async def test_offer_accept_complete_then_wrap_up(api: Clients) -> None:
    await ready_desk(api)
    cid = (await api.integration.post("/v1/contacts", CALL))[1]["id"]

    status, offers = await api.operator.get("/v1/operators/op-1/offers")
    assert status == 200
    assert [o["contact_id"] for o in offers["offers"]] == [cid]

    status, body = await api.operator.post(f"/v1/contacts/{cid}/accept")
    assert (status, body["state"], body["operator_id"]) == (200, "assigned", "op-1")
    status, body = await api.operator.post(
        f"/v1/contacts/{cid}/complete", {"outcome": "explained the payment schedule"}
    )
    assert (status, body["state"], body["outcome"]) == (
        200,
        "completed",
        "explained the payment schedule",
    )
    _, me = await api.operator.get("/v1/operators/op-1")
    assert me["state"] == "wrap_up"
    status, me = await api.operator.post("/v1/operators/op-1/wrap-up/end")
    assert (status, me["state"]) == (200, "ready")


async def test_reject_puts_the_contact_back_and_the_operator_on_break(api: Clients) -> None:
    await ready_desk(api)
    cid = (await api.integration.post("/v1/contacts", CALL))[1]["id"]

    status, body = await api.operator.post(f"/v1/contacts/{cid}/reject")

    assert (status, body["state"], body["position"]) == (200, "waiting", 0)
    _, me = await api.operator.get("/v1/operators/op-1")
    assert me["state"] == "break"


async def test_an_operator_cannot_accept_another_operators_offer(api: Clients) -> None:
    await ready_desk(api)
    await api.supervisor.put("/v1/operators/op-2", PAYMENTS_DESK)
    cid = (await api.integration.post("/v1/contacts", CALL))[1]["id"]

    status, body = await api.other_operator.post(f"/v1/contacts/{cid}/accept")
    assert status == 409  # op-2 holds no offer of it
    status, body = await api.other_operator.post(
        f"/v1/contacts/{cid}/accept", {"operator_id": "op-1"}
    )
    assert (status, body["error"]["field"]) == (403, "operator_id")


async def test_a_supervisor_acts_for_a_named_operator(api: Clients) -> None:
    await ready_desk(api)
    cid = (await api.integration.post("/v1/contacts", CALL))[1]["id"]

    status, body = await api.supervisor.post(f"/v1/contacts/{cid}/accept")
    assert (status, body["error"]["field"]) == (403, "operator_id")
    status, body = await api.supervisor.post(f"/v1/contacts/{cid}/accept", {"operator_id": "op-1"})
    assert (status, body["state"]) == (200, "assigned")


async def test_an_operator_sees_only_contacts_it_holds(api: Clients) -> None:
    await ready_desk(api)
    cid = (await api.integration.post("/v1/contacts", CALL))[1]["id"]
    await api.operator.post(f"/v1/contacts/{cid}/accept")

    assert (await api.operator.get(f"/v1/contacts/{cid}"))[0] == 200
    assert (await api.other_operator.get(f"/v1/contacts/{cid}"))[0] == 404
    assert (await api.operator.get("/v1/contacts"))[0] == 403


async def test_roles_that_may_not_create_contacts_are_refused(api: Clients) -> None:
    for client in (api.operator, api.supervisor):
        status, body = await client.post("/v1/contacts", CALL)
        assert (status, body["error"]["code"]) == (403, "forbidden")
    assert (await api.admin.post("/v1/contacts", CALL))[0] == 201


async def test_a_call_while_the_voice_line_is_closed_is_offered_voicemail(
    nursery: trio.Nursery, settings: Settings
) -> None:
    schedule = ScheduleSettings.model_validate({"channels": {"voice": NEVER}})
    services = await start_services(nursery, settings.model_copy(update={"schedule": schedule}))
    integration = Api(
        create_app(services), (await create_token(services.store, Role.INTEGRATION))[1]
    )

    status, body = await integration.post("/v1/contacts", CALL)
    assert status == 409
    assert body["error"]["code"] == "closed"
    assert (body["voicemail"], body["opens_at"]) == (True, None)  # never opens
    status, body = await integration.post("/v1/contacts", {**CALL, "channel": "chat"})
    assert status == 201  # chat keeps its own hours (24/7)


async def test_the_schedule_says_which_channels_are_open(api: Clients) -> None:
    status, body = await api.integration.get("/v1/schedule")
    assert status == 200
    assert body["timezone"] == "Europe/Moscow"
    channels = {c["channel"]: c for c in body["channels"]}
    assert set(channels) == {"voice", "chat", "voicemail"}
    assert channels["voice"]["open"] is True and channels["chat"]["open"] is True
    assert (await api.anonymous.get("/v1/schedule"))[0] == 401


async def test_a_create_answers_with_the_contact_it_repeats_without_reading_the_store(
    api: Clients, services: Services
) -> None:
    first = (await api.integration.post("/v1/contacts", CALL))[1]
    reads = 0
    read = services.store.read

    def counted(work, **kwargs):  # type: ignore[no-untyped-def]
        nonlocal reads
        reads += work.__module__ == "hotline.services.contacts"  # not the background tasks'
        return read(work, **kwargs)

    services.store.read = counted  # type: ignore[method-assign]
    status, second = await api.integration.post("/v1/contacts", CALL)
    services.store.read = read  # type: ignore[method-assign]

    assert (status, second["repeat_of"], reads) == (201, first["id"], 0)
    _, shown = await api.supervisor.get(f"/v1/contacts/{second['id']}")
    assert shown["repeat_of"] == first["id"]  # what the row holds


async def test_a_body_is_validated_without_building_a_validator_per_request(
    api: Clients, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[object] = []
    real = quart_schema.conversion.TypeAdapter

    def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
        built.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(quart_schema.conversion, "TypeAdapter", counted)
    good = await api.integration.post("/v1/contacts", CALL)
    status, bad = await api.integration.post("/v1/contacts", {**CALL, "channel": "fax"})

    # (the test client builds adapters of its own for the dicts it sends)
    assert (good[0], status, bad["error"]["field"]) == (201, 422, "channel")
    assert NewContactBody not in built
