"""Who sees a citizen's ticket in full, and the audit of every unmasked read by a person.

An operator sees a ticket in full only while it holds, or after it accepted today, a contact
linked to it; lookups by phone are for integrations and supervisors; listings show descriptions
briefly; each unmasked read by a person is in `pii_reads`, listed at `GET /v1/audit/reads`.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
from quart import Quart

from hotline.domain.identity import mask_name
from hotline.services import Services
from hotline.store import Tx
from hotline.tickets.privacy import BRIEF_CHARS, brief
from tests.api.conftest import PAYMENTS_DESK, Clients

DESCRIPTION = (
    "Выплата за октябрь задерживается. ИНН 500100732259, СНИЛС 112-233-445 95, "
    "пишите на maria@example.ru или звоните 8 916 123-45-67, спросить Марию Петровну"
)
NEW = {
    "topic": "payments",
    "phone": "+79161234567",
    "description": DESCRIPTION,
    "full_name": "Иванова Мария Петровна",
    "email": "maria@example.ru",
}
INITIALS = mask_name(NEW["full_name"])
CALL = {"channel": "voice", "topic": "payments", "phone": "+79161234567"}


async def ready_desk(api: Clients, op_id: str) -> None:
    assert (await api.supervisor.put(f"/v1/operators/{op_id}", PAYMENTS_DESK))[0] == 201
    status, body = await api.supervisor.post(f"/v1/operators/{op_id}/state", {"state": "ready"})
    assert status == 200, body


async def ticket_held_by_op1(api: Clients) -> tuple[str, str]:
    """A ticket opened from a call op-1 has accepted: (ticket number, contact id)."""
    await ready_desk(api, "op-1")
    cid = (await api.integration.post("/v1/contacts", CALL))[1]["id"]
    assert (await api.operator.post(f"/v1/contacts/{cid}/accept"))[0] == 200
    status, body = await api.operator.post("/v1/tickets", {**NEW, "contact_id": cid})
    assert status == 201, body
    return body["number"], cid


def is_full(body: dict[str, Any]) -> bool:
    return (
        body["phone"] == "+79161234567"
        and body["full_name"] == NEW["full_name"]
        and body["email"] == NEW["email"]
        and body["description"] == DESCRIPTION
    )


def is_masked(body: dict[str, Any]) -> bool:
    return (
        body["phone"] == "+7 916 *** ** 67"
        and body["full_name"] == INITIALS
        and body["email"] is None
        and body["description"] == brief(DESCRIPTION)
    )


async def reads(api: Clients, **query: str) -> list[dict[str, Any]]:
    """The recorded reads of tickets (accepting a call records its contact's phone too)."""
    status, page = await api.supervisor.get("/v1/audit/reads", query_string=query)
    assert status == 200, page
    return [r for r in page["reads"] if r["kind"] == "ticket"]


async def move_accept_to(services: Services, cid: str, at: float) -> None:
    async def work(tx: Tx) -> None:
        await tx.execute(
            "UPDATE contact_events SET at = ? WHERE contact_id = ? AND kind = 'accepted'", (at, cid)
        )

    await services.store.transact(work)


async def test_an_operator_sees_a_ticket_in_full_only_while_it_works_on_a_linked_contact(
    api: Clients, services: Services
) -> None:
    number, cid = await ticket_held_by_op1(api)
    await api.supervisor.put("/v1/operators/op-2", PAYMENTS_DESK)

    status, mine = await api.operator.get(f"/v1/tickets/{number}")
    assert status == 200 and is_full(mine)
    status, theirs = await api.other_operator.get(f"/v1/tickets/{number}")
    assert status == 200 and is_masked(theirs), theirs
    # A change made by an operator not working on it answers masked too.
    status, moved = await api.other_operator.post(
        f"/v1/tickets/{number}/status", {"to": "in_progress", "comment": "звонил 8 916 123-45-67"}
    )
    assert status == 200 and is_masked(moved)
    assert moved["history"][-1]["comment"] == "звонил ***"

    # Done with the call, op-1 still sees it today ...
    outcome = {"outcome": "объяснил сроки"}
    assert (await api.operator.post(f"/v1/contacts/{cid}/complete", outcome))[0] == 200
    assert is_full((await api.operator.get(f"/v1/tickets/{number}"))[1])
    # ... and not the next day: the call was accepted before the local midnight.
    await move_accept_to(services, cid, services.clock.now() - 2 * 86400)
    assert is_masked((await api.operator.get(f"/v1/tickets/{number}"))[1])
    # Supervisors and integrations see every ticket in full.
    assert is_full((await api.supervisor.get(f"/v1/tickets/{number}"))[1])
    assert is_full((await api.integration.get(f"/v1/tickets/{number}"))[1])


async def test_an_operator_still_holding_a_call_accepted_yesterday_sees_its_ticket(
    api: Clients, services: Services
) -> None:
    number, cid = await ticket_held_by_op1(api)
    await move_accept_to(services, cid, services.clock.now() - 2 * 86400)  # a call over midnight

    assert is_full((await api.operator.get(f"/v1/tickets/{number}"))[1])


async def test_linking_a_contact_it_holds_lets_an_operator_see_the_ticket(api: Clients) -> None:
    status, ticket = await api.integration.post("/v1/tickets", NEW)
    assert status == 201
    number = ticket["number"]
    assert is_masked((await api.operator.get(f"/v1/tickets/{number}"))[1])
    await ready_desk(api, "op-1")
    cid = (await api.integration.post("/v1/contacts", CALL))[1]["id"]
    assert (await api.operator.post(f"/v1/contacts/{cid}/accept"))[0] == 200

    status, linked = await api.operator.post(f"/v1/tickets/{number}/contacts", {"contact_id": cid})

    assert status == 200 and is_full(linked)
    assert is_full((await api.operator.get(f"/v1/tickets/{number}"))[1])


async def test_a_lookup_by_phone_is_for_integrations_and_supervisors(api: Clients) -> None:
    assert (await api.integration.post("/v1/tickets", NEW))[0] == 201
    query = {"phone": "8 916 123 45 67"}

    status, body = await api.operator.get("/v1/tickets", query_string=query)
    assert (status, body["error"]["field"]) == (403, "phone")
    # The supervisor typed the phone; the rest stays masked in a listing.
    status, page = await api.supervisor.get("/v1/tickets", query_string=query)
    [row] = page["tickets"]
    assert status == 200 and row["phone"] == "+79161234567"
    assert (row["full_name"], row["email"]) == (INITIALS, None)
    # The personal account sees its citizen's own tickets, the description still brief.
    _, page = await api.integration.get("/v1/tickets", query_string=query)
    [row] = page["tickets"]
    assert (row["full_name"], row["email"]) == (NEW["full_name"], NEW["email"])
    assert row["description"] == brief(DESCRIPTION)


async def test_descriptions_are_brief_in_every_listing(api: Clients) -> None:
    assert (await api.integration.post("/v1/tickets", NEW))[0] == 201

    for client in (api.operator, api.supervisor, api.integration, api.admin):
        status, page = await client.get("/v1/tickets")
        assert status == 200
        [row] = page["tickets"]
        shown = row["description"]
        assert len(shown) <= BRIEF_CHARS and shown.endswith("…")
        assert not any(ch.isdigit() for ch in shown), shown
        assert "***" in row["phone"]


async def test_every_unmasked_read_by_a_person_is_recorded(api: Clients) -> None:
    number, _ = await ticket_held_by_op1(api)
    await api.supervisor.put("/v1/operators/op-2", PAYMENTS_DESK)
    assert await reads(api) == []  # creating is not reading: the creator gave the data

    await api.operator.get(f"/v1/tickets/{number}")
    await api.other_operator.get(f"/v1/tickets/{number}")  # masked: nothing shown
    await api.integration.get(f"/v1/tickets/{number}")  # the portal: not a person
    await api.integration.get("/v1/tickets", query_string={"phone": "+79161234567"})
    await api.supervisor.get(f"/v1/tickets/{number}")
    await api.supervisor.get("/v1/tickets", query_string={"phone": "+79161234567"})
    await api.supervisor.get("/v1/tickets")  # all masked: nothing shown

    got = await reads(api)
    assert [(r["role"], r["operator_id"], r["kind"], r["resource_id"]) for r in got] == [
        ("operator", "op-1", "ticket", number),
        ("supervisor", None, "ticket", number),
        ("supervisor", None, "ticket", number),
    ]
    assert got[0]["fields"] == ["phone", "description", "full_name", "email"]
    assert got[2]["fields"] == ["phone"]
    assert got[1]["token_id"].startswith("tok_")
    assert all(r["at"].endswith("Z") or r["at"].endswith("+00:00") for r in got)


async def test_the_audit_lists_by_actor_and_time_in_pages(api: Clients) -> None:
    number, _ = await ticket_held_by_op1(api)
    for _ in range(3):
        await api.operator.get(f"/v1/tickets/{number}")
    await api.supervisor.get(f"/v1/tickets/{number}")

    assert len(await reads(api, actor="op-1")) == 3
    supervisor_token = (await reads(api))[-1]["token_id"]
    assert [r["role"] for r in await reads(api, actor=supervisor_token)] == ["supervisor"]
    seen: list[str] = []
    cursor = None
    while True:
        query = {"limit": "3"} | ({"cursor": cursor} if cursor else {})
        status, page = await api.supervisor.get("/v1/audit/reads", query_string=query)
        assert status == 200
        seen += [f"{r['role']} {r['kind']}" for r in page["reads"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    accepted = "operator contact"  # the call that made op-1 hold the ticket
    assert seen == [accepted] + ["operator ticket"] * 3 + ["supervisor ticket"]
    assert await reads(api, **{"from": "2099-01-01T00:00:00Z"}) == []
    assert (
        len(await reads(api, **{"from": "2000-01-01T00:00:00Z", "to": "2099-01-01T00:00:00Z"})) == 4
    )
    status, body = await api.supervisor.get(
        "/v1/audit/reads",
        query_string={"from": "2099-01-01T00:00:00Z", "to": "2000-01-01T00:00:00Z"},
    )
    assert (status, body["error"]["field"]) == (422, "to")


async def test_only_supervisors_and_admins_read_the_audit(api: Clients) -> None:
    assert (await api.admin.get("/v1/audit/reads"))[0] == 200
    for client in (api.operator, api.integration):
        assert (await client.get("/v1/audit/reads"))[0] == 403
    assert (await api.anonymous.get("/v1/audit/reads"))[0] == 401
    status, body = await api.supervisor.get("/v1/audit/reads", query_string={"cursor": "zz"})
    assert (status, body["error"]["field"]) == (422, "cursor")
    status, body = await api.supervisor.get(
        "/v1/audit/reads",
        query_string={"from": "2026-01-01T00:00:00"},  # no offset: ambiguous
    )
    assert (status, body["error"]["field"]) == (422, "from")


async def test_the_audit_is_append_only(api: Clients, services: Services) -> None:
    number, _ = await ticket_held_by_op1(api)
    await api.operator.get(f"/v1/tickets/{number}")

    for statement in ("UPDATE pii_reads SET operator_id = 'op-9'", "DELETE FROM pii_reads"):

        async def work(tx: Tx, sql: str = statement) -> None:
            await tx.execute(sql)

        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            await services.store.transact(work)
    assert [r["operator_id"] for r in await reads(api)] == ["op-1"]


async def test_a_read_that_cannot_be_recorded_shows_nothing(
    api: Clients, services: Services
) -> None:
    number, _ = await ticket_held_by_op1(api)

    async def break_audit(tx: Tx) -> None:
        await tx.execute(
            "CREATE TRIGGER pii_reads_broken BEFORE INSERT ON pii_reads"
            " BEGIN SELECT RAISE(ABORT, 'disk says no'); END"
        )

    await services.store.transact(break_audit)

    status, body = await api.supervisor.get(f"/v1/tickets/{number}")
    assert status >= 500 and "phone" not in body
    status, body = await api.operator.post(f"/v1/tickets/{number}/status", {"to": "in_progress"})
    assert status >= 500 and "phone" not in body
    # The change whose answer could not be recorded was not made either.
    _, ticket = await api.integration.get(f"/v1/tickets/{number}")
    assert ticket["status"] == "accepted"


async def test_the_openapi_document_describes_the_ticket_and_audit_routes(app: Quart) -> None:
    doc = await (await app.test_client().get("/openapi.json")).get_json()
    paths = doc["paths"]

    create = paths["/v1/tickets"]["post"]
    assert {"200", "201", "409", "422"} <= set(create["responses"])
    assert "Idempotency-Key" in [p["name"] for p in create["parameters"] if p["in"] == "header"]
    assert "403" in paths["/v1/tickets"]["get"]["responses"]
    assert {"404", "422"} <= set(paths["/v1/tickets/{number}"]["get"]["responses"])
    audit = paths["/v1/audit/reads"]["get"]
    assert {"200", "401", "403", "422"} <= set(audit["responses"])
    assert {"from", "to", "actor", "cursor", "limit"} <= {p["name"] for p in audit["parameters"]}
    error = audit["responses"]["403"]["content"]["application/json"]["schema"]
    assert "ErrorOut" in str(error)
