"""The HTTP edge: `create_app(services)` builds the Quart-Trio app, one blueprint per resource.

Called by the composition root (`hotline.app`) and by tests; there is no module-level app, so
importing this package starts nothing. Handlers hold only the handles in `Services`; errors are
mapped to HTTP in `errors`, and every request is logged as one line by `access_log`.
"""

from __future__ import annotations

from quart.json.provider import DefaultJSONProvider
from quart_trio import QuartTrio

from hotline.api import access_log, health, queues
from hotline.api.errors import register_error_handlers
from hotline.api.services import Services, attach_services

__all__ = ["HotlineApp", "Services", "create_app"]


class _JsonProvider(DefaultJSONProvider):
    ensure_ascii = False  # Russian labels and messages stay readable on the wire
    sort_keys = False  # keys in the order the response models declare them


class HotlineApp(QuartTrio):
    json_provider_class = _JsonProvider


def create_app(services: Services) -> HotlineApp:
    app = HotlineApp(__name__)
    attach_services(app, services)
    register_error_handlers(app)
    access_log.install(app)
    app.register_blueprint(health.blueprint)
    app.register_blueprint(queues.blueprint)
    return app
