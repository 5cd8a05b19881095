"""Use cases over the actors: what the HTTP edge (and the CLI) ask of hotline.

Each module takes the `Services` container and the caller's `Principal`, checks what the domain
demands, and talks to the router and the store. Both answer a change only once it is on disk
(`sv.router` is a `DurableRouter`), so every answer a service gives is durable without a
second step it could forget. Handlers in `hotline.api` only translate
HTTP to these calls and back.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hotline.clock import WallClock
from hotline.config import Settings
from hotline.journal import Journal
from hotline.notify.sender import Notifier
from hotline.notify.templates import MessageTemplates
from hotline.schedule.calendar import WorkingCalendar
from hotline.services.auth import TokenBook
from hotline.services.durable import CommittingStore, DurableRouter
from hotline.services.keylocks import KeyLocks
from hotline.services.live import LiveFigures
from hotline.services.offers import OfferBoard
from hotline.services.open_tickets import OpenTickets
from hotline.services.ratelimits import RateLimits
from hotline.voicemail.wakeup import Wakeup


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    clock: WallClock
    router: DurableRouter  # each change returns once it is on disk
    store: CommittingStore  # writes run the post-commit hook (senders woken, ticket index)
    journal: Journal  # for its health: services never call `sync()`, the router does
    tokens: TokenBook
    offers: OfferBoard
    calendar: WorkingCalendar
    open_tickets: OpenTickets
    notifier: Notifier  # woken by the store's post-commit hook for each outbox message
    templates: MessageTemplates  # the SMS and e-mail texts, checked and built once at start
    live: LiveFigures  # the live KPIs, fed by the journal after each commit
    key_locks: KeyLocks = field(default_factory=KeyLocks)  # one per idempotency key in use
    voicemail_wakeup: Wakeup = field(default_factory=Wakeup)  # rung when a retry is scheduled
    survey_limits: RateLimits = field(default_factory=RateLimits)  # answers per source


__all__ = ["Services"]
