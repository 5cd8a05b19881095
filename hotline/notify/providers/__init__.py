"""Delivery adapters, one per configured provider: `file` (the default), `http`, `smtp`.

`build_provider` turns a kind's `[notify.<kind>.provider]` settings into the adapter its sender
owns; `hotline.notify.providers.base` says what an adapter must do.
"""

from __future__ import annotations

from pathlib import Path

from hotline.notify.providers.base import (
    Accepted,
    DeliveryResult,
    Outgoing,
    Provider,
    Refused,
    TryLater,
    idempotency_key,
)
from hotline.notify.providers.file import DEFAULT_DEDUPE_S, FileProvider
from hotline.notify.providers.http import HttpProvider
from hotline.notify.providers.smtp import SmtpProvider
from hotline.notify.settings import (
    ChannelSettings,
    FileProviderSettings,
    HttpProviderSettings,
    SmtpProviderSettings,
)
from hotline.store.outbox import MessageKind

__all__ = [
    "Accepted",
    "DeliveryResult",
    "FileProvider",
    "HttpProvider",
    "Outgoing",
    "Provider",
    "Refused",
    "SmtpProvider",
    "TryLater",
    "build_provider",
    "idempotency_key",
]


def build_provider(
    kind: MessageKind,
    channel: ChannelSettings,
    *,
    default_dir: Path,
    dedupe_s: float = DEFAULT_DEDUPE_S,
) -> Provider:
    """The adapter `channel` names; a `file` provider without a directory uses `default_dir`
    and remembers a delivered key for `dedupe_s` (the channel's TTL plus the lease)."""
    spec = channel.provider
    if isinstance(spec, FileProviderSettings):
        directory = spec.dir if spec.dir is not None else default_dir
        return FileProvider(directory, kind, dedupe_s=dedupe_s)
    if isinstance(spec, HttpProviderSettings):
        return HttpProvider(spec.url, token=spec.token(), id_field=spec.id_field)
    if isinstance(spec, SmtpProviderSettings):
        return SmtpProvider(
            host=spec.host,
            port=spec.port,
            sender=spec.sender,
            security=spec.security,
            username=spec.username,
            password=spec.password(),
            socket_timeout_s=channel.send_timeout_s,
        )
    raise AssertionError(f"unknown provider settings {spec!r}")
