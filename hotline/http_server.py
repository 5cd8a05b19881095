"""The HTTP edge's connection handling: Hypercorn's trio worker, with its accidents worked around.

`serve(app, config, ...)` takes the place of `hypercorn.trio.serve` for `hotline serve`. It is
built from Hypercorn's own pieces (its `TCPServer`, `H11Protocol`, `Lifespan`, `WorkerContext`)
and overrides only what Hypercorn 0.17-0.18's trio worker (the versions pyproject allows) gets
wrong for a server that any unauthenticated client can reach:

- **Idle keep-alive connections were never closed.** After a response, the connection's idle timer
  (`keep_alive_timeout`) is restarted from the app's task, which quart-trio cancels as soon as
  the response has gone (the `http.disconnect` Hypercorn hands it while closing the stream), so
  the restart is cancelled with it: only a connection that never sent a request ever timed out.
  Here there is no timer task: the connection's read loop receives under a deadline that an
  idle-state change moves without awaiting anything, so nothing can cancel it (and no task is
  started and cancelled per request, which cost about a fifth of a bare request's CPU).
- **An answer sent before the request body was read hung the connection** (401/403/415 on an
  upload, any 413): h11 cannot start the next request, so Hypercorn closes the connection, but
  from that same cancelled task, so the close never happened and the next request on the
  connection was never answered. Here such an answer says `Connection: close`, the close is
  shielded too, and "lingering": the response is followed by a FIN, the rest of the unread body
  is read and dropped until the client closes or `LINGER_S` has passed, then the socket is
  closed (closing at once with unread data would reset the connection and could destroy the
  answer before the client reads it).
- **HTTP/2 cleartext load stopped the process** (`trio.BusyResourceError`: Hypercorn sends EOF
  on a socket without the lock that guards its other sends, while its HTTP/2 sender is writing;
  the error escapes the connection and ends the worker). hotline serves plain HTTP/1.1 behind a
  reverse proxy (which speaks HTTP/2 to browsers), so HTTP/2 is refused rather than served: the
  prior-knowledge preface (`PRI * HTTP/2.0`) gets `505 HTTP Version Not Supported` and a close,
  and `Upgrade: h2c` is ignored (RFC 9110 7.8), the request being answered over HTTP/1.1. TLS is
  not served here either. The EOF is sent only when no other send is in progress, and whatever a
  connection raises ends that connection alone (logged `http.connection_failed`), never the server.
- **Shutdown waited the whole grace time** while an idle client was connected (the broken idle
  timer is also what closes idle connections on shutdown). Here, on the shutdown trigger the
  server stops accepting, idle connections close at once, a connection closes as soon as its
  request in flight is answered, and requests still running at the end of the grace time are
  cancelled.
- **Each response took about eight trips through trio's scheduler to write** (Hypercorn writes the
  head, the body and an empty end of a Content-Length body each under its send lock, and every
  lock and socket send checkpoints): 0.13 ms of CPU a request, a tenth of a create's. Here the
  bytes are written at once when no other write is in progress and the socket takes them all
  (`_write_now`, a non-blocking write), and the empty end is not written at all; what the
  socket does not take (a large answer, a slow reader) goes on through the locked `send_all`.
- **Every request cost a second task** (Quart-Trio reads the request's ASGI messages in a task of
  its own, which waits for the client's disconnect until the answer is sent): the app's
  `receive` is a `RequestInbox`, which lets the app take a body already queued without a task
  and be told of a disconnect by a call (`on_disconnect`) rather than by a waiting reader
  (`hotline.api._HttpConnection` uses both).
- **Out of file descriptors** (EMFILE/ENFILE) `accept` pauses and retries, logged once per spell
  (`http.accept_paused` / `http.accept_resumed`) instead of trio's traceback ten times a second;
  `raise_open_file_limit()` lifts the soft limit to the hard one at start.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import resource
from collections.abc import Awaitable, Callable
from dataclasses import replace
from functools import partial
from math import inf
from typing import Any, Literal

import h11
import trio
from hypercorn.config import Config
from hypercorn.events import Closed, Event, RawData, Updated
from hypercorn.protocol.events import Event as StreamEvent
from hypercorn.protocol.events import Response
from hypercorn.protocol.h11 import H11Protocol
from hypercorn.trio.lifespan import Lifespan
from hypercorn.trio.statsd import StatsdLogger
from hypercorn.trio.task_group import TaskGroup, _handle
from hypercorn.trio.tcp_server import MAX_RECV, TCPServer
from hypercorn.trio.worker_context import WorkerContext
from hypercorn.typing import (
    AppWrapper,
    ASGIReceiveEvent,
    ASGISendEvent,
    ConnectionState,
    LifespanState,
    Scope,
)
from hypercorn.utils import parse_socket_addr, repr_socket_addr, wrap_app

from hotline.jsonlog import log_event

log = logging.getLogger("hotline.http")

LINGER_S = 2.0  # how long an early answer's unread request body is read and dropped
ACCEPT_RETRY_S = 0.1  # out of descriptors: try accept again this often
_ACCEPT_CAPACITY_ERRNOS = {errno.EMFILE, errno.ENFILE, errno.ENOMEM, errno.ENOBUFS}
_HTTP_1 = (b"1.0", b"1.1")


class _VersionNotSupported(Exception):
    """A request line that is not HTTP/1.x, e.g. the HTTP/2 prior-knowledge preface."""


class _Http11Protocol(H11Protocol):
    """Hypercorn's HTTP/1.1 protocol without its switches to HTTP/2."""

    async def handle(self, event: Event) -> None:
        try:
            await super().handle(event)
        except _VersionNotSupported:
            await self._send_error_response(505)
            await self.send(Closed())

    async def stream_send(self, event: StreamEvent) -> None:
        if (
            isinstance(event, Response)
            and event.status_code >= 200
            and isinstance(self.connection, h11.Connection)
            and self.connection.their_state is h11.SEND_BODY
        ):
            # Answered before the request body was read: say the connection closes after it.
            headers = [*event.headers, (b"connection", b"close")]
            event = replace(event, headers=headers)
        await super().stream_send(event)

    async def _check_protocol(self, event: h11.Request) -> None:
        # Hypercorn would switch to HTTP/2 here (answering `Upgrade: h2c` with 101, or taking
        # `PRI * HTTP/2.0` as the preface). Not calling it leaves an h2c upgrade ignored.
        if event.http_version not in _HTTP_1:
            raise _VersionNotSupported


class RequestInbox:
    """A request's ASGI messages on their way to the app: `await inbox()` is the app's `receive`,
    as Hypercorn's memory channel would answer it, with two more ways in for an app that knows
    this server:

    - `take_nowait()` is the next message if one is queued, else `trio.WouldBlock` (a small
      request's body is usually queued whole by the time the app's task first runs);
    - `on_disconnect`, if set, is called from the connection's task the moment the client has
      gone (the `http.disconnect` is queued as well), so that an app need not keep a task
      waiting on `receive` to hear of it. It must not await or raise."""

    __slots__ = ("_queued", "_taken", "on_disconnect")

    def __init__(self, size: int) -> None:
        self._queued, self._taken = trio.open_memory_channel[ASGIReceiveEvent](size)
        self.on_disconnect: Callable[[], object] | None = None

    async def __call__(self) -> ASGIReceiveEvent:
        return await self._taken.receive()

    def take_nowait(self) -> ASGIReceiveEvent:
        return self._taken.receive_nowait()

    async def put(self, message: ASGIReceiveEvent) -> None:
        """What Hypercorn's stream calls with each message for the app. With room in the queue,
        without a checkpoint: the connection's task goes on to queue the request's next message
        (the end of its body) before the app's task can run and find it missing."""
        if message["type"] == "http.disconnect" and self.on_disconnect is not None:
            self.on_disconnect()
        try:
            self._queued.send_nowait(message)
        except trio.WouldBlock:
            await self._queued.send(message)


class _AppTasks(TaskGroup):
    """Hypercorn's task group of a connection, each request's messages in a `RequestInbox`.
    The app runs as Hypercorn runs it (its `_handle`: errors logged, the stream closed after)."""

    async def spawn_app(
        self,
        app: AppWrapper,
        config: Config,
        scope: Scope,
        send: Callable[[ASGISendEvent | None], Awaitable[None]],
    ) -> Callable[[ASGIReceiveEvent], Awaitable[None]]:
        assert self._nursery is not None, "spawn_app outside the connection's task group"
        inbox = RequestInbox(config.max_app_queue_size)
        self._nursery.start_soon(
            _handle,
            app,
            config,
            scope,
            inbox,
            send,
            trio.to_thread.run_sync,
            trio.from_thread.run,
        )
        return inbox.put


class _Connection(TCPServer):
    """One client connection (plain TCP, HTTP/1.1): Hypercorn's, with the fixes above.

    Its read loop is also its timer: every receive runs under a deadline, the end of the
    keep-alive time while the connection is idle (from the moment it became idle, so a client
    sending a request a byte at a time cannot hold it), the end of the linger while it lingers,
    "now" once the server is stopping and nothing is in flight, and `read_timeout` (if set)
    while a request is. A state change moves the deadline of the receive in progress."""

    protocol: _Http11Protocol  # type: ignore[assignment]  # HTTP/1.1 only, no ProtocolWrapper

    def __init__(
        self,
        app: AppWrapper,
        config: Config,
        context: _Context,
        state: LifespanState,
        stream: trio.SocketStream,
    ) -> None:
        super().__init__(app, config, context, state, stream)  # type: ignore[arg-type]
        self.context: _Context = context
        self.socket_stream = stream
        self.idle = True  # no request in flight; a new connection is idle until its first
        self.idle_until = trio.current_time() + config.keep_alive_timeout
        self.lingering = False
        self.linger_until = inf
        self.reading = True
        self.receiving: trio.CancelScope | None = None  # the receive in progress, if any

    async def run(self) -> None:
        socket = self.socket_stream.socket
        self.context.connections.add(self)
        try:
            client = parse_socket_addr(socket.family, socket.getpeername())
            server = parse_socket_addr(socket.family, socket.getsockname())
            async with _AppTasks() as task_group:
                self._task_group = task_group
                self.protocol = _Http11Protocol(
                    self.app,
                    self.config,
                    self.context,
                    task_group,
                    ConnectionState(dict(self.state)),
                    False,
                    client,
                    server,
                    self.protocol_send,
                )
                await self._read_data()
        except OSError:
            pass
        finally:
            self.context.connections.discard(self)
            with trio.CancelScope(shield=True):
                await self._close()

    def deadline(self) -> float:
        """When the receive in progress gives up (see the class's doc)."""
        stopping = self.context.terminated.is_set()
        if self.lingering:
            return -inf if stopping else self.linger_until
        if self.idle:
            return -inf if stopping else self.idle_until
        read_timeout = self.config.read_timeout
        return trio.current_time() + read_timeout if read_timeout else inf

    def reschedule(self) -> None:
        """The connection's state changed: move the deadline of the receive in progress."""
        if self.receiving is not None:
            self.receiving.deadline = self.deadline()

    async def protocol_send(self, event: Event) -> None:
        if isinstance(event, Updated):
            # Sent from the app's task, which may be cancelled by now (see the module's doc):
            # nothing here awaits.
            if event.idle and not self.idle:
                self.idle_until = trio.current_time() + self.config.keep_alive_timeout
            self.idle = event.idle
            self.reschedule()
        elif isinstance(event, Closed):
            with trio.CancelScope(shield=True):
                await self._start_lingering_close()
                await self.protocol.handle(Closed())
        elif isinstance(event, RawData):
            await self._send(event.data)
        else:
            await super().protocol_send(event)

    async def _send(self, data: bytes) -> None:
        """Hypercorn's send of raw bytes, without its waits where it needs none (module doc)."""
        if not data:
            return  # the end of a Content-Length body: nothing goes on the wire
        if not self.send_lock.locked():  # no write in progress that these bytes could overtake
            try:
                sent = _write_now(self.socket_stream.socket.fileno(), data)
            except OSError:  # reset, broken pipe or closed: as Hypercorn's send would find
                await self.protocol.handle(Closed())
                return
            if sent == len(data):
                return
            data = data[sent:]
        await super().protocol_send(RawData(data=data))

    async def _start_lingering_close(self) -> None:
        if self.lingering:
            return
        self.lingering = True
        self.linger_until = trio.current_time() + LINGER_S
        await self._send_eof()
        if not self.reading:  # the client has closed its side: nothing to wait for
            await self.socket_stream.aclose()
            return
        # The linger ends the connection unless the client does first.
        self.reschedule()

    async def _read_data(self) -> None:
        while True:
            data: bytes | bytearray | None = None
            with trio.CancelScope(deadline=self.deadline()) as self.receiving:
                try:
                    data = await self.socket_stream.receive_some(MAX_RECV)
                except (trio.ClosedResourceError, trio.BrokenResourceError):
                    break
            self.receiving = None
            if data is None:  # the deadline passed: idle, lingered, stopping or too slow
                break
            if data == b"":
                if not self.lingering:
                    await self.protocol.handle(RawData(b""))
                break
            if not self.lingering:  # else: the rest of a body nobody will read, dropped
                await self.protocol.handle(RawData(bytes(data)))
        self.receiving = None
        self.reading = False
        await self.protocol.handle(Closed())

    async def _send_eof(self) -> None:
        # Hypercorn sends EOF without its send lock, which trio reports as BusyResourceError in
        # whichever task was sending. Skip the EOF if a send is in progress: the close follows.
        try:
            self.send_lock.acquire_nowait()
        except trio.WouldBlock:
            return
        try:
            await self.socket_stream.send_eof()
        except (trio.BrokenResourceError, trio.BusyResourceError, trio.ClosedResourceError):
            pass  # already gone
        finally:
            self.send_lock.release()

    async def _close(self) -> None:
        await self._send_eof()
        await self.socket_stream.aclose()


class _Context(WorkerContext):
    """Hypercorn's worker context, knowing its open connections, so that a stop reaches the
    idle ones at once (they wait in a receive, not on the `terminated` event)."""

    def __init__(self) -> None:
        super().__init__(None)
        self.connections: set[_Connection] = set()

    async def stop_connections(self) -> None:
        """The server is stopping: idle and lingering connections close now; one with a request
        in flight closes once it is answered (Hypercorn's `_maybe_recycle` sees `terminated`)."""
        await self.terminated.set()
        for connection in self.connections:
            connection.reschedule()


async def serve(
    app: Any,
    config: Config,
    *,
    shutdown_trigger: Callable[[], Awaitable[None]],
    task_status: trio.TaskStatus[list[str]] = trio.TASK_STATUS_IGNORED,
    mode: Literal["asgi", "wsgi"] | None = None,
) -> None:
    """Serve `app` over plain HTTP/1.1 on `config.bind` until `shutdown_trigger` returns, then
    drain: idle connections close at once, requests in flight get `config.graceful_timeout`.
    Reports the URLs it listens on once it accepts connections."""
    if config.ssl_enabled:
        raise ValueError("hotline serves plain HTTP/1.1: terminate TLS in the reverse proxy")
    config.set_statsd_logger_class(StatsdLogger)
    wrapped = wrap_app(app, config.wsgi_max_body_size, mode)
    lifespan_state: LifespanState = {}
    lifespan = Lifespan(wrapped, config, lifespan_state)
    context = _Context()

    async with trio.open_nursery() as lifespan_nursery:
        await lifespan_nursery.start(lifespan.handle_lifespan)
        await lifespan.wait_for_startup()
        async with trio.open_nursery() as connections:
            listeners, urls = _listen(config)
            handler = partial(_serve_connection, wrapped, config, context, lifespan_state)
            try:
                async with trio.open_nursery() as accepting:
                    for listener in listeners:
                        accepting.start_soon(_accept, listener, connections, handler)
                    task_status.started(urls)
                    await shutdown_trigger()
                    accepting.cancel_scope.cancel()  # the listeners close: no new connections
            finally:
                await context.stop_connections()  # idle connections close now
                connections.cancel_scope.deadline = trio.current_time() + config.graceful_timeout
        await lifespan.wait_for_shutdown()
        lifespan_nursery.cancel_scope.cancel()


def _write_now(fd: int, data: bytes) -> int:
    """Write what the socket `fd` (non-blocking, as trio keeps it) takes now: how many bytes.
    A closed socket (fd -1) or a broken connection raises OSError."""
    try:
        return os.write(fd, data)
    except BlockingIOError:
        return 0


def raise_open_file_limit() -> None:
    """Lift the soft limit on open files to the hard limit: each connection holds a descriptor,
    and the usual soft limit of 1024 is low for a server. Never lowers it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft == hard:
        return
    # An unlimited hard limit the kernel caps lower fails: the soft limit stays.
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _listen(config: Config) -> tuple[list[trio.SocketListener], list[str]]:
    sockets = config.create_sockets()
    listeners, urls = [], []
    for sock in sockets.insecure_sockets:
        sock.listen(config.backlog)
        listeners.append(trio.SocketListener(trio.socket.from_stdlib_socket(sock)))
        urls.append(f"http://{repr_socket_addr(sock.family, sock.getsockname())}")
    return listeners, urls


async def _accept(
    listener: trio.SocketListener,
    connections: trio.Nursery,
    handler: Callable[[trio.SocketStream], Awaitable[None]],
) -> None:
    """`trio.serve_listeners`'s loop, logging a lack of descriptors once per spell."""
    paused_on: int | None = None
    async with listener:
        while True:
            try:
                stream = await listener.accept()
            except OSError as e:
                if e.errno not in _ACCEPT_CAPACITY_ERRNOS:
                    raise
                if paused_on is None:
                    paused_on = e.errno
                    log_event(log, "http.accept_paused", logging.ERROR, error=e.strerror)
                await trio.sleep(ACCEPT_RETRY_S)
                continue
            if paused_on is not None:
                paused_on = None
                log_event(log, "http.accept_resumed")
            connections.start_soon(handler, stream)


async def _serve_connection(
    app: AppWrapper,
    config: Config,
    context: _Context,
    state: LifespanState,
    stream: trio.SocketStream,
) -> None:
    try:
        await _Connection(app, config, context, state, stream).run()
    except Exception as e:
        # A bug met by one client's bytes ends that client's connection, not the server.
        log_event(log, "http.connection_failed", logging.ERROR, exc_info=e)
    finally:
        await trio.aclose_forcefully(stream)
