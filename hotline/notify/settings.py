"""`[notify]` of the configuration: which provider delivers each kind of message, how fast, how
long the sender keeps trying, and how it spaces its attempts.

Read by `hotline.config` (the `notify` key of `Settings`); the composition root hands each
`ChannelSettings` to the sender of its kind (`hotline.notify.sender.start_notifier`). Secrets
(the HTTP bearer token, the SMTP password) are never in the file: it names the environment
variable that holds them, read once at start-up.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

_HOUR_S = 3_600.0
_KINDS = ("sms", "email", "account_event")


class _Section(BaseModel):
    # As in `hotline.config`: strict, unknown keys refused, immutable once read.
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


def _problem(what: str) -> PydanticCustomError:
    return PydanticCustomError("notify", "{what}", {"what": what})


class FileProviderSettings(_Section):
    """Appends one JSON line per delivered message (sms.jsonl, email.jsonl, account.jsonl)."""

    type: Literal["file"] = "file"
    # None: the `outbox` directory beside the database file (var/outbox for the shipped config).
    dir: Annotated[Path, Field(strict=False)] | None = None


class HttpProviderSettings(_Section):
    """A generic JSON POST; the message's idempotency key goes in the `Idempotency-Key` header."""

    type: Literal["http"]
    url: str = Field(pattern=r"^https?://\S+$")
    # The name of the environment variable holding the bearer token; none: no Authorization.
    token_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    # Where the provider's message id is in its JSON answer (a dotted path: "data.id" too).
    id_field: str = Field(default="id", min_length=1)

    def token(self) -> str | None:
        return None if self.token_env is None else os.environ.get(self.token_env) or None


class SmtpProviderSettings(_Section):
    """E-mail through an SMTP relay (stdlib smtplib, in a worker thread)."""

    type: Literal["smtp"]
    host: str = Field(min_length=1)
    port: int = Field(default=25, ge=1, le=65535)
    # "starttls" upgrades a plain connection; "ssl" is TLS from the first byte (port 465).
    security: Literal["none", "starttls", "ssl"] = "none"
    sender: str = Field(min_length=3, pattern=r"^[^@\s]+@[^@\s]+$")  # the From address
    username: str | None = None
    password_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")

    def password(self) -> str | None:
        return None if self.password_env is None else os.environ.get(self.password_env) or None


ProviderSettings = Annotated[
    FileProviderSettings | HttpProviderSettings | SmtpProviderSettings, Field(discriminator="type")
]


class ChannelSettings(_Section):
    provider: ProviderSettings = Field(default_factory=FileProviderSettings)
    # Token bucket: at most `rate_per_s` messages a second on average, `burst` at once.
    rate_per_s: float = Field(default=10.0, gt=0)
    burst: int = Field(default=10, ge=1)
    # Give up (mark failed) this long after the message was written, or after this many tries.
    ttl_h: float = Field(default=24.0, gt=0)
    max_attempts: int = Field(default=20, ge=1)
    # One delivery may take this long; past it the attempt counts as failed for now.
    send_timeout_s: float = Field(default=15.0, gt=0)
    # Messages handed to the provider at once (and claimed per round).
    batch: int = Field(default=10, ge=1, le=500)

    @property
    def ttl_s(self) -> float:
        return self.ttl_h * _HOUR_S


class RetrySettings(_Section):
    """Capped exponential backoff with full jitter: attempt n waits a uniformly random time in
    [0, min(cap_s, base_s * 2**(n-1))], and never less than the provider's Retry-After."""

    base_s: float = Field(default=5.0, gt=0)
    cap_s: float = Field(default=900.0, gt=0)

    @model_validator(mode="after")
    def _base_below_cap(self) -> Self:
        if self.base_s > self.cap_s:
            raise _problem("base_s must be <= cap_s")
        return self


class NotifySettings(_Section):
    sms: ChannelSettings = Field(default_factory=ChannelSettings)
    email: ChannelSettings = Field(default_factory=ChannelSettings)
    account_event: ChannelSettings = Field(default_factory=ChannelSettings)
    retry: RetrySettings = Field(default_factory=RetrySettings)
    # A message being sent is leased for this long: if the process dies mid-send, it is sent
    # again once the lease has run out (the provider dedupes it by its idempotency key).
    lease_s: float = Field(default=120.0, gt=0)
    # New messages wake their sender at once; this poll is the fallback (after a restart, or for
    # a writer that did not say).
    poll_s: float = Field(default=30.0, gt=0)

    def channel(self, kind: str) -> ChannelSettings:
        """The settings of a kind of message (`MessageKind`'s values are the key names)."""
        if kind not in _KINDS:
            raise KeyError(kind)
        channel: ChannelSettings = getattr(self, kind)
        return channel

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        for name in _KINDS:
            channel: ChannelSettings = getattr(self, name)
            # A claimed batch waits for the rate limit, then each send may take its timeout:
            # all of it must fit in the lease, or a live sender's messages would look abandoned.
            busy_s = channel.batch / channel.rate_per_s + channel.send_timeout_s
            if busy_s >= self.lease_s:
                raise _problem(
                    f"lease_s must exceed {name}.batch / {name}.rate_per_s + {name}.send_timeout_s"
                    f" ({busy_s:g} s)"
                )
        if isinstance(self.sms.provider, SmtpProviderSettings):
            raise _problem("sms.provider cannot be smtp")
        if isinstance(self.account_event.provider, SmtpProviderSettings):
            raise _problem("account_event.provider cannot be smtp")
        return self
