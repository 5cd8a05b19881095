"""Where handlers find the services and the caller: both hang off the app and the request.

`create_app` stores the `Services` on the app; `caller()` authenticates the request's bearer
token once and keeps the `Principal` on `g` for the rest of the request.

`authenticate_first` makes that happen before any route runs: quart-schema's
`validate_request` and `validate_querystring` read and judge the body and the query in the
decorators around a handler, before the handler's own `await caller()`, so without it a request
with no token learnt what its body lacked (422) instead of being refused (401). Which routes are
open to anyone is what the OpenAPI document says: those it hides (the document itself) and those
declaring `security: []` (`/healthz`).
"""

from __future__ import annotations

from quart import Quart, current_app, g, request
from quart_schema.openapi import QUART_SCHEMA_HIDDEN_ATTRIBUTE, QUART_SCHEMA_SECURITY_ATTRIBUTE

from hotline.services import Services
from hotline.services.auth import Principal

_KEY = "hotline.services"

__all__ = ["Services", "attach_services", "authenticate_first", "caller", "current_services"]


def current_services() -> Services:
    """The services of the app serving the current request."""
    services = current_app.extensions[_KEY]
    assert isinstance(services, Services)
    return services


def attach_services(app: Quart, services: Services) -> None:
    app.extensions[_KEY] = services


async def caller() -> Principal:
    """Who sent this request (401 if nobody the API knows)."""
    principal = g.get("hotline_principal")
    if principal is None:
        tokens = current_services().tokens
        principal = await tokens.authenticate(request.headers.get("Authorization"))
        g.hotline_principal = principal
    assert isinstance(principal, Principal)
    return principal


def authenticate_first(app: Quart) -> None:
    """Refuse a request without a valid token (401) before its route reads a byte of it."""
    app.before_request(_authenticate)


async def _authenticate() -> None:
    if request.routing_exception is not None or request.method == "OPTIONS":
        return  # an unknown path or method keeps its 404/405; OPTIONS only lists the methods
    view = current_app.view_functions.get(request.endpoint or "")
    if view is None or getattr(view, QUART_SCHEMA_HIDDEN_ATTRIBUTE, False):
        return
    if getattr(view, QUART_SCHEMA_SECURITY_ATTRIBUTE, None) == []:
        return
    await caller()
