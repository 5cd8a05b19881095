"""API tokens and roles: who is calling, and may they do this.

Tokens are random (256 bits), shown once when created (`hotline create-token`) and stored only
as their SHA-256, so a copy of the database does not open the API. `TokenBook.authenticate`
keeps recently seen tokens in memory for a short while: a request does not cost a database read,
and a token revoked in the database stops working within `CACHE_S`.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from enum import StrEnum

from hotline.domain.errors import Forbidden, HotlineError
from hotline.store import StoreHandle, Tx
from hotline.store.queries import find_token, insert_token
from hotline.store.rows import StoredToken

CACHE_S = 30.0
_CACHE_MAX = 10_000


class Role(StrEnum):
    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    OPERATOR = "operator"  # bound to one operator id, acts only as that operator
    INTEGRATION = "integration"  # the switch, the chat widget, the portal
    EDITOR = "editor"  # writes the knowledge base, and nothing else


class Unauthenticated(HotlineError):
    code = "unauthorized"


@dataclass(frozen=True, slots=True)
class Principal:
    token_id: str
    role: Role
    operator_id: str | None
    name: str

    def require(self, *roles: Role) -> None:
        """Refuse unless the caller has one of `roles`; admin may do everything."""
        if self.role is not Role.ADMIN and self.role not in roles:
            raise Forbidden(f"the {self.role} role may not do this")

    def acting_as(self, operator_id: str | None) -> str:
        """The operator this request acts for: an operator token acts only as itself;
        a supervisor or admin names the operator."""
        if self.role is Role.OPERATOR:
            assert self.operator_id is not None
            if operator_id is not None and operator_id != self.operator_id:
                raise Forbidden("an operator may act only as itself", field="operator_id")
            return self.operator_id
        self.require(Role.SUPERVISOR)
        if operator_id is None:
            raise Forbidden("name the operator this is done for", field="operator_id")
        return operator_id

    def may_see_operator(self, operator_id: str) -> None:
        if self.role is Role.OPERATOR:
            if operator_id != self.operator_id:
                raise Forbidden("an operator may see only itself")
            return
        self.require(Role.SUPERVISOR)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> tuple[str, str]:
    """A token id (for logs and revocation) and the secret token itself."""
    return f"tok_{secrets.token_hex(6)}", "hl_" + secrets.token_urlsafe(32)


async def create_token(
    store: StoreHandle,
    role: Role,
    *,
    operator_id: str | None = None,
    name: str = "",
    at: float | None = None,
) -> tuple[StoredToken, str]:
    """Store a new token's hash; the token itself is returned once and never again."""
    if (role is Role.OPERATOR) != (operator_id is not None):
        raise ValueError("an operator token names its operator, and only an operator token does")
    token_id, secret = new_token()
    stored = StoredToken(token_id, role.value, operator_id, name or role.value)
    when = time.time() if at is None else at

    async def work(tx: Tx) -> None:
        await insert_token(tx, stored, hash_token(secret), at=when)

    await store.transact(work)
    return stored, secret


class TokenBook:
    def __init__(self, store: StoreHandle) -> None:
        self._store = store
        self._cache: dict[str, tuple[float, Principal]] = {}

    async def authenticate(self, header: str | None) -> Principal:
        if not header:
            raise Unauthenticated("send Authorization: Bearer <token>", field="Authorization")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("send Authorization: Bearer <token>", field="Authorization")
        digest = hash_token(token.strip())
        now = time.monotonic()
        cached = self._cache.get(digest)
        if cached is not None and cached[0] > now:
            return cached[1]
        stored = await self._store.read(lambda tx: find_token(tx, digest), snapshot=False)
        if stored is None:
            raise Unauthenticated("unknown or revoked token", field="Authorization")
        principal = Principal(stored.id, Role(stored.role), stored.operator_id, stored.name)
        if len(self._cache) >= _CACHE_MAX:
            self._cache.clear()
        self._cache[digest] = (now + CACHE_S, principal)
        return principal
