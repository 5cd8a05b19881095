"""The HTTP edge through Quart's test client, with a real router actor behind it."""

from __future__ import annotations

import time
from typing import Any

import pytest
from quart import Blueprint, Quart, request

from hotline.api import HotlineApp, Services, create_app
from hotline.domain.errors import Conflict, Forbidden, HotlineError, Invalid, NotFound
from hotline.routing import Channel, NewContact, OperatorSpec, Presence
from tests.api.conftest import Tokens, auth

DAY = 86400.0


def payments_operator(op_id: str) -> OperatorSpec:
    return OperatorSpec(
        id=op_id,
        skills={"payments": 3},
        languages=frozenset({"ru"}),
        capacity={Channel.VOICE: 1},
        certified_until=time.time() + DAY,
    )


async def test_healthz_answers_ok(app: Quart) -> None:
    response = await app.test_client().get("/healthz")

    assert response.status_code == 200
    assert await response.get_json() == {"status": "ok", "store": "ok"}


async def test_queues_of_an_idle_router_list_every_state_at_zero(
    app: Quart, tokens: Tokens
) -> None:
    response = await app.test_client().get("/v1/queues", headers=auth(tokens.supervisor))

    assert response.status_code == 200
    body = await response.get_json()
    assert body["created"] == 0
    assert set(body["contacts"]) == {
        "waiting",
        "offered",
        "assigned",
        "completed",
        "abandoned",
        "expired",
        "transferred",
    }
    assert set(body["operators"]) == {"offline", "ready", "busy", "wrap_up", "break"}
    assert not any(body["contacts"].values()) and not any(body["operators"].values())
    assert body["queues"] == []


async def test_queues_show_the_live_snapshot_of_the_router(
    app: Quart, services: Services, tokens: Tokens
) -> None:
    router = services.router
    await router.put_operator(payments_operator("op-1"))
    await router.set_presence("op-1", Presence.READY)
    await router.admit(NewContact(id="c-1", channel=Channel.VOICE, topic="payments"))
    await router.admit(NewContact(id="c-2", channel=Channel.VOICE, topic="payments"))
    await router.admit(NewContact(id="c-3", channel=Channel.CHAT, topic="documents"))

    response = await app.test_client().get("/v1/queues", headers=auth(tokens.supervisor))

    assert response.status_code == 200
    body = await response.get_json()
    assert body["created"] == 3
    assert body["contacts"]["offered"] == 1  # c-1 went to the only ready operator
    assert body["contacts"]["waiting"] == 2
    assert body["operators"]["busy"] == 1  # holding an unanswered offer
    assert body["offers"] == 1
    assert (body["breaches"], body["overflows"], body["missed_offers"]) == (0, 0, 0)
    rows = {(row["topic"], row["priority"]): row for row in body["queues"]}
    assert set(rows) == {("payments", "urgent"), ("documents", "normal")}
    payments = rows["payments", "urgent"]
    assert payments["waiting"] == 1
    assert payments["offered"] == 1
    assert payments["breached_waiting"] == 0
    assert payments["eligible_operators"] == 1
    assert payments["free_operators"] == 0
    assert payments["longest_wait_s"] >= 0
    documents = rows["documents", "normal"]
    assert (documents["waiting"], documents["eligible_operators"]) == (1, 0)


async def test_unknown_path_is_a_json_404(app: Quart) -> None:
    response = await app.test_client().get("/v1/nothing-here")

    assert response.status_code == 404
    assert response.content_type == "application/json"
    body = await response.get_json()
    assert body["error"]["code"] == "not_found"
    assert body["error"]["message"]


async def test_wrong_method_is_a_json_405_that_names_the_allowed_ones(app: Quart) -> None:
    response = await app.test_client().post("/v1/queues")

    assert response.status_code == 405
    assert response.content_type == "application/json"
    assert "GET" in response.headers["Allow"]
    body = await response.get_json()
    assert body["error"]["code"] == "method_not_allowed"


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (NotFound("no such ticket"), 404, "not_found"),
        (Forbidden("supervisors only"), 403, "forbidden"),
        (Conflict("contact already taken"), 409, "conflict"),
        (Invalid("topic is not in the catalogue", field="topic"), 422, "invalid"),
        (HotlineError("something the client got wrong"), 400, "error"),
    ],
)
async def test_domain_errors_map_to_one_status_each(
    services: Services, error: HotlineError, status: int, code: str
) -> None:
    app = create_app(services)

    @app.get("/raise")
    async def raise_it() -> str:
        raise error

    response = await app.test_client().get("/raise")

    assert response.status_code == status
    expected = {"code": code, "message": error.message}
    if error.field is not None:
        expected["field"] = error.field
    assert await response.get_json() == {"error": expected}


async def test_a_bug_is_a_500_that_leaks_nothing(services: Services) -> None:
    app = create_app(services)

    @app.get("/bug")
    async def bug() -> str:
        raise RuntimeError("secret detail at /srv/hotline/internal.py line 42")

    response = await app.test_client().get("/bug")

    assert response.status_code == 500
    text = await response.get_data(as_text=True)
    assert "secret" not in text and "Traceback" not in text and "RuntimeError" not in text
    assert (await response.get_json())["error"]["code"] == "internal_error"


async def test_the_hooks_of_a_blueprint_and_its_parents_run_for_its_routes() -> None:
    # Quart finds them through `request.blueprints`, which the app's request class answers
    # itself (without the import Quart's runs on every call).
    app = HotlineApp(__name__)
    outer, inner = Blueprint("outer", __name__), Blueprint("inner", __name__)
    ran: list[str] = []

    def mark(name: str) -> Any:
        async def hook(response: Any = None) -> Any:
            ran.append(name)
            return response

        return hook

    outer.before_request(mark("outer before"))
    outer.after_request(mark("outer after"))
    inner.before_request(mark("inner before"))

    @inner.get("/x")
    async def x() -> dict[str, object]:
        return {"blueprints": request.blueprints}

    outer.register_blueprint(inner, url_prefix="/in")
    app.register_blueprint(outer, url_prefix="/out")
    answer = await app.test_client().get("/out/in/x")
    assert answer.status_code == 200
    assert (await answer.get_json())["blueprints"] == ["outer.inner", "outer"]
    assert ran == ["outer before", "inner before", "outer after"]
