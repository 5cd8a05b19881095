"""`GET /wallboard`: the supervisors' wall screen, a static page and its style and script.

The files live in `hotline/web/` (package data, no build step) and are served as they are. They
are public: the page holds no figures of its own. It asks for a supervisor's token, keeps it in
the tab's sessionStorage and reads `GET /v1/stats/live/stream` with it in an `Authorization`
header, so the token never travels in a URL (nor, therefore, in an access-log line).

Every answer carries a strict Content-Security-Policy (scripts, styles and requests to this
origin only, no inline code, no framing, no form submission anywhere) and `Cache-Control:
no-cache` with an ETag: a browser asks again on each load and gets a 304 when the server's file
is the one it has, so a new version of the page is picked up at the next reload.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

from quart import Blueprint, Response, request
from quart_schema import security_scheme

from hotline.api.openapi import answers_with

__all__ = ["CONTENT_SECURITY_POLICY", "blueprint"]

blueprint = Blueprint("wallboard", __name__, url_prefix="/wallboard")

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "img-src 'self' data:",  # the page's empty `data:` icon spares a /favicon.ico request
        "base-uri 'none'",
        "form-action 'none'",  # the token form is never submitted, even with the script off
        "frame-ancestors 'none'",
    )
)


@dataclass(frozen=True, slots=True)
class _Asset:
    body: bytes
    content_type: str
    etag: str


@cache
def _asset(name: str, content_type: str) -> _Asset:
    body = (files("hotline") / "web" / name).read_bytes()
    return _Asset(body, content_type, hashlib.sha256(body).hexdigest()[:32])


def _serve(name: str, content_type: str) -> Response:
    asset = _asset(name, content_type)
    fresh = request.if_none_match.contains(asset.etag)
    response = Response(b"" if fresh else asset.body, status=304 if fresh else 200)
    response.content_type = asset.content_type
    response.set_etag(asset.etag)
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@blueprint.get("")
@security_scheme([])
@answers_with("text/html", description="The wallboard page (Russian)", revalidated=True)
async def page() -> Response:
    """No authentication: the page asks for a supervisor's or an admin's token itself and sends
    it in a header to `/v1/stats/live/stream`."""
    return _serve("wallboard.html", "text/html; charset=utf-8")


@blueprint.get("/wallboard.css")
@security_scheme([])
@answers_with("text/css", description="The wallboard's style sheet", revalidated=True)
async def style() -> Response:
    return _serve("wallboard.css", "text/css; charset=utf-8")


@blueprint.get("/wallboard.js")
@security_scheme([])
@answers_with("text/javascript", description="The wallboard's script", revalidated=True)
async def script() -> Response:
    return _serve("wallboard.js", "text/javascript; charset=utf-8")
