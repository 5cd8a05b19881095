"""Unmasked reads of contacts and voicemails by a person are recorded like tickets': a contact's
phone (read, or answered to accept, reject, complete), a voicemail's phone and transcript, its
recording. The switch and the portal (integration) are not recorded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from quart import Quart

from hotline.config import Settings
from tests.api import test_forms as form_tests
from tests.api.conftest import PAYMENTS_DESK, Clients, Tokens
from tests.api.test_voicemails import post_voicemail, ready_callback_desk
from tests.voicemail import samples

CALL = {"channel": "voice", "topic": "payments", "phone": "+79161234567"}


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    """Recordings and attachments in the test's own folder."""
    voicemail = settings.voicemail.model_copy(update={"dir": tmp_path / "voicemail"})
    forms = settings.forms.model_copy(update={"attachments_dir": tmp_path / "attachments"})
    return settings.model_copy(update={"voicemail": voicemail, "forms": forms})


async def reads(api: Clients) -> list[tuple[str, str | None, str, list[str]]]:
    status, page = await api.supervisor.get("/v1/audit/reads")
    assert status == 200, page
    return [(r["role"], r["operator_id"], r["kind"], r["fields"]) for r in page["reads"]]


async def test_a_contacts_phone_shown_to_a_person_is_recorded(api: Clients) -> None:
    await api.supervisor.put("/v1/operators/op-1", PAYMENTS_DESK)
    await api.supervisor.post("/v1/operators/op-1/state", {"state": "ready"})
    cid = (await api.integration.post("/v1/contacts", CALL))[1]["id"]
    assert (await api.integration.get(f"/v1/contacts/{cid}"))[0] == 200  # not a person

    assert (await api.operator.post(f"/v1/contacts/{cid}/accept"))[0] == 200
    assert (await api.operator.get(f"/v1/contacts/{cid}"))[0] == 200
    assert (await api.other_operator.get(f"/v1/contacts/{cid}"))[0] == 404  # shown nothing
    assert (await api.supervisor.get(f"/v1/contacts/{cid}"))[0] == 200
    done = {"outcome": "объяснил"}
    assert (await api.operator.post(f"/v1/contacts/{cid}/complete", done))[0] == 200
    assert (await api.supervisor.get("/v1/contacts"))[0] == 200  # a listing: masked

    phone = ["phone"]
    assert await reads(api) == [
        ("operator", "op-1", "contact", phone),
        ("operator", "op-1", "contact", phone),
        ("supervisor", None, "contact", phone),
        ("operator", "op-1", "contact", phone),
    ]


async def test_a_voicemail_and_its_recording_heard_by_a_person_are_recorded(
    api: Clients, app: Quart, tokens: Tokens
) -> None:
    await ready_callback_desk(api)
    status, vm = await post_voicemail(api.integration, samples.ogg_opus())
    assert status == 201, vm
    vid = vm["id"]
    assert (await api.integration.get(f"/v1/voicemails/{vid}"))[0] == 200  # not a person

    assert (await api.operator.get(f"/v1/voicemails/{vid}"))[0] == 200
    assert (await api.other_operator.get(f"/v1/voicemails/{vid}"))[0] == 403
    heard = await app.test_client().get(f"/v1/voicemails/{vid}/audio", headers=auth(tokens))
    assert heard.status_code == 200
    await api.operator.post(f"/v1/contacts/{vm['contact_id']}/accept")
    status, _ = await api.operator.post(f"/v1/voicemails/{vid}/attempts", {"outcome": "reached"})
    assert status == 200

    got = await reads(api)
    shown = (["phone", "transcript"] if vm["transcript"] else ["phone"],)
    assert got == [
        ("operator", "op-1", "voicemail", *shown),
        ("supervisor", None, "voicemail_audio", ["audio"]),
        ("operator", "op-1", "contact", ["phone"]),
        ("operator", "op-1", "voicemail", *shown),
    ]


def auth(tokens: Tokens) -> dict[str, Any]:
    return {"Authorization": f"Bearer {tokens.supervisor}"}


async def test_a_form_tickets_attachment_names_are_hidden_from_an_operator_not_on_it(
    app: Quart, tokens: Tokens, api: Clients
) -> None:
    fields = {**form_tests.FIELDS}
    attached = form_tests.files(("Иванова_паспорт.pdf", form_tests.PDF))
    status, ticket = await form_tests.post(app, tokens.integration, fields, attached)
    assert status == 201, ticket
    number = ticket["number"]

    _, full = await api.supervisor.get(f"/v1/tickets/{number}")
    assert "Иванова_паспорт.pdf" in str(full["history"][0]["details"])
    _, masked = await api.operator.get(f"/v1/tickets/{number}")
    assert masked["history"][0]["details"] == {}
