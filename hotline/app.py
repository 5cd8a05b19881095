"""The composition root: builds the actors and the HTTP edge from `Settings` and runs them.

Called by the CLI (`hotline serve`) and by end-to-end tests. Everything long-lived runs in one
root nursery, started in dependency order (store, then the KPI tracker loaded from it, then the
router rebuilt from it with the live figures, its journal and offer board, then HTTP) and stopped
in reverse: a signal stops the HTTP server first (no new requests; idle connections and live
streams of offers and figures end at once, requests in flight may finish within the grace time),
then the root nursery is cancelled.
If any actor crashes, the nursery takes the server down with it, so the process never keeps
answering without its core.
"""

from __future__ import annotations

import logging
import signal

import trio
from hypercorn.config import Config as HypercornConfig

import hotline
from hotline import heap
from hotline.api import HotlineApp, create_app
from hotline.clock import WallClock
from hotline.config import Settings
from hotline.eventlog import log_router_events
from hotline.files import claim_folder, make_directory
from hotline.http_server import raise_open_file_limit
from hotline.http_server import serve as serve_http
from hotline.journal import Journal
from hotline.jsonlog import log_event
from hotline.notify.sender import start_notifier
from hotline.recovery import rebuild_router
from hotline.routing.actor import RouterActor
from hotline.services import Services
from hotline.services.auth import TokenBook
from hotline.services.certification_notices import CertificationNotices
from hotline.services.durable import CommittingStore, DurableRouter, after_commit
from hotline.services.forms import remove_stray_attachments
from hotline.services.kb import install_starter
from hotline.services.live import load_live_figures
from hotline.services.offers import OfferBoard
from hotline.services.open_tickets import OpenTickets
from hotline.services.surveys import quality_committed, quality_rules
from hotline.store import Store, StoreHandle
from hotline.store.feedback import rules_text, set_theme_rules, theme_rules_text
from hotline.store.identity import database_id
from hotline.store.kpi_rebuild import open_kpi
from hotline.store.lock import keep_database_locked
from hotline.store.quality import QualityRecorder
from hotline.voicemail.watcher import VoicemailWatcher

log = logging.getLogger(__name__)

_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
JOURNAL_BUFFER = 8192  # events; a full buffer holds the router back until the journal catches up


async def serve(
    settings: Settings,
    *,
    bind: str,
    task_status: trio.TaskStatus[list[str]] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Run hotline until SIGTERM/SIGINT (or cancellation). Reports the URLs it listens on,
    e.g. `["http://127.0.0.1:41234"]`, once requests can be served (bind port 0 to pick one)."""
    log_event(
        log,
        "hotline.starting",
        version=hotline.__version__,
        bind=bind,
        db=str(settings.store.path),
    )
    stopping = trio.Event()
    raise_open_file_limit()  # a descriptor per connection: the usual soft limit is low
    async with trio.open_nursery() as root:
        # Signals are watched before anything listens, so a SIGTERM is never the default "die".
        await root.start(_watch_signals, stopping, root.cancel_scope)

        services = await start_services(root, settings)
        heap.settle()  # what start-up built lives as long as the process
        urls = await root.start(
            _serve_http,
            create_app(services),
            _hypercorn_config(settings, bind),
            stopping,
            services,
            root,
        )
        log_event(log, "hotline.serving", urls=urls)
        task_status.started(urls)
    log_event(log, "hotline.stopped")


async def start_services(
    nursery: trio.Nursery, settings: Settings, *, clock: WallClock | None = None
) -> Services:
    """Start the actors in `nursery`, in dependency order, and hand back their handles."""
    # The database's lock before anything opens it: a second server on it stops here, before
    # its recovery could write a thing into the live one's (hotline.store.lock).
    make_directory(settings.store.path.parent)
    await nursery.start(keep_database_locked, settings.store.path)
    # The store first: migrations run before it reports started.
    store = await nursery.start(Store(settings.store.path).run)
    await _claim_upload_folders(store, settings)
    await _use_theme_rules(store, settings)
    clock = clock if clock is not None else WallClock()
    # A fresh database (or one just migrated to the knowledge base) gets the starter articles.
    await install_starter(store, settings, at=clock.now())
    # The KPI tracker as the last commit left it (the rollups counted again first if the
    # thresholds changed), before recovery's restart events go through it.
    kpi = await open_kpi(
        store,
        settings.kpi_rules(),
        now=clock.now(),
        keep_minutes_s=settings.retention.kpi_minutes_s,
    )
    recovered = await rebuild_router(
        store, settings.routing_policy(), settings.timezone, now=clock.now(), kpi=kpi
    )
    actor = RouterActor(recovered.state, clock=clock)
    # The live figures as the store left them, recovery's restart included; fed by the journal
    # after each commit from now on. They ask the router for what waits now.
    live = await load_live_figures(
        store,
        kpi.rules,
        kpi.tracker,
        clock,
        statistics=lambda: actor.handle.statistics(queues=True),
    )
    # Subscribed before the router serves anything, so that no event escapes them.
    journal = Journal(
        actor.subscribe(buffer=JOURNAL_BUFFER, lossless=True),
        store,
        published=lambda: actor.published,
        kpi=kpi,
        after_commit=live.after_commit,
        quality=QualityRecorder(quality_rules(settings)),  # repeats and survey SMS (issue 14)
    )
    board = OfferBoard(actor.subscribe(buffer=JOURNAL_BUFFER, lossless=True))
    nursery.start_soon(log_router_events, actor)
    await nursery.start(journal.run)
    await nursery.start(board.run)
    router = await nursery.start(actor.run)
    # The senders need only the store; started before anything that writes to the outbox.
    notifier = await start_notifier(
        nursery,
        settings.notify,
        store,
        clock,
        default_dir=settings.store.path.parent / "outbox",
        max_sms_segments=settings.templates.sms_max_segments,
    )
    open_tickets = await OpenTickets.load(store)
    journal.after_quality = quality_committed(live, notifier)
    services = Services(
        settings=settings,
        clock=clock,
        router=DurableRouter(router, journal),
        store=CommittingStore(store, after_commit(store, notifier, open_tickets)),
        journal=journal,
        tokens=TokenBook(store),
        offers=board,
        calendar=settings.schedule.working_calendar(),
        open_tickets=open_tickets,
        notifier=notifier,
        templates=settings.templates.message_templates(),
        live=live,
    )
    # After the router and the journal: it repairs what a crash left half done before serving.
    await nursery.start(VoicemailWatcher(services).run)
    await nursery.start(CertificationNotices(services).run)  # lapse e-mails, once each
    await remove_stray_attachments(services)  # nothing is being uploaded yet
    return services


async def _claim_upload_folders(store: StoreHandle, settings: Settings) -> None:
    # Before any sweep: a folder marked by another database is left alone (see hotline.files).
    owner = await store.read(database_id)
    for folder in (settings.voicemail.dir, settings.forms.attachments_dir):
        marked = await trio.to_thread.run_sync(claim_folder, folder, owner, settings.store.path)
        if marked != owner:
            log_event(log, "files.folder_of_another_database", logging.WARNING, folder=str(folder))


async def _use_theme_rules(store: StoreHandle, settings: Settings) -> None:
    # Every writer of feedback classifies by the configured rules inside its own transaction
    # (hotline.store.feedback); written only when changed: an unchanged start writes nothing.
    rules = settings.feedback.themes
    if await store.read(theme_rules_text) != rules_text(rules):
        await store.transact(lambda tx: set_theme_rules(tx, rules))


async def _serve_http(
    app: HotlineApp,
    config: HypercornConfig,
    stopping: trio.Event,
    services: Services,
    root: trio.Nursery,
    *,
    task_status: trio.TaskStatus[list[str]] = trio.TASK_STATUS_IGNORED,
) -> None:
    async def shutdown_trigger() -> None:
        await stopping.wait()
        # Live streams end, so they do not hold the drain up.
        services.offers.close_listeners()
        services.live.close_listeners()

    # Hypercorn's trio worker with its connection handling fixed (see hotline.http_server).
    await serve_http(app, config, shutdown_trigger=shutdown_trigger, task_status=task_status)
    # The edge has drained; nothing is left to serve, so the actors stop too.
    root.cancel_scope.cancel()


async def _watch_signals(
    stopping: trio.Event,
    root_scope: trio.CancelScope,
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    with trio.open_signal_receiver(*_STOP_SIGNALS) as signals:
        task_status.started()
        async for signum in signals:
            if not stopping.is_set():
                log_event(log, "hotline.stopping", signal=signal.Signals(signum).name)
                stopping.set()
            else:
                # A second signal: the deployer will not wait for the grace time.
                log_event(log, "hotline.stopping_now", signal=signal.Signals(signum).name)
                root_scope.cancel()


def _hypercorn_config(settings: Settings, bind: str) -> HypercornConfig:
    config = HypercornConfig()
    config.bind = [bind]
    config.graceful_timeout = settings.http.shutdown_grace_s
    config.keep_alive_timeout = settings.http.keep_alive_s
    config.errorlog = logging.getLogger("hotline.http")
    config.accesslog = None  # `hotline.api.access_log` writes a structured line per request
    return config
