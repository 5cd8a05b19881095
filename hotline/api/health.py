"""`GET /healthz`: the process is up and its HTTP edge answers (for load balancers and probes),
and whether the store can write; and the gate that refuses writes while it cannot.

No actor is consulted: if one crashed, the root nursery has already taken the server down, so an
answer here cannot come from a half-dead process. The store's write health is read from its
handle and the journal's: `"store": "read-only"` (and 503) while the storage cannot take a write
(disk full, I/O errors) or the journal still has decided events to write. Both recover by
themselves when the storage does.

While that lasts, every request that may write (any method but GET, HEAD and OPTIONS) is answered
503 with Retry-After before its handler runs, so nothing new is decided that could not be written
(an operator's state, a contact queued in the router) and a retried create cannot be taken for a
new one while the first is still waiting to be written. A request already past the gate when the
storage fails gets its 503 from the store or the journal itself.
"""

from __future__ import annotations

from quart import Blueprint, Response, request
from quart_schema import security_scheme, validate_response

from hotline.api.errors import error_response
from hotline.api.schemas import Health
from hotline.api.services import current_services
from hotline.services import Services

blueprint = Blueprint("health", __name__)

RETRY_AFTER_S = 5  # as for any store error (`hotline.api.errors`)
_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def store_writable(sv: Services) -> bool:
    """The store takes writes, and the journal has nothing decided that it could not write."""
    return sv.store.writable and not sv.journal.stalled


@blueprint.before_app_request
async def refuse_writes_while_read_only() -> Response | None:
    if request.method in _READ_METHODS or store_writable(current_services()):
        return None
    # Drained, not stored: a body left unread would leave the connection stuck for its next
    # request, and nothing of it needs the disk that is failing.
    async for _ in request.body:
        pass
    response = error_response(
        503, "read_only", "The storage cannot be written now (disk full or failing); retry later."
    )
    response.headers["Retry-After"] = str(RETRY_AFTER_S)
    return response


@blueprint.get("/healthz")
@security_scheme([])
@validate_response(Health, 200)
@validate_response(Health, 503)
async def healthz() -> tuple[Health, int]:
    """No authentication: 200 once the store and the router are serving; 503 with
    `"store": "read-only"` while the storage cannot be written."""
    if store_writable(current_services()):
        return Health(status="ok", store="ok"), 200
    return Health(status="unavailable", store="read-only"), 503
