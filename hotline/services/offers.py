"""The offer board: which contact is offered to which operator right now, and live feeds of it.

Fed by its own lossless subscription to the router's events (it only updates dicts, so it never
holds the router up). `pending(operator_id)` answers `GET /v1/operators/{id}/offers`;
`listen(operator_id)` gives the feed behind the Server-Sent Events stream: the offers pending
when it starts, then every new or withdrawn offer. A listener that falls behind is dropped (its
stream ends and the desk reconnects), so a stalled desk cannot slow the board down. On restart
the board starts empty, which is right: offers in flight went back to the queue.
"""

from __future__ import annotations

from dataclasses import dataclass

import trio

from hotline.routing.actor import batches
from hotline.routing.model import Accepted, Ended, Event, Offered, OfferWithdrawn

LISTENER_BUFFER = 64


@dataclass(frozen=True, slots=True)
class OfferNews:
    """One change on an operator's board: `kind` is "offered" or "withdrawn"."""

    kind: str
    contact_id: str
    operator_id: str
    at: float
    expires_at: float | None = None
    reason: str | None = None


class OfferBoard:
    def __init__(self, feed: trio.MemoryReceiveChannel[Event]) -> None:
        self._feed = feed
        self._pending: dict[str, dict[str, Offered]] = {}
        self._listeners: dict[str, list[trio.MemorySendChannel[OfferNews]]] = {}
        self._closed = False

    def pending(self, operator_id: str) -> list[Offered]:
        return sorted(self._pending.get(operator_id, {}).values(), key=lambda o: o.at)

    def listen(self, operator_id: str) -> trio.MemoryReceiveChannel[OfferNews]:
        send, recv = trio.open_memory_channel[OfferNews](LISTENER_BUFFER)
        for offer in self.pending(operator_id):
            send.send_nowait(_offered(offer))
        if self._closed:
            send.close()
        else:
            sends = self._listeners.setdefault(operator_id, [])
            # Feeds whose reader left are otherwise dropped only when the next news comes: an
            # operator who reconnects often with no offer in between would pile them up.
            sends[:] = [s for s in sends if s.statistics().open_receive_channels > 0]
            sends.append(send)
        return recv

    def close_listeners(self) -> None:
        """End every live feed (the server is stopping: streams must not hold it up)."""
        self._closed = True
        for sends in self._listeners.values():
            for send in sends:
                send.close()
        self._listeners.clear()

    async def run(
        self, *, task_status: trio.TaskStatus[OfferBoard] = trio.TASK_STATUS_IGNORED
    ) -> None:
        task_status.started(self)
        async for batch in batches(self._feed):
            for event in batch:
                self._apply(event)

    def _apply(self, event: Event) -> None:
        if isinstance(event, Offered):
            self._pending.setdefault(event.operator_id, {})[event.contact_id] = event
            self._tell(event.operator_id, _offered(event))
        elif isinstance(event, OfferWithdrawn | Accepted):
            self._take(event.operator_id, event.contact_id)
            reason = event.reason if isinstance(event, OfferWithdrawn) else "accepted"
            news = OfferNews(
                "withdrawn", event.contact_id, event.operator_id, event.at, reason=reason
            )
            self._tell(event.operator_id, news)
        elif isinstance(event, Ended) and event.operator_id is not None:
            self._take(event.operator_id, event.contact_id)

    def _take(self, operator_id: str, contact_id: str) -> None:
        offers = self._pending.get(operator_id)
        if offers is not None:
            offers.pop(contact_id, None)
            if not offers:
                del self._pending[operator_id]

    def _tell(self, operator_id: str, news: OfferNews) -> None:
        sends = self._listeners.get(operator_id)
        if not sends:
            return
        for send in list(sends):
            try:
                send.send_nowait(news)
            except (trio.WouldBlock, trio.BrokenResourceError, trio.ClosedResourceError):
                send.close()
                sends.remove(send)
        if not sends:
            del self._listeners[operator_id]


def _offered(offer: Offered) -> OfferNews:
    return OfferNews("offered", offer.contact_id, offer.operator_id, offer.at, offer.expires_at)
