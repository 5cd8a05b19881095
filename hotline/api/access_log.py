"""One structured log line per HTTP request: method, path, status and duration.

Installed on the app by `create_app`. Hypercorn's own access log is off (`hotline.app`) because
its lines are free text with the query string, which may one day carry personal data.
"""

from __future__ import annotations

import logging
import time

from quart import Quart, Response, g, request

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
        path=request.path,
        status=response.status_code,
        duration_ms=None if started is None else round((time.perf_counter() - started) * 1e3, 3),
    )
    return response
