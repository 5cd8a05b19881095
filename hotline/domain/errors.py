"""The one error hierarchy of the domain; the API maps it to HTTP in a single place.

Messages are safe to show a client: they never carry personal data or internals.
"""

from __future__ import annotations


class HotlineError(Exception):
    """Base of every error the domain raises on purpose."""

    code = "error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(HotlineError):
    code = "not_found"


class Conflict(HotlineError):
    """The request is well formed but the current state does not allow it."""

    code = "conflict"


class Invalid(HotlineError):
    """A value breaks a domain rule (the field is named)."""

    code = "invalid"


class Forbidden(HotlineError):
    code = "forbidden"
