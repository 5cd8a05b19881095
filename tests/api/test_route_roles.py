"""The route-role table (`hotline.api.roles.ROUTES`) against what the app does.

Every route of the app is in the table and every row is a route; each route answers as its row
says for no token and a bad token (401, before its body is judged), and for each role: a role the
row allows gets past the gate (no 401 or 403, whatever the handler then says), any other gets 403,
also before its body is judged. An operator acting on another operator's resources is refused.
The services keep their own role checks, so a row that allows more than the service does fails
here too.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from quart import Quart
from werkzeug.routing.rules import Rule

from hotline.api import create_app, health, roles
from hotline.api.roles import ROUTES, Reach
from hotline.config import Settings
from hotline.services import Services
from hotline.services.auth import Role
from tests.api.conftest import Clients, Tokens, auth
from tests.api.test_voicemails import post_voicemail, ready_callback_desk
from tests.voicemail import samples

GARBAGE = b'{"not json'  # a body that no route would take
PATH_VALUES = {
    "contact_id": "c_0000000000000000",
    "operator_id": "op-1",  # the operator token's own id
    "number": "HL-7K3-M9Q-X2C",
    "message_id": "1",
    "voicemail_id": "vm_0000000000000000",
    "code": "abcdefghjk",
    "feedback_id": "1",
    "article_id": "1",  # the starter base's first article
    "version": "1",
    "template_id": "1",
}
# A body that gets past validation, where the handler needs one to reach its own role checks
# (a supervisor names the operator it acts for).
BODIES: dict[str, dict[str, Any]] = {
    "contacts.create": {"channel": "chat", "topic": "documents", "phone": "+79123456789"},
    "contacts.accept": {"operator_id": "op-1"},
    "contacts.reject": {"operator_id": "op-1"},
    "contacts.complete": {"operator_id": "op-1", "outcome": "done"},
    "operators.put": {"name": "Анна", "skills": {"payments": 3}, "languages": ["ru"]},
    "operators.set_state": {"state": "break"},
    "identity.check": {
        "contact_id": "c_0000000000000000",
        "full_name": "Иван Иванов",
        "inn": "500100732259",
        "phone_last4": "6789",
    },
    "tickets.create": {"topic": "documents", "phone": "+79123456789", "description": "Справка"},
    "tickets.move": {"to": "in_progress"},
    "tickets.escalate": {"department": "it_support"},
    "tickets.link": {"contact_id": "c_0000000000000000"},
    "messages.receipt": {"provider_id": "p-1", "status": "delivered"},
    "voicemails.report_attempt": {"outcome": "reached", "operator_id": "op-1"},
    "surveys.answer": {"csat": 5},
    "surveys.opt_out": {"phone": "+79123456789"},
    "history.add_note": {"text": "перезвонить"},
    "history.switch_channel": {"channel": "voice", "operator_id": "op-1"},
    "feedback.complain": {"text": "Долго ждал"},
    "feedback.correct": {"categories": ["other"]},
    "kb.use_article": {"article_id": 1, "helpful": True},
}
QUERIES = {
    "voicemails.compliance": "?from=2026-01-01&to=2026-01-31",
    "feedback.trends": "?from=2026-01-01T00:00:00Z&to=2026-01-31T00:00:00Z",
    "kb.search": "?q=password",
}
# Streams are called with HEAD: the gate is the same, and no stream is left open.
STREAMS = {"operators.offer_stream", "stats.live_stream"}
ROLES = (Role.ADMIN, Role.SUPERVISOR, Role.OPERATOR, Role.INTEGRATION, Role.EDITOR)


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    voicemail = settings.voicemail.model_copy(update={"dir": tmp_path / "voicemail"})
    forms = settings.forms.model_copy(update={"attachments_dir": tmp_path / "attachments"})
    return settings.model_copy(update={"voicemail": voicemail, "forms": forms})


def _rule(app: Quart, endpoint: str) -> Rule:
    [rule] = [r for r in app.url_map.iter_rules() if r.endpoint == endpoint]
    return rule


def _method(rule: Rule) -> str:
    [method] = sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
    return method


def _path(rule: Rule, endpoint: str, **values: str) -> str:
    filled = {**PATH_VALUES, **values}
    path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: filled[m.group(1)], rule.rule)
    return path + QUERIES.get(endpoint, "")


async def _call(
    app: Quart,
    endpoint: str,
    token: str | None,
    *,
    garbage: bool = False,
    body: dict[str, Any] | None = None,
    **path_values: str,
) -> int:
    rule = _rule(app, endpoint)
    method = "HEAD" if endpoint in STREAMS else _method(rule)
    headers = auth(token) if token is not None else {}
    kwargs: dict[str, Any] = {}
    if method not in ("GET", "HEAD"):
        if garbage:
            kwargs["data"] = GARBAGE
            headers["Content-Type"] = "application/json"
        else:
            kwargs["json"] = body if body is not None else BODIES.get(endpoint, {})
    response = await app.test_client().open(
        _path(rule, endpoint, **path_values), method=method, headers=headers, **kwargs
    )
    return response.status_code


def _token(tokens: Tokens, role: Role) -> str:
    token: str = getattr(tokens, role.value)
    return token


async def test_every_route_of_the_app_is_in_the_role_table_and_every_row_is_a_route(
    app: Quart,
) -> None:
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints - set(ROUTES) == set(), "routes missing from hotline.api.roles.ROUTES"
    assert set(ROUTES) - endpoints == set(), "rows of ROUTES that are no route"


async def test_an_app_with_a_route_missing_from_the_table_is_not_built(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delitem(ROUTES, "queues.snapshot")
    with pytest.raises(RuntimeError, match=r"queues\.snapshot"):
        create_app(services)


async def test_the_table_is_what_guards_a_route(
    services: Services, tokens: Tokens, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Take the supervisor off a route whose service would let it in: the table alone refuses.
    app = create_app(services)
    assert await _call(app, "operators.index", tokens.supervisor) == 200
    monkeypatch.setitem(ROUTES, "operators.index", roles.Access(frozenset({Role.INTEGRATION})))
    assert await _call(app, "operators.index", tokens.supervisor) == 403


@pytest.mark.parametrize("endpoint", sorted(ROUTES))
async def test_every_route_answers_each_caller_as_its_row_says(
    app: Quart, tokens: Tokens, endpoint: str
) -> None:
    access = ROUTES[endpoint]
    if access.public:
        assert await _call(app, endpoint, None) == 200
        return
    if access.scrape:
        # `[metrics] access = "loopback"`: a test client has no address on this host, so every
        # caller is refused, whatever its token (tests/api/test_metrics.py scrapes from it).
        for token in (None, *(_token(tokens, role) for role in ROLES)):
            assert await _call(app, endpoint, token) == 403
        return
    assert await _call(app, endpoint, None, garbage=True) == 401
    assert await _call(app, endpoint, "hl_not-a-token", garbage=True) == 401
    for role in ROLES:
        token = _token(tokens, role)
        if role is Role.ADMIN or role in access.roles:
            status = await _call(app, endpoint, token)
            assert status not in (401, 403), f"{role} refused ({status}) by {endpoint}"
        else:
            status = await _call(app, endpoint, token, garbage=True)
            assert status == 403, f"{role} let through ({status}) by {endpoint}"


@pytest.mark.parametrize(
    "endpoint",
    sorted(e for e, a in ROUTES.items() if a.reach is Reach.OWN_ID and e.startswith("operators.")),
)
async def test_an_operator_is_refused_another_operators_id_in_the_path(
    app: Quart, tokens: Tokens, endpoint: str
) -> None:
    assert await _call(app, endpoint, tokens.operator, operator_id="op-2") == 403
    assert await _call(app, endpoint, tokens.operator, garbage=True, operator_id="op-2") == 403


@pytest.mark.parametrize(
    "endpoint",
    sorted(e for e, a in ROUTES.items() if a.reach is Reach.OWN_ID and e.startswith("contacts.")),
)
async def test_an_operator_is_refused_acting_as_another_operator(
    app: Quart, tokens: Tokens, endpoint: str
) -> None:
    body = {**BODIES[endpoint], "operator_id": "op-2"}
    assert await _call(app, endpoint, tokens.operator, body=body) == 403


async def test_an_operator_is_refused_what_another_operator_holds(
    app: Quart, api: Clients, tokens: Tokens
) -> None:
    await ready_callback_desk(api, "op-2")
    status, vm = await post_voicemail(api.integration, samples.wav())
    assert (status, vm["callback"]["operator_id"]) == (201, "op-2"), vm
    held = {e for e, a in ROUTES.items() if a.reach is Reach.HELD}
    assert held == {
        "contacts.show",
        "voicemails.show",
        "voicemails.audio",
        "voicemails.report_attempt",
        "feedback.complain",
        "history.add_note",
        "history.citizen_history",
    }
    ids = {"voicemail_id": vm["id"], "contact_id": vm["contact_id"]}
    body = {"outcome": "reached"}
    mine = {"contacts.show", "feedback.complain", "history.add_note", "history.citizen_history"}
    for endpoint in sorted(held - mine):
        assert await _call(app, endpoint, tokens.operator, body=body, **ids) == 403, endpoint
        assert await _call(app, endpoint, tokens.other_operator, body=body, **ids) != 403
    # A contact another operator holds is not shown, nor said to exist.
    assert await _call(app, "contacts.show", tokens.operator, **ids) == 404
    assert await _call(app, "contacts.show", tokens.other_operator, **ids) == 200
    complaint = {"text": "Долго ждал ответа"}
    assert await _call(app, "feedback.complain", tokens.operator, body=complaint, **ids) == 404
    # A contact's notes and its citizen's history: not for an operator that does not hold it.
    status, _ = await api.other_operator.post(f"/v1/contacts/{vm['contact_id']}/accept")
    assert status == 200
    assert await _call(app, "history.add_note", tokens.operator, body={"text": "x"}, **ids) == 404
    assert (
        await _call(app, "history.add_note", tokens.other_operator, body={"text": "x"}, **ids)
        == 201
    )
    history = "/v1/citizens/history?phone=%2B79123456789&reason=call"
    for token, status in ((tokens.operator, 403), (tokens.other_operator, 200)):
        client = app.test_client()
        assert (await client.get(history, headers=auth(token))).status_code == status


async def test_who_is_calling_is_known_before_the_read_only_gate(
    app: Quart, tokens: Tokens, monkeypatch: pytest.MonkeyPatch
) -> None:
    # While the store cannot write, a write is 503 before its handler runs; a caller the API
    # does not know, or a role the route refuses, is told so first, and its body is not read.
    monkeypatch.setattr(health, "store_writable", lambda sv: False)
    assert await _call(app, "contacts.create", None, garbage=True) == 401
    assert await _call(app, "contacts.create", tokens.operator, garbage=True) == 403
    assert await _call(app, "contacts.create", tokens.integration) == 503
