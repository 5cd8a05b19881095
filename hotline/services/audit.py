"""Who read a citizen's personal data: recorded before the answer, listed for supervisors.

Every service that shows a person (supervisor, admin, operator) a phone, name, e-mail, free text
or recording unmasked calls `record_read` (or wraps its answer in `shown`) after deciding what it
shows and before it answers. The integration role is not recorded: it is the switch and the
citizen's own personal account, not a person reading someone else's data.

The record is durable before the answer, through the store's group commit: it costs no fsync of
its own (reads and writes arriving together share one COMMIT), and a record that cannot be
written fails the request, so data is never shown unrecorded and no record is lost silently.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from hotline.domain.errors import Invalid
from hotline.services import Services
from hotline.services.auth import Principal, Role
from hotline.services.paging import read_page
from hotline.store import Tx
from hotline.store.audit import ReadRecord, ReadRow, append_reads, list_reads
from hotline.store.rows import ContactRow
from hotline.store.voicemails import VoicemailRow

T = TypeVar("T")


class _ShowsContact(Protocol):
    @property
    def row(self) -> ContactRow: ...


C = TypeVar("C", bound=_ShowsContact)


class ShowsVoicemail(Protocol):
    @property
    def row(self) -> VoicemailRow: ...


@dataclass(frozen=True, slots=True)
class ReadPage:
    reads: list[ReadRow]
    next_cursor: str | None


def is_person(caller: Principal) -> bool:
    """A person reads through this token (the integration role is the portal and the switch)."""
    return caller.role is not Role.INTEGRATION


async def record_reads(
    sv: Services, caller: Principal, kind: str, shown: Iterable[tuple[str, Sequence[str]]]
) -> None:
    """Record that `caller` was shown, of each resource `(id, fields)` of `kind`, those fields
    unmasked; on disk when this returns. Nothing for the integration role or no fields."""
    if not is_person(caller):
        return
    records = [
        ReadRecord(caller.token_id, caller.role.value, caller.operator_id, kind, rid, tuple(f))
        for rid, f in shown
        if f
    ]
    if not records:
        return
    at = sv.clock.now()

    async def work(tx: Tx) -> None:
        await append_reads(tx, records, at=at)

    await sv.store.transact(work)


async def record_read_in(
    tx: Tx, caller: Principal, kind: str, resource_id: str, fields: Sequence[str], *, at: float
) -> None:
    """`record_read` inside a write the service is making anyway (a ticket's status change):
    the record commits with the change, or neither does."""
    if is_person(caller) and fields:
        record = ReadRecord(
            caller.token_id, caller.role.value, caller.operator_id, kind, resource_id, tuple(fields)
        )
        await append_reads(tx, [record], at=at)


async def record_read(
    sv: Services, caller: Principal, kind: str, resource_id: str, fields: Sequence[str]
) -> None:
    await record_reads(sv, caller, kind, [(resource_id, fields)])


async def shown(
    sv: Services, caller: Principal, kind: str, resource_id: str, fields: Sequence[str], answer: T
) -> T:
    """`answer`, once its read is recorded: a one-line hook for a service's return."""
    await record_read(sv, caller, kind, resource_id, fields)
    return answer


async def contact_shown(sv: Services, caller: Principal, view: C) -> C:
    """`view` (a contact as a service answers it, its phone unmasked), once recorded."""
    fields = ("phone",) if view.row.phone is not None else ()
    return await shown(sv, caller, "contact", view.row.id, fields, view)


async def voicemail_shown(sv: Services, caller: Principal, view: ShowsVoicemail) -> None:
    """Record a voicemail shown with its phone and transcript unmasked."""
    r = view.row
    fields = ("phone", "transcript") if r.transcript is not None else ("phone",)
    await record_read(sv, caller, "voicemail", r.id, fields)


async def list_read_page(
    sv: Services,
    caller: Principal,
    *,
    since: float | None,
    until: float | None,
    actor: str | None,
    limit: int,
    cursor: str | None,
) -> ReadPage:
    """The recorded reads in the order they were made (supervisors and admins)."""
    caller.require(Role.SUPERVISOR)
    if since is not None and until is not None and until < since:
        raise Invalid("`to` is before `from`", field="to")

    async def fetch(after: int, n: int) -> list[ReadRow]:
        return await sv.store.read(
            lambda tx: list_reads(
                tx, since=since, until=until, actor=actor, after_id=after, limit=n
            ),
            snapshot=False,  # one statement
        )

    return ReadPage(*await read_page("a", cursor, limit, fetch, key=lambda row: row.id))
