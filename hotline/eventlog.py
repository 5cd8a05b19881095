"""Writes routing events as structured log lines: every one at `debug`, the ones a supervisor
acts on (a contact overflowed to more skills, a deadline breached) at `info`.

The record of routing is the store's: the journal writes every event in the transaction of the
command that decided it (the `events` table, `GET /v1/history`). At `info` the log would repeat
each of them in a line of its own, the second of a create's two lines and about 4 % of its CPU,
so the everyday ones (enqueued, offered, accepted, ended, an operator's state) are logged only
when `log.level` is `debug`.

Started by the composition root (`hotline.app`) in the root nursery beside the router actor it
reads from. The feed is lossy on purpose: logging must never hold the router back, so a log that
falls behind is told so by the actor (its feed closes), says so in the log, and resubscribes.
"""

from __future__ import annotations

import functools
import logging
import re

from hotline.jsonlog import log_event
from hotline.routing.actor import RouterActor, batches
from hotline.routing.model import Breached, Event, Overflowed, event_fields

log = logging.getLogger(__name__)
FEED_BUFFER = 4096  # events the log may fall behind a burst before it loses some
# The level of each kind of event's line; every other kind is logged at `debug`.
LEVELS: dict[type, int] = {Overflowed: logging.INFO, Breached: logging.INFO}


async def log_router_events(actor: RouterActor) -> None:
    while True:
        async with actor.subscribe(buffer=FEED_BUFFER) as feed:
            async for batch in batches(feed):
                for event in batch:
                    level = LEVELS.get(type(event), logging.DEBUG)
                    if log.isEnabledFor(level):
                        log_event(log, event_name(event), level, **event_fields(event))
        log_event(log, "router.log_lagged", logging.WARNING)


def event_name(event: Event) -> str:
    """`Enqueued` -> `router.enqueued`, `OfferWithdrawn` -> `router.offer_withdrawn`."""
    kind: type = type(event)
    return _name_of(kind)


# Worked out once per event class: every routing event passes through here.
@functools.cache
def _name_of(kind: type) -> str:
    return "router." + re.sub(r"(?<!^)(?=[A-Z])", "_", kind.__name__).lower()
