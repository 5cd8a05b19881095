"""`/v1/voicemails` through the test client: intake (type by content, size, fields, roles,
idempotency), the audio and the outcome for the operator holding the callback only, deadlines on
an injected clock, compliance. Retries and breaches on virtual time are in tests/voicemail."""

from __future__ import annotations

import hashlib
import io
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import trio
import trio.testing
from quart import Quart
from werkzeug.datastructures import FileStorage

from hotline.api import create_app
from hotline.app import start_services
from hotline.clock import WallClock
from hotline.config import Settings
from hotline.files import OWNER_MARKER
from hotline.schedule.settings import ScheduleSettings
from hotline.services import Services
from hotline.services.auth import Role, create_token
from tests.api.conftest import NEVER, Api, Clients, Tokens
from tests.voicemail import samples

MSK = ZoneInfo("Europe/Moscow")
CAP_KIB = 256
FORM = {"phone": "8 (912) 345-67-89", "topic": "payments", "transcript": "Перезвоните, пожалуйста"}
CALLBACK_DESK = {
    "name": "Ольга Смирнова",
    "skills": {"callback": 3, "payments": 4},
    "languages": ["ru"],
    "capacity": {"voice": 1, "callback": 1},
    "certified_until": "2099-12-31",
}


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    """The API tests' settings, with recordings in a temporary directory and a 256 KiB cap
    (four times `http.max_body_kib`)."""
    voicemail = settings.voicemail.model_copy(
        update={"dir": tmp_path / "voicemail", "max_audio_kib": CAP_KIB}
    )
    return settings.model_copy(update={"voicemail": voicemail})


def recording(data: bytes, name: str = "message.wav", content_type: str = "audio/wav") -> Any:
    return FileStorage(io.BytesIO(data), name, content_type=content_type)


async def post_voicemail(
    api: Api, audio: bytes | None = None, *, form: dict[str, str] | None = None, **kw: Any
) -> tuple[int, Any]:
    files = {} if audio is None else {"audio": recording(audio)}
    return await api.call(
        "POST", "/v1/voicemails", form=FORM if form is None else form, files=files, **kw
    )


def epoch(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


async def ready_callback_desk(api: Clients, op_id: str = "op-1") -> None:
    status, body = await api.supervisor.put(f"/v1/operators/{op_id}", CALLBACK_DESK)
    assert status == 201, body
    status, body = await api.supervisor.post(f"/v1/operators/{op_id}/state", {"state": "ready"})
    assert status == 200, body


# -- intake -------------------------------------------------------------------------------------


async def test_a_voicemail_is_on_disk_with_its_checksum_before_the_answer_names_its_callback(
    api: Clients, services: Services, settings: Settings
) -> None:
    audio = samples.wav()
    status, body = await post_voicemail(api.integration, audio)

    assert status == 201, body
    assert body["id"].startswith("vm_")
    assert body["audio"] == {
        "type": "wav",
        "content_type": "audio/wav",
        "size": len(audio),
        "sha256": hashlib.sha256(audio).hexdigest(),
        "deleted_at": None,
    }
    assert (body["phone"], body["state"], body["transcript"]) == (
        "+79123456789",
        "calling",
        "Перезвоните, пожалуйста",
    )
    callback = body["callback"]
    assert callback["id"] == body["contact_id"] == body["attempts"][0]["contact_id"]
    assert (callback["channel"], callback["topic"], callback["state"]) == (
        "callback",
        "payments",
        "waiting",
    )
    assert callback["deadline_at"] == body["deadline_at"]
    assert epoch(callback["target_at"]) < epoch(callback["deadline_at"])
    assert (settings.voicemail.dir / f"{body['id']}.wav").read_bytes() == audio

    async def stored(tx: Any) -> list[tuple[Any, ...]]:
        rows = await tx.fetchall(
            "SELECT v.audio_sha256, c.state, c.skills FROM voicemails v"
            " JOIN contacts c ON c.id = v.contact_id WHERE v.id = ?",
            (body["id"],),
        )
        return [tuple(r) for r in rows]

    assert await services.store.read(stored) == [
        (hashlib.sha256(audio).hexdigest(), "waiting", '["callback","payments"]')
    ]


@pytest.mark.parametrize(
    ("audio", "declared", "kind"),
    [
        (samples.wav(), "application/octet-stream", "wav"),
        (samples.ogg_opus(), "audio/wav", "ogg_opus"),
        (samples.mp3_with_id3(), "text/plain", "mp3"),
        (samples.mp3_frames(), "audio/mpeg", "mp3"),
    ],
)
async def test_the_kind_of_a_recording_comes_from_its_bytes_not_its_declared_type(
    api: Clients, audio: bytes, declared: str, kind: str
) -> None:
    status, body = await api.integration.call(
        "POST",
        "/v1/voicemails",
        form=FORM,
        files={"audio": recording(audio, "x.bin", declared)},
    )
    assert status == 201, body
    assert body["audio"]["type"] == kind


@pytest.mark.parametrize(
    "audio",
    [samples.PNG, samples.TEXT, samples.ogg_vorbis(), b""],
    ids=["png", "text", "vorbis", "empty"],
)
async def test_a_recording_of_another_kind_is_415_naming_audio_and_leaves_no_file(
    api: Clients, settings: Settings, audio: bytes
) -> None:
    status, body = await api.integration.call(
        "POST", "/v1/voicemails", form=FORM, files={"audio": recording(audio, "m.wav", "audio/wav")}
    )
    assert status == 415
    assert (body["error"]["code"], body["error"]["field"]) == ("unsupported_media_type", "audio")
    assert recordings(settings) == []


async def test_a_json_body_is_415_naming_audio(api: Clients) -> None:
    status, body = await api.integration.post("/v1/voicemails", FORM)
    assert (status, body["error"]["field"]) == (415, "audio")


async def test_a_recording_larger_than_the_small_body_limit_but_within_its_cap_is_taken(
    api: Clients, settings: Settings
) -> None:
    assert settings.http.max_body_kib < CAP_KIB
    status, body = await post_voicemail(api.integration, samples.wav(samples=60_000))  # ~117 KiB
    assert status == 201, body


@pytest.mark.parametrize("kib", [CAP_KIB + 1, 4 * 1024], ids=["just_over", "far_over"])
async def test_a_recording_over_its_cap_is_413_naming_audio(
    api: Clients, settings: Settings, kib: int
) -> None:
    audio = samples.wav(samples=kib * 512)  # two bytes a sample: `kib` KiB and a header
    status, body = await post_voicemail(api.integration, audio)

    assert status == 413, body
    assert (body["error"]["code"], body["error"]["field"]) == ("too_large", "audio")
    assert recordings(settings) == []


async def test_other_routes_keep_the_small_body_limit(api: Clients, settings: Settings) -> None:
    big = {"channel": "voice", "topic": "payments", "phone": "x" * (100 * 1024)}
    status, _ = await api.integration.post("/v1/contacts", big)
    assert status == 413
    # A role that may report attempts: any other is refused (403) before the body is read.
    status, _ = await api.supervisor.post("/v1/voicemails/vm_0000000000000000/attempts", big)
    assert status == 413


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({**FORM, "phone": "12"}, "phone"),
        ({"topic": "payments"}, "phone"),
        ({**FORM, "topic": "astrology"}, "topic"),
        ({**FORM, "topic": "callback"}, "topic"),  # the skill every callback needs, not a topic
        ({**FORM, "transcript": "я" * 10_001}, "transcript"),
    ],
)
async def test_bad_fields_are_422_naming_them(
    api: Clients, form: dict[str, str], field: str
) -> None:
    status, body = await post_voicemail(api.integration, samples.wav(), form=form)
    assert (status, body["error"]["field"]) == (422, field), body


async def test_a_voicemail_without_its_recording_is_422_naming_audio(api: Clients) -> None:
    status, body = await post_voicemail(api.integration, None)
    assert (status, body["error"]["field"]) == (422, "audio")


async def test_only_an_integration_posts_voicemails(api: Clients) -> None:
    assert (await post_voicemail(api.anonymous, samples.wav()))[0] == 401
    assert (await post_voicemail(api.operator, samples.wav()))[0] == 403
    assert (await post_voicemail(api.supervisor, samples.wav()))[0] == 403


async def test_the_same_idempotency_key_finds_the_same_voicemail(
    api: Clients, settings: Settings
) -> None:
    key = {"Idempotency-Key": "switch-vm-7"}
    status1, first = await post_voicemail(api.integration, samples.wav(), headers=key)
    status2, again = await post_voicemail(api.integration, samples.wav(), headers=key)
    status3, other = await post_voicemail(api.integration, samples.mp3_frames(), headers=key)

    assert (status1, status2, status3) == (201, 200, 409)
    assert again["id"] == first["id"] and again["callback"]["id"] == first["callback"]["id"]
    assert other["error"]["field"] == "Idempotency-Key"
    assert len(recordings(settings)) == 1


async def test_a_voicemail_while_intake_is_closed_is_409(settings: Settings) -> None:
    closed = ScheduleSettings.model_validate({"channels": {"voicemail": NEVER}})
    settings = settings.model_copy(update={"schedule": closed})
    async with trio.open_nursery() as nursery:
        services = await start_services(nursery, settings)
        api = Api(create_app(services), (await create_token(services.store, Role.INTEGRATION))[1])
        status, body = await post_voicemail(api, samples.wav())
        assert (status, body["error"]["code"]) == (409, "closed")
        nursery.cancel_scope.cancel()


@pytest.mark.parametrize(
    ("left", "due"),
    [
        ("2026-03-13 21:00", "2026-03-14 10:00"),  # Friday night: Saturday opens at 09:00
        ("2026-03-15 15:30", "2026-03-16 08:30"),  # Sunday, half an hour before closing
    ],
)
async def test_the_callback_is_due_one_working_hour_of_the_voice_line_after_arrival(
    mock_clock: trio.testing.MockClock, settings: Settings, left: str, due: str
) -> None:
    # On a clock that stands still: the voicemail arrives at `left` exactly.
    shipped_hours = settings.model_copy(update={"schedule": ScheduleSettings()})
    arrival = datetime.fromisoformat(left).replace(tzinfo=MSK).timestamp()
    async with trio.open_nursery() as nursery:
        services = await start_services(nursery, shipped_hours, clock=WallClock(arrival))
        api = Api(create_app(services), (await create_token(services.store, Role.INTEGRATION))[1])
        status, body = await post_voicemail(api, samples.wav())
        nursery.cancel_scope.cancel()

    assert status == 201, body
    expected = datetime.fromisoformat(due).replace(tzinfo=MSK).timestamp()
    assert epoch(body["deadline_at"]) == pytest.approx(expected, abs=1e-3)
    assert epoch(body["callback"]["deadline_at"]) == pytest.approx(expected, abs=1e-3)
    assert epoch(body["arrived_at"]) == pytest.approx(arrival, abs=1e-3)


# -- the operator holding the callback ------------------------------------------------------------


async def test_the_recording_is_served_to_the_operator_holding_its_callback_and_supervisors(
    api: Clients, app: Quart, tokens: Tokens
) -> None:
    await ready_callback_desk(api)
    audio = samples.ogg_opus()
    status, vm = await post_voicemail(api.integration, audio)
    assert vm["callback"]["state"] == "offered" and vm["callback"]["operator_id"] == "op-1"
    path = f"/v1/voicemails/{vm['id']}/audio"

    async def fetch(token: str) -> tuple[int, str, bytes]:
        response = await app.test_client().get(path, headers={"Authorization": f"Bearer {token}"})
        return response.status_code, response.content_type, await response.get_data()

    assert await fetch(tokens.operator) == (200, "audio/ogg; codecs=opus", audio)  # offered
    assert (await fetch(tokens.supervisor))[0] == 200
    assert (await fetch(tokens.other_operator))[0] == 403
    assert (await fetch(tokens.integration))[0] == 403
    assert (await api.operator.get(f"/v1/voicemails/{vm['id']}"))[0] == 200  # with transcript
    assert (await api.other_operator.get(f"/v1/voicemails/{vm['id']}"))[0] == 403

    await api.operator.post(f"/v1/contacts/{vm['contact_id']}/accept")
    assert (await fetch(tokens.operator))[0] == 200  # assigned
    status, done = await api.operator.post(
        f"/v1/voicemails/{vm['id']}/attempts", {"outcome": "reached", "comment": "решено"}
    )
    assert (status, done["state"]) == (200, "completed")
    assert (await fetch(tokens.operator))[0] == 403  # no longer holds it


async def test_an_outcome_comes_only_from_the_operator_holding_the_accepted_callback(
    api: Clients,
) -> None:
    await ready_callback_desk(api)
    _, vm = await post_voicemail(api.integration, samples.wav())
    path = f"/v1/voicemails/{vm['id']}/attempts"

    status, body = await api.other_operator.post(path, {"outcome": "reached"})
    assert status == 403
    status, body = await api.operator.post(path, {"outcome": "reached"})
    assert status == 409 and "accept" in body["error"]["message"]  # offered, not accepted yet
    status, body = await api.supervisor.post(path, {"outcome": "reached"})
    assert (status, body["error"]["field"]) == (403, "operator_id")
    await api.operator.post(f"/v1/contacts/{vm['contact_id']}/accept")
    status, body = await api.operator.post(path, {"outcome": "maybe"})
    assert (status, body["error"]["field"]) == (422, "outcome")

    status, body = await api.supervisor.post(
        path, {"outcome": "not_reached", "operator_id": "op-1", "comment": "занято"}
    )
    assert (status, body["state"]) == (200, "retry_wait")
    assert body["attempts"][0]["comment"] == "занято"
    status, _ = await api.operator.post(path, {"outcome": "reached"})
    assert status == 409  # nothing in progress until the retry is due
    _, contact = await api.supervisor.get(f"/v1/contacts/{vm['contact_id']}")
    assert (contact["state"], contact["outcome"]) == ("completed", "not_reached")


async def test_an_unknown_voicemail_is_404(api: Clients) -> None:
    status, body = await api.supervisor.get("/v1/voicemails/vm_0000000000000000")
    assert (status, body["error"]["code"]) == (404, "not_found")


# -- compliance and the live view -------------------------------------------------------------


async def test_compliance_is_for_supervisors_over_a_valid_range(api: Clients) -> None:
    query = {"from": "2026-03-10", "to": "2026-03-16"}
    status, body = await api.supervisor.get("/v1/voicemails/compliance", query_string=query)
    assert status == 200, body
    assert body["timezone"] == "Europe/Moscow"
    assert [d["date"] for d in body["days"]][:2] == ["2026-03-10", "2026-03-11"]
    assert len(body["days"]) == 7 and body["total"]["voicemails"] == 0

    assert (await api.integration.get("/v1/voicemails/compliance", query_string=query))[0] == 403
    backwards = {"from": "2026-03-16", "to": "2026-03-10"}
    status, body = await api.supervisor.get("/v1/voicemails/compliance", query_string=backwards)
    assert (status, body["error"]["field"]) == (422, "to")
    status, body = await api.supervisor.get(
        "/v1/voicemails/compliance", query_string={"to": "2026-03-10"}
    )
    assert status == 422


async def test_the_queues_show_the_voicemail_callbacks(api: Clients) -> None:
    await post_voicemail(api.integration, samples.wav())
    status, body = await api.supervisor.get("/v1/queues")
    assert status == 200
    assert body["voicemail"] == {
        "calling": 1,
        "overdue": 0,
        "retry_wait": 0,
        "next_retry_at": None,
        "breaches_today": 0,
    }


async def test_the_openapi_document_describes_the_voicemail_routes(app: Quart) -> None:
    document = await (await app.test_client().get("/openapi.json")).get_json()
    paths = document["paths"]
    assert "multipart/form-data" in paths["/v1/voicemails"]["post"]["requestBody"]["content"]
    for path in ("/v1/voicemails/{voicemail_id}/attempts", "/v1/voicemails/compliance"):
        assert path in paths


def recordings(settings: Settings) -> list[str]:
    """The recordings folder's files, but its owner marker."""
    folder = settings.voicemail.dir
    names = [p.name for p in folder.iterdir()] if folder.exists() else []
    return sorted(name for name in names if name != OWNER_MARKER)
