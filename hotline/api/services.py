"""Where handlers find the services and the caller: both hang off the app and the request.

`create_app` stores the `Services` on the app; `caller()` authenticates the request's bearer
token once and keeps the `Principal` on `g` for the rest of the request.
"""

from __future__ import annotations

from quart import Quart, current_app, g, request

from hotline.services import Services
from hotline.services.auth import Principal

_KEY = "hotline.services"

__all__ = ["Services", "attach_services", "caller", "current_services"]


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
