"""`GET /healthz`: the process is up and its HTTP edge answers (for load balancers and probes).

No actor is consulted: if one crashed, the root nursery has already taken the server down, so an
answer here cannot come from a half-dead process.
"""

from __future__ import annotations

from quart import Blueprint

blueprint = Blueprint("health", __name__)


@blueprint.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}
