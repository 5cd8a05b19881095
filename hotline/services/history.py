"""A citizen's history: notes kept with contacts, and everything one phone did or was sent.

`add_note`: the operator handling a contact (during its wrap-up too) or a supervisor writes a
note; it is on disk before the answer. `citizen_history`: a phone's contacts (with their notes,
outcome and operator), tickets (with their statuses), voicemails and SMS, oldest first, a page
at a time. Who may read one: a supervisor (or admin); the personal account (integration); an
operator only while it handles a contact from that phone. This is personal data read whole, so
every read is recorded in `pii_reads` with who, when and the reason the reader gave, in the
same transaction that reads the page: no page is answered unrecorded. Unlike the other reads
of `hotline.services.audit`, the integration role's are recorded too: the personal account
reads on a citizen's behalf, and the issue asks for every read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hotline.domain.errors import Forbidden, Invalid, NotFound
from hotline.domain.phones import normalize_phone
from hotline.routing.model import ContactState
from hotline.services import Services
from hotline.services.auth import Principal, Role
from hotline.services.paging import MAX_KEY, page_size
from hotline.store import Tx
from hotline.store.audit import ReadRecord, append_reads
from hotline.store.history import (
    FIRST,
    HistoryKey,
    Keyed,
    NoteRow,
    Source,
    history_page,
    holds_contact_from,
)
from hotline.store.history import add_note as store_note
from hotline.store.queries import get_contact

HISTORY_READ = "citizen_history"  # the `kind` of its reads in `pii_reads`
_CURSOR = re.compile(r"h([0-9a-f]{1,16})\.([0-9])\.([0-9a-f]{1,16})")


@dataclass(frozen=True, slots=True)
class HistoryPage:
    phone: str  # E.164
    entries: list[Keyed]
    next_cursor: str | None


async def add_note(sv: Services, caller: Principal, contact_id: str, text: str) -> NoteRow:
    """Keep `text` with the contact. An operator may note only the contact it handles, or the
    one it has just finished while its wrap-up lasts; any other is not said to exist."""
    caller.require(Role.SUPERVISOR, Role.OPERATOR)
    text = text.strip()
    if not text:
        raise Invalid("a note needs some text", field="text")
    now = sv.clock.now()
    wrap_up_s = sv.settings.routing.wrap_up_s

    async def work(tx: Tx) -> NoteRow:
        row = await get_contact(tx, contact_id)
        if row is None or (
            caller.role is Role.OPERATOR
            and not (
                row.operator_id == caller.operator_id
                and (
                    row.state is ContactState.ASSIGNED
                    or (row.ended_at is not None and now - row.ended_at <= wrap_up_s)
                )
            )
        ):
            raise NotFound(f"no contact {contact_id}")
        return await store_note(
            tx,
            contact_id=contact_id,
            at=now,
            token_id=caller.token_id,
            role=caller.role.value,
            operator_id=caller.operator_id,
            text=text,
        )

    return await sv.store.transact(work)


async def citizen_history(
    sv: Services, caller: Principal, phone: str, *, reason: str, limit: int, cursor: str | None
) -> HistoryPage:
    """One page of the phone's history, recorded as read by `caller` for `reason`."""
    caller.require(Role.SUPERVISOR, Role.INTEGRATION, Role.OPERATOR)
    e164 = normalize_phone(phone)
    reason = reason.strip()
    if not reason:
        raise Invalid("say why you read this history", field="reason")
    after = decode_history_cursor(cursor)
    size = page_size(limit)
    now = sv.clock.now()

    async def work(tx: Tx) -> list[Keyed]:
        if caller.role is Role.OPERATOR:
            assert caller.operator_id is not None
            if not await holds_contact_from(tx, e164, caller.operator_id):
                raise Forbidden(
                    "an operator reads the history of the citizen it is handling only",
                    field="phone",
                )
        entries = await history_page(tx, e164, after=after, limit=size + 1)
        shown = sorted({_FIELDS[Source(k.key.source)] for k in entries[:size]} | {"phone"})
        record = ReadRecord(
            caller.token_id,
            caller.role.value,
            caller.operator_id,
            HISTORY_READ,
            e164,
            tuple(shown),
            reason,
        )
        await append_reads(tx, [record], at=now)
        return entries

    entries = await sv.store.transact(work)
    if len(entries) <= size:
        return HistoryPage(e164, entries, None)
    del entries[size:]
    return HistoryPage(e164, entries, encode_history_cursor(entries[-1].key))


_FIELDS = {
    Source.CONTACT: "contacts",
    Source.TICKET: "tickets",
    Source.VOICEMAIL: "voicemails",
    Source.SMS: "sms",
}


def encode_history_cursor(key: HistoryKey) -> str:
    return f"h{key.at_us:x}.{key.source}.{key.rid:x}"


def decode_history_cursor(cursor: str | None) -> HistoryKey:
    """The key after which the page starts (before everything for the first page)."""
    if not cursor:
        return FIRST
    match = _CURSOR.fullmatch(cursor)
    if match is not None:
        key = HistoryKey(int(match[1], 16), int(match[2]), int(match[3], 16))
        if key.at_us <= MAX_KEY and key.rid <= MAX_KEY and key.source in set(Source):
            return key
    raise Invalid("not a cursor this server gave out", field="cursor")
