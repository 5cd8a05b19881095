"""The `http` provider: one JSON POST per message to a configured URL (an SMS gateway, the
portal's personal-account webhook), with a bearer token and an `Idempotency-Key` header.

Its answer decides: 2xx is accepted (the provider's id read from the configured field of the
JSON answer); 408, 429 and 5xx mean try later, no sooner than its `Retry-After`; any other 4xx is
a refusal for good; a connection that fails or times out is a try later. The body it posts:

    {"idempotency_key", "kind", "to", "subject"?, "text" | "event", "segments"?}

Its error reasons name the status only: an answer's body may echo the recipient.
"""

from __future__ import annotations

import email.utils
import logging
import time
from typing import Any

import httpx

from hotline.jsonlog import log_event
from hotline.notify.providers.base import Accepted, DeliveryResult, Outgoing, Refused, TryLater

log = logging.getLogger(__name__)

_RETRYABLE_4XX = frozenset({408, 429})


class HttpProvider:
    name = "http"

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        id_field: str = "id",
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._url = url
        self._id_path = id_field.split(".")
        headers = {"User-Agent": "hotline-notifier"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        # No timeout of its own: the sender bounds each delivery (`send_timeout_s`).
        self._client = httpx.AsyncClient(headers=headers, timeout=None, transport=transport)

    async def deliver(self, message: Outgoing) -> DeliveryResult:
        try:
            response = await self._client.post(
                self._url,
                json=message.payload(),
                headers={"Idempotency-Key": message.idempotency_key},
            )
        except httpx.TransportError as e:
            return TryLater(f"provider unreachable: {type(e).__name__}")
        status = response.status_code
        if 200 <= status < 300:
            provider_id = _field(response, self._id_path)
            if provider_id is None:
                log_event(
                    log,
                    "notify.http_no_provider_id",
                    logging.WARNING,
                    message_id=message.message_id,
                    status=status,
                )
            return Accepted(provider_id)
        if status in _RETRYABLE_4XX or status >= 500:
            return TryLater(f"HTTP {status} from the provider", _retry_after_s(response))
        return Refused(f"HTTP {status} from the provider")

    async def aclose(self) -> None:
        await self._client.aclose()


def _field(response: httpx.Response, path: list[str]) -> str | None:
    try:
        value: Any = response.json()
    except ValueError:
        return None
    for name in path:
        if not isinstance(value, dict):
            return None
        value = value.get(name)
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _retry_after_s(response: httpx.Response) -> float | None:
    """`Retry-After` in seconds: a number, or an HTTP date (taken against the answer's `Date`)."""
    raw = response.headers.get("Retry-After")
    if raw is None:
        return None
    raw = raw.strip()
    if raw.isdigit():
        return float(raw)
    try:
        when = email.utils.parsedate_to_datetime(raw).timestamp()
    except (TypeError, ValueError, IndexError):
        return None
    date = response.headers.get("Date")
    try:
        now = email.utils.parsedate_to_datetime(date).timestamp() if date else time.time()
    except (TypeError, ValueError, IndexError):
        now = time.time()
    return max(0.0, when - now)
