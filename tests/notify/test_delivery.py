"""The notifier end to end on a real store: one message per change, nothing lost or doubled
across a crash between delivery and its record, and e-mail through a real SMTP server.

These run real threads (aiosqlite, smtplib), so they use the real clock, with short leases and
polls, bounded by `fail_after`.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import trio

from hotline.clock import WallClock
from hotline.notify.providers import (
    DeliveryResult,
    FileProvider,
    HttpProvider,
    Outgoing,
    Provider,
    SmtpProvider,
)
from hotline.notify.queue import StoreOutboxQueue
from hotline.notify.sender import Notifier, Sender, start_notifier
from hotline.notify.settings import NotifySettings
from hotline.store import StoreHandle, open_store
from hotline.store.outbox import (
    MessageKind,
    MessageRow,
    MessageState,
    NewMessage,
    enqueue_message,
    get_message,
    message_events,
)
from tests.notify.receivers import HttpReceiver, SmtpServer

FAST = {"lease_s": 0.5, "poll_s": 0.05, "retry": {"base_s": 0.05, "cap_s": 0.2}}
CHANGE = NewMessage(
    kind=MessageKind.SMS,
    recipient="+79123456789",
    body="Обращение HL-7K3M-9QX2: в обработке",
    dedupe_key="ticket:HL-7K3M-9QX2:2:sms",
)


def fast_settings(**channels: Any) -> NotifySettings:
    per_kind = {"send_timeout_s": 0.3, "batch": 1, "rate_per_s": 100}
    kinds = {kind: {**per_kind, **channels.get(kind, {})} for kind in MessageKind}
    return NotifySettings.model_validate({**FAST, **kinds})


async def enqueue(store: StoreHandle, msg: NewMessage = CHANGE) -> int | None:
    now = time.time()  # the senders run on `WallClock()`: real time
    return await store.transact(lambda tx: enqueue_message(tx, msg, at=now))


async def wait_for_state(store: StoreHandle, message_id: int, state: MessageState) -> MessageRow:
    with trio.fail_after(5):
        while True:
            row = await store.read(lambda tx: get_message(tx, message_id))
            assert row is not None
            if row.state is state:
                return row
            await trio.sleep(0.02)


@asynccontextmanager
async def sender_of(
    store: StoreHandle, provider: Provider, settings: NotifySettings, kind: MessageKind
) -> AsyncIterator[Sender]:
    sender = Sender(
        kind,
        StoreOutboxQueue(store),
        provider,
        settings.channel(kind),
        settings,
        WallClock(),
        rng=random.Random(3),
    )
    async with trio.open_nursery() as nursery:
        await nursery.start(sender.run)
        yield sender
        nursery.cancel_scope.cancel()


async def test_one_change_gives_exactly_one_sms(tmp_path: Path) -> None:
    async with open_store(tmp_path / "hotline.db") as store, trio.open_nursery() as nursery:
        notifier: Notifier = await start_notifier(
            nursery, fast_settings(), store, WallClock(), default_dir=tmp_path / "outbox"
        )
        first = await enqueue(store)
        notifier.notify_new(MessageKind.SMS)
        again = await enqueue(store)  # the same change reported twice: one row
        notifier.notify_new(MessageKind.SMS)
        assert first is not None and again is None
        row = await wait_for_state(store, first, MessageState.SENT)
        await trio.sleep(0.2)  # a few more polls: nothing else goes out
        nursery.cancel_scope.cancel()
    lines = (tmp_path / "outbox" / "sms.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1
    sms = json.loads(lines[0])
    assert sms["to"] == "+79123456789" and sms["text"] == CHANGE.body
    assert sms["idempotency_key"] == CHANGE.dedupe_key and sms["id"] == row.provider_id
    assert row.provider == "file" and row.attempts == 1


class _DiesAfterDelivery:
    """The process dies after the provider took the message, before the sender records it."""

    def __init__(self, inner: Provider) -> None:
        self._inner = inner
        self.name = inner.name
        self.delivered = trio.Event()

    async def deliver(self, message: Outgoing) -> DeliveryResult:
        await self._inner.deliver(message)
        self.delivered.set()
        await trio.sleep_forever()
        raise AssertionError("unreachable")

    async def aclose(self) -> None:
        await self._inner.aclose()


@pytest.mark.parametrize("crash", ["while_the_provider_handles_it", "after_the_provider_took_it"])
async def test_a_crash_between_delivery_and_record_delivers_after_restart_never_twice(
    tmp_path: Path, crash: str
) -> None:
    db = tmp_path / "hotline.db"
    receiver = HttpReceiver(hold_first=crash == "while_the_provider_handles_it")
    async with trio.open_nursery() as servers:
        port = await servers.start(receiver.serve)
        url = f"http://127.0.0.1:{port}/sms"
        settings = fast_settings(sms={"provider": {"type": "http", "url": url}})

        # First life: the message is committed and handed over, then the process dies.
        async with open_store(db) as store:
            message_id = await enqueue(store)
            assert message_id is not None
            provider: Provider = HttpProvider(url)
            if crash == "after_the_provider_took_it":
                provider = dying = _DiesAfterDelivery(provider)
            async with sender_of(store, provider, settings, MessageKind.SMS) as sender:
                sender.notify_new()
                with trio.fail_after(5):
                    if crash == "after_the_provider_took_it":
                        await dying.delivered.wait()
                    else:
                        await receiver.got_request.wait()
            row = await store.read(lambda tx: get_message(tx, message_id))
            assert row is not None and row.state is MessageState.SENDING

        # Second life on the same database: the lease runs out and the message goes again.
        async with (
            open_store(db) as store,
            sender_of(store, HttpProvider(url), settings, MessageKind.SMS),
        ):
            row = await wait_for_state(store, message_id, MessageState.SENT)
            await trio.sleep(0.2)  # more polls and lease spans: nothing more goes out
            events = await store.read(lambda tx: message_events(tx, message_id))
        servers.cancel_scope.cancel()

    key = CHANGE.dedupe_key
    assert receiver.count(key) == 2  # at least once: the second life sent it again ...
    assert list(receiver.delivered) == [key]  # ... and the gateway kept one
    assert row.provider_id == receiver.delivered[key]
    assert [e.kind for e in events] == ["enqueued", "claimed", "claimed", "sent"]


async def test_http_delivery_carries_the_bearer_token_and_the_idempotency_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOTLINE_TEST_SMS_TOKEN", "s3cret")
    receiver = HttpReceiver()
    async with trio.open_nursery() as servers:
        port = await servers.start(receiver.serve)
        url = f"http://127.0.0.1:{port}/sms"
        settings = fast_settings(
            sms={"provider": {"type": "http", "url": url, "token_env": "HOTLINE_TEST_SMS_TOKEN"}}
        )
        async with open_store(tmp_path / "hotline.db") as store, trio.open_nursery() as nursery:
            notifier = await start_notifier(
                nursery, settings, store, WallClock(), default_dir=tmp_path
            )
            message_id = await enqueue(store)
            assert message_id is not None
            notifier.notify_new()
            await wait_for_state(store, message_id, MessageState.SENT)
            nursery.cancel_scope.cancel()
        servers.cancel_scope.cancel()
    ((key, body, headers),) = receiver.requests
    assert key == CHANGE.dedupe_key
    assert headers["authorization"] == "Bearer s3cret"
    assert body == {
        "idempotency_key": CHANGE.dedupe_key,
        "kind": "sms",
        "to": "+79123456789",
        "text": CHANGE.body,
        "segments": 1,
    }


async def test_an_email_goes_through_a_real_smtp_server(tmp_path: Path) -> None:
    server = SmtpServer()
    confirmation = NewMessage(
        kind=MessageKind.EMAIL,
        recipient="citizen@example.org",
        subject="Обращение HL-7K3M-9QX2 принято",
        body="Здравствуйте! Ваше обращение зарегистрировано под номером HL-7K3M-9QX2.",
        dedupe_key="ticket:HL-7K3M-9QX2:1:email",
    )
    async with trio.open_nursery() as servers:
        port = await servers.start(server.serve)
        provider = SmtpProvider(host="127.0.0.1", port=port, sender="noreply@hotline.example")
        async with open_store(tmp_path / "hotline.db") as store:
            settings = fast_settings()
            async with sender_of(store, provider, settings, MessageKind.EMAIL) as sender:
                message_id = await enqueue(store, confirmation)
                assert message_id is not None
                sender.notify_new()
                row = await wait_for_state(store, message_id, MessageState.SENT)
        servers.cancel_scope.cancel()
    ((mail_from, rcpt_to),) = server.envelopes
    assert mail_from == "<noreply@hotline.example>" and rcpt_to == ["<citizen@example.org>"]
    (mail,) = server.messages
    assert mail["Subject"] == confirmation.subject
    assert mail["To"] == "citizen@example.org"
    assert mail.get_content().strip() == confirmation.body
    assert mail["Message-ID"].strip("<>") == row.provider_id and row.provider == "smtp"


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("550 no such user", "refused: SMTP 550: recipient refused"),
        ("451 greylisted, try later", "try later: SMTP 451: recipient deferred"),
    ],
)
async def test_smtp_refusals_are_final_and_deferrals_are_retried(reply: str, expected: str) -> None:
    server = SmtpServer(reply_to_rcpt=reply)
    async with trio.open_nursery() as servers:
        port = await servers.start(server.serve)
        provider = SmtpProvider(host="127.0.0.1", port=port, sender="noreply@hotline.example")
        outgoing = Outgoing(1, MessageKind.EMAIL, "x@example.org", "s", "b", "k", None, 1, 0.0)
        with trio.fail_after(5):
            result = await provider.deliver(outgoing)
        servers.cancel_scope.cancel()
    verdict = {"Refused": "refused", "TryLater": "try later"}[type(result).__name__]
    assert f"{verdict}: {result.reason}" == expected  # type: ignore[union-attr]
    assert server.messages == []


async def test_the_file_provider_writes_a_redelivered_message_once(tmp_path: Path) -> None:
    outgoing = Outgoing(7, MessageKind.SMS, "+79123456789", None, "текст", "k-7", 1, 1, 5.0)
    first = FileProvider(tmp_path, MessageKind.SMS)
    a = await first.deliver(outgoing)
    await first.aclose()
    # A restart: a new provider on the same file, given the same message again.
    second = FileProvider(tmp_path, MessageKind.SMS)
    b = await second.deliver(outgoing)
    c = await second.deliver(
        Outgoing(8, MessageKind.SMS, "+79123456780", None, "t", "k-8", 1, 1, 6)
    )
    await second.aclose()
    assert a == b and a != c
    lines = (tmp_path / "sms.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(ln)["idempotency_key"] for ln in lines] == ["k-7", "k-8"]


async def test_the_file_provider_starts_a_fresh_line_after_a_torn_one(tmp_path: Path) -> None:
    (tmp_path / "account.jsonl").write_text('{"idempotency_key": "k-1"}\n{"idempot', "utf-8")
    provider = FileProvider(tmp_path, MessageKind.ACCOUNT_EVENT)
    event = '{"ticket": "HL-7K3M-9QX2", "status": "approved"}'
    await provider.deliver(
        Outgoing(2, MessageKind.ACCOUNT_EVENT, "acct", None, event, "k-2", None, 1, 0)
    )
    await provider.aclose()
    lines = (tmp_path / "account.jsonl").read_text(encoding="utf-8").splitlines()
    assert json.loads(lines[-1])["event"] == {"ticket": "HL-7K3M-9QX2", "status": "approved"}
    assert len(lines) == 3
