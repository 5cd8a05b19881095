"""The sender actor on a MockClock, against an in-memory outbox and a scripted provider: it wakes
when poked, falls back to its poll, backs off with capped full jitter, honours Retry-After and
the provider's rate limit, and gives up after the TTL or the last attempt."""

from __future__ import annotations

import itertools
import random
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
import trio
import trio.testing

from hotline.clock import WallClock
from hotline.notify.providers import Accepted, DeliveryResult, Outgoing, Refused, TryLater
from hotline.notify.sender import Sender, prepare_for
from hotline.notify.settings import NotifySettings
from hotline.store.outbox import MessageKind, MessageState
from tests.notify.fakes import MemoryQueue, ScriptedProvider

EPOCH = 1_750_000_000.0


class Highest(random.Random):
    """Full jitter's worst case: always the top of the range."""

    def uniform(self, a: float, b: float) -> float:
        return b


def settings(**sms: Any) -> NotifySettings:
    top = {k: sms.pop(k) for k in ("poll_s", "lease_s", "retry") if k in sms}
    return NotifySettings.model_validate({"sms": sms, **top})


@asynccontextmanager
async def running(
    queue: MemoryQueue,
    provider: ScriptedProvider,
    notify: NotifySettings | None = None,
    *,
    rng: random.Random | None = None,
) -> AsyncIterator[tuple[Sender, WallClock]]:
    clock = WallClock(EPOCH)
    notify = notify or settings()
    sender = Sender(
        MessageKind.SMS, queue, provider, notify.sms, notify, clock, rng=rng or random.Random(7)
    )
    async with trio.open_nursery() as nursery:
        await nursery.start(sender.run)
        yield sender, clock
        nursery.cancel_scope.cancel()


async def until(check: Callable[[], bool], timeout: float = 3600) -> None:
    with trio.fail_after(timeout):
        while not check():
            await trio.sleep(0.5)  # virtual time: the step only sets how often it looks


async def test_a_poked_sender_delivers_a_new_message_at_once(
    autojump_clock: trio.testing.MockClock,
) -> None:
    queue, provider = MemoryQueue(), ScriptedProvider()
    async with running(queue, provider, settings(poll_s=30)) as (sender, clock):
        await trio.sleep(5)
        message_id = queue.add(at=clock.now())
        start = trio.current_time()
        sender.notify_new()
        await until(lambda: queue.state(message_id) is MessageState.SENT)
        assert provider.times_of(message_id) == [start]
    assert queue.rows[message_id].provider_id == f"p-{message_id}"
    assert provider.closed  # the sender releases its provider when it stops


async def test_without_a_poke_the_poll_finds_a_message_within_poll_s(
    autojump_clock: trio.testing.MockClock,
) -> None:
    queue, provider = MemoryQueue(), ScriptedProvider()
    async with running(queue, provider, settings(poll_s=30)) as (_, clock):
        await trio.sleep(1)
        message_id = queue.add(at=clock.now())  # e.g. left behind by a crash: nobody pokes
        start = trio.current_time()
        await until(lambda: queue.state(message_id) is MessageState.SENT)
        assert 0 < provider.times_of(message_id)[0] - start <= 30


async def test_retries_back_off_exponentially_up_to_the_cap(
    autojump_clock: trio.testing.MockClock,
) -> None:
    answers = iter([TryLater("HTTP 503")] * 6)
    provider = ScriptedProvider(answer=lambda o: next(answers, Accepted("ok")))
    queue = MemoryQueue()
    notify = settings(retry={"base_s": 2, "cap_s": 20})
    async with running(queue, provider, notify, rng=Highest()) as (_, clock):
        message_id = queue.add(at=clock.now())
        await until(lambda: queue.state(message_id) is MessageState.SENT)
    times = provider.times_of(message_id)
    gaps = [round(b - a, 6) for a, b in itertools.pairwise(times)]
    assert gaps == [2, 4, 8, 16, 20, 20]
    assert queue.rows[message_id].attempts == 7


async def test_jitter_spreads_retries_below_the_exponential_ceiling(
    autojump_clock: trio.testing.MockClock,
) -> None:
    provider = ScriptedProvider(answer=lambda o: TryLater("HTTP 503"))
    queue = MemoryQueue()
    notify = settings(retry={"base_s": 10, "cap_s": 1000}, max_attempts=2)
    async with running(queue, provider, notify, rng=random.Random(1)) as (_, clock):
        ids = [queue.add(at=clock.now()) for _ in range(8)]
        await until(lambda: all(queue.state(i) is MessageState.FAILED for i in ids))
    gaps = [provider.times_of(i)[1] - provider.times_of(i)[0] for i in ids]
    assert all(0 <= gap <= 10 for gap in gaps)
    assert len({round(gap, 3) for gap in gaps}) == len(gaps)  # not in lockstep


async def test_a_retry_waits_at_least_as_long_as_retry_after_says(
    autojump_clock: trio.testing.MockClock,
) -> None:
    answers = iter([TryLater("HTTP 429", retry_after_s=300)])
    provider = ScriptedProvider(answer=lambda o: next(answers, Accepted("ok")))
    queue = MemoryQueue()
    async with running(queue, provider, settings(retry={"base_s": 1, "cap_s": 5})) as (_, clock):
        message_id = queue.add(at=clock.now())
        await until(lambda: queue.state(message_id) is MessageState.SENT)
    first, second = provider.times_of(message_id)
    assert second - first >= 300


async def test_gives_up_when_the_next_attempt_would_pass_the_ttl(
    autojump_clock: trio.testing.MockClock,
) -> None:
    provider = ScriptedProvider(answer=lambda o: TryLater("HTTP 503"))
    queue = MemoryQueue()
    notify = settings(retry={"base_s": 10, "cap_s": 10})
    async with running(queue, provider, notify, rng=Highest()) as (_, clock):
        created = clock.now()
        message_id = queue.add(at=created, ttl_s=45)
        await until(lambda: queue.state(message_id) is MessageState.FAILED)
    times = provider.times_of(message_id)
    # At 0, 10, 20, 30 and 40 s; the next would be at 50 s, past the TTL, so 40 s was the last.
    assert [round(t - times[0], 6) for t in times] == [0, 10, 20, 30, 40]
    assert queue.rows[message_id].last_error == "expired after 5 attempts: HTTP 503"


async def test_a_message_past_its_ttl_is_failed_without_being_sent(
    autojump_clock: trio.testing.MockClock,
) -> None:
    provider, queue = ScriptedProvider(), MemoryQueue()
    async with running(queue, provider) as (sender, clock):
        message_id = queue.add(at=clock.now() - 3600, ttl_s=60)
        sender.notify_new()
        await until(lambda: queue.state(message_id) is MessageState.FAILED)
    assert provider.calls == []
    assert queue.rows[message_id].last_error == "expired before it could be sent"


async def test_the_default_ttl_of_the_kind_applies_when_the_message_has_none(
    autojump_clock: trio.testing.MockClock,
) -> None:
    provider, queue = ScriptedProvider(), MemoryQueue()
    async with running(queue, provider, settings(ttl_h=1)) as (sender, clock):
        old = queue.add(at=clock.now() - 3601)
        fresh = queue.add(at=clock.now() - 3599)
        sender.notify_new()
        await until(lambda: queue.state(fresh) is MessageState.SENT)
    assert queue.state(old) is MessageState.FAILED
    assert [o.message_id for _, o in provider.calls] == [fresh]


async def test_gives_up_after_max_attempts(autojump_clock: trio.testing.MockClock) -> None:
    provider = ScriptedProvider(answer=lambda o: TryLater("HTTP 500"))
    queue = MemoryQueue()
    async with running(queue, provider, settings(max_attempts=3)) as (_, clock):
        message_id = queue.add(at=clock.now())
        await until(lambda: queue.state(message_id) is MessageState.FAILED)
    assert len(provider.calls) == 3
    assert queue.rows[message_id].last_error == "gave up after 3 attempts: HTTP 500"


async def test_a_refusal_fails_the_message_at_once(autojump_clock: trio.testing.MockClock) -> None:
    provider = ScriptedProvider(answer=lambda o: Refused("HTTP 400 from the provider"))
    queue = MemoryQueue()
    async with running(queue, provider) as (_, clock):
        message_id = queue.add(at=clock.now())
        await until(lambda: queue.state(message_id) is MessageState.FAILED)
    assert len(provider.calls) == 1
    assert queue.rows[message_id].last_error == "HTTP 400 from the provider"


async def test_a_provider_that_does_not_answer_in_time_is_tried_again(
    autojump_clock: trio.testing.MockClock,
) -> None:
    provider, queue = ScriptedProvider(hang=True), MemoryQueue()
    notify = settings(send_timeout_s=5, max_attempts=2)
    async with running(queue, provider, notify) as (_, clock):
        message_id = queue.add(at=clock.now())
        await until(lambda: queue.state(message_id) is MessageState.FAILED)
    assert len(provider.calls) == 2
    assert queue.rows[message_id].last_error == "gave up after 2 attempts: no answer within 5 s"


async def test_a_provider_that_raises_is_tried_again(
    autojump_clock: trio.testing.MockClock,
) -> None:
    def explode(o: Outgoing) -> DeliveryResult:
        if len(provider.calls) == 1:
            raise ConnectionResetError("boom")
        return Accepted("ok")

    provider, queue = ScriptedProvider(answer=explode), MemoryQueue()
    async with running(queue, provider) as (_, clock):
        message_id = queue.add(at=clock.now())
        await until(lambda: queue.state(message_id) is MessageState.SENT)
    assert len(provider.calls) == 2


async def test_the_rate_limit_spaces_deliveries_after_the_burst(
    autojump_clock: trio.testing.MockClock,
) -> None:
    provider, queue = ScriptedProvider(), MemoryQueue()
    notify = settings(rate_per_s=10, burst=5, batch=20)
    async with running(queue, provider, notify) as (sender, clock):
        ids = [queue.add(at=clock.now()) for _ in range(45)]
        start = trio.current_time()
        sender.notify_new()
        await until(lambda: all(queue.state(i) is MessageState.SENT for i in ids))
    times = sorted(t - start for t, _ in provider.calls)
    assert len(times) == 45
    assert times[4] == pytest.approx(0)  # the burst goes at once
    assert times[-1] == pytest.approx(4.0)  # then 10 a second: 40 more take 4 s
    for i, j in itertools.combinations(range(len(times)), 2):
        # Any stretch of time holds at most the burst plus what the rate allows in it.
        assert j - i + 1 <= 5 + 10 * (times[j] - times[i]) + 1e-6


async def test_an_sms_to_a_number_that_is_not_a_russian_mobile_is_failed_unsent(
    autojump_clock: trio.testing.MockClock,
) -> None:
    provider, queue = ScriptedProvider(), MemoryQueue()
    async with running(queue, provider) as (sender, clock):
        landline = queue.add(at=clock.now(), recipient="+74951234567")
        foreign = queue.add(at=clock.now(), recipient="+442079460000")
        sender.notify_new()
        await until(lambda: queue.state(foreign) is MessageState.FAILED)
        await until(lambda: queue.state(landline) is MessageState.FAILED)
    assert provider.calls == []
    assert queue.rows[foreign].last_error == "SMS go only to Russian mobile numbers"


async def test_an_sms_is_sent_in_e164_with_its_segment_count(
    autojump_clock: trio.testing.MockClock,
) -> None:
    provider, queue = ScriptedProvider(), MemoryQueue()
    async with running(queue, provider) as (sender, clock):
        message_id = queue.add(at=clock.now(), recipient="8 (912) 345-67-89", body="Я" * 71)
        sender.notify_new()
        await until(lambda: queue.state(message_id) is MessageState.SENT)
    ((_, outgoing),) = provider.calls
    assert outgoing.recipient == "+79123456789"
    assert outgoing.segments == 2  # UCS-2: 70 in one part, 67 per part beyond
    assert queue.rows[message_id].segments == 2


async def test_an_account_event_that_is_not_json_is_failed_unsent(
    autojump_clock: trio.testing.MockClock,
) -> None:
    provider, queue = ScriptedProvider(), MemoryQueue()
    clock = WallClock(EPOCH)
    notify = settings()
    sender = Sender(MessageKind.ACCOUNT_EVENT, queue, provider, notify.account_event, notify, clock)
    async with trio.open_nursery() as nursery:
        await nursery.start(sender.run)
        bad = queue.add(at=clock.now(), kind=MessageKind.ACCOUNT_EVENT, body="{not json")
        good = queue.add(at=clock.now(), kind=MessageKind.ACCOUNT_EVENT, body='{"status": "x"}')
        sender.notify_new()
        await until(lambda: queue.state(good) is MessageState.SENT)
        nursery.cancel_scope.cancel()
    assert queue.state(bad) is MessageState.FAILED
    assert [o.message_id for _, o in provider.calls] == [good]


async def test_an_sms_past_the_segment_cap_is_failed_unsent(
    autojump_clock: trio.testing.MockClock,
) -> None:
    provider, queue = ScriptedProvider(), MemoryQueue()
    clock = WallClock(EPOCH)
    notify = settings()
    prepare = prepare_for(MessageKind.SMS, max_sms_segments=2)
    sender = Sender(MessageKind.SMS, queue, provider, notify.sms, notify, clock, prepare=prepare)
    async with trio.open_nursery() as nursery:
        await nursery.start(sender.run)
        long = queue.add(at=clock.now(), body="Я" * 135)  # three UCS-2 parts
        short = queue.add(at=clock.now(), body="Я" * 134)  # two
        sender.notify_new()
        await until(lambda: queue.state(short) is MessageState.SENT)
        nursery.cancel_scope.cancel()
    assert queue.state(long) is MessageState.FAILED
    assert queue.rows[long].last_error == "the text needs 3 SMS segments, more than the cap of 2"
    assert [o.message_id for _, o in provider.calls] == [short]


async def test_a_message_s_own_ttl_never_outlasts_its_channel_s(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # The file provider remembers a delivered key for the channel's TTL plus the lease: a message
    # handed over later than that could be written twice, so none is.
    provider, queue = ScriptedProvider(), MemoryQueue()
    async with running(queue, provider, settings(ttl_h=1)) as (sender, clock):
        message_id = queue.add(at=clock.now() - 3601, ttl_s=7200)
        sender.notify_new()
        await until(lambda: queue.state(message_id) is MessageState.FAILED)
    assert provider.calls == []
    assert queue.rows[message_id].last_error == "expired before it could be sent"
