"""What a provider is to the sender: `deliver(outgoing)` answers accepted, try later, or refused.

Providers are adapters (`file`, `http`, `smtp`, and room for SMPP) built from configuration by
`hotline.notify.providers.build_provider`; the sender (`hotline.notify.sender`) owns one per kind
of message, bounds each delivery with its own timeout and records the outcome in the outbox.
A provider never raises for a failed delivery it understands; anything it raises is taken as
"try later". Delivery is at least once, so every provider passes the message's idempotency key
on (a header, a Message-ID, a line field) for the far side to drop repeats.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any, Protocol

from hotline.store.outbox import MessageKind

_SAFE_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")  # printable ASCII: fits an HTTP header as is


@dataclass(frozen=True, slots=True)
class Outgoing:
    message_id: int
    kind: MessageKind
    recipient: str
    subject: str | None
    body: str  # text; JSON text for an account event
    idempotency_key: str
    segments: int | None  # SMS only
    attempt: int
    at: float  # when the sender hands it over (epoch seconds)

    def payload(self) -> dict[str, Any]:
        """The message as every provider that writes JSON sends it (the http body, the file
        line): key, kind, recipient, subject, the text or the parsed event, segments."""
        payload: dict[str, Any] = {
            "idempotency_key": self.idempotency_key,
            "kind": str(self.kind),
            "to": self.recipient,
        }
        if self.subject is not None:
            payload["subject"] = self.subject
        if self.kind is MessageKind.ACCOUNT_EVENT:
            payload["event"] = json.loads(self.body)
        else:
            payload["text"] = self.body
        if self.segments is not None:
            payload["segments"] = self.segments
        return payload


@dataclass(frozen=True, slots=True)
class Accepted:
    provider_id: str | None  # the provider's id for the message, which its receipts name


@dataclass(frozen=True, slots=True)
class TryLater:
    reason: str  # safe to store and show: no recipient, no body
    retry_after_s: float | None = None  # the provider asked for at least this long


@dataclass(frozen=True, slots=True)
class Refused:
    reason: str  # the provider will never take this message: no use trying again


DeliveryResult = Accepted | TryLater | Refused


class Provider(Protocol):
    @property
    def name(self) -> str:
        """Recorded with each message it delivers: "file", "http", "smtp"."""
        ...

    async def deliver(self, message: Outgoing) -> DeliveryResult: ...

    async def aclose(self) -> None:
        """Release connections and files; called once when the sender stops."""
        ...


def idempotency_key(dedupe_key: str) -> str:
    """The key a provider dedupes on: the outbox's dedupe key itself when it is plain ASCII,
    else a digest of it (a header cannot carry everything a key may hold)."""
    if _SAFE_KEY.match(dedupe_key):
        return dedupe_key
    return "sha256-" + hashlib.sha256(dedupe_key.encode()).hexdigest()
