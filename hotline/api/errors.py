"""The one JSON error shape of the API, and the one place where errors become HTTP statuses.

Every 4xx/5xx body is `{"error": {"code", "message", "field"?}}`. Domain errors map by class,
the nearest mapped ancestor deciding (`Unauthenticated` 401, `NotFound` 404, `Forbidden` 403,
`Conflict` 409, `PayloadTooLarge` 413, `UnsupportedMediaType` 415, any other `Invalid` 422); a body
that is not JSON is 415 and one that cannot be read as JSON 400 `invalid_json` (`bodies`); one
that fails its schema is 422 (naming the field); a store that cannot commit is
503 with Retry-After; HTTP errors raised by routing
(unknown path, wrong method) keep their status; anything else is a 500 whose body says nothing
about the cause, while the log gets the full trace.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError
from quart import Quart, Response, jsonify, request
from quart_schema import RequestSchemaValidationError
from werkzeug.exceptions import HTTPException

from hotline.api.access_log import logged_path
from hotline.api.bodies import InvalidJson
from hotline.api.schemas import NO_NUL
from hotline.domain.errors import (
    Conflict,
    Forbidden,
    Gone,
    HotlineError,
    Invalid,
    NotFound,
    PayloadTooLarge,
    TooManyRequests,
    UnsupportedMediaType,
)
from hotline.jsonlog import log_event
from hotline.services.auth import Unauthenticated
from hotline.services.identity import IdentityLocked
from hotline.store import StoreError

log = logging.getLogger(__name__)

STATUS_OF: dict[type[HotlineError], int] = {
    Unauthenticated: 401,
    IdentityLocked: 423,
    NotFound: 404,
    Forbidden: 403,
    Conflict: 409,
    PayloadTooLarge: 413,
    UnsupportedMediaType: 415,
    Invalid: 422,
    InvalidJson: 400,
    Gone: 410,
    TooManyRequests: 429,
}
_BAD_REQUEST = 400  # a HotlineError of no mapped kind: the client asked for something wrong


def error_response(
    status: int,
    code: str,
    message: str,
    field: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Response:
    body: dict[str, Any] = {"code": code, "message": message}
    if field is not None:
        body["field"] = field
    response = jsonify({"error": body, **(extra or {})})
    response.status_code = status
    return response


def status_of(error: HotlineError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS_OF:
            return STATUS_OF[cls]
    return _BAD_REQUEST


async def _domain_error(error: HotlineError) -> Response:
    response = error_response(status_of(error), error.code, error.message, error.field, error.extra)
    if isinstance(error, Unauthenticated):
        response.headers["WWW-Authenticate"] = 'Bearer realm="hotline"'
    if isinstance(error, TooManyRequests):
        response.headers["Retry-After"] = str(max(1, math.ceil(error.retry_after_s)))
    return response


async def _invalid_request(error: RequestSchemaValidationError) -> Response:
    """A body or query that does not fit its model: 422 naming the first field that is wrong
    (`skills.payments`, `phone`, ...). A body that is not JSON never gets here (`bodies`)."""
    cause = error.validation_error
    if isinstance(cause, ValidationError) and cause.errors():
        return await invalid_values(cause)
    return error_response(422, "invalid", "the body must be a JSON object")


async def invalid_values(error: ValidationError) -> Response:
    """Values that fail a model (a JSON body, a query, a form's fields): 422 naming the first.

    Registered app-wide only through quart-schema's error; a blueprint that validates by hand
    (multipart forms) registers it for itself, so a model built wrong by the server stays a 500."""
    first = error.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or None
    if first["type"] == "extra_forbidden":
        message = "unknown field"
    elif field is None:  # the body as a whole: `null`, a list, a string
        message = "the body must be a JSON object"
    elif first["type"] == "string_pattern_mismatch" and first["ctx"]["pattern"] == NO_NUL:
        message = "must not contain NUL characters"
    else:
        message = first["msg"]
    return error_response(422, "invalid", message, field)


async def _store_error(error: StoreError) -> Response:
    log_event(log, "http.store_unavailable", logging.ERROR, path=logged_path(), error=str(error))
    response = error_response(503, "unavailable", "The change could not be saved; retry later.")
    response.headers["Retry-After"] = "5"
    return response


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
        path=logged_path(),
    )
    return error_response(500, "internal_error", "The server failed to handle the request.")


def register_error_handlers(app: Quart) -> None:
    app.register_error_handler(HotlineError, _domain_error)
    app.register_error_handler(RequestSchemaValidationError, _invalid_request)
    app.register_error_handler(StoreError, _store_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
