"""The `smtp` provider: e-mail through an SMTP relay with the standard library's smtplib, each
message on its own connection, in a worker thread (smtplib blocks).

The idempotency key becomes the Message-ID (a digest of it, at the sender's domain), which is
also the provider id recorded: a re-delivery after a crash carries the same Message-ID, so mail
software can drop the copy. A 5xx answer refuses the message for good; a 4xx, a lost connection
or a timeout is a try later; so is a failed login (the relay's settings are wrong, not the
message). A sender that gives up waiting abandons the thread, whose socket timeout ends it.
"""

from __future__ import annotations

import hashlib
import smtplib
import ssl
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Literal

import trio

from hotline.notify.providers.base import Accepted, DeliveryResult, Outgoing, Refused, TryLater


class SmtpProvider:
    name = "smtp"

    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        security: Literal["none", "starttls", "ssl"] = "none",
        username: str | None = None,
        password: str | None = None,
        socket_timeout_s: float = 30.0,
    ) -> None:
        self._host = host
        self._port = port
        self._sender = sender
        self._domain = sender.rpartition("@")[2]
        self._security = security
        self._login = (username, password or "") if username else None
        self._timeout = socket_timeout_s

    async def deliver(self, message: Outgoing) -> DeliveryResult:
        try:
            mail = self._compose(message)
        except ValueError:
            # A line break or a malformed address in a header: no relay will ever take it.
            return Refused("not a valid e-mail message (recipient or subject)")
        try:
            await trio.to_thread.run_sync(self._send, mail, abandon_on_cancel=True)
        except smtplib.SMTPRecipientsRefused as e:
            codes = [code for code, _ in e.recipients.values()]
            if codes and all(500 <= code < 600 for code in codes):
                return Refused(f"SMTP {codes[0]}: recipient refused")
            return TryLater(f"SMTP {codes[0] if codes else '?'}: recipient deferred")
        except smtplib.SMTPAuthenticationError as e:
            return TryLater(f"SMTP {e.smtp_code}: the relay refused our login")
        except smtplib.SMTPResponseException as e:
            if 500 <= e.smtp_code < 600:
                return Refused(f"SMTP {e.smtp_code} from the relay")
            return TryLater(f"SMTP {e.smtp_code} from the relay")
        except (smtplib.SMTPException, OSError) as e:
            return TryLater(f"relay unreachable: {type(e).__name__}")
        return Accepted(mail["Message-ID"].strip("<>"))

    async def aclose(self) -> None:
        return None

    def _compose(self, message: Outgoing) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self._sender
        mail["To"] = message.recipient
        mail["Subject"] = message.subject or ""
        mail["Date"] = format_datetime(datetime.fromtimestamp(message.at, UTC))
        digest = hashlib.sha256(message.idempotency_key.encode()).hexdigest()[:32]
        mail["Message-ID"] = f"<{digest}@{self._domain}>"
        mail.set_content(message.body)
        return mail

    def _send(self, mail: EmailMessage) -> None:
        smtp: smtplib.SMTP
        if self._security == "ssl":
            context = ssl.create_default_context()
            smtp = smtplib.SMTP_SSL(self._host, self._port, timeout=self._timeout, context=context)
        else:
            smtp = smtplib.SMTP(self._host, self._port, timeout=self._timeout)
        with smtp:
            if self._security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if self._login is not None:
                smtp.login(*self._login)
            smtp.send_message(mail)
