"""Surveys over the HTTP API: the rating SMS written with a completed contact, answering its code
(once, before it expires, at a limited rate), opting out, NPS at most once a month per phone,
and repeat contacts (`repeat_of`) with their window's edges.

Time is trio's MockClock under a whole-second epoch: it stands still unless a test moves it, so
the window's edges are exact."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing
from quart import Quart

from hotline.api import create_app
from hotline.app import start_services
from hotline.citizens_import import read_citizens
from hotline.clock import WallClock
from hotline.config import Settings, SurveySettings
from hotline.services import Services
from hotline.services.auth import Role, create_token
from hotline.store import Tx
from hotline.store.citizens import import_citizens
from tests.api.conftest import PAYMENTS_DESK, Api, Clients, Tokens, auth

T0 = 1_780_041_600  # 2026-05-29T11:00 Moscow: whole seconds, so window edges are exact
DAY = 86_400
HOUR = 3600
PHONE = "+79123456789"
CALL = {"channel": "voice", "topic": "payments", "phone": PHONE}
LINK = "https://gosuslugi.example/rate/"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    surveys = SurveySettings(answers_burst=5, answers_per_minute=60, link_base=LINK)
    return settings.model_copy(update={"surveys": surveys})


@pytest.fixture
async def services(
    nursery: trio.Nursery, settings: Settings, mock_clock: trio.testing.MockClock
) -> Services:
    return await start_services(nursery, settings, clock=WallClock(epoch=T0))


async def at_desk(api: Clients) -> None:
    await api.supervisor.put("/v1/operators/op-1", PAYMENTS_DESK)
    await api.operator.post("/v1/operators/op-1/state", {"state": "ready"})


async def off_desk(api: Clients) -> None:
    """op-1 logs out: days of time jumped over are no days of its time to count by minute."""
    await api.operator.post("/v1/operators/op-1/state", {"state": "offline"})


async def completed(api: Clients, contact: dict[str, str] = CALL) -> str:
    """op-1 (at its desk) takes `contact` and completes it; its wrap-up ends."""
    status, body = await api.integration.post("/v1/contacts", contact)
    assert status == 201, body
    cid = str(body["id"])
    assert (await api.operator.post(f"/v1/contacts/{cid}/accept"))[0] == 200
    assert (await api.operator.post(f"/v1/contacts/{cid}/complete", {"outcome": "ok"}))[0] == 200
    await api.operator.post("/v1/operators/op-1/wrap-up/end")
    return cid


async def surveys(services: Services) -> list[dict[str, Any]]:
    async def read(tx: Tx) -> list[dict[str, Any]]:
        rows = await tx.fetchall("SELECT * FROM surveys ORDER BY id")
        return [dict(r) for r in rows]

    return await services.store.read(read)


async def invitations(services: Services) -> list[dict[str, Any]]:
    async def read(tx: Tx) -> list[dict[str, Any]]:
        rows = await tx.fetchall(
            "SELECT recipient, body, dedupe_key FROM messages"
            " WHERE kind = 'sms' AND dedupe_key LIKE 'survey:%' ORDER BY id"
        )
        return [dict(r) for r in rows]

    return await services.store.read(read)


def code_in(sms: dict[str, Any]) -> str:
    link = next(word for word in sms["body"].split() if word.startswith(LINK))
    return link.removeprefix(LINK)


async def test_a_completed_call_gets_one_rating_sms_whose_code_answers_once(
    api: Clients, services: Services
) -> None:
    await at_desk(api)
    cid = await completed(api)

    [sms] = await invitations(services)
    [survey] = await surveys(services)
    assert (sms["recipient"], sms["dedupe_key"]) == (PHONE, f"survey:{cid}")
    code = code_in(sms)
    assert code == survey["code"] and len(code) == 10
    assert (survey["contact_id"], survey["operator_id"], survey["ask_nps"]) == (cid, "op-1", 1)

    answer = {"csat": 5, "nps": 9, "comment": "Спасибо, всё понятно"}
    status, body = await api.integration.post(f"/v1/surveys/{code}", answer)
    assert status == 200, body
    assert (body["contact_id"], body["asked_nps"]) == (cid, True)
    status, again = await api.integration.post(f"/v1/surveys/{code}", {"csat": 1})
    assert (status, again["error"]["code"]) == (409, "conflict")
    [kept] = await surveys(services)
    assert (kept["csat"], kept["nps"]) == (5, 9)
    [comment] = await _feedback(services)
    assert comment == {
        "source": "survey",
        "source_id": str(kept["id"]),
        "text": "Спасибо, всё понятно",
        "topic": "payments",
        "operator_id": "op-1",
        "categories": '["thanks"]',
    }


async def _feedback(services: Services) -> list[dict[str, Any]]:
    async def read(tx: Tx) -> list[dict[str, Any]]:
        rows = await tx.fetchall(
            "SELECT source, source_id, text, topic, operator_id, categories FROM feedback"
        )
        return [dict(r) for r in rows]

    return await services.store.read(read)


async def test_the_invitation_is_sent_at_once_by_the_sms_sender(
    api: Clients, services: Services
) -> None:
    await at_desk(api)
    await completed(api)
    # Time stands still: the sender's 30 s poll never comes, only the journal's wake-up call.
    for _ in range(200):
        await trio.testing.wait_all_tasks_blocked()
        [state] = [r["state"] for r in await _messages(services)]
        if state != "pending":
            break
        await trio.to_thread.run_sync(time.sleep, 0.005)
    assert state in ("sending", "sent")  # claimed by the sender


async def _messages(services: Services) -> list[dict[str, Any]]:
    async def read(tx: Tx) -> list[dict[str, Any]]:
        return [dict(r) for r in await tx.fetchall("SELECT state FROM messages")]

    return await services.store.read(read)


async def test_a_wrong_code_is_404_whatever_it_looks_like(api: Clients, services: Services) -> None:
    await at_desk(api)
    await completed(api)
    code = code_in((await invitations(services))[0])
    wrong = ("a" if code[0] != "a" else "b") + code[1:]
    for guess in (wrong, "short", "0" * 10):
        status, body = await api.integration.post(f"/v1/surveys/{guess}", {"csat": 4})
        assert (status, body["error"]["code"]) == (404, "not_found"), guess


async def test_an_expired_code_is_410(
    api: Clients, services: Services, mock_clock: trio.testing.MockClock
) -> None:
    await at_desk(api)
    await completed(api)
    await off_desk(api)
    code = code_in((await invitations(services))[0])
    mock_clock.jump(7 * DAY)  # expire_days = 7: it expires at that very instant
    status, body = await api.integration.post(f"/v1/surveys/{code}", {"csat": 4})
    assert (status, body["error"]["code"]) == (410, "gone")


async def test_a_bad_answer_is_422_naming_the_field(api: Clients, services: Services) -> None:
    await at_desk(api)
    await completed(api)
    code = code_in((await invitations(services))[0])
    for body, field in (({"csat": 6}, "csat"), ({"csat": 3, "nps": 11}, "nps"), ({}, "csat")):
        status, answer = await api.integration.post(f"/v1/surveys/{code}", body)
        assert status == 422, body
        assert field in json.dumps(answer), answer
    assert (await api.integration.post(f"/v1/surveys/{code}", {"csat": 3}))[0] == 200


async def test_no_survey_goes_to_a_phone_that_opted_out(api: Clients, services: Services) -> None:
    status, body = await api.integration.post("/v1/surveys/opt-out", {"phone": "8 912 345-67-89"})
    assert status == 200, body
    assert body["phone"] == "+7 912 *** ** 89"  # masked
    again = await api.integration.post("/v1/surveys/opt-out", {"phone": PHONE})
    assert again == (200, body)  # the first opt-out's time stays
    await at_desk(api)
    await completed(api)
    assert await surveys(services) == [] and await invitations(services) == []
    other = {**CALL, "phone": "+79123450000"}
    await completed(api, other)
    assert [s["phone"] for s in await surveys(services)] == ["+79123450000"]


async def test_nps_is_asked_at_most_once_in_30_days_per_phone(
    api: Clients, services: Services, mock_clock: trio.testing.MockClock
) -> None:
    for wait in (29 * DAY, DAY, 0):
        await at_desk(api)
        await completed(api)
        await off_desk(api)
        mock_clock.jump(wait)
    first, second, third = await surveys(services)
    assert [s["ask_nps"] for s in (first, second, third)] == [1, 0, 1]
    status, body = await api.integration.post(
        f"/v1/surveys/{second['code']}", {"csat": 4, "nps": 10}
    )
    assert (status, body["error"]["field"]) == (422, "nps")
    status, body = await api.integration.post(f"/v1/surveys/{second['code']}", {"csat": 4})
    assert (status, body["asked_nps"]) == (200, False)


async def test_only_completed_calls_chats_and_callbacks_to_mobiles_are_surveyed(
    api: Clients, services: Services
) -> None:
    await at_desk(api)
    left = (await api.integration.post("/v1/contacts", CALL))[1]["id"]
    await api.integration.post(f"/v1/contacts/{left}/abandon")
    await completed(api, {**CALL, "phone": "+74951234567"})  # a Moscow landline: no SMS
    assert await surveys(services) == []
    chat = await completed(api, {"channel": "chat", "topic": "applications", "phone": PHONE})
    assert [s["contact_id"] for s in await surveys(services)] == [chat]


async def test_a_sampling_share_of_zero_surveys_nobody(
    settings: Settings, tmp_path: Path, mock_clock: trio.testing.MockClock
) -> None:
    quiet = settings.with_db(tmp_path / "quiet.db").model_copy(
        update={"surveys": SurveySettings(share=0.0)}
    )
    async with trio.open_nursery() as nursery:
        sv = await start_services(nursery, quiet, clock=WallClock(epoch=T0))
        api = await _clients(create_app(sv), sv)
        await at_desk(api)
        await completed(api)
        assert await surveys(sv) == [] and await invitations(sv) == []
        nursery.cancel_scope.cancel()


async def test_answers_past_the_burst_are_429_with_retry_after(app: Quart, tokens: Tokens) -> None:
    client = app.test_client()
    statuses = []
    for _ in range(6):  # answers_burst = 5
        response = await client.post(
            "/v1/surveys/abcdefghjk", json={"csat": 5}, headers=auth(tokens.integration)
        )
        statuses.append(response.status_code)
    assert statuses == [404] * 5 + [429]
    assert response.headers["Retry-After"] == "1"  # 60 a minute: one more each second
    body = await response.get_json()
    assert body["error"]["code"] == "rate_limited"


# -- repeat contacts ---------------------------------------------------------------------------


async def test_a_contact_on_one_topic_within_72_hours_repeats_the_latest_earlier_one(
    api: Clients, services: Services, mock_clock: trio.testing.MockClock
) -> None:
    chat = {"channel": "chat", "topic": "applications", "phone": PHONE}
    first = (await api.integration.post("/v1/contacts", chat))[1]
    assert first["repeat_of"] is None
    mock_clock.jump(HOUR)
    other_topic = (await api.integration.post("/v1/contacts", {**chat, "topic": "documents"}))[1]
    other_phone = (await api.integration.post("/v1/contacts", {**chat, "phone": "+79120000000"}))[1]
    mock_clock.jump(72 * HOUR - HOUR)  # exactly 72 h after the first: still a repeat
    second = (await api.integration.post("/v1/contacts", {**chat, "channel": "voice"}))[1]
    mock_clock.jump(72 * HOUR + 1)  # a second past the window of the second
    third = (await api.integration.post("/v1/contacts", chat))[1]

    assert (other_topic["repeat_of"], other_phone["repeat_of"]) == (None, None)
    assert second["repeat_of"] == first["id"]  # whatever the channel
    assert third["repeat_of"] is None
    status, shown = await api.supervisor.get(f"/v1/contacts/{second['id']}")
    assert (status, shown["repeat_of"]) == (200, first["id"])


async def test_a_contact_repeats_one_verified_as_the_citizen_whose_phone_calls(
    api: Clients, services: Services, tmp_path: Path
) -> None:
    path = tmp_path / "citizens.jsonl"
    person = {"full_name": "Иванова Мария Петровна", "phone": "+79161234567", "inn": "500123456750"}
    path.write_text(json.dumps(person, ensure_ascii=False))
    records = read_citizens(path)

    async def register(tx: Tx) -> int:
        return await import_citizens(tx, records, at=0.0)

    await services.store.transact(register)
    chat = {"channel": "chat", "topic": "personal_data", "phone": "+79990001122"}  # a friend's
    earlier = (await api.integration.post("/v1/contacts", chat))[1]["id"]
    claim = {"full_name": "Иванова Мария Петровна", "inn": "500123456750", "phone_last4": "4567"}
    status, checked = await api.operator.post(
        "/v1/identity/check", {"contact_id": earlier, **claim}
    )
    assert (status, checked["verified"]) == (200, True), checked

    _, own = await api.integration.post("/v1/contacts", {**chat, "phone": "+79161234567"})
    assert own["repeat_of"] == earlier


async def _clients(app: Quart, services: Services) -> Clients:
    async def token(role: Role, operator_id: str | None = None) -> Api:
        return Api(app, (await create_token(services.store, role, operator_id=operator_id))[1])

    return Clients(
        admin=await token(Role.ADMIN),
        supervisor=await token(Role.SUPERVISOR),
        integration=await token(Role.INTEGRATION),
        operator=await token(Role.OPERATOR, "op-1"),
        other_operator=await token(Role.OPERATOR, "op-2"),
        anonymous=Api(app, None),
    )


async def test_a_chat_switched_to_a_call_is_no_repeat_of_itself_and_gets_one_survey(
    api: Clients, services: Services
) -> None:
    await at_desk(api)
    chat = {"channel": "chat", "topic": "payments", "phone": PHONE}
    earlier = (await api.integration.post("/v1/contacts", chat))[1]["id"]  # a real first contact
    await api.operator.post(f"/v1/contacts/{earlier}/accept")
    await api.operator.post(f"/v1/contacts/{earlier}/complete", {"outcome": "ok"})
    await api.operator.post("/v1/operators/op-1/wrap-up/end")
    switched = (await api.integration.post("/v1/contacts", chat))[1]
    await api.operator.post(f"/v1/contacts/{switched['id']}/accept")
    status, body = await api.operator.post(
        f"/v1/contacts/{switched['id']}/switch", {"channel": "voice"}
    )
    assert status == 201, body
    call = body["call"]
    await api.operator.post(f"/v1/contacts/{call['id']}/complete", {"outcome": "ok"})

    _, shown = await api.supervisor.get(f"/v1/contacts/{call['id']}")
    assert switched["repeat_of"] == earlier  # the chat repeats the first chat ...
    assert shown["repeat_of"] == earlier  # ... and the call it became is not its own repeat
    # The transferred chat is not completed: the call's survey is the one for both.
    assert [s["contact_id"] for s in await surveys(services)] == [earlier, call["id"]]


async def test_the_answer_and_its_comment_are_in_the_citizens_history(
    api: Clients, services: Services
) -> None:
    await at_desk(api)
    answered, unanswered = await completed(api), await completed(api)
    first = next(s for s in await invitations(services) if s["dedupe_key"] == f"survey:{answered}")
    answer = {"csat": 2, "nps": 3, "comment": "Долго ждал ответа"}
    assert (await api.integration.post(f"/v1/surveys/{code_in(first)}", answer))[0] == 200

    status, body = await api.supervisor.get(
        "/v1/citizens/history", query_string={"phone": PHONE, "reason": "жалоба гражданина"}
    )

    assert status == 200, body
    contacts = {e["id"]: e for e in body["entries"] if e["kind"] == "contact"}
    survey = contacts[answered]["survey"]
    assert (survey["csat"], survey["nps"], survey["comment"]) == (2, 3, "Долго ждал ответа")
    assert contacts[unanswered]["survey"] is None  # invited, not answered: nothing to show
