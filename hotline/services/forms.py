"""The feedback form: a citizen's message from the portal becomes a ticket, with its
attachments kept on disk and a confirmation e-mail in the outbox; the text of the form types in
`[feedback] form_kinds` is also feedback sorted by theme (`hotline.store.feedback`), written in
the ticket's transaction.

Attachments are recognised by their content (PDF, PNG, JPEG), capped in number and size, and
written durably (temporary file, fsync, rename) before the ticket's transaction, which records
their names, sizes and SHA-256 with the ticket's creation and puts the e-mail in the outbox. A
crash between the two leaves files no ticket names, never a ticket without its files.
"""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import IO

import trio

from hotline.domain.errors import Invalid, PayloadTooLarge, UnsupportedMediaType
from hotline.domain.phones import normalize_phone
from hotline.files import (
    StoredFile,
    TooLarge,
    delete_folder_durably,
    remove_strays,
    write_durably,
)
from hotline.jsonlog import log_event
from hotline.notify.templates import feedback_confirmation_email
from hotline.services import Services
from hotline.services.auth import Principal, Role
from hotline.services.tickets import TicketRequest, TicketView, create_ticket
from hotline.store import Tx
from hotline.store.feedback import FeedbackSource, add_feedback
from hotline.store.identity import database_id
from hotline.store.outbox import MessageKind, NewMessage, enqueue_message
from hotline.store.tickets import TicketRow, form_folders

log = logging.getLogger(__name__)

SNIFF_BYTES = 8
_SIGNATURES = {
    "pdf": (b"%PDF-",),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "jpeg": (b"\xff\xd8\xff",),
}


class FeedbackKind(StrEnum):
    TECHNICAL = "technical"
    INFORMATION = "information"
    RECOMMENDATION = "recommendation"


class UnsupportedAttachment(UnsupportedMediaType):
    pass


class AttachmentTooLarge(PayloadTooLarge):
    pass


@dataclass(frozen=True, slots=True)
class Attachment:
    file_name: str
    stream: IO[bytes]


@dataclass(frozen=True, slots=True)
class FeedbackForm:
    phone: str
    full_name: str
    email: str
    kind: FeedbackKind
    description: str
    attachments: list[Attachment]


def sniff_attachment(head: bytes) -> str | None:
    """ "pdf", "png" or "jpeg" from a file's first bytes; None for anything else."""
    for kind, signatures in _SIGNATURES.items():
        if any(head.startswith(sig) for sig in signatures):
            return kind
    return None


async def submit_feedback(sv: Services, caller: Principal, form: FeedbackForm) -> TicketView:
    """A ticket from the form, its attachments kept with it. A form that is refused, or cut
    short, keeps none of the citizen's files."""
    caller.require(Role.INTEGRATION)
    forms = sv.settings.forms
    if len(form.attachments) > forms.max_attachments:
        raise Invalid(f"at most {forms.max_attachments} attachments", field="attachments")
    kinds = [_kind_of(a, forms.attachment_types) for a in form.attachments]
    normalize_phone(form.phone)  # refused before any file is written
    folder = forms.attachments_dir / f"form-{secrets.token_hex(8)}"
    try:
        stored = await _store_attachments(sv, form, kinds, folder)
        # Shielded: a client that hangs up cannot leave a ticket without its files, so if this
        # raises, the ticket was refused or rolled back.
        with trio.CancelScope(shield=True):
            view = await _open_ticket(sv, caller, form, stored)
    except BaseException:
        with trio.CancelScope(shield=True):
            await trio.to_thread.run_sync(delete_folder_durably, folder)
        raise
    return view


async def _open_ticket(
    sv: Services, caller: Principal, form: FeedbackForm, stored: list[dict[str, object]]
) -> TicketView:
    at = sv.clock.now()

    async def confirm(tx: Tx, ticket: TicketRow) -> None:
        mail = feedback_confirmation_email(
            sv.templates, number=ticket.number, full_name=form.full_name
        )
        await enqueue_message(
            tx,
            NewMessage(
                MessageKind.EMAIL,
                form.email,
                mail.body,
                dedupe_key=f"ticket:{ticket.number}:feedback_confirmation",
                subject=mail.subject,
            ),
            at=at,
        )
        if form.kind.value in sv.settings.feedback.form_kinds:
            # The citizen's text is feedback too: sorted by theme with the ticket, or not at all.
            await add_feedback(
                tx,
                source=FeedbackSource.FORM,
                source_id=ticket.number,
                text=form.description,
                topic=ticket.topic,
                operator_id=None,
                at=at,
            )

    request = TicketRequest(
        topic=sv.settings.forms.feedback_topics[form.kind.value],
        phone=form.phone,
        description=form.description,
        full_name=form.full_name,
        email=form.email,
    )
    return await create_ticket(
        sv,
        caller,
        request,
        source="feedback_form",
        data={"form_type": form.kind.value, "attachments": stored},
        also=confirm,
    )


async def _store_attachments(
    sv: Services, form: FeedbackForm, kinds: list[str], folder: Path
) -> list[dict[str, object]]:
    forms = sv.settings.forms
    stored: list[dict[str, object]] = []
    for index, (attachment, kind) in enumerate(zip(form.attachments, kinds, strict=True)):
        name = f"{index + 1}.{kind}"
        try:
            saved: StoredFile = await trio.to_thread.run_sync(
                write_durably, folder, name, attachment.stream, forms.max_attachment_kib * 1024
            )
        except TooLarge:
            raise AttachmentTooLarge(
                f"an attachment is at most {forms.max_attachment_kib} KiB", field="attachments"
            ) from None
        stored.append(
            {
                "file": f"{folder.name}/{name}",
                "name": attachment.file_name[:200],
                "type": kind,
                "size": saved.size,
                "sha256": saved.sha256,
            }
        )
    return stored


async def remove_stray_attachments(sv: Services) -> list[str]:
    """Delete the attachment folders no ticket names: a crash between writing a form's files
    and committing its ticket leaves one. Run at start-up, before the API serves (so that no
    form is in flight); the folders' names."""
    folder = sv.settings.forms.attachments_dir
    known = await sv.store.read(form_folders)
    owner = await sv.store.read(database_id)  # another database's folder is never swept
    removed = await trio.to_thread.run_sync(
        lambda: remove_strays(folder, known, modified_before=time.time(), owner=owner)
    )
    if removed:
        log_event(log, "forms.stray_attachments_deleted", count=len(removed))
    return removed


def _kind_of(attachment: Attachment, accepted: tuple[str, ...]) -> str:
    start = attachment.stream.tell()
    head = attachment.stream.read(SNIFF_BYTES)
    attachment.stream.seek(start)
    kind = sniff_attachment(head)
    if kind is None or kind not in accepted:
        raise UnsupportedAttachment(
            f"attachments are {', '.join(accepted)} files", field="attachments"
        )
    return kind
