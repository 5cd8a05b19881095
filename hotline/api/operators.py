"""`/v1/operators`: profiles (supervisors), presence and wrap-up (the operator or a supervisor),
and the offers a desk is shown, as a list and as a live Server-Sent Events stream.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import trio
from quart import Blueprint, Response, request
from quart_schema import validate_response

from hotline.api.openapi import answers_with, may_answer
from hotline.api.schemas import (
    NoBody,
    OfferList,
    OfferOut,
    OperatorBody,
    OperatorList,
    OperatorOut,
    StateBody,
    format_epoch,
    operator_id_of,
)
from hotline.api.services import caller, current_services
from hotline.api.validation import validate_request
from hotline.services import operators
from hotline.services.offers import OfferNews
from hotline.store.rows import OperatorProfile

blueprint = Blueprint("operators", __name__, url_prefix="/v1/operators")

HEARTBEAT_S = 15.0  # an SSE comment this often keeps proxies from closing an idle stream


@blueprint.put("/<operator_id>")
@validate_request(OperatorBody)
@validate_response(OperatorOut, 201)
@validate_response(OperatorOut, 200)
async def put(operator_id: str, data: OperatorBody) -> tuple[OperatorOut, int]:
    """Create or replace an operator's profile (supervisor). A new operator starts offline."""
    sv = current_services()
    profile = OperatorProfile(
        id=operator_id_of(operator_id),  # a new id obeys the rule the `operator_id` field does
        name=data.name,
        skills=dict(data.skills),
        languages=frozenset(data.languages),
        capacity=dict(data.capacity)
        if data.capacity is not None
        else sv.settings.default_capacity(),
        certified_until=data.certified_until,
    )
    view, created = await operators.put_operator(sv, await caller(), profile)
    return OperatorOut.of(view), 201 if created else 200


@blueprint.get("")
@validate_response(OperatorList)
async def index() -> OperatorList:
    views = await operators.list_operators(current_services(), await caller())
    return OperatorList(operators=[OperatorOut.of(v) for v in views])


@blueprint.get("/<operator_id>")
@validate_response(OperatorOut)
async def show(operator_id: str) -> OperatorOut:
    return OperatorOut.of(
        await operators.get_operator(current_services(), await caller(), operator_id)
    )


@blueprint.post("/<operator_id>/state")
@validate_request(StateBody)
@validate_response(OperatorOut)
@may_answer(409)
async def set_state(operator_id: str, data: StateBody) -> OperatorOut:
    """Go ready, on break or offline (offline only with no contact in hand)."""
    view = await operators.set_presence(current_services(), await caller(), operator_id, data.state)
    return OperatorOut.of(view)


@blueprint.post("/<operator_id>/wrap-up/end")
@validate_request(NoBody)
@validate_response(OperatorOut)
@may_answer(409)
async def end_wrap_up(operator_id: str, data: NoBody) -> OperatorOut:
    view = await operators.end_wrap_up(current_services(), await caller(), operator_id)
    return OperatorOut.of(view)


@blueprint.get("/<operator_id>/offers")
@validate_response(OfferList)
async def offers(operator_id: str) -> OfferList:
    pending = await operators.pending_offers(current_services(), await caller(), operator_id)
    return OfferList(offers=[OfferOut.of(o) for o in pending])


@blueprint.get("/<operator_id>/offers/stream")
@answers_with("text/event-stream", description="`offered` and `withdrawn` events")
async def offer_stream(operator_id: str) -> Response:
    """Server-Sent Events: `offered` and `withdrawn` events for this operator, starting with the
    offers pending now; a comment line every 15 s while nothing happens."""
    sv = current_services()
    await operators.pending_offers(sv, await caller(), operator_id)  # checks access and existence
    if request.method == "HEAD":
        # Quart answers HEAD with the GET handler: a stream would be opened for a request that
        # reads no body, and held until the desk hangs up. The headers alone are the answer.
        return _stream_headers(Response(b"", content_type="text/event-stream"))
    feed = sv.offers.listen(operator_id)

    async def events() -> AsyncIterator[bytes]:
        with feed:
            yield b"retry: 2000\n\n"
            while True:
                with trio.move_on_after(HEARTBEAT_S) as idle:
                    try:
                        news = await feed.receive()
                    except trio.EndOfChannel:
                        return
                if idle.cancelled_caught:
                    yield b": keep-alive\n\n"
                    continue
                yield _sse(news)

    response = Response(events(), content_type="text/event-stream")
    response.timeout = None  # a stream lasts as long as the desk stays connected
    return _stream_headers(response)


def _stream_headers(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Accel-Buffering"] = "no"
    return response


def _sse(news: OfferNews) -> bytes:
    data = {"contact_id": news.contact_id, "at": format_epoch(news.at)}
    if news.expires_at is not None:
        data["expires_at"] = format_epoch(news.expires_at)
    if news.reason is not None:
        data["reason"] = news.reason
    return f"event: {news.kind}\ndata: {json.dumps(data)}\n\n".encode()
