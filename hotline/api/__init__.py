"""The HTTP edge: `create_app(services)` builds the Quart-Trio app, one blueprint per resource.

Called by the composition root (`hotline.app`) and by tests; there is no module-level app, so
importing this package starts nothing. Handlers hold only the handles in `Services`; errors are
mapped to HTTP in `errors`, and every request is logged as one line by `access_log`. Who may
call each route is one table, `roles.ROUTES`, applied to every request before its handler runs.
"""

from __future__ import annotations

from inspect import CO_COROUTINE
from math import inf
from types import FunctionType
from typing import Any, Literal, cast

import trio
from hypercorn.typing import ASGIReceiveCallable, ASGISendCallable
from quart import Request, Response
from quart.typing import ResponseTypes
from quart.wrappers.response import DataBody
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
from hotline.api.url_map import AcyclicMap
from hotline.http_server import RequestInbox

__all__ = ["HotlineApp", "Services", "create_app"]


class _HttpConnection(TrioASGIHTTPConnection):
    """Quart-Trio's HTTP connection, its request handled in the task the server started for it,
    and, served by `hotline.http_server`, without a reader task when it can do without one.

    Quart-Trio starts two tasks per request, one reading the ASGI messages (the body, then the
    client's disconnect) and one handling the request, and waits for both in a third, the
    server's. Here the server's task handles the request itself, and when the server's
    `RequestInbox` already holds the whole body (a small request's usually is), it takes the
    body at once and hears of a disconnect by `on_disconnect` while the handler runs, and an
    answer held in memory is sent with no reader beside it: one task per request, not three
    (the two tasks' starts, steps and ends were 8-10 % of a create's CPU). A body still arriving
    (an upload) and an answer that streams (Server-Sent Events) keep Quart-Trio's reader, which
    ends the handling or the stream when the client leaves; either way a client that leaves
    cancels its handler."""

    async def __call__(self, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        request = self._create_request_from_scope(send)
        if isinstance(receive, RequestInbox):
            queued = _take_queued_body(request, receive)
            if queued == "left":
                return
            if queued == "whole":
                await self._handle_whole(request, receive, send)
                return
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self.handle_messages, nursery, request, receive)
            await self.handle_request(nursery, request, send)

    async def _handle_whole(
        self, request: Request, inbox: RequestInbox, send: ASGISendCallable
    ) -> None:
        with trio.CancelScope() as handling:
            inbox.on_disconnect = handling.cancel
            try:
                response = await self.app.handle_request(request)
            finally:
                inbox.on_disconnect = None
        if handling.cancelled_caught:
            return  # the client left: nothing to answer
        if isinstance(response, Response) and isinstance(response.response, DataBody):
            await self._send_within_timeout(send, response)
            return
        async with trio.open_nursery() as nursery:  # a stream: the reader hears the client leave
            nursery.start_soon(self.handle_messages, nursery, request, inbox)
            await self._send_within_timeout(send, response)
            nursery.cancel_scope.cancel()

    async def _send_within_timeout(self, send: ASGISendCallable, response: ResponseTypes) -> None:
        """Quart-Trio's: the response's own timeout, else the app's `RESPONSE_TIMEOUT`."""
        if isinstance(response, Response) and response.timeout != Ellipsis:
            timeout = cast(float | None, response.timeout)
        else:
            timeout = self.app.config["RESPONSE_TIMEOUT"]
        with trio.move_on_after(inf if timeout is None else timeout):
            await self._send_response(send, response)


def _take_queued_body(request: Request, inbox: RequestInbox) -> Literal["whole", "part", "left"]:
    """Move the request's queued ASGI messages into its body, as Quart's reader would: "whole"
    once the body is complete, "part" if more is still to come (the reader takes over), "left"
    if the client has already gone."""
    while True:
        try:
            message = inbox.take_nowait()
        except trio.WouldBlock:
            return "part"
        if message["type"] != "http.request":
            return "left"  # http.disconnect
        request.body.append(message.get("body", b""))
        if not message.get("more_body", False):
            request.body.set_complete()
            return "whole"


class HotlineApp(QuartTrio):
    request_class = JsonBodyRequest  # JSON bodies read strictly, errors saying where
    asgi_http_class = _HttpConnection
    url_map_class = AcyclicMap  # no garbage cycle left per request by the URL matcher

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
