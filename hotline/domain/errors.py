"""The one error hierarchy of the domain; the API maps it to HTTP in a single place.

Messages are safe to show a client: they never carry personal data or internals.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class HotlineError(Exception):
    """Base of every error the domain raises on purpose."""

    code = "error"

    def __init__(
        self, message: str, *, field: str | None = None, extra: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        # Facts a client acts on, beside the error (e.g. `"opens_at"` when the line is closed).
        self.extra: Mapping[str, Any] = extra or {}


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


class PayloadTooLarge(Invalid):
    """A file (or a body) over its size limit."""

    code = "too_large"


class UnsupportedMediaType(Invalid):
    """A file (or a body) of a type this endpoint does not take, told by its bytes."""

    code = "unsupported_media_type"


class Gone(HotlineError):
    """The thing existed but can no longer be used (an expired survey code)."""

    code = "gone"


class TooManyRequests(HotlineError):
    """The caller went past a rate limit; it may try again after `retry_after_s`."""

    code = "rate_limited"

    def __init__(self, message: str, *, retry_after_s: float) -> None:
        super().__init__(message, extra={"retry_after_s": retry_after_s})
        self.retry_after_s = retry_after_s
