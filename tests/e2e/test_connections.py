"""What clients do to connections, over real sockets against the real server (`hotline.app.serve`
in-process on 127.0.0.1:0, or `python -m hotline serve` where a process limit is needed): early
answers, idle keep-alive connections, HTTP/2 attempts, shutdown with idle clients and live streams,
and running out of file descriptors. See `hotline.http_server` for what each works around."""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import resource
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Mapping
from functools import partial
from pathlib import Path

import h2.config
import h2.connection
import h11
import httpx
import pytest
import trio
import trio.testing

import hotline.app
import hotline.http_server
from hotline.app import serve
from hotline.config import Settings, load_settings
from hotline.http_server import LINGER_S, raise_open_file_limit
from hotline.services.auth import Role, create_token
from hotline.store import open_store
from tests.e2e.conftest import SlowRoute
from tests.e2e.processes import start_server

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "config" / "hotline.toml"
KEEP_ALIVE_S = 1.0
GRACE_S = 60.0  # far longer than any bound below: a test that waits for it fails
BOUND_S = 10.0  # generous: "at once" on a busy machine
DESK = {
    "name": "Анна Петрова",
    "skills": {"payments": 4},
    "languages": ["ru"],
    "capacity": {"voice": 1},
    "certified_until": "2099-12-31",
}
CALL = json.dumps({"channel": "chat", "topic": "documents", "phone": "+79123456789"}).encode()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # with_db: the upload folders follow the database into tmp_path, never the checkout's var/.
    shipped = load_settings(SHIPPED).with_db(tmp_path / "hotline.db")
    http = shipped.http.model_copy(
        update={"keep_alive_s": KEEP_ALIVE_S, "shutdown_grace_s": GRACE_S}
    )
    return shipped.model_copy(update={"http": http})


async def token_for(settings: Settings, role: Role, operator_id: str | None = None) -> str:
    async with open_store(settings.store.path) as store:
        return (await create_token(store, role, operator_id=operator_id))[1]


async def connect(base: str) -> trio.SocketStream:
    host, port = base.removeprefix("http://").rsplit(":", 1)
    return await trio.open_tcp_stream(host, int(port))


class Http1:
    """A raw HTTP/1.1 client connection, framed by h11, so a test sees exactly what the server
    sends and when it closes."""

    def __init__(self, stream: trio.SocketStream) -> None:
        self.stream = stream
        self.h11 = h11.Connection(h11.CLIENT)

    async def send_request(
        self,
        method: str,
        target: str,
        headers: Mapping[str, str] = {},
        body: bytes | None = None,
    ) -> None:
        all_headers = [("Host", "test"), *headers.items()]
        if body is not None and "Content-Length" not in headers:
            all_headers.append(("Content-Length", str(len(body))))
        data = self.h11.send(h11.Request(method=method, target=target, headers=all_headers))
        if body is not None:
            data += self.h11.send(h11.Data(data=body))
        if "Content-Length" not in headers:  # else: the test sends less than it declared
            data += self.h11.send(h11.EndOfMessage())
        await self.stream.send_all(data)

    async def receive_response(self) -> tuple[int, dict[bytes, bytes], bytes]:
        """The next response whose status is final (>= 200) or 101, and its body."""
        status, headers, body = 0, {}, b""
        while True:
            event = self.h11.next_event()
            if event is h11.NEED_DATA:
                self.h11.receive_data(await self.stream.receive_some())
            elif isinstance(event, h11.InformationalResponse) and event.status_code == 101:
                return 101, dict(event.headers), b""
            elif isinstance(event, h11.Response):
                status, headers = event.status_code, dict(event.headers)
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                return status, headers, body
            elif isinstance(event, h11.ConnectionClosed):
                raise AssertionError("the connection closed before the response ended")

    async def wait_closed_by_server(self) -> None:
        """Returns once the server has closed the connection (whatever it sends before)."""
        while True:
            try:
                if await self.stream.receive_some() == b"":
                    return
            except trio.BrokenResourceError:
                return  # reset: closed as well


async def integration_client(nursery: trio.Nursery, settings: Settings) -> tuple[str, Http1]:
    """A server on a free port of 127.0.0.1, an integration token, and a raw client on it."""
    token = await token_for(settings, Role.INTEGRATION)
    [base] = await nursery.start(partial(serve, settings, bind="127.0.0.1:0"))
    return token, Http1(await connect(base))


async def test_an_answer_sent_before_the_body_is_read_closes_the_connection_after_it(
    nursery: trio.Nursery, settings: Settings
) -> None:
    token, client = await integration_client(nursery, settings)
    declared = settings.http.max_body_kib * 1024 * 4
    await client.send_request(
        "POST",
        "/v1/contacts",
        {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Content-Length": str(declared),
        },
        body=b'{"channel": "voice", ',  # the rest never comes
    )
    with trio.fail_after(BOUND_S):
        status, headers, _ = await client.receive_response()
    assert status == 413
    assert headers[b"connection"] == b"close"  # the client knows not to send another request
    with trio.fail_after(LINGER_S + BOUND_S):
        await client.wait_closed_by_server()  # not left hanging in CLOSE-WAIT


async def test_a_client_that_sends_its_whole_too_large_body_reads_the_413_then_goes_on(
    nursery: trio.Nursery, settings: Settings
) -> None:
    token = await token_for(settings, Role.INTEGRATION)
    [base] = await nursery.start(partial(serve, settings, bind="127.0.0.1:0"))
    too_large = b" " * (settings.http.max_body_kib * 1024 * 4)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    with trio.fail_after(BOUND_S):
        async with httpx.AsyncClient(base_url=base, headers=headers) as client:
            refused = await client.post("/v1/contacts", content=too_large)
            # The same client, so the same pool: the next request must not go into the dead
            # connection and wait for ever.
            health = await client.get("/healthz")
    assert refused.status_code == 413
    assert refused.json()["error"]["code"] == "request_entity_too_large"
    assert health.status_code == 200


async def answered_once(nursery: trio.Nursery, settings: Settings) -> Http1:
    """A client of a new server whose one `GET /healthz` was answered and kept alive."""
    [base] = await nursery.start(partial(serve, settings, bind="127.0.0.1:0"))
    client = Http1(await connect(base))
    await client.send_request("GET", "/healthz")
    with trio.fail_after(BOUND_S):
        status, headers, _ = await client.receive_response()
    assert status == 200
    assert b"connection" not in headers  # kept alive
    return client


async def test_an_idle_keep_alive_connection_is_closed_after_keep_alive_s(
    nursery: trio.Nursery, settings: Settings
) -> None:
    client = await answered_once(nursery, settings)
    with trio.fail_after(KEEP_ALIVE_S + BOUND_S):
        await client.wait_closed_by_server()  # once idle for keep_alive_s


async def test_a_request_sent_a_byte_at_a_time_cannot_hold_an_idle_connection(
    nursery: trio.Nursery, settings: Settings
) -> None:
    # The keep-alive time counts from when the connection became idle, not from its last bytes.
    client = await answered_once(nursery, settings)
    closed = trio.Event()

    async def dribble() -> None:
        for byte in b"GET /healthz HTTP/1.1\r\nHost: test\r\nX-Slow: " + b"a" * 1000:
            if closed.is_set():
                return
            with contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError):
                await client.stream.send_all(bytes([byte]))
            await trio.sleep(KEEP_ALIVE_S / 10)

    nursery.start_soon(dribble)
    with trio.fail_after(KEEP_ALIVE_S + BOUND_S):
        await client.wait_closed_by_server()
    closed.set()


async def test_a_kept_alive_connection_serves_several_requests(
    nursery: trio.Nursery, settings: Settings
) -> None:
    [base] = await nursery.start(partial(serve, settings, bind="127.0.0.1:0"))
    client = Http1(await connect(base))
    with trio.fail_after(BOUND_S):
        for _ in range(3):
            await client.send_request("GET", "/healthz")
            status, _, body = await client.receive_response()
            assert (status, json.loads(body)["status"]) == (200, "ok")
            client.h11.start_next_cycle()


async def test_an_answer_larger_than_the_socket_takes_at_once_arrives_whole_to_a_slow_reader(
    nursery: trio.Nursery, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The server writes what the socket takes at once and leaves the rest to a locked send_all:
    # a client with a small window that reads late must still get every byte, in order, and
    # the connection must go on serving.
    writes: list[tuple[int, int]] = []
    write_now = hotline.http_server._write_now

    def counted(fd: int, data: bytes) -> int:
        sent = write_now(fd, data)
        writes.append((len(data), sent))
        return sent

    monkeypatch.setattr(hotline.http_server, "_write_now", counted)
    [base] = await nursery.start(partial(serve, settings, bind="127.0.0.1:0"))
    host, port = base.removeprefix("http://").rsplit(":", 1)
    with trio.fail_after(BOUND_S):
        reference = Http1(await connect(base))
        await reference.send_request("GET", "/openapi.json")
        status, _, whole = await reference.receive_response()
        assert status == 200

        raw = trio.socket.socket()
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a small window
        await raw.connect((host, int(port)))
        slow = Http1(trio.SocketStream(raw))
        await slow.send_request("GET", "/openapi.json")
        await trio.sleep(0.3)  # not reading: the server's socket fills up
        status, _, body = await slow.receive_response()
        assert (status, body) == (200, whole)
        slow.h11.start_next_cycle()
        await slow.send_request("GET", "/healthz")
        assert (await slow.receive_response())[0] == 200
    assert any(sent < size for size, sent in writes), "no answer was ever written in part"


async def test_a_client_that_leaves_mid_request_cancels_its_handler_and_the_server_goes_on(
    nursery: trio.Nursery, settings: Settings, slow_route: SlowRoute
) -> None:
    # The handler runs in the server's task for the request, the ASGI reader beside it
    # (hotline.api._HttpConnection): the reader's disconnect must still end the handler.
    [base] = await nursery.start(partial(serve, settings, bind="127.0.0.1:0"))
    with trio.fail_after(BOUND_S):
        leaving = Http1(await connect(base))
        await leaving.send_request("GET", "/slow")
        await slow_route.entered.wait()
        await leaving.stream.aclose()
        await slow_route.cancelled.wait()
        client = Http1(await connect(base))
        await client.send_request("GET", "/healthz")
        assert (await client.receive_response())[0] == 200


class _Readers(trio.abc.Instrument):
    """Counts the tasks Quart-Trio starts to read a request's ASGI messages."""

    def __init__(self) -> None:
        self.started = 0

    def task_spawned(self, task: trio.lowlevel.Task) -> None:
        if task.name.endswith(".handle_messages"):
            self.started += 1


@pytest.fixture
async def readers() -> AsyncIterator[_Readers]:
    counter = _Readers()
    trio.lowlevel.add_instrument(counter)
    yield counter
    trio.lowlevel.remove_instrument(counter)


async def test_a_request_whose_body_is_queued_whole_is_handled_with_no_reader_task(
    nursery: trio.Nursery, settings: Settings, readers: _Readers
) -> None:
    # The common case (hotline.api._HttpConnection): the body was queued whole before the app's
    # task first ran, and the answer is held in memory, so the server's task does it all.
    token, client = await integration_client(nursery, settings)
    json_auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    requests = [
        ("GET", "/healthz", {}, None, 200),
        ("POST", "/v1/contacts", json_auth, CALL, 201),
        ("POST", "/v1/contacts", json_auth, b'{"channel": 1}', 422),
        ("POST", "/v1/contacts", {}, CALL, 401),
        ("GET", "/v1/queues", {"Authorization": f"Bearer {token}"}, None, 403),
    ]
    # Four times over: trio runs ready tasks in a varying order, and a body queued in parts
    # would let the app's task in first about every other time.
    with trio.fail_after(BOUND_S):
        for method, target, headers, body, expected in requests * 4:
            await client.send_request(method, target, headers, body)
            assert (await client.receive_response())[0] == expected, (method, target)
            client.h11.start_next_cycle()
    assert readers.started == 0


async def test_a_body_still_arriving_when_the_handler_starts_is_read_whole(
    nursery: trio.Nursery, settings: Settings, readers: _Readers
) -> None:
    token, client = await integration_client(nursery, settings)
    body = CALL
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/json",
        "Content-Length": str(len(body)),
    }
    with trio.fail_after(BOUND_S):
        await client.send_request("POST", "/v1/contacts", headers)  # the head alone
        await trio.sleep(0.2)  # the app's task has started with no body queued
        await client.stream.send_all(client.h11.send(h11.Data(data=body[:9])))
        await trio.sleep(0.1)
        await client.stream.send_all(client.h11.send(h11.Data(data=body[9:])))
        client.h11.send(h11.EndOfMessage())  # nothing more to send: the length was declared
        status, _, answer = await client.receive_response()
    assert status == 201, answer
    assert json.loads(answer)["topic"] == "documents"
    assert readers.started == 1  # Quart-Trio's reader took the body as it came


async def test_a_client_that_leaves_a_stream_ends_it(
    nursery: trio.Nursery, settings: Settings, slow_route: SlowRoute
) -> None:
    # A streamed answer is sent with a reader beside it: the client leaving ends the stream.
    [base] = await nursery.start(partial(serve, settings, bind="127.0.0.1:0"))
    with trio.fail_after(BOUND_S):
        leaving = Http1(await connect(base))
        await leaving.send_request("GET", "/slow-stream")
        while b"first" not in await leaving.stream.receive_some():
            pass
        await leaving.stream.aclose()
        await slow_route.stream_ended.wait()
        client = Http1(await connect(base))
        await client.send_request("GET", "/healthz")
        assert (await client.receive_response())[0] == 200
    assert not slow_route.release.is_set()  # ended by the client leaving, not by its end


def http2_request(host: str) -> bytes:
    """What an HTTP/2 client with prior knowledge sends first: the preface, SETTINGS, a GET."""
    connection = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    connection.initiate_connection()
    headers = [(":method", "GET"), (":path", "/healthz"), (":scheme", "http")]
    connection.send_headers(1, [*headers, (":authority", host)], end_stream=True)
    return connection.data_to_send()


async def test_http2_with_prior_knowledge_is_refused_with_505(
    nursery: trio.Nursery, settings: Settings
) -> None:
    [base] = await nursery.start(partial(serve, settings, bind="127.0.0.1:0"))
    stream = await connect(base)
    await stream.send_all(http2_request("test"))
    received = b""
    with trio.fail_after(BOUND_S):
        while chunk := await stream.receive_some():
            received += chunk
    assert received.startswith(b"HTTP/1.1 505 ")


async def test_an_h2c_upgrade_is_ignored_and_the_request_answered_over_http_1_1(
    nursery: trio.Nursery, settings: Settings
) -> None:
    [base] = await nursery.start(partial(serve, settings, bind="127.0.0.1:0"))
    client = Http1(await connect(base))
    settings_frame = base64.urlsafe_b64encode(b"\x00\x03\x00\x00\x00\x64").rstrip(b"=")
    upgrade = {
        "Connection": "Upgrade, HTTP2-Settings",
        "Upgrade": "h2c",
        "HTTP2-Settings": settings_frame.decode(),
    }
    await client.send_request("GET", "/healthz", upgrade)
    with trio.fail_after(BOUND_S):
        status, _, body = await client.receive_response()
    assert (status, json.loads(body)["status"]) == (200, "ok")


async def test_http2_load_on_32_connections_leaves_the_server_serving(
    nursery: trio.Nursery, settings: Settings
) -> None:
    """What `h2load -c 32` did: the process exited with trio.BusyResourceError."""
    [base] = await nursery.start(partial(serve, settings, bind="127.0.0.1:0"))

    async def h2_client() -> None:
        for _ in range(5):
            stream = await connect(base)
            await stream.send_all(http2_request("test"))
            with trio.move_on_after(BOUND_S):
                while await stream.receive_some():
                    pass
            await stream.aclose()

    with trio.fail_after(BOUND_S * 3):
        async with trio.open_nursery() as clients:
            for _ in range(32):
                clients.start_soon(h2_client)
        async with httpx.AsyncClient(base_url=base) as client:
            assert (await client.get("/healthz")).status_code == 200


async def test_an_error_in_one_connection_ends_that_connection_not_the_server(
    nursery: trio.Nursery,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Whatever bug a client's bytes may meet in the protocol stack (the BusyResourceError of
    HTTP/2 was one), it is that client's connection that ends."""
    check_protocol = hotline.http_server._Http11Protocol._check_protocol

    async def fails_on_boom(self: hotline.http_server._Http11Protocol, event: h11.Request) -> None:
        if event.target == b"/boom":
            raise RuntimeError("a bug met by this request")
        await check_protocol(self, event)

    monkeypatch.setattr(hotline.http_server._Http11Protocol, "_check_protocol", fails_on_boom)
    caplog.set_level(logging.ERROR, logger="hotline.http")
    [base] = await nursery.start(partial(serve, settings, bind="127.0.0.1:0"))
    client = Http1(await connect(base))
    await client.send_request("GET", "/boom")
    with trio.fail_after(BOUND_S):
        await client.wait_closed_by_server()
        async with httpx.AsyncClient(base_url=base) as other:
            assert (await other.get("/healthz")).status_code == 200
    assert "http.connection_failed" in caplog.messages


async def test_sigterm_ends_idle_connections_and_live_streams_at_once_and_lets_requests_finish(
    settings: Settings, slow_route: SlowRoute, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="hotline.app")
    supervisor = await token_for(settings, Role.SUPERVISOR)
    operator = await token_for(settings, Role.OPERATOR, "op-1")
    entered, release = slow_route.entered, slow_route.release
    slow_answers: list[int] = []

    async def call_slow(base: str) -> None:
        async with httpx.AsyncClient(base_url=base, timeout=None) as client:  # fail_after bounds it
            slow_answers.append((await client.get("/slow")).status_code)

    with trio.fail_after(BOUND_S * 3):
        async with trio.open_nursery() as nursery:
            [base] = await nursery.start(partial(serve, settings, bind="127.0.0.1:0"))
            async with httpx.AsyncClient(base_url=base) as setup:
                auth = {"Authorization": f"Bearer {supervisor}"}
                put = await setup.put("/v1/operators/op-1", json=DESK, headers=auth)
                assert put.status_code in (200, 201)
            idle = Http1(await connect(base))  # kept alive after one request
            await idle.send_request("GET", "/healthz")
            assert (await idle.receive_response())[0] == 200
            silent = Http1(await connect(base))  # connected, never sent anything
            desk = Http1(await connect(base))  # an operator's live offer stream
            await desk.send_request(
                "GET", "/v1/operators/op-1/offers/stream", {"Authorization": f"Bearer {operator}"}
            )
            while b"retry:" not in await desk.stream.receive_some():
                pass
            wall = Http1(await connect(base))  # a wallboard's live figures
            await wall.send_request(
                "GET", "/v1/stats/live/stream", {"Authorization": f"Bearer {supervisor}"}
            )
            while b"event: live" not in await wall.stream.receive_some():
                pass
            nursery.start_soon(call_slow, base)
            await entered.wait()

            signal.raise_signal(signal.SIGTERM)
            # With the request in flight held, everything else ends now, not after the grace.
            with trio.fail_after(BOUND_S):
                await idle.wait_closed_by_server()
                await silent.wait_closed_by_server()
                await desk.wait_closed_by_server()
                await wall.wait_closed_by_server()
            assert "hotline.stopping" in caplog.messages
            release.set()
        # serve() returned on its own once the slow request was answered.
    assert slow_answers == [200]


def test_raising_the_open_file_limit_lifts_the_soft_limit_to_the_hard_one() -> None:
    code = (
        "import resource\n"
        "from hotline.http_server import raise_open_file_limit\n"
        "soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)\n"
        "resource.setrlimit(resource.RLIMIT_NOFILE, (64, hard))\n"
        "raise_open_file_limit()\n"
        "print(resource.getrlimit(resource.RLIMIT_NOFILE) == (hard, hard))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.stdout.strip() == "True", result.stderr
    raise_open_file_limit()  # harmless here too: it never lowers a limit


FILE_LIMIT = 64  # the server holds ~20 descriptors at rest: ~45 connections exhaust it
IDLE_CLIENTS = 100


def _limit_open_files() -> None:  # in the server's process, before it starts
    resource.setrlimit(resource.RLIMIT_NOFILE, (FILE_LIMIT, FILE_LIMIT))


@pytest.mark.slow
async def test_idle_clients_beyond_the_file_limit_do_not_lock_out_a_new_client(
    tmp_path: Path,
) -> None:
    config = tmp_path / "hotline.toml"
    config.write_text(
        SHIPPED.read_text(encoding="utf-8").replace(
            "keep_alive_s = 75", f"keep_alive_s = {KEEP_ALIVE_S}"
        ),
        encoding="utf-8",
    )
    # Run in tmp_path, so every folder the server makes is the test's own. The voicemail
    # watcher may run out of descriptors too while the clients hold them: it rides that out.
    log_path = tmp_path / "stderr.log"
    idle: list[socket.socket] = []
    server = await start_server(
        tmp_path / "hotline.db",
        log_path,
        cwd=tmp_path,
        config=config,
        before_exec=_limit_open_files,
    )
    port = int(server.url.rsplit(":", 1)[1])
    try:
        for _ in range(IDLE_CLIENTS):  # each sends a request, then keeps its connection
            client = socket.create_connection(("127.0.0.1", port))
            client.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
            idle.append(client)
        # Still connected, all of them: a newcomer is served once the idle ones time out.
        with trio.fail_after(KEEP_ALIVE_S * 5 + BOUND_S * 3):
            while not await healthz_answers(server.url):
                assert server.alive, "the server exited"
                await trio.sleep(0.2)
        assert server.alive
        server.process.send_signal(signal.SIGTERM)
        with trio.fail_after(BOUND_S * 3):
            returncode = await server.process.wait()
    finally:
        for client in idle:
            client.close()
        if server.alive:
            server.process.kill()
            await server.process.wait()
    logged = log_path.read_text(encoding="utf-8")
    assert '"event": "http.accept_paused"' in logged  # the limit was reached, and ridden out
    assert returncode == 0, logged[-2000:]


async def healthz_answers(base: str) -> bool:
    try:
        async with httpx.AsyncClient(base_url=base, timeout=2) as client:
            return (await client.get("/healthz")).status_code == 200
    except httpx.TransportError:
        return False
