"""What the HTTP edge holds: handles to the actors and the settings, nothing with state of its own.

Built by the composition root (`hotline.app`) and stored on the app by `create_app`; blueprints
reach it through `current_services()`. Handlers call the handles and map the answers; they never
own business logic.
"""

from __future__ import annotations

from dataclasses import dataclass

from quart import Quart, current_app

from hotline.config import Settings
from hotline.routing.actor import RouterHandle

_KEY = "hotline.services"


@dataclass(frozen=True, slots=True)
class Services:
    router: RouterHandle
    settings: Settings
    # store: the store's handle joins here with the store (next issue).


def current_services() -> Services:
    """The services of the app serving the current request."""
    services = current_app.extensions[_KEY]
    assert isinstance(services, Services)
    return services


def attach_services(app: Quart, services: Services) -> None:
    app.extensions[_KEY] = services
