"""`POST /v1/forms/feedback` through the test client: a ticket, its files, the confirmation."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from quart import Quart
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from hotline.config import Settings
from hotline.files import OWNER_MARKER
from hotline.services import Services
from hotline.services.forms import remove_stray_attachments
from hotline.store import Tx
from tests.api.conftest import Tokens, auth

PDF = b"%PDF-1.7\n" + b"x" * 2000
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 500
FIELDS = {
    "phone": "+7 916 123-45-67",
    "full_name": "Иванова Мария Петровна",
    "email": "maria@example.ru",
    "type": "technical",
    "description": "Не загружается скан паспорта",  # noqa: RUF001
}


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    forms = settings.forms.model_copy(
        update={"attachments_dir": tmp_path / "attachments", "max_attachment_kib": 4}
    )
    return settings.model_copy(update={"forms": forms})


def files(*contents: tuple[str, bytes]) -> list[FileStorage]:
    return [FileStorage(io.BytesIO(data), filename=name) for name, data in contents]


async def post(
    app: Quart, token: str, fields: dict[str, str], attached: list[FileStorage] | None = None
) -> tuple[int, dict[str, object]]:
    values = MultiDict([*fields.items(), *(("attachments", f) for f in attached or [])])
    boundary, body = encode_multipart(values)
    response = await app.test_client().post(
        "/v1/forms/feedback",
        data=body,
        headers={**auth(token), "Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    return response.status_code, await response.get_json()


async def test_a_form_becomes_a_ticket_with_its_files_and_a_confirmation(
    app: Quart, tokens: Tokens, services: Services, settings: Settings
) -> None:
    status, ticket = await post(
        app, tokens.integration, FIELDS, files(("scan.pdf", PDF), ("screen.png", PNG))
    )

    assert status == 201, ticket
    assert (ticket["status"], ticket["topic"], ticket["source"]) == (
        "accepted",
        "technical",
        "feedback_form",
    )
    created = ticket["history"][0]["details"]  # type: ignore[index]
    assert created["form_type"] == "technical"
    kept = created["attachments"]
    assert [(a["name"], a["type"], a["size"]) for a in kept] == [
        ("scan.pdf", "pdf", len(PDF)),
        ("screen.png", "png", len(PNG)),
    ]
    assert (settings.forms.attachments_dir / kept[0]["file"]).read_bytes() == PDF

    async def mail(tx: Tx) -> list[tuple[str, str, str]]:
        rows = await tx.fetchall("SELECT kind, recipient, subject FROM messages ORDER BY id")
        return [tuple(r) for r in rows]

    sent = await services.store.read(mail)
    assert ("email", "maria@example.ru") in [(k, r) for k, r, _ in sent]
    assert any(ticket["number"] in (s or "") for _, _, s in sent)


async def test_an_attachment_that_is_not_a_pdf_png_or_jpeg_is_415(
    app: Quart, tokens: Tokens
) -> None:
    status, body = await post(app, tokens.integration, FIELDS, files(("virus.exe", b"MZ\x90\0")))
    assert (status, body["error"]["field"]) == (415, "attachments")  # type: ignore[index]


async def test_an_attachment_over_the_cap_is_413(app: Quart, tokens: Tokens) -> None:
    big = b"%PDF-1.7\n" + b"x" * 5000  # the test cap is 4 KiB
    status, body = await post(app, tokens.integration, FIELDS, files(("big.pdf", big)))
    assert (status, body["error"]["field"]) == (413, "attachments")  # type: ignore[index]


async def test_bad_fields_are_422_and_create_nothing(app: Quart, tokens: Tokens) -> None:
    for field, value in (("email", "nope"), ("type", "complaint"), ("phone", "12")):
        status, body = await post(app, tokens.integration, {**FIELDS, field: value})
        assert (status, body["error"]["field"]) == (422, field), body  # type: ignore[index]
    response = await app.test_client().get("/v1/tickets", headers=auth(tokens.supervisor))
    assert (await response.get_json())["tickets"] == []


async def test_a_json_body_is_415_and_only_integrations_may_post(
    app: Quart, tokens: Tokens
) -> None:
    response = await app.test_client().post(
        "/v1/forms/feedback", json=FIELDS, headers=auth(tokens.integration)
    )
    assert response.status_code == 415
    status, _ = await post(app, tokens.operator, FIELDS)
    assert status == 403


async def test_a_refused_form_leaves_none_of_its_files_behind(
    app: Quart, tokens: Tokens, settings: Settings
) -> None:
    """Citizens' documents are kept only for a form that became a ticket."""
    too_big = b"%PDF-1.7\n" + b"x" * 5000  # refused after the first attachment was written
    status, _ = await post(
        app, tokens.integration, FIELDS, files(("scan.pdf", PDF), ("big.pdf", too_big))
    )
    assert status == 413
    status, _ = await post(
        app, tokens.integration, {**FIELDS, "phone": "12"}, files(("scan.pdf", PDF))
    )
    assert status == 422

    folder = settings.forms.attachments_dir
    leftovers = sorted(p for p in folder.rglob("*") if p.name != OWNER_MARKER)
    assert leftovers == []


async def test_a_form_whose_ticket_is_rolled_back_leaves_none_of_its_files_behind(
    app: Quart, tokens: Tokens, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def outbox_broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the outbox refused the confirmation")

    # Fails inside the ticket's transaction, after the ticket row was written: all rolled back.
    monkeypatch.setattr("hotline.services.forms.enqueue_message", outbox_broken)
    status, body = await post(app, tokens.integration, FIELDS, files(("scan.pdf", PDF)))

    assert status == 500, body
    folder = settings.forms.attachments_dir
    leftovers = sorted(p for p in folder.rglob("*") if p.name != OWNER_MARKER)
    assert leftovers == []
    response = await app.test_client().get("/v1/tickets", headers=auth(tokens.supervisor))
    assert (await response.get_json())["tickets"] == []


async def test_folders_no_ticket_names_are_removed_at_start_and_a_tickets_files_kept(
    app: Quart, tokens: Tokens, services: Services, settings: Settings
) -> None:
    status, ticket = await post(app, tokens.integration, FIELDS, files(("scan.pdf", PDF)))
    assert status == 201
    kept = ticket["history"][0]["details"]["attachments"][0]["file"]  # type: ignore[index]
    # What a crash between writing a form's files and committing its ticket leaves behind.
    stray = settings.forms.attachments_dir / "form-0123456789abcdef"
    stray.mkdir()
    (stray / "1.pdf").write_bytes(PDF)

    assert await remove_stray_attachments(services) == [stray.name]

    assert not stray.exists()
    assert (settings.forms.attachments_dir / kept).read_bytes() == PDF
