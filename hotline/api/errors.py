"""The one JSON error shape of the API, and the one place where errors become HTTP statuses.

Every 4xx/5xx body is `{"error": {"code", "message", "field"?}}`. Domain errors map by class
(`NotFound` 404, `Forbidden` 403, `Conflict` 409, `Invalid` 422); HTTP errors raised by routing
(unknown path, wrong method) keep their status; anything else is a 500 whose body says nothing
about the cause, while the log gets the full trace.
"""

from __future__ import annotations

import logging
from typing import Any

from quart import Quart, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from hotline.domain.errors import Conflict, Forbidden, HotlineError, Invalid, NotFound
from hotline.jsonlog import log_event

log = logging.getLogger(__name__)

STATUS_OF: dict[type[HotlineError], int] = {
    NotFound: 404,
    Forbidden: 403,
    Conflict: 409,
    Invalid: 422,
}
_BAD_REQUEST = 400  # a HotlineError of no mapped kind: the client asked for something wrong


def error_response(status: int, code: str, message: str, field: str | None = None) -> Response:
    body: dict[str, Any] = {"code": code, "message": message}
    if field is not None:
        body["field"] = field
    response = jsonify({"error": body})
    response.status_code = status
    return response


def status_of(error: HotlineError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS_OF:
            return STATUS_OF[cls]
    return _BAD_REQUEST


async def _domain_error(error: HotlineError) -> Response:
    return error_response(status_of(error), error.code, error.message, error.field)


async def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    code = (error.name or "error").lower().replace(" ", "_").replace("'", "")
    response = error_response(status, code, error.description or error.name or "error")
    # 405 carries `Allow`; keep the headers werkzeug computed, but not its HTML content type.
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


async def _unexpected(error: Exception) -> Response:
    log_event(
        log,
        "http.unhandled_error",
        logging.ERROR,
        exc_info=error,
        method=request.method,
        path=request.path,
    )
    return error_response(500, "internal_error", "The server failed to handle the request.")


def register_error_handlers(app: Quart) -> None:
    app.register_error_handler(HotlineError, _domain_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
