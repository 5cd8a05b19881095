"""`GET /healthz`: the process is up and its HTTP edge answers (for load balancers and probes).

No actor is consulted: if one crashed, the root nursery has already taken the server down, so an
answer here cannot come from a half-dead process.
"""

from __future__ import annotations

from quart import Blueprint
from quart_schema import security_scheme, validate_response

from hotline.api.schemas import Health

blueprint = Blueprint("health", __name__)


@blueprint.get("/healthz")
@security_scheme([])
@validate_response(Health)
async def healthz() -> Health:
    """No authentication: 200 once the store and the router are serving."""
    return Health(status="ok")
