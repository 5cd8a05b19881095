"""The HTTP edge: `create_app(services)` builds the Quart-Trio app, one blueprint per resource.

Called by the composition root (`hotline.app`) and by tests; there is no module-level app, so
importing this package starts nothing. Handlers hold only the handles in `Services`; errors are
mapped to HTTP in `errors`, and every request is logged as one line by `access_log`. Who may
call each route is one table, `roles.ROUTES`, applied to every request before its handler runs.
"""

from __future__ import annotations

from inspect import CO_COROUTINE
from types import FunctionType
from typing import Any

import trio
from hypercorn.typing import ASGIReceiveCallable, ASGISendCallable
from quart_schema import Info, QuartSchema
from quart_trio import QuartTrio
from quart_trio.asgi import TrioASGIHTTPConnection

import hotline
from hotline.api import (
    access_log,
    audit,
    certifications,
    contacts,
    evaluations,
    feedback,
    forms,
    health,
    history,
    identity,
    kb,
    messages,
    metrics,
    operators,
    queues,
    roles,
    schedule,
    stats,
    surveys,
    tickets,
    voicemails,
    wallboard,
)
from hotline.api.bodies import JsonBodyRequest
from hotline.api.errors import register_error_handlers
from hotline.api.openapi import HotlineOpenAPI
from hotline.api.schemas import ApiJson, answer_models_at_once
from hotline.api.services import Services, attach_services

__all__ = ["HotlineApp", "Services", "create_app"]


class _HttpConnection(TrioASGIHTTPConnection):
    """Quart-Trio's HTTP connection, its request handled in the task the server started for it.

    Quart-Trio starts two tasks per request, one reading the ASGI messages (the body, then the
    client's disconnect) and one handling the request, and waits for both in a third, the
    server's. Here the server's task handles the request itself: one task fewer per request
    (its start, first and last steps, about 2 % of a create's CPU). Either still ends the other:
    a disconnect cancels the nursery whose body the handling runs in, and the answer sent
    cancels the reader."""

    async def __call__(self, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        request = self._create_request_from_scope(send)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self.handle_messages, nursery, request, receive)
            await self.handle_request(nursery, request, send)


class HotlineApp(QuartTrio):
    request_class = JsonBodyRequest  # JSON bodies read strictly, errors saying where
    asgi_http_class = _HttpConnection

    def ensure_async(self, func: Any) -> Any:
        """Quart's, with its common case answered first: Quart asks it of every hook and handler
        on every request (nine times a create), and `inspect.iscoroutinefunction` unwrapping
        each was a percent or two of a request. A plain `async def` function is its own answer,
        as Quart would find; anything else goes to Quart."""
        if type(func) is FunctionType and func.__code__.co_flags & CO_COROUTINE:
            return func
        return super().ensure_async(func)


def create_app(services: Services) -> HotlineApp:
    app = HotlineApp(__name__, static_folder=None)  # no files served: no `/static/<path>` route
    # `//v1//queues` is a 404: merging slashes would answer with a redirect built from `Host`.
    app.url_map.merge_slashes = False
    app.config["MAX_CONTENT_LENGTH"] = services.settings.http.max_body_kib * 1024
    voicemails.allow_uploads(app, services.settings.voicemail)  # recordings: their own limit
    QuartSchema(
        app,
        info=Info(title="hotline", version=hotline.__version__),
        openapi_path="/openapi.json",
        swagger_ui_path=None,  # the UIs load scripts from CDNs: the document alone is served
        redoc_ui_path=None,
        scalar_ui_path=None,
        security_schemes={"bearer": {"type": "http", "scheme": "bearer"}},
        security=[{"bearer": []}],
        openapi_provider_class=HotlineOpenAPI,  # errors, required fields, unique operationIds
    )
    app.json = ApiJson(app)  # one time format in every answer
    answer_models_at_once(app)  # the API's models answered without quart-schema's conversion
    attach_services(app, services)
    register_error_handlers(app)
    access_log.install(app)
    metrics.install(app, services.live)  # times every request: after the access log's start
    roles.install(app)  # every request authenticated by the role table, before other hooks
    forms.allow_uploads(app, services.settings.forms)
    modules = (health, queues, contacts, operators, schedule, identity, tickets, messages, forms)
    for module in (*modules, voicemails):
        app.register_blueprint(module.blueprint)
    app.register_blueprint(audit.blueprint)  # who read personal data: /v1/audit
    app.register_blueprint(stats.blueprint)  # the line's service levels: /v1/stats
    app.register_blueprint(metrics.blueprint)  # for Prometheus: /metrics
    app.register_blueprint(wallboard.blueprint)  # the wall screen's page: /wallboard
    app.register_blueprint(surveys.blueprint)  # ratings after a contact: /v1/surveys
    app.register_blueprint(feedback.blueprint)  # comments by theme: /v1/feedback, /v1/quality
    app.register_blueprint(history.blueprint)  # notes, a citizen's history, chat -> call
    app.register_blueprint(certifications.blueprint)  # the operators' certification journal
    app.register_blueprint(evaluations.blueprint)  # quality evaluations of handled contacts
    app.register_blueprint(kb.blueprint)  # the knowledge base: /v1/kb, /v1/contacts/{id}/articles
    roles.check_table(app)  # every route in the role table
    return app
