"""Writes every routing event as one structured log line, until the store keeps them durably.

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
from hotline.routing.model import Event, event_fields

log = logging.getLogger(__name__)
FEED_BUFFER = 4096  # events the log may fall behind a burst before it loses some


async def log_router_events(actor: RouterActor) -> None:
    while True:
        async with actor.subscribe(buffer=FEED_BUFFER) as feed:
            async for batch in batches(feed):
                for event in batch:
                    log_event(log, event_name(event), **event_fields(event))
        log_event(log, "router.log_lagged", logging.WARNING)


def event_name(event: Event) -> str:
    """`Enqueued` -> `router.enqueued`, `OfferWithdrawn` -> `router.offer_withdrawn`."""
    kind: type = type(event)
    return _name_of(kind)


# Worked out once per event class: every routing event passes through here.
@functools.cache
def _name_of(kind: type) -> str:
    return "router." + re.sub(r"(?<!^)(?=[A-Z])", "_", kind.__name__).lower()
