"""What each provider makes of its far side's answers: the HTTP status map and Retry-After,
the provider id taken from the answer, and the request it sends."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from hotline.notify.providers import (
    Accepted,
    DeliveryResult,
    HttpProvider,
    Outgoing,
    Refused,
    TryLater,
    idempotency_key,
)
from hotline.store.outbox import MessageKind

SMS = Outgoing(
    message_id=3,
    kind=MessageKind.SMS,
    recipient="+79123456789",
    subject=None,
    body="Обращение HL-7K3M-9QX2 одобрено",
    idempotency_key="ticket:HL-7K3M-9QX2:3:sms",
    segments=1,
    attempt=1,
    at=1_750_000_000.0,
)


async def deliver(
    answer: Callable[[httpx.Request], httpx.Response],
    message: Outgoing = SMS,
    **options: str,
) -> tuple[DeliveryResult, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answer(request)

    provider = HttpProvider(
        "https://gateway.example/v1/sms",
        transport=httpx.MockTransport(handler),
        **options,  # type: ignore[arg-type]
    )
    try:
        return await provider.deliver(message), seen
    finally:
        await provider.aclose()


async def test_a_2xx_is_accepted_with_the_id_from_the_answer() -> None:
    result, (request,) = await deliver(
        lambda r: httpx.Response(202, json={"id": "gw-42", "status": "queued"}),
        token="t0ken",
    )
    assert result == Accepted("gw-42")
    assert request.method == "POST"
    assert request.headers["Idempotency-Key"] == SMS.idempotency_key
    assert request.headers["Authorization"] == "Bearer t0ken"
    assert json.loads(request.content) == {
        "idempotency_key": SMS.idempotency_key,
        "kind": "sms",
        "to": "+79123456789",
        "text": SMS.body,
        "segments": 1,
    }


async def test_the_id_field_may_be_a_dotted_path_and_a_number() -> None:
    result, _ = await deliver(
        lambda r: httpx.Response(200, json={"data": {"message_id": 981}}),
        id_field="data.message_id",
    )
    assert result == Accepted("981")


async def test_a_2xx_without_an_id_is_still_accepted() -> None:
    result, (request,) = await deliver(lambda r: httpx.Response(204))
    assert result == Accepted(None)
    assert "Authorization" not in request.headers


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 410, 413, 422])
async def test_a_4xx_is_a_refusal_for_good(status: int) -> None:
    result, _ = await deliver(lambda r: httpx.Response(status, json={"error": "+79123456789"}))
    assert result == Refused(f"HTTP {status} from the provider")  # the body is not repeated


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
async def test_408_429_and_5xx_are_tried_again(status: int) -> None:
    result, _ = await deliver(lambda r: httpx.Response(status))
    assert result == TryLater(f"HTTP {status} from the provider", None)


async def test_retry_after_in_seconds_is_passed_on() -> None:
    result, _ = await deliver(lambda r: httpx.Response(429, headers={"Retry-After": "120"}))
    assert result == TryLater("HTTP 429 from the provider", 120.0)


async def test_retry_after_as_a_date_counts_from_the_answers_date() -> None:
    headers = {
        "Date": "Wed, 21 Oct 2026 07:28:00 GMT",
        "Retry-After": "Wed, 21 Oct 2026 07:30:30 GMT",
    }
    result, _ = await deliver(lambda r: httpx.Response(503, headers=headers))
    assert result == TryLater("HTTP 503 from the provider", 150.0)


async def test_an_unreachable_provider_is_tried_again() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    result, _ = await deliver(refuse)
    assert result == TryLater("provider unreachable: ConnectError")


async def test_an_account_event_is_posted_as_json_not_as_text() -> None:
    event = Outgoing(
        9,
        MessageKind.ACCOUNT_EVENT,
        "+79123456789",
        None,
        '{"ticket": "HL-7K3M-9QX2", "status": "approved", "label": "Одобрено"}',
        "ticket:HL-7K3M-9QX2:3:account",
        None,
        1,
        0.0,
    )
    _, (request,) = await deliver(lambda r: httpx.Response(200, json={"id": "e"}), event)
    body = json.loads(request.content)
    assert body["event"] == {"ticket": "HL-7K3M-9QX2", "status": "approved", "label": "Одобрено"}
    assert "text" not in body and "segments" not in body


def test_a_key_that_cannot_be_a_header_is_sent_as_its_digest() -> None:
    assert idempotency_key("ticket:HL-7K3M-9QX2:3:sms") == "ticket:HL-7K3M-9QX2:3:sms"
    digest = idempotency_key("форма:обращение 1")
    assert digest.startswith("sha256-") and digest.isascii() and len(digest) == 71
    assert idempotency_key("форма:обращение 1") == digest
