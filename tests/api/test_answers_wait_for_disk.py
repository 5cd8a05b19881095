"""Every answer to a change comes after the change is committed: with the store's writes held
back, no state-changing endpoint answers until they are let through.

These are the endpoints whose change is decided by the router and written by the journal, so
each handler must wait for the journal; one that forgot would answer while its change is only
in memory (and a crash then would lose an acknowledged change). Test only: the writes are held
by wrapping the bare store handle's `transact`, which the journal and the services' own handle
(`CommittingStore`) share."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import trio
import trio.testing

from hotline.services import Services
from tests.api.conftest import PAYMENTS_DESK, Clients

CALL = {"channel": "voice", "topic": "payments", "phone": "+79161234567"}


class HeldWrites:
    """While `held`, every store write waits at the door; `release()` lets them all through."""

    def __init__(self, services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
        self._open = trio.Event()
        self.waiting = 0
        store = services.store.handle
        write = store.transact

        async def transact(work: Any, **how: Any) -> Any:
            self.waiting += 1
            await self._open.wait()
            return await write(work, **how)

        monkeypatch.setattr(store, "transact", transact)

    def release(self) -> None:
        self._open.set()


async def answered_only_after_the_commit(
    services: Services,
    monkeypatch: pytest.MonkeyPatch,
    request: Callable[[], Awaitable[tuple[int, Any]]],
) -> tuple[int, Any]:
    held = HeldWrites(services, monkeypatch)
    answer: list[tuple[int, Any]] = []

    async def ask() -> None:
        answer.append(await request())

    async with trio.open_nursery() as nursery:
        nursery.start_soon(ask)
        # Store reads run in aiosqlite's thread, which trio counts as blocked: so wait for the
        # write to reach the door rather than for the tasks to settle, then give an answer
        # that did not wait for it ample time to show (a slow machine can only hide a bug here,
        # never fail a correct handler).
        with trio.fail_after(30):
            while not held.waiting and not answer:
                await trio.sleep(0.005)
        for _ in range(100):
            await trio.sleep(0.01)
            await trio.testing.wait_all_tasks_blocked()
            assert answer == [], f"answered {answer} before its change was on disk"
        held.release()
    monkeypatch.undo()
    return answer[0]


async def ready_desk(api: Clients) -> None:
    assert (await api.supervisor.put("/v1/operators/op-1", PAYMENTS_DESK))[0] in (200, 201)
    assert (await api.operator.post("/v1/operators/op-1/state", {"state": "ready"}))[0] == 200


async def test_an_operator_state_change_is_answered_after_its_commit(
    api: Clients, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert (await api.supervisor.put("/v1/operators/op-1", PAYMENTS_DESK))[0] == 201
    status, body = await answered_only_after_the_commit(
        services,
        monkeypatch,
        lambda: api.operator.post("/v1/operators/op-1/state", {"state": "ready"}),
    )
    assert (status, body["state"]) == (200, "ready")


async def test_a_new_contact_is_answered_after_its_commit(
    api: Clients, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    status, _ = await answered_only_after_the_commit(
        services, monkeypatch, lambda: api.integration.post("/v1/contacts", CALL)
    )
    assert status == 201


async def test_accept_complete_and_wrap_up_end_are_answered_after_their_commits(
    api: Clients, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    await ready_desk(api)
    cid = (await api.integration.post("/v1/contacts", CALL))[1]["id"]
    steps = [
        (f"/v1/contacts/{cid}/accept", None, "assigned"),
        (f"/v1/contacts/{cid}/complete", {"outcome": "explained"}, "completed"),
        ("/v1/operators/op-1/wrap-up/end", None, "ready"),
    ]
    for path, body, state in steps:
        status, answer = await answered_only_after_the_commit(
            services, monkeypatch, lambda p=path, b=body: api.operator.post(p, b)
        )
        assert (status, answer["state"]) == (200, state), path


async def test_reject_and_abandon_are_answered_after_their_commits(
    api: Clients, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    await ready_desk(api)
    cid = (await api.integration.post("/v1/contacts", CALL))[1]["id"]
    status, _ = await answered_only_after_the_commit(
        services, monkeypatch, lambda: api.operator.post(f"/v1/contacts/{cid}/reject")
    )
    assert status == 200
    status, body = await answered_only_after_the_commit(
        services, monkeypatch, lambda: api.integration.post(f"/v1/contacts/{cid}/abandon")
    )
    assert (status, body["state"]) == (200, "abandoned")
