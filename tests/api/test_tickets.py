"""`/v1/tickets` through the test client: lifecycle, history, numbers, lists, notifications."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
import trio

from hotline.services import Services
from hotline.services import tickets as ticket_service
from hotline.store import Tx
from hotline.tickets.lifecycle import TicketStatus, allowed_moves
from tests.api.conftest import Clients

NEW = {
    "topic": "payments",
    "phone": "8 916 123-45-67",
    "description": "Выплата за октябрь задерживается",
    "full_name": "Иванова Мария Петровна",
    "email": "maria@example.ru",
}


async def create(api: Clients, **extra: object) -> dict[str, object]:
    status, body = await api.integration.post("/v1/tickets", {**NEW, **extra})
    assert status == 201, body
    return body


async def outbox(services: Services, number: str) -> list[tuple[str, str]]:
    async def read(tx: Tx) -> list[tuple[str, str]]:
        rows = await tx.fetchall(
            "SELECT kind, dedupe_key FROM messages WHERE dedupe_key LIKE ? ORDER BY id",
            (f"ticket:{number}:%",),
        )
        return [(r[0], r[1]) for r in rows]

    return await services.store.read(read)


async def test_a_new_ticket_is_accepted_with_its_label_and_an_sms(
    api: Clients, services: Services
) -> None:
    body = await create(api)

    assert (body["status"], body["status_label"]) == ("accepted", "Принято")
    assert body["phone"] == "+79161234567"
    assert [h["kind"] for h in body["history"]] == ["created"]
    assert await outbox(services, str(body["number"])) == [
        ("sms", f"ticket:{body['number']}:1:sms"),
        ("account_event", f"ticket:{body['number']}:1:account"),
    ]


async def test_the_whole_way_to_completed_keeps_a_history_of_who_when_from_to(
    api: Clients, services: Services
) -> None:
    number = (await create(api))["number"]
    for to, comment in (
        ("in_progress", None),
        ("approved", "Выплата назначена"),
        ("completed", None),
    ):
        status, body = await api.operator.post(
            f"/v1/tickets/{number}/status", {"to": to, "comment": comment}
        )
        assert status == 200, body
    history = body["history"]
    assert [(h["from_status"], h["to_status"]) for h in history] == [
        (None, "accepted"),
        ("accepted", "in_progress"),
        ("in_progress", "approved"),
        ("approved", "completed"),
    ]
    assert history[2]["to_label"] == "Одобрено" and history[2]["comment"] == "Выплата назначена"
    assert history[1]["who"] == "op-1"
    sms = [key for kind, key in await outbox(services, str(number)) if kind == "sms"]
    assert len(sms) == 4 == len(set(sms))  # one SMS per change


@pytest.mark.parametrize(("start", "to"), list(itertools.product(TicketStatus, TicketStatus)))
async def test_every_pair_of_statuses_is_allowed_or_a_409_listing_the_moves(
    api: Clients, start: TicketStatus, to: TicketStatus
) -> None:
    number = (await create(api))["number"]
    path = {
        TicketStatus.ACCEPTED: [],
        TicketStatus.IN_PROGRESS: ["in_progress"],
        TicketStatus.APPROVED: ["in_progress", "approved"],
        TicketStatus.REJECTED: ["in_progress", "rejected"],
        TicketStatus.COMPLETED: ["in_progress", "approved", "completed"],
    }[start]
    for step in path:
        assert (await api.operator.post(f"/v1/tickets/{number}/status", {"to": step}))[0] == 200
    status, body = await api.operator.post(f"/v1/tickets/{number}/status", {"to": to.value})
    if to in allowed_moves(start):
        assert (status, body["status"]) == (200, to.value)
    else:
        assert status == 409
        assert body["error"]["code"] == "illegal_transition"
        assert body["allowed"] == [m.value for m in allowed_moves(start)]


async def test_a_mistyped_number_is_caught_before_the_lookup(api: Clients) -> None:
    number = str((await create(api))["number"])
    last = number[-1]
    typo = number[:-1] + ("0" if last != "0" else "1")

    status, body = await api.integration.get(f"/v1/tickets/{typo}")
    assert (status, body["error"]["field"]) == (422, "number")
    status, body = await api.integration.get(f"/v1/tickets/{number.lower()}")
    assert (status, body["number"]) == (200, number)


async def test_the_personal_account_lists_a_citizens_tickets_by_phone(api: Clients) -> None:
    mine = [str((await create(api))["number"]) for _ in range(3)]
    await create(api, phone="+79031112233")

    seen: list[str] = []
    cursor = None
    while True:
        query = {"phone": "+7 916 123 45 67", "limit": "2"} | ({"cursor": cursor} if cursor else {})
        status, page = await api.integration.get("/v1/tickets", query_string=query)
        assert status == 200
        seen += [t["number"] for t in page["tickets"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == mine
    _, everyone = await api.supervisor.get("/v1/tickets")
    assert all("***" in t["phone"] for t in everyone["tickets"])  # masked without a phone filter


async def test_a_repeat_caller_is_told_their_open_ticket(api: Clients) -> None:
    number = (await create(api))["number"]
    status, contact = await api.integration.post(
        "/v1/contacts", {"channel": "chat", "topic": "payments", "phone": "+79161234567"}
    )
    assert (status, contact["open_ticket"]) == (201, number)
    # Once it is completed, the caller's earlier open ticket is the one named again.
    later = (await create(api))["number"]
    for step in ("in_progress", "approved", "completed"):
        await api.operator.post(f"/v1/tickets/{later}/status", {"to": step})
    _, again = await api.integration.post(
        "/v1/contacts", {"channel": "chat", "topic": "payments", "phone": "+79161234567"}
    )
    assert again["open_ticket"] == number
    _, stranger = await api.integration.post(
        "/v1/contacts", {"channel": "chat", "topic": "payments", "phone": "+79030000001"}
    )
    assert stranger["open_ticket"] is None


async def test_a_retried_create_names_the_open_ticket_as_the_first_answer_did(
    api: Clients,
) -> None:
    number = (await create(api))["number"]
    body = {"channel": "chat", "topic": "payments", "phone": "+79161234567"}
    key = {"Idempotency-Key": "switch-call-77"}
    _, first = await api.integration.post("/v1/contacts", body, headers=key)
    status, retried = await api.integration.post("/v1/contacts", body, headers=key)
    assert (status, retried["id"]) == (200, first["id"])
    assert first["open_ticket"] == retried["open_ticket"] == number


async def test_escalation_and_contact_links_are_in_the_history(api: Clients) -> None:
    _, contact = await api.integration.post(
        "/v1/contacts", {"channel": "chat", "topic": "payments", "phone": "+79161234567"}
    )
    body = await create(api, contact_id=contact["id"])
    number = body["number"]
    assert body["contacts"] == [contact["id"]] and body["source"] == "contact"

    status, body = await api.operator.post(
        f"/v1/tickets/{number}/escalate", {"department": "pension_fund", "comment": "нужен СФР"}
    )
    assert (status, body["department"]) == (200, "pension_fund")
    status, _ = await api.operator.post(
        f"/v1/tickets/{number}/escalate", {"department": "pension_fund"}
    )
    assert status == 409
    status, bad = await api.operator.post(f"/v1/tickets/{number}/escalate", {"department": "nasa"})
    assert (status, bad["error"]["field"]) == (422, "department")
    assert [h["kind"] for h in body["history"]] == ["created", "linked", "escalated"]


async def test_bad_tickets_are_422_naming_the_field(api: Clients) -> None:
    cases = [
        ({**NEW, "topic": "astrology"}, "topic"),
        ({**NEW, "phone": "12"}, "phone"),
        ({**NEW, "email": "not-an-address"}, "email"),
        ({**NEW, "description": ""}, "description"),
        ({**NEW, "contact_id": "c_nobody"}, "contact_id"),
    ]
    for body, field in cases:
        status, answer = await api.integration.post("/v1/tickets", body)
        assert status in (404, 422), (body, answer)
        assert answer["error"]["field"] == field, (body, answer)
    _, listing = await api.supervisor.get("/v1/tickets")
    assert listing["tickets"] == []


async def test_only_operators_and_supervisors_move_tickets(api: Clients) -> None:
    number = (await create(api))["number"]
    status, _ = await api.integration.post(f"/v1/tickets/{number}/status", {"to": "in_progress"})
    assert status == 403
    assert (await api.anonymous.get(f"/v1/tickets/{number}"))[0] == 401


async def count_rows(services: Services, sql: str) -> int:
    async def read(tx: Tx) -> int:
        row = await tx.fetchone(sql)
        assert row is not None
        return int(row[0])

    return await services.store.read(read)


async def test_a_retried_create_with_its_key_finds_the_same_ticket_and_sends_one_sms(
    api: Clients, services: Services
) -> None:
    key = {"Idempotency-Key": "portal-req-1"}
    status, first = await api.integration.post("/v1/tickets", NEW, headers=key)
    assert status == 201, first
    # The same request in another spelling of the phone is the same request.
    again = {**NEW, "phone": "+79161234567"}
    status, retried = await api.integration.post("/v1/tickets", again, headers=key)

    assert (status, retried["number"]) == (200, first["number"])
    assert retried["history"] == first["history"]
    assert await count_rows(services, "SELECT count(*) FROM tickets") == 1
    sms = "SELECT count(*) FROM messages WHERE kind = 'sms'"
    assert await count_rows(services, sms) == 1


async def test_concurrent_creates_with_one_key_make_one_ticket_and_one_sms(
    api: Clients, services: Services
) -> None:
    key = {"Idempotency-Key": "portal-storm"}
    answers: list[tuple[int, dict[str, object]]] = []

    async def send() -> None:
        answers.append(await api.integration.post("/v1/tickets", NEW, headers=key))

    async with trio.open_nursery() as nursery:
        for _ in range(2):
            nursery.start_soon(send)

    assert sorted(status for status, _ in answers) == [200, 201]
    assert len({body["number"] for _, body in answers}) == 1
    assert await count_rows(services, "SELECT count(*) FROM tickets") == 1
    sms = "SELECT count(*) FROM messages WHERE kind = 'sms'"
    assert await count_rows(services, sms) == 1


async def test_one_key_with_another_ticket_is_a_conflict_and_creates_nothing(
    api: Clients, services: Services
) -> None:
    key = {"Idempotency-Key": "portal-req-2"}
    assert (await api.integration.post("/v1/tickets", NEW, headers=key))[0] == 201

    other = {**NEW, "description": "Другая просьба"}
    status, body = await api.integration.post("/v1/tickets", other, headers=key)

    assert (status, body["error"]["field"]) == (409, "Idempotency-Key")
    assert await count_rows(services, "SELECT count(*) FROM tickets") == 1
    # Keys are the client's own: another token's same key makes its own ticket.
    assert (await api.supervisor.post("/v1/tickets", other, headers=key))[0] == 201
    # And a contact's key of the same text is another key.
    call = {"channel": "chat", "topic": "payments", "phone": "+79161234567"}
    assert (await api.integration.post("/v1/contacts", call, headers=key))[0] == 201


async def test_an_idempotency_key_too_long_is_422_naming_the_header(api: Clients) -> None:
    status, body = await api.integration.post(
        "/v1/tickets", NEW, headers={"Idempotency-Key": "k" * 201}
    )
    assert (status, body["error"]["field"]) == (422, "Idempotency-Key")


async def test_a_key_recorded_while_a_retry_was_creating_rolls_the_retry_back(
    api: Clients, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first request whose client gave up can commit after its retry looked for the key: the
    retry's ticket, SMS and key are one transaction, so the key's conflict undoes all three and
    the retry answers with the first ticket."""
    key = {"Idempotency-Key": "portal-late-commit"}
    status, first = await api.integration.post("/v1/tickets", NEW, headers=key)
    assert status == 201
    real_replay = ticket_service._replay
    looked = 0

    async def missed_once(sv: Services, k: Any) -> Any:
        nonlocal looked
        looked += 1
        return None if looked == 1 else await real_replay(sv, k)

    monkeypatch.setattr(ticket_service, "_replay", missed_once)
    status, retried = await api.integration.post("/v1/tickets", NEW, headers=key)

    assert (status, retried["number"], looked) == (200, first["number"], 2)
    assert await count_rows(services, "SELECT count(*) FROM tickets") == 1
    sms = "SELECT count(*) FROM messages WHERE kind = 'sms'"
    assert await count_rows(services, sms) == 1
