"""The live offer stream (Server-Sent Events) of `GET /v1/operators/{id}/offers/stream`."""

from __future__ import annotations

import trio
from quart import Quart

from hotline.services import Services
from tests.api.conftest import PAYMENTS_DESK, Clients, Tokens, auth

CALL = {"channel": "voice", "topic": "payments", "phone": "+79123456789"}


async def test_the_stream_shows_an_offer_then_its_withdrawal(
    app: Quart, api: Clients, tokens: Tokens, services: Services
) -> None:
    await api.supervisor.put("/v1/operators/op-1", PAYMENTS_DESK)
    await api.operator.post("/v1/operators/op-1/state", {"state": "ready"})
    client = app.test_client()
    received = b""
    with trio.fail_after(10):
        async with client.request(
            "/v1/operators/op-1/offers/stream", headers=auth(tokens.operator)
        ) as connection:
            await connection.send_complete()
            cid = (await api.integration.post("/v1/contacts", CALL))[1]["id"]
            await api.integration.post(f"/v1/contacts/{cid}/abandon")
            while received.count(b"\n\n") < 3:
                received += await connection.receive()
            # What a shutdown does: every live stream ends, so none holds the drain up.
            services.offers.close_listeners()
    text = received.decode()
    assert text.startswith("retry: 2000\n\n")
    offered, withdrawn = text.split("\n\n")[1:3]
    assert offered.startswith("event: offered\n") and cid in offered and "expires_at" in offered
    assert withdrawn.startswith("event: withdrawn\n") and '"reason": "abandoned"' in withdrawn


async def test_another_operators_stream_is_refused(
    app: Quart, api: Clients, tokens: Tokens
) -> None:
    await api.supervisor.put("/v1/operators/op-1", PAYMENTS_DESK)
    response = await app.test_client().get(
        "/v1/operators/op-1/offers/stream", headers=auth(tokens.other_operator)
    )
    assert response.status_code == 403


async def test_head_of_the_stream_answers_its_headers_and_opens_no_stream(
    app: Quart, api: Clients, tokens: Tokens, services: Services
) -> None:
    await api.supervisor.put("/v1/operators/op-1", PAYMENTS_DESK)
    client = app.test_client()
    with trio.fail_after(10):
        response = await client.head(
            "/v1/operators/op-1/offers/stream", headers=auth(tokens.operator)
        )
    assert (response.status_code, response.content_type) == (200, "text/event-stream")
    assert await response.get_data() == b""
    assert services.offers._listeners == {}  # no feed was opened for a request with no body
