"""The composition root: builds the actors and the HTTP edge from `Settings` and runs them.

Called by the CLI (`hotline serve`) and by end-to-end tests. Everything long-lived runs in one
root nursery, started in dependency order (router, then HTTP) and stopped in reverse: a signal
stops the HTTP server first (no new requests, those in flight may finish within the grace time),
then the root nursery is cancelled. If any actor crashes, the nursery takes the server down with
it, so the process never keeps answering without its core.
"""

from __future__ import annotations

import gc
import logging
import signal

import hypercorn.trio
import trio
from hypercorn.config import Config as HypercornConfig

import hotline
from hotline.api import HotlineApp, Services, create_app
from hotline.config import Settings
from hotline.eventlog import log_router_events
from hotline.jsonlog import log_event
from hotline.routing import RoutingState
from hotline.routing.actor import RouterActor

log = logging.getLogger(__name__)

_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


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
    async with trio.open_nursery() as root:
        # Signals are watched before anything listens, so a SIGTERM is never the default "die".
        await root.start(_watch_signals, stopping, root.cancel_scope)

        # Store: opened here first once it exists (next issue): migrations run before it reports
        # started, and the router below is rebuilt from it (waiting contacts keep their places).
        # settings.store.path is the database file.

        actor = RouterActor(RoutingState(settings.routing_policy()))
        router = await root.start(actor.run)
        # What start-up built lives as long as the process: keep full collections off it.
        gc.collect()
        gc.freeze()
        root.start_soon(log_router_events, actor)

        services = Services(router=router, settings=settings)
        urls = await root.start(
            _serve_http, create_app(services), _hypercorn_config(settings, bind), stopping, root
        )
        log_event(log, "hotline.serving", urls=urls)
        task_status.started(urls)
    log_event(log, "hotline.stopped")


async def _serve_http(
    app: HotlineApp,
    config: HypercornConfig,
    stopping: trio.Event,
    root: trio.Nursery,
    *,
    task_status: trio.TaskStatus[list[str]] = trio.TASK_STATUS_IGNORED,
) -> None:
    await hypercorn.trio.serve(
        app,
        config,
        shutdown_trigger=stopping.wait,
        task_status=task_status,
    )
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
    config.errorlog = logging.getLogger("hotline.http")
    config.accesslog = None  # `hotline.api.access_log` writes a structured line per request
    return config
