"""Who may call each route: the one table of roles, and the check that applies it to every request.

`ROUTES` maps every endpoint (`blueprint.function`) to its `Access`: the roles that may call it
(admin may call everything; no role at all: public) and, for an operator, how far it reaches.
A scrape route (`/metrics`) is let in by the caller's address instead while `[metrics] access`
is "loopback" (the default), and by these roles when it is "token".
`install(app)` authenticates every request by it in the first `before_request` hook after the
access log's, so 401 and 403 come before the body is read or judged and before any other hook
decides anything; `check_table(app)` refuses to build an app with a route missing from the table
(a route left out is a start-up error, not an open door). The services keep their own checks
as a second line and for what only they can see (does this operator hold that contact?).
`tests/api/test_route_roles.py` walks the URL map and calls every route as every role, so the
table and the behaviour cannot part; `hotline.api.openapi` documents each route's 401/403 from here.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from enum import StrEnum

from quart import Quart, request

from hotline.api.services import caller, current_services
from hotline.config import Settings
from hotline.domain.errors import Forbidden
from hotline.services.auth import Role

__all__ = [
    "ROUTES",
    "Access",
    "Reach",
    "access_of",
    "check_table",
    "from_loopback",
    "install",
    "scrape_open",
]


class Reach(StrEnum):
    """How far an operator token reaches on a route it may call."""

    ALL = "all"  # any resource of the route
    OWN_ID = "own id"  # only as itself: `<operator_id>` in the path (checked here) or
    # `operator_id` in the body (checked by `Principal.acting_as` once the body is read)
    HELD = "held"  # only the contact or voicemail callback it holds: the service checks


@dataclass(frozen=True, slots=True)
class Access:
    roles: frozenset[Role]  # empty: public, no token needed
    reach: Reach = Reach.ALL
    # A scrape (`GET /metrics`): `roles` apply under `[metrics] access = "token"`; under
    # "loopback" (the default) no token is asked, and only this host may call (`scrape_open`).
    scrape: bool = False

    @property
    def public(self) -> bool:
        return not self.roles

    @property
    def everyone(self) -> bool:
        """Every role may call it, on anything: no caller with a good token gets a 403."""
        return set(self.roles) | {Role.ADMIN} == set(Role) and self.reach is Reach.ALL


def _allow(*roles: Role, reach: Reach = Reach.ALL) -> Access:
    return Access(frozenset(roles), reach)


PUBLIC = Access(frozenset())
ANY_ROLE = _allow(*Role)
_I, _S, _O = Role.INTEGRATION, Role.SUPERVISOR, Role.OPERATOR

ROUTES: dict[str, Access] = {
    "openapi": PUBLIC,
    "health.healthz": PUBLIC,
    "queues.snapshot": _allow(_S),
    "schedule.show": ANY_ROLE,
    "contacts.create": _allow(_I),
    "contacts.index": _allow(_I, _S),
    "contacts.show": _allow(_I, _S, _O, reach=Reach.HELD),
    "contacts.abandon": _allow(_I),
    "contacts.accept": _allow(_S, _O, reach=Reach.OWN_ID),
    "contacts.reject": _allow(_S, _O, reach=Reach.OWN_ID),
    "contacts.complete": _allow(_S, _O, reach=Reach.OWN_ID),
    "operators.index": _allow(_S),
    "operators.put": _allow(_S),
    "operators.show": _allow(_S, _O, reach=Reach.OWN_ID),
    "operators.set_state": _allow(_S, _O, reach=Reach.OWN_ID),
    "operators.end_wrap_up": _allow(_S, _O, reach=Reach.OWN_ID),
    "operators.offers": _allow(_S, _O, reach=Reach.OWN_ID),
    "operators.offer_stream": _allow(_S, _O, reach=Reach.OWN_ID),
    "identity.check": _allow(_I, _S, _O),
    "tickets.create": _allow(_I, _S, _O),
    "tickets.index": _allow(_I, _S, _O),
    "tickets.show": _allow(_I, _S, _O),
    "tickets.move": _allow(_S, _O),
    "tickets.escalate": _allow(_S, _O),
    "tickets.link": _allow(_I, _S, _O),
    "messages.receipt": _allow(_I),
    "messages.index": _allow(_S),
    "messages.show": _allow(_S),
    "forms.feedback": _allow(_I),
    "voicemails.create": _allow(_I),
    "voicemails.compliance": _allow(_S),
    "voicemails.show": _allow(_I, _S, _O, reach=Reach.HELD),
    "voicemails.audio": _allow(_S, _O, reach=Reach.HELD),
    "voicemails.report_attempt": _allow(_S, _O, reach=Reach.HELD),
    "audit.reads": _allow(_S),
    "stats.period": _allow(_S),
    "stats.live": _allow(_S),
    "stats.live_stream": _allow(_S),
    "metrics.scrape": Access(frozenset({_S}), scrape=True),
    # The page and its files hold no data: it sends a supervisor's token to the live stream.
    "wallboard.page": PUBLIC,
    "wallboard.style": PUBLIC,
    "wallboard.script": PUBLIC,
    # Surveys (issue 14): the portal's page and the IVR post for the citizen, who holds no token.
    "surveys.answer": _allow(_I),
    "surveys.opt_out": _allow(_I),
    # Feedback sorted by theme (issue 14): complaints operators record, supervisors read.
    "feedback.complain": _allow(_S, _O, reach=Reach.HELD),
    "feedback.index": _allow(_S),
    "feedback.show": _allow(_S),
    "feedback.correct": _allow(_S),
    "feedback.trends": _allow(_S),
    # A citizen's history (issue 14): notes, the history of a phone, a chat switched to a call.
    # Reach: an operator notes and switches only what it handles, and reads the history of the
    # phone it is handling only (the service checks all three).
    "history.add_note": _allow(_S, _O, reach=Reach.HELD),
    "history.citizen_history": _allow(_I, _S, _O, reach=Reach.HELD),
    "history.switch_channel": _allow(_S, _O, reach=Reach.OWN_ID),
    # The certification journal and the quality evaluations (issue 15, CERT).
    "certifications.record": _allow(_S),
    "certifications.journal": _allow(_S, _O, reach=Reach.OWN_ID),
    "certifications.expiring": _allow(_S),
    "evaluations.create": _allow(_S),
    "evaluations.index": _allow(_S),
    # The knowledge base (issue 15): editors and supervisors write, operators read and use.
    "kb.create_article": _allow(_S, Role.EDITOR),
    "kb.edit_article": _allow(_S, Role.EDITOR),
    "kb.index_articles": _allow(_S, Role.EDITOR, _O),
    "kb.show_article": _allow(_S, Role.EDITOR, _O),
    "kb.versions": _allow(_S, Role.EDITOR, _O),
    "kb.show_version": _allow(_S, Role.EDITOR, _O),
    "kb.search": _allow(_S, Role.EDITOR, _O),
    "kb.render": _allow(_S, _O),
    "kb.use_article": _allow(_S, _O),
    "kb.reports": _allow(_S, Role.EDITOR),
}

_PATH_OPERATOR = "operator_id"


def access_of(endpoint: str) -> Access | None:
    return ROUTES.get(endpoint)


def scrape_open(settings: Settings) -> bool:
    """Scrapes need no token (`[metrics] access = "loopback"`): they are let in by address."""
    return settings.metrics.access == "loopback"


def from_loopback() -> bool:
    """The request came from this host (the peer's address, never a header)."""
    client = request.scope.get("client")
    if not client:
        return False
    try:
        address = ipaddress.ip_address(client[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def install(app: Quart) -> None:
    """Guard every request of `app` by the table, before any hook a blueprint brings.

    Call before the blueprints are registered: who is calling, and whether they may, is known
    before anything else is decided (the read-only gate's 503 included). Then, once they are,
    `check_table(app)`."""
    app.before_request(_authorize)


def check_table(app: Quart) -> None:
    """Refuse an app with a route missing from the table. A route added after `create_app` (a
    test's own probe) is not the API and is let through to authenticate itself."""
    missing = sorted(
        rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint not in ROUTES
    )
    if missing:
        raise RuntimeError(f"routes missing from hotline.api.roles.ROUTES: {', '.join(missing)}")


async def _authorize() -> None:
    rule = request.url_rule
    if rule is None:  # no route (404) or not this method (405): routing answers
        return
    access = ROUTES.get(rule.endpoint)
    if access is None or access.public:
        return
    if access.scrape and scrape_open(current_services().settings):
        if not from_loopback():
            raise Forbidden("metrics are served to this host only ([metrics] access)")
        return
    principal = await caller()  # 401 before anything else is looked at
    principal.require(*access.roles)
    if principal.role is Role.OPERATOR and access.reach is Reach.OWN_ID:
        named = (request.view_args or {}).get(_PATH_OPERATOR)
        if named is not None and named != principal.operator_id:
            raise Forbidden("an operator may act only as itself", field=_PATH_OPERATOR)
