"""Real local servers for the notifier's tests, on 127.0.0.1 and a port the OS picks: an HTTP
receiver that dedupes by `Idempotency-Key` as a real gateway would, and a minimal SMTP server.
Both are plain trio sockets, so they need nothing beyond trio."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import trio

_MAX_HEAD = 64 * 1024


async def _serve_on_free_port(handler: Any, task_status: trio.TaskStatus[int]) -> None:
    listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
    port = listeners[0].socket.getsockname()[1]
    async with trio.open_nursery() as nursery:
        await nursery.start(trio.serve_listeners, handler, listeners)
        task_status.started(port)


@dataclass
class HttpReceiver:
    """Counts every request by its Idempotency-Key and keeps one delivery per key: a repeat is
    answered with the id the first one got. `hold_first`: the first request is read and
    recorded but never answered (the sender dies while waiting)."""

    hold_first: bool = False
    status: int = 201
    requests: list[tuple[str | None, dict[str, Any], dict[str, str]]] = field(default_factory=list)
    delivered: dict[str, str] = field(default_factory=dict)  # key -> the id handed out
    got_request: trio.Event = field(default_factory=trio.Event)

    def count(self, key: str) -> int:
        return sum(1 for k, _, _ in self.requests if k == key)

    async def serve(self, *, task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED) -> None:
        await _serve_on_free_port(self._handle, task_status)

    async def _handle(self, stream: trio.SocketStream) -> None:
        async with stream:
            head, body = await _read_request(stream)
            headers = _headers(head)
            key = headers.get("idempotency-key")
            self.requests.append((key, json.loads(body or b"null"), headers))
            first = len(self.requests) == 1
            self.got_request.set()
            if first and self.hold_first:
                await trio.sleep_forever()
            if self.status // 100 == 2 and key is not None:
                provider_id = self.delivered.setdefault(key, f"gw-{len(self.delivered) + 1}")
                answer = json.dumps({"id": provider_id}).encode()
            else:
                answer = b"{}"
            await stream.send_all(
                f"HTTP/1.1 {self.status} X\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(answer)}\r\nConnection: close\r\n\r\n".encode()
                + answer
            )


async def _read_request(stream: trio.SocketStream) -> tuple[bytes, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = await stream.receive_some(4096)
        if not chunk or len(data) > _MAX_HEAD:
            raise ConnectionError("the client went away mid-request")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(_headers(head).get("content-length", "0"))
    while len(body) < length:
        chunk = await stream.receive_some(4096)
        if not chunk:
            raise ConnectionError("the client went away mid-body")
        body += chunk
    return head, body


def _headers(head: bytes) -> dict[str, str]:
    lines = head.decode("latin-1").split("\r\n")[1:]
    return {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines)}


@dataclass
class SmtpServer:
    """Speaks just enough SMTP for smtplib: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT.
    `reply_to_rcpt` answers every RCPT (e.g. "550 no such user", "451 try later")."""

    reply_to_rcpt: str = "250 OK"
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)

    async def serve(self, *, task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED) -> None:
        await _serve_on_free_port(self._handle, task_status)

    async def _handle(self, stream: trio.SocketStream) -> None:
        lines = _LineReader(stream)
        async with stream:
            await stream.send_all(b"220 test ESMTP\r\n")
            sender, recipients = "", []
            while True:
                line = await lines.readline()
                if line is None:
                    return
                verb = line[:4].upper()
                if verb in ("EHLO", "HELO"):
                    await stream.send_all(b"250 test\r\n")
                elif verb == "MAIL":
                    sender, recipients = line.partition(":")[2].strip(), []
                    await stream.send_all(b"250 OK\r\n")
                elif verb == "RCPT":
                    if self.reply_to_rcpt.startswith("250"):
                        recipients.append(line.partition(":")[2].strip())
                    await stream.send_all(self.reply_to_rcpt.encode() + b"\r\n")
                elif verb == "DATA":
                    await stream.send_all(b"354 go ahead\r\n")
                    data = await lines.read_data()
                    self.envelopes.append((sender, recipients))
                    mail = message_from_bytes(data, policy=policy.default)
                    assert isinstance(mail, EmailMessage)
                    self.messages.append(mail)
                    await stream.send_all(b"250 queued\r\n")
                elif verb == "QUIT":
                    await stream.send_all(b"221 bye\r\n")
                    return
                else:  # RSET, NOOP and anything else
                    await stream.send_all(b"250 OK\r\n")


class _LineReader:
    def __init__(self, stream: trio.SocketStream) -> None:
        self._stream = stream
        self._buffer = b""

    async def readline(self) -> str | None:
        while b"\r\n" not in self._buffer:
            chunk = await self._stream.receive_some(4096)
            if not chunk:
                return None
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\r\n")
        return line.decode("utf-8", "replace")

    async def read_data(self) -> bytes:
        while b"\r\n.\r\n" not in self._buffer:
            chunk = await self._stream.receive_some(4096)
            if not chunk:
                raise ConnectionError("the client went away mid-DATA")
            self._buffer += chunk
        data, _, self._buffer = self._buffer.partition(b"\r\n.\r\n")
        # Undo dot-stuffing: a line that starts with "." was sent with one more.
        return b"\r\n".join(ln[1:] if ln.startswith(b".") else ln for ln in data.split(b"\r\n"))
