"""The router and the store as services see them: each change returns once it is on disk, and
what must follow a commit (waking the outbox's senders, the open-ticket index) follows it here.

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

`CommittingStore` is the store handle services hold: a work says what its writes call for with
`tx.after_commit(fact)` (the outbox does it for every message it enqueues), and once the
transaction is on disk the facts go to one post-commit hook (`after_commit` below), so no caller
has to remember to wake a sender or to update an index, and a rolled-back work wakes nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from hotline.domain.errors import HotlineError
from hotline.journal import Journal
from hotline.notify.sender import Notifier
from hotline.routing.actor import Admission, OperatorPut, Reply, RouterHandle
from hotline.routing.model import Event, NewContact, OperatorSpec, Presence
from hotline.services.open_tickets import OpenTickets, TicketRevised
from hotline.store import StoreHandle, Tx
from hotline.store.events import ContactNote
from hotline.store.outbox import OutboxWritten

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

    def certify(self, op_id: str, certified_until: float | None) -> Reply[list[Event]]:
        return self._durable(self._router.certify(op_id, certified_until))

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

    def switch_to_voice(
        self, contact_id: str, op_id: str, new_id: str, *, note: ContactNote | None = None
    ) -> Reply[list[Event]]:
        """A chat moved to a call; `note` (the phone) is written with the call's row."""
        return self._durable(self._router.switch_to_voice(contact_id, op_id, new_id, note=note))

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


PostCommit = Callable[[list[object]], Awaitable[None]]


class CommittingStore:
    """`StoreHandle` with its writes' post-commit work attached; reads pass straight through."""

    def __init__(self, store: StoreHandle, after: PostCommit) -> None:
        self.handle = store  # the bare handle, which the journal shares
        self._store = store
        self._after = after
        self.read = store.read
        self.statistics = store.statistics

    async def transact(self, work: Callable[[Tx], Awaitable[T]]) -> T:
        """`StoreHandle.transact`, then the post-commit hook with the facts the work recorded.
        A caller cancelled while it waits leaves them to the fallbacks (the senders' poll)."""
        facts: list[object] = []

        async def collecting(tx: Tx) -> T:
            tx.collect_facts(facts)
            try:
                return await work(tx)
            finally:
                tx.collect_facts(None)

        result = await self._store.transact(collecting)
        if facts:
            await self._after(facts)
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)  # what else the handle offers (health, ...)


def after_commit(store: StoreHandle, notifier: Notifier, open_tickets: OpenTickets) -> PostCommit:
    """The services' post-commit hook: the senders of what was enqueued look at once, and the
    open-ticket index follows the tickets written."""

    async def hook(facts: list[object]) -> None:
        woken: set[object] = set()
        for fact in facts:
            if isinstance(fact, OutboxWritten):
                if fact.kind not in woken:
                    woken.add(fact.kind)
                    notifier.notify_new(fact.kind)
            elif isinstance(fact, TicketRevised):
                await open_tickets.revised(store, fact)

    return hook
