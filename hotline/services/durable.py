"""The router as services see it: each change returns once it is on disk.

`RouterHandle` answers as soon as the router has decided; its events reach the disk through the
journal a moment later. A service answering its client in between would acknowledge a change a
crash could still lose, so services never hold the bare handle: `DurableRouter` makes each
command and the journal's `sync()` (which covers every event published before it, the command's
own included) one call. Queries pass straight through: they change nothing.

A refused command (the router raises a `HotlineError`) decided no event of its own, but is
reported only once what the router decided before it is on disk: "no such contact" from the
router then means the store already shows how that contact ended.

Facts the router does not read (a phone, an idempotency record, an outcome) go in as a `note`
and reach the journal on the command's own events, not through anyone's dictionary.
"""

from __future__ import annotations

from typing import TypeVar

from hotline.domain.errors import HotlineError
from hotline.journal import Journal
from hotline.routing.actor import Admission, OperatorPut, Reply, RouterHandle
from hotline.routing.model import Event, NewContact, OperatorSpec, Presence
from hotline.store.events import ContactNote

T = TypeVar("T")


class DurableRouter:
    def __init__(self, router: RouterHandle, journal: Journal) -> None:
        self._router = router
        self._journal = journal
        # Reads are the handle's own calls, not wrapped: one frame less on every answer.
        self.queue_position = router.queue_position
        self.contact_state = router.contact_state
        self.holding = router.holding
        self.operator_states = router.operator_states
        self.statistics = router.statistics

    # -- changes: each returns once its events are committed ------------------------------------

    def admit(self, spec: NewContact, *, note: ContactNote | None = None) -> Reply[Admission]:
        """Queue a new contact, `note` written with its row; where it stands once routed."""
        return self._durable(self._router.admit(spec, note=note))

    def put_operator(self, spec: OperatorSpec) -> Reply[OperatorPut]:
        return self._durable(self._router.put_operator(spec))

    def set_presence(self, op_id: str, presence: Presence) -> Reply[list[Event]]:
        return self._durable(self._router.set_presence(op_id, presence))

    def end_wrap_up(self, op_id: str) -> Reply[list[Event]]:
        return self._durable(self._router.end_wrap_up(op_id))

    def accept(self, contact_id: str, op_id: str) -> Reply[list[Event]]:
        return self._durable(self._router.accept(contact_id, op_id))

    def reject(self, contact_id: str, op_id: str) -> Reply[list[Event]]:
        return self._durable(self._router.reject(contact_id, op_id))

    def abandon(self, contact_id: str) -> Reply[list[Event]]:
        return self._durable(self._router.abandon(contact_id))

    def expire(self, contact_id: str) -> Reply[list[Event]]:
        return self._durable(self._router.expire(contact_id))

    def complete(
        self, contact_id: str, op_id: str, *, note: ContactNote | None = None
    ) -> Reply[list[Event]]:
        """`note` (the outcome recorded) is written with the contact's end."""
        return self._durable(self._router.complete(contact_id, op_id, note=note))

    async def _durable(self, change: Reply[T]) -> T:
        try:
            answer = await change
        except HotlineError:
            # Refused, perhaps because of a change a moment older that is not on disk yet (the
            # contact has just ended): a caller that looks at the store next must find it.
            await self._journal.sync()
            raise
        await self._journal.sync()
        return answer
