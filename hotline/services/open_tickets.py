"""Each caller's most recent ticket that is not completed, kept in memory for `POST /v1/contacts`.

A create answers a repeat caller with that ticket's number; asking the store on every create cost
a third of a millisecond of the one thread every request shares. The index is loaded at start and
kept by the ticket service after each commit (this process is the only one that writes tickets).
Completed is the one final status, so a ticket leaves the index once and never comes back.
"""

from __future__ import annotations

from hotline.store import StoreHandle, Tx
from hotline.tickets.lifecycle import TicketStatus

_CLOSED = TicketStatus.COMPLETED.value


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

    async def completed(self, store: StoreHandle, phone: str, number: str) -> None:
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
