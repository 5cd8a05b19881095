"""One structured log line per HTTP request: method, path, query, status and duration.

Installed on the app by `create_app`. Hypercorn's own access log is off (`hotline.app`) because
its lines are free text with the query string. Here a phone number in the path
(`/v1/contacts/+79123456789`, typed where an id belongs) or in the query (`?phone=`) is masked
like every other phone in the log: `logged_path()` and `logged_query()` are what any log line
about a request shows of its URL.
"""

from __future__ import annotations

import logging
import time

from quart import Quart, Response, g, request

from hotline.domain.masking import mask_path, mask_query
from hotline.jsonlog import log_event

log = logging.getLogger(__name__)


def install(app: Quart) -> None:
    app.before_request(_start_timer)
    app.after_request(_log_request)


async def _start_timer() -> None:
    g.hotline_started = time.perf_counter()


async def _log_request(response: Response) -> Response:
    started = g.get("hotline_started")
    log_event(
        log,
        "http.request",
        method=request.method,
        path=logged_path(),
        query=logged_query(),
        status=response.status_code,
        duration_ms=None if started is None else round((time.perf_counter() - started) * 1e3, 3),
    )
    return response


def logged_path() -> str:
    return mask_path(request.path)


def logged_query() -> str | None:
    raw = request.query_string
    return mask_query(raw.decode("latin-1")) if raw else None
