"""`/v1/sms/receipts` and `/v1/messages`: delivery receipts from the SMS provider (idempotent, a
final state never goes back) and the outbox as supervisors see it (recipients masked), with the
whole service running and the default file provider delivering."""

from __future__ import annotations

import time
from typing import Any

import trio

from hotline.services import Services
from hotline.store.outbox import MessageKind, NewMessage, enqueue_message
from tests.api.conftest import Clients

MOBILE = "+79123456789"
LANDLINE = "+74951234567"


async def put_in_outbox(services: Services, *messages: NewMessage) -> list[int]:
    now = time.time()

    async def work(tx: Any) -> list[int]:
        ids = [await enqueue_message(tx, m, at=now) for m in messages]
        assert None not in ids
        return [i for i in ids if i is not None]

    ids = await services.store.transact(work)
    services.notifier.notify_new()
    return ids


def sms(n: int, phone: str = MOBILE) -> NewMessage:
    return NewMessage(MessageKind.SMS, phone, f"Обращение HL-{n}: принято", f"t:{n}:sms")


async def settled(api: Clients, message_id: int, state: str) -> dict[str, Any]:
    with trio.fail_after(5):
        while True:
            status, body = await api.supervisor.get(f"/v1/messages/{message_id}")
            assert status == 200, body
            if body["state"] == state:
                return body  # type: ignore[no-any-return]
            await trio.sleep(0.02)


async def test_a_sent_sms_is_delivered_by_receipt_once_and_for_good(
    api: Clients, services: Services
) -> None:
    (message_id,) = await put_in_outbox(services, sms(1))
    sent = await settled(api, message_id, "sent")
    provider_id = sent["provider_id"]
    assert sent["provider"] == "file" and sent["segments"] == 1

    receipt = {"provider_id": provider_id, "status": "delivered", "at": "2026-05-01T10:00:00Z"}
    status, body = await api.integration.post("/v1/sms/receipts", receipt)
    assert status == 200
    assert body["applied"] is True and body["message"]["state"] == "delivered"

    status, again = await api.integration.post("/v1/sms/receipts", receipt)
    assert status == 200 and again["applied"] is False
    assert again["message"]["state"] == "delivered"

    for late in ("failed", "sent"):
        status, body = await api.integration.post(
            "/v1/sms/receipts", {"provider_id": provider_id, "status": late}
        )
        assert status == 200 and body["applied"] is False
        assert body["message"]["state"] == "delivered"  # a final state never goes back

    _, detail = await api.supervisor.get(f"/v1/messages/{message_id}")
    assert [e["kind"] for e in detail["events"]] == ["enqueued", "claimed", "sent", "receipt"]
    assert detail["events"][-1]["data"]["status"] == "delivered"


async def test_a_failed_receipt_is_final_too(api: Clients, services: Services) -> None:
    (message_id,) = await put_in_outbox(services, sms(2))
    provider_id = (await settled(api, message_id, "sent"))["provider_id"]
    for _ in range(2):
        status, body = await api.integration.post(
            "/v1/sms/receipts", {"provider_id": provider_id, "status": "failed"}
        )
        assert status == 200 and body["message"]["state"] == "failed"
    status, body = await api.integration.post(
        "/v1/sms/receipts", {"provider_id": provider_id, "status": "delivered"}
    )
    assert body["applied"] is False and body["message"]["state"] == "failed"


async def test_a_receipt_for_an_unknown_message_is_404(api: Clients) -> None:
    status, body = await api.integration.post(
        "/v1/sms/receipts", {"provider_id": "nobody-knows", "status": "delivered"}
    )
    assert status == 404
    assert body["error"]["code"] == "not_found" and body["error"]["field"] == "provider_id"


async def test_a_receipt_with_a_bad_body_is_422_naming_the_field(api: Clients) -> None:
    status, body = await api.integration.post(
        "/v1/sms/receipts", {"provider_id": "x", "status": "read"}
    )
    assert status == 422 and body["error"]["field"] == "status"
    status, body = await api.integration.post("/v1/sms/receipts", {"status": "delivered"})
    assert status == 422 and body["error"]["field"] == "provider_id"


async def test_only_the_integration_role_posts_receipts(api: Clients) -> None:
    receipt = {"provider_id": "x", "status": "delivered"}
    for client in (api.supervisor, api.operator):
        status, body = await client.post("/v1/sms/receipts", receipt)
        assert status == 403, body
    status, _ = await api.anonymous.post("/v1/sms/receipts", receipt)
    assert status == 401


async def test_supervisors_see_failed_messages_with_recipients_masked(
    api: Clients, services: Services
) -> None:
    good, bad = await put_in_outbox(services, sms(3), sms(4, LANDLINE))
    await settled(api, good, "sent")
    await settled(api, bad, "failed")
    status, page = await api.supervisor.get("/v1/messages?state=failed")
    assert status == 200
    (failed,) = page["messages"]
    assert failed["id"] == bad
    assert failed["recipient"] == "+7 495 *** ** 67"
    assert failed["last_error"] == "SMS go only to Russian mobile numbers"
    assert failed["next_attempt_at"] is None
    assert "body" not in failed
    assert page["next_cursor"] is None


async def test_listing_filters_by_kind_and_pages_with_a_cursor(
    api: Clients, services: Services
) -> None:
    email = NewMessage(
        MessageKind.EMAIL, "citizen@example.org", "Текст", "t:mail", subject="Обращение принято"
    )
    ids = await put_in_outbox(services, sms(5), email, sms(6), sms(7))
    status, first = await api.supervisor.get("/v1/messages?kind=sms&limit=2")
    assert status == 200
    assert [m["id"] for m in first["messages"]] == [ids[0], ids[2]]
    assert all(m["recipient"] == "+7 912 *** ** 89" for m in first["messages"])
    status, rest = await api.supervisor.get(
        f"/v1/messages?kind=sms&limit=2&cursor={first['next_cursor']}"
    )
    assert [m["id"] for m in rest["messages"]] == [ids[3]] and rest["next_cursor"] is None
    _, mails = await api.supervisor.get("/v1/messages?kind=email")
    (mail,) = mails["messages"]
    assert mail["recipient"] == "c***@example.org" and mail["subject"] == "Обращение принято"


async def test_bad_queries_and_unknown_messages(api: Clients) -> None:
    status, body = await api.supervisor.get("/v1/messages?cursor=zzz")
    assert status == 422 and body["error"]["field"] == "cursor"
    status, body = await api.supervisor.get("/v1/messages?state=lost")
    assert status == 422 and body["error"]["field"] == "state"
    status, body = await api.supervisor.get("/v1/messages/999999")
    assert status == 404 and body["error"]["code"] == "not_found"
    status, _ = await api.supervisor.get("/v1/messages/abc")
    assert status == 404


async def test_only_supervisors_read_the_outbox(api: Clients) -> None:
    for client in (api.integration, api.operator):
        status, _ = await client.get("/v1/messages")
        assert status == 403
        status, _ = await client.get("/v1/messages/1")
        assert status == 403
    status, _ = await api.anonymous.get("/v1/messages")
    assert status == 401
    status, _ = await api.admin.get("/v1/messages")
    assert status == 200
