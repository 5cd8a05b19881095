"""A citizen's history through the test client (issue 14): notes on contacts, the history of a
phone with who may read it and the record of every read, and a chat switched to a call."""

from __future__ import annotations

from typing import Any

from hotline.services import Services
from hotline.store import Tx
from hotline.store.retention import KINDS, scrub_batch
from tests.api.conftest import PAYMENTS_DESK, Clients
from tests.api.test_voicemails import post_voicemail
from tests.voicemail import samples

PHONE = "+79123456789"
CHAT = {"channel": "chat", "topic": "payments", "phone": "8 (912) 345-67-89"}
CALL = {**CHAT, "channel": "voice"}
OTHER = {**CHAT, "phone": "+79161112233"}
WHY = "the citizen asks about a payment"


async def ready(api: Clients, op_id: str = "op-1", **desk: Any) -> None:
    status, body = await api.supervisor.put(f"/v1/operators/{op_id}", {**PAYMENTS_DESK, **desk})
    assert status in (200, 201), body
    status, body = await api.supervisor.post(f"/v1/operators/{op_id}/state", {"state": "ready"})
    assert status == 200, body


async def taken(api: Clients, contact: dict[str, str], who: str = "operator") -> dict[str, Any]:
    """A contact created and accepted by the operator it is offered to."""
    status, body = await api.integration.post("/v1/contacts", contact)
    assert (status, body["state"]) == (201, "offered"), body
    status, body = await getattr(api, who).post(f"/v1/contacts/{body['id']}/accept")
    assert (status, body["state"]) == (200, "assigned"), body
    return body  # type: ignore[no-any-return]


async def history(client: Any, phone: str = PHONE, **query: Any) -> tuple[int, Any]:
    params = {"phone": phone, "reason": WHY, **query}
    return await client.get("/v1/citizens/history", query_string=params)


async def pii_reads(services: Services) -> list[tuple[Any, ...]]:
    async def read(tx: Tx) -> list[tuple[Any, ...]]:
        rows = await tx.fetchall(
            "SELECT role, operator_id, kind, resource_id, reason FROM pii_reads"
            " WHERE kind = 'citizen_history' ORDER BY id"
        )
        return [tuple(r) for r in rows]

    return await services.store.read(read)


# -- notes -----------------------------------------------------------------------------------


async def test_a_note_is_on_disk_with_the_contact_before_the_answer(
    api: Clients, services: Services
) -> None:
    await ready(api)
    cid = (await taken(api, CHAT))["id"]

    status, note = await api.operator.post(
        f"/v1/contacts/{cid}/notes", {"text": "  Просит перенести выплату  "}
    )

    assert status == 201, note
    assert (note["contact_id"], note["operator_id"], note["role"]) == (cid, "op-1", "operator")
    assert note["text"] == "Просит перенести выплату"

    async def read(tx: Tx) -> list[tuple[Any, ...]]:
        rows = await tx.fetchall("SELECT contact_id, operator_id, text FROM contact_notes")
        return [tuple(r) for r in rows]

    assert await services.store.read(read) == [(cid, "op-1", "Просит перенести выплату")]


async def test_who_may_note_a_contact(api: Clients) -> None:
    await ready(api)
    cid = (await taken(api, CHAT))["id"]
    text = {"text": "перезвонить завтра"}

    assert (await api.supervisor.post(f"/v1/contacts/{cid}/notes", text))[0] == 201
    # Another operator is not told the contact exists; the switch and the portal may not note.
    assert (await api.other_operator.post(f"/v1/contacts/{cid}/notes", text))[0] == 404
    assert (await api.integration.post(f"/v1/contacts/{cid}/notes", text))[0] == 403
    assert (await api.supervisor.post("/v1/contacts/c_0000000000000000/notes", text))[0] == 404
    # Its own operator may still write one while in the wrap-up that follows.
    status, _ = await api.operator.post(f"/v1/contacts/{cid}/complete", {"outcome": "done"})
    assert status == 200
    assert (await api.operator.post(f"/v1/contacts/{cid}/notes", text))[0] == 201


async def test_an_empty_or_missing_note_is_422_naming_text(api: Clients) -> None:
    await ready(api)
    cid = (await taken(api, CHAT))["id"]
    for body in ({"text": "   "}, {}, {"text": "x" * 2001}, {"text": "a\x00b"}):
        status, answer = await api.operator.post(f"/v1/contacts/{cid}/notes", body)
        assert (status, answer["error"]["field"]) == (422, "text"), body


# -- the history of a phone --------------------------------------------------------------------


async def test_the_history_holds_contacts_tickets_voicemails_and_sms_in_time_order(
    api: Clients,
) -> None:
    await ready(api)
    chat = await taken(api, CHAT)
    await api.operator.post(f"/v1/contacts/{chat['id']}/notes", {"text": "уточнить реквизиты"})
    await api.operator.post(f"/v1/contacts/{chat['id']}/complete", {"outcome": "объяснили"})
    status, ticket = await api.integration.post(
        "/v1/tickets", {"topic": "payments", "phone": PHONE, "description": "Нет выплаты"}
    )
    assert status == 201, ticket
    status, _ = await api.supervisor.post(
        f"/v1/tickets/{ticket['number']}/status", {"to": "in_progress", "comment": "взяли"}
    )
    assert status == 200
    status, vm = await post_voicemail(api.integration, samples.wav())
    assert status == 201, vm
    await api.integration.post("/v1/contacts", OTHER)  # someone else's: not in the history

    status, page = await history(api.supervisor)

    assert status == 200, page
    assert page["phone"] == "+7 912 *** ** 89" and page["next_cursor"] is None
    entries = page["entries"]
    assert [e["at"] for e in entries] == sorted(e["at"] for e in entries)
    kinds = [e["kind"] for e in entries]
    assert kinds.count("contact") == 2  # the chat, and the voicemail's callback
    assert {"ticket", "voicemail", "sms"} <= set(kinds)
    assert kinds.index("contact") < kinds.index("ticket") < kinds.index("voicemail")
    [first] = [e for e in entries if e["id"] == chat["id"]]
    assert (first["state"], first["outcome"], first["operator_id"]) == (
        "completed",
        "объяснили",
        "op-1",
    )
    assert [n["text"] for n in first["notes"]] == ["уточнить реквизиты"]
    [t] = [e for e in entries if e["kind"] == "ticket"]
    assert [(s["from_status"], s["to_status"]) for s in t["statuses"]] == [
        (None, "accepted"),
        ("accepted", "in_progress"),
    ]
    [v] = [e for e in entries if e["kind"] == "voicemail"]
    assert (v["id"], v["callback_contact_id"]) == (vm["id"], vm["contact_id"])
    assert all(e["body"] for e in entries if e["kind"] == "sms")


async def test_the_history_pages_by_cursor_without_gaps_or_repeats(api: Clients) -> None:
    for _ in range(5):
        assert (await api.integration.post("/v1/contacts", CHAT))[0] == 201
    await api.integration.post(
        "/v1/tickets", {"topic": "payments", "phone": PHONE, "description": "Вопрос"}
    )
    whole = (await history(api.supervisor))[1]["entries"]
    seen: list[str] = []
    cursor = None
    while True:
        query = {"limit": 2} if cursor is None else {"limit": 2, "cursor": cursor}
        status, page = await history(api.supervisor, **query)
        assert status == 200 and len(page["entries"]) <= 2
        seen += [f"{e['kind']}:{e['id']}" for e in page["entries"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"{e['kind']}:{e['id']}" for e in whole] and len(seen) >= 7


async def test_bad_history_queries_are_422_naming_the_field(api: Clients) -> None:
    for query, field in (
        ({"phone": "12"}, "phone"),
        ({"reason": "   "}, "reason"),
        ({"cursor": "s1"}, "cursor"),
        ({"cursor": "h1.9.1"}, "cursor"),
        ({"limit": 0}, "limit"),
    ):
        status, body = await history(api.supervisor, **query)
        assert (status, body["error"]["field"]) == (422, field), query
    status, body = await api.supervisor.get("/v1/citizens/history", query_string={"phone": PHONE})
    assert (status, body["error"]["field"]) == (422, "reason")


async def test_who_may_read_a_history(api: Clients) -> None:
    await ready(api)
    assert (await history(api.supervisor))[0] == 200
    assert (await history(api.integration))[0] == 200  # the personal account
    # An operator only while it handles a contact from that phone.
    assert (await history(api.operator))[0] == 403
    cid = (await taken(api, CHAT))["id"]
    assert (await history(api.operator))[0] == 200
    assert (await history(api.operator, phone=OTHER["phone"]))[0] == 403
    assert (await history(api.other_operator))[0] == 403
    await api.operator.post(f"/v1/contacts/{cid}/complete", {"outcome": "done"})
    assert (await history(api.operator))[0] == 403


async def test_every_read_of_a_history_is_recorded_with_who_and_why(
    api: Clients, services: Services
) -> None:
    await ready(api)
    await taken(api, CHAT)
    await history(api.supervisor, reason="жалоба гражданина")
    await history(api.integration)
    await history(api.operator, phone="8 912 345 67 89")  # another spelling, the same phone
    await history(api.other_operator)  # refused: nothing was shown, nothing recorded

    assert await pii_reads(services) == [
        ("supervisor", None, "citizen_history", PHONE, "жалоба гражданина"),
        ("integration", None, "citizen_history", PHONE, WHY),
        ("operator", "op-1", "citizen_history", PHONE, WHY),
    ]
    status, audit = await api.supervisor.get("/v1/audit/reads")
    assert status == 200
    shown = [r for r in audit["reads"] if r["kind"] == "citizen_history"]
    assert (shown[0]["resource_id"], shown[0]["reason"]) == (
        "+7 912 *** ** 89",  # the audit's listing keeps the phone masked
        "жалоба гражданина",
    )
    assert "contacts" in shown[0]["fields"]


# -- a chat switched to a call -------------------------------------------------------------------


async def test_a_switched_chat_becomes_a_call_with_the_same_operator(api: Clients) -> None:
    await ready(api)
    chat = await taken(api, CHAT)

    status, body = await api.operator.post(
        f"/v1/contacts/{chat['id']}/switch", {"channel": "voice"}
    )

    assert status == 201, body
    old, call = body["chat"], body["call"]
    assert (old["state"], call["state"], call["operator_id"]) == ("transferred", "assigned", "op-1")
    assert (call["channel"], call["phone"], call["topic"]) == ("voice", PHONE, "payments")
    assert call["arrived_at"] == chat["arrived_at"]
    assert call["deadline_at"] == chat["deadline_at"]
    _, me = await api.operator.get("/v1/operators/op-1")
    assert me["state"] == "busy"  # on the call, no wrap-up in between
    entries = (await history(api.supervisor))[1]["entries"]
    [linked] = [e for e in entries if e["id"] == chat["id"]]
    assert linked["transferred_to"] == call["id"]
    assert (await api.operator.post(f"/v1/contacts/{call['id']}/complete", {"outcome": "ok"}))[
        0
    ] == 200


async def test_a_call_the_operator_has_no_room_for_goes_first_among_later_contacts(
    api: Clients,
) -> None:
    await ready(api)
    chat = await taken(api, CHAT)
    await taken(api, CALL)  # op-1's one voice line is busy now
    later = (await api.integration.post("/v1/contacts", CALL))[1]  # arrived after the chat
    assert (later["state"], later["position"]) == ("waiting", 0)

    status, body = await api.operator.post(
        f"/v1/contacts/{chat['id']}/switch", {"channel": "voice"}
    )

    assert status == 201, body
    call = body["call"]
    assert (call["state"], call["operator_id"], call["position"]) == ("waiting", None, 0)
    _, behind = await api.supervisor.get(f"/v1/contacts/{later['id']}")
    assert behind["position"] == 1
    # The next operator with room for a call is offered it before the later call.
    await ready(api, "op-2")
    _, offers = await api.other_operator.get("/v1/operators/op-2/offers")
    assert [o["contact_id"] for o in offers["offers"]] == [call["id"]]


async def test_a_switch_is_refused_unless_its_operator_handles_the_chat(api: Clients) -> None:
    await ready(api)
    chat = await taken(api, CHAT)
    call = await taken(api, {**CALL, "phone": "+79161112233"})
    path = f"/v1/contacts/{chat['id']}/switch"
    voice = {"channel": "voice"}

    assert (await api.other_operator.post(path, voice))[0] == 404
    assert (await api.integration.post(path, voice))[0] == 403
    status, body = await api.supervisor.post(path, voice)
    assert (status, body["error"]["field"]) == (403, "operator_id")
    status, body = await api.operator.post(path, {"channel": "chat"})
    assert (status, body["error"]["field"]) == (422, "channel")
    assert (await api.operator.post(f"/v1/contacts/{call['id']}/switch", voice))[0] == 409
    assert (await api.supervisor.post(path, {**voice, "operator_id": "op-1"}))[0] == 201
    assert (await api.operator.post(path, voice))[0] == 409  # it has ended


async def test_retention_scrubs_a_finished_contacts_notes_with_its_phone(
    api: Clients, services: Services
) -> None:
    await ready(api)
    cid = (await taken(api, CHAT))["id"]
    await api.operator.post(f"/v1/contacts/{cid}/notes", {"text": "паспорт 4510 123456"})
    await api.operator.post(f"/v1/contacts/{cid}/complete", {"outcome": "done"})
    [contacts] = [k for k in KINDS if k.name == "contacts"]

    async def sweep(tx: Tx) -> list[tuple[Any, ...]]:
        await scrub_batch(tx, contacts, before=services.clock.now() + 1, limit=10)
        rows = await tx.fetchall("SELECT contact_id, text FROM contact_notes")
        return [tuple(r) for r in rows]

    assert await services.store.transact(sweep) == [(cid, "")]
    entries = (await history(api.supervisor))[1]["entries"]
    assert [e for e in entries if e["kind"] == "contact"] == []  # its phone is gone too
