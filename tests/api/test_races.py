"""Two requests on one resource at once, fired together from a nursery: the loser of each race
gets a clear 409, never a 500 or a 404 for something that exists.

The requests really overlap: both are in flight through the app (each awaiting the store, the
router and the journal in turn) before either is answered."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import trio

from hotline.config import Settings
from tests.api.conftest import PAYMENTS_DESK, Api, Clients
from tests.api.test_voicemails import post_voicemail, ready_callback_desk
from tests.voicemail import samples

CALL = {"channel": "voice", "topic": "payments", "phone": "+79161234567"}
ROUNDS = 5  # each round is one race; the loser must be refused cleanly in every one


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    voicemail = settings.voicemail.model_copy(update={"dir": tmp_path / "voicemail"})
    return settings.model_copy(update={"voicemail": voicemail})


async def together(*calls: tuple[Api, str, str, Any]) -> list[tuple[int, Any]]:
    """Each (client, method, path, body) sent at once; the answers in the same order."""
    answers: list[tuple[int, Any]] = [(0, None)] * len(calls)

    async def one(i: int, api: Api, method: str, path: str, body: Any) -> None:
        answers[i] = await api.call(method, path, body)

    async with trio.open_nursery() as nursery:
        for i, (api, method, path, body) in enumerate(calls):
            nursery.start_soon(one, i, api, method, path, body)
    return answers


async def test_two_outcomes_reported_at_once_for_one_callback_are_200_and_409(
    api: Clients,
) -> None:
    await ready_callback_desk(api)
    for _ in range(ROUNDS):
        status, vm = await post_voicemail(api.integration, samples.wav())
        assert status == 201, vm
        status, body = await api.operator.post(f"/v1/contacts/{vm['contact_id']}/accept")
        assert status == 200, body
        path = f"/v1/voicemails/{vm['id']}/attempts"

        answers = await together(
            (api.operator, "POST", path, {"outcome": "reached"}),
            (api.operator, "POST", path, {"outcome": "reached"}),
        )

        assert sorted(status for status, _ in answers) == [200, 409], answers
        refused = next(body for status, body in answers if status == 409)
        assert refused["error"]["code"] == "conflict"
        _, shown = await api.supervisor.get(f"/v1/voicemails/{vm['id']}")
        assert shown["state"] == "completed"
        assert [a["outcome"] for a in shown["attempts"]] == ["reached"]
        status, body = await api.operator.post("/v1/operators/op-1/wrap-up/end")
        assert status == 200, body


async def test_an_accept_racing_an_abandon_is_409_when_the_abandon_wins(api: Clients) -> None:
    status, body = await api.supervisor.put("/v1/operators/op-1", PAYMENTS_DESK)
    assert status == 201, body
    status, body = await api.supervisor.post("/v1/operators/op-1/state", {"state": "ready"})
    assert status == 200, body
    for _ in range(ROUNDS):
        status, contact = await api.integration.post("/v1/contacts", CALL)
        assert (status, contact["state"]) == (201, "offered"), contact
        cid = contact["id"]

        (abandoned, _), (accepted, body) = await together(
            (api.integration, "POST", f"/v1/contacts/{cid}/abandon", {}),
            (api.operator, "POST", f"/v1/contacts/{cid}/accept", {}),
        )

        # Whichever the router took first wins; the other is a conflict, never "not found".
        assert sorted([abandoned, accepted]) in ([200, 409], [200, 200]), (abandoned, body)
        assert accepted != 404
        if accepted == 409:
            assert "ended" in body["error"]["message"]
        _, shown = await api.supervisor.get(f"/v1/contacts/{cid}")
        if shown["state"] == "assigned":  # the accept won: hand it back for the next round
            await api.operator.post(f"/v1/contacts/{cid}/complete", {"outcome": "done"})
            await api.operator.post("/v1/operators/op-1/wrap-up/end")
