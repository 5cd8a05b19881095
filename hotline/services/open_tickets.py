"""Each caller's most recent ticket that is not completed, kept in memory for `POST /v1/contacts`.

A create answers a repeat caller with that ticket's number; asking the store on every create cost
a third of a millisecond of the one thread every request shares. The index is loaded at start and
kept up to date after each commit that changes a ticket: the ticket service says
`tx.after_commit(TicketRevised(...))` in the transaction, and the services' post-commit hook
(`hotline.services.durable.after_commit`) calls `revised` once it is on disk (this process is the
only one that writes tickets).
Completed is the one final status, so a ticket leaves the index once and never comes back.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from hotline.store import StoreHandle, Tx
from hotline.tickets.lifecycle import TicketStatus

_CLOSED = TicketStatus.COMPLETED.value
T = TypeVar("T")


class Reads(Protocol):
    """What the index needs of a store handle (the bare one, or the services' own)."""

    async def read(self, work: Callable[[Tx], Awaitable[T]], *, snapshot: bool = True) -> T: ...


@dataclass(frozen=True, slots=True)
class TicketRevised:
    """A ticket was written with `status` (a post-commit fact, see `Tx.after_commit`)."""

    phone: str
    number: str
    status: str
    created_at: float


class OpenTickets:
    def __init__(self, latest: dict[str, tuple[float, str]] | None = None) -> None:
        self._latest = latest or {}  # phone -> (created_at, number)

    @classmethod
    async def load(cls, store: StoreHandle) -> OpenTickets:
        async def work(tx: Tx) -> dict[str, tuple[float, str]]:
            rows = await tx.fetchall(
                "SELECT phone, created_at, number FROM tickets WHERE status != ?"
                " ORDER BY created_at, rowid",
                (_CLOSED,),
            )
            return {r["phone"]: (r["created_at"], r["number"]) for r in rows}  # latest wins

        return cls(await store.read(work, snapshot=False))

    def of(self, phone: str) -> str | None:
        found = self._latest.get(phone)
        return None if found is None else found[1]

    def opened(self, phone: str, number: str, created_at: float) -> None:
        current = self._latest.get(phone)
        if current is None or current[0] <= created_at:
            self._latest[phone] = (created_at, number)

    async def revised(self, store: Reads, ticket: TicketRevised) -> None:
        if ticket.status == _CLOSED:
            await self.completed(store, ticket.phone, ticket.number)
        else:
            self.opened(ticket.phone, ticket.number, ticket.created_at)

    async def completed(self, store: Reads, phone: str, number: str) -> None:
        """`number` was completed: the caller's open ticket is now the one before it, if any."""
        current = self._latest.get(phone)
        if current is None or current[1] != number:
            return
        del self._latest[phone]

        async def work(tx: Tx) -> tuple[float, str] | None:
            row = await tx.fetchone(
                "SELECT created_at, number FROM tickets WHERE phone = ? AND status != ?"
                " ORDER BY created_at DESC, rowid DESC LIMIT 1",
                (phone, _CLOSED),
            )
            return None if row is None else (row["created_at"], row["number"])

        found = await store.read(work, snapshot=False)
        if found is not None:
            self.opened(phone, found[1], found[0])
