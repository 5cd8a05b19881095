"""`POST /v1/identity/check` against a register imported from a file, through the test client."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from hotline.citizens_import import read_citizens
from hotline.jsonlog import JsonLineFormatter
from hotline.services import Services
from hotline.store import Tx
from hotline.store.citizens import import_citizens
from tests.api.conftest import Clients

INN = "500123456750"  # a person's INN with valid check digits
SNILS = "112-233-445 95"
CALL = {"channel": "chat", "topic": "personal_data", "phone": "+79161234567"}


async def register(services: Services, tmp_path: Path) -> None:
    path = tmp_path / "citizens.jsonl"
    person = {"full_name": "Иванова Мария Петровна", "phone": "+79161234567", "inn": INN}
    other = {"full_name": "Петров Пётр", "phone": "+79031112233", "snils": SNILS}
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in (person, other)))
    records = read_citizens(path)

    async def work(tx: Tx) -> int:
        return await import_citizens(tx, records, at=0.0)

    await services.store.transact(work)


async def new_contact(api: Clients) -> str:
    status, body = await api.integration.post("/v1/contacts", CALL)
    assert status == 201
    return str(body["id"])


async def test_a_matching_caller_is_verified_whatever_the_spelling(
    api: Clients, services: Services, tmp_path: Path
) -> None:
    await register(services, tmp_path)
    cid = await new_contact(api)

    status, body = await api.operator.post(
        "/v1/identity/check",
        {
            "contact_id": cid,
            "full_name": "иванова  мария петровна",
            "inn": INN,
            "phone_last4": "4567",
        },
    )
    assert (status, body["verified"], body["reason"]) == (200, True, None)
    status, body = await api.operator.post(
        "/v1/identity/check",
        {"contact_id": cid, "full_name": "Петров Петр", "snils": SNILS, "phone_last4": "2233"},
    )
    assert body["verified"] is True


async def test_every_mismatch_gets_the_same_reason(
    api: Clients, services: Services, tmp_path: Path
) -> None:
    await register(services, tmp_path)
    cid = await new_contact(api)
    base = {"contact_id": cid, "full_name": "Иванова Мария Петровна", "inn": INN}
    wrong_name = await api.operator.post(
        "/v1/identity/check", {**base, "full_name": "Сидорова Анна", "phone_last4": "4567"}
    )
    wrong_phone = await api.operator.post("/v1/identity/check", {**base, "phone_last4": "0000"})
    reasons = {wrong_name[1]["reason"], wrong_phone[1]["reason"]}
    assert len(reasons) == 1 and None not in reasons
    assert not wrong_name[1]["verified"] and not wrong_phone[1]["verified"]


async def test_the_phone_is_locked_after_too_many_failures(
    api: Clients, services: Services, tmp_path: Path
) -> None:
    await register(services, tmp_path)
    cid = await new_contact(api)
    wrong = {"contact_id": cid, "full_name": "Кто-то", "inn": INN, "phone_last4": "0000"}
    lefts = [
        (await api.operator.post("/v1/identity/check", wrong))[1]["attempts_left"] for _ in range(3)
    ]
    assert lefts == [2, 1, 0]
    right = {**wrong, "full_name": "Иванова Мария Петровна", "phone_last4": "4567"}
    status, body = await api.operator.post("/v1/identity/check", right)
    assert (status, body["error"]["code"]) == (423, "locked")
    # Another contact from the same phone is locked too: the lock follows the caller.
    status, _ = await api.operator.post(
        "/v1/identity/check", {**right, "contact_id": await new_contact(api)}
    )
    assert status == 423


async def test_impossible_numbers_are_422_naming_the_field(api: Clients) -> None:
    cid = await new_contact(api)
    base = {"contact_id": cid, "full_name": "Иванова", "phone_last4": "4567"}
    cases = [
        ({**base, "inn": "500123456751"}, "inn"),  # one check digit off
        ({**base, "snils": "112-233-445 96"}, "snils"),
        ({**base, "inn": INN, "snils": SNILS}, "inn"),  # one or the other
        (base, "inn"),
        ({**base, "inn": INN, "phone_last4": "45a7"}, "phone_last4"),
    ]
    for body, field in cases:
        status, answer = await api.operator.post("/v1/identity/check", body)
        assert (status, answer["error"]["field"]) == (422, field), (body, answer)
    status, answer = await api.operator.post(
        "/v1/identity/check", {**base, "inn": INN, "contact_id": "c_nobody"}
    )
    assert status == 404


async def test_numbers_never_reach_the_log(
    api: Clients, services: Services, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # The lines as the server writes them: `caplog.text` holds only each record's message, never
    # the fields `log_event` attaches, so a check of it would pass a line that logs the INN.
    caplog.set_level(logging.DEBUG)
    await register(services, tmp_path)
    cid = await new_contact(api)
    for claim in (
        {"full_name": "Иванова Мария", "inn": INN, "phone_last4": "4567"},
        {"full_name": "Петров Пётр", "snils": SNILS, "phone_last4": "0000"},
    ):
        await api.operator.post("/v1/identity/check", {"contact_id": cid, **claim})
    formatter = JsonLineFormatter()
    written = "\n".join(formatter.format(record) for record in caplog.records)
    assert "identity" in written  # the checks were logged: this looks at the right lines
    for secret in (INN, SNILS, SNILS.replace("-", "").replace(" ", ""), "Иванова", "Петров"):
        assert secret not in written, secret
    assert "9161234567" not in written
