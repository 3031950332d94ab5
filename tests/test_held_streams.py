"""An SSE stream served by uvicorn's httptools protocol takes its connection over once the
response is under way (runtime/sse.py: ``Held``): uvicorn no longer counts the connection,
the request's task has ended, and the stream alone writes to the socket, is told when the
client leaves, and ends the response (its ``closed`` event, the last chunk) at its deadline.
Served here by a real uvicorn on loopback, the stream endpoint's own calls, on both loops."""

from __future__ import annotations

import asyncio
import json
import re
import socket
from typing import Any

from runtime.config import Config
from runtime.events import LocalBus
from runtime.results import StreamResult
from runtime.sse import Held, OpenStreams, StreamLimits, open_stream
from tests.inproc import on_both_loops, served, until


class StreamApp:
    """The stream endpoint's calls: subscribe, open, run. ``/short`` ends after 300 ms."""

    def __init__(self) -> None:
        self.bus = LocalBus()
        self.open = OpenStreams(3600)
        self.limits = StreamLimits()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        lease = self.limits.reserve("acme", "viewer")
        timeout = 300 if scope["path"] == "/short" else None
        stream, opening = await open_stream(
            send,
            Config(),
            self.bus,
            self.open,
            "acme",
            StreamResult("ch", {"hello": 1}, None, timeout),
            None,
            lease,
            "execution",
        )
        await stream.run(receive, opening)


async def read_until(reader: asyncio.StreamReader, marker: bytes, into: bytearray) -> None:
    while marker not in into:
        data = await asyncio.wait_for(reader.read(65536), 5)
        assert data, f"the connection closed before {marker!r}: {bytes(into)!r}"
        into += data


def test_a_served_stream_holds_its_connection_and_ends_it_itself() -> None:
    async def scenario() -> None:
        app = StreamApp()
        async with served(app) as (server, port):
            conns = []
            for path in ("/", "/short"):
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(f"GET {path} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
                raw = bytearray()
                await read_until(reader, b"event: connected", raw)
                conns.append((reader, writer, raw))

            # uvicorn has let go: the connections are not its own, no request task runs.
            await until(lambda: not server.server_state.tasks)
            assert not server.server_state.connections
            streams = list(app.open.streams)
            assert len(streams) == 2 and all(type(s.server) is Held for s in streams)
            assert app.limits._tenants["acme"] == 2

            # The short one ends at its deadline with `closed`, the last chunk, and EOF.
            reader, writer, raw = conns[1]
            await read_until(reader, b"0\r\n\r\n", raw)
            assert b"event: closed" in raw and b"subscriptionTimeout reached" in raw
            assert raw.endswith(b"\r\n0\r\n\r\n")
            assert await asyncio.wait_for(reader.read(), 5) == b""
            writer.close()
            await until(lambda: app.bus.subscriber_count() == 1)
            assert app.limits._tenants["acme"] == 1

            # The other gets what is published, as chunks it alone writes.
            reader, writer, raw = conns[0]
            await app.bus.publish("acme", "ch", "scene_changed", '{"n":1}')
            await read_until(reader, b'data: {"n":1}', raw)
            assert b"event: scene_changed" in raw

            # A client that leaves releases its subscription and its place.
            writer.close()
            await until(lambda: app.bus.subscriber_count() == 0)
            await until(lambda: not app.open.streams)
            assert not app.limits._tenants
        await app.open.stop()

    on_both_loops(scenario)


def test_server_stop_ends_held_streams_with_closed() -> None:
    """OpenStreams.stop (the app's shutdown) writes every held stream's `closed` event and
    last chunk before it returns."""

    async def scenario() -> None:
        app = StreamApp()
        async with served(app) as (_, port):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            raw = bytearray()
            await read_until(reader, b"event: connected", raw)
            await until(lambda: bool(app.open.streams))
            await app.open.stop()
            await read_until(reader, b"0\r\n\r\n", raw)
            assert b"the server is shutting down" in raw
            assert app.bus.subscriber_count() == 0 and not app.limits._tenants
            writer.close()

    on_both_loops(scenario)


def events_in(raw: bytes) -> list[int]:
    """The ``n`` of every event in an SSE response so far, each chunk checked whole."""
    _, _, rest = raw.partition(b"\r\n\r\n")
    body = bytearray()
    while rest:
        size_line, _, after = rest.partition(b"\r\n")
        size = int(size_line, 16)
        if len(after) < size + 2:
            break  # a chunk still on its way
        assert after[size : size + 2] == b"\r\n", "a chunk not followed by CRLF"
        body += after[:size]
        rest = after[size + 2 :]
    return [int(n) for n in re.findall(rb'^data: \{"n":(\d+)', bytes(body), re.M)]


def test_a_broadcast_writes_straight_to_a_socket_only_while_nothing_waits_before() -> None:
    """The broadcast's shortcut (``Subscriber.fd``: its socket written without asking the
    stream) is on while the held connection has nothing queued. A client that stops reading
    turns it off: what its socket did not take waits in the transport, and later events
    behind it. Reading again turns it back on; leaving turns it off before the socket is
    closed. The client gets every event once, whole and in order."""

    async def scenario() -> None:
        app = StreamApp()
        loop = asyncio.get_running_loop()
        async with served(app) as (_, port):
            client = socket.socket()
            try:
                client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                client.setblocking(False)
                await loop.sock_connect(client, ("127.0.0.1", port))
                await loop.sock_sendall(client, b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
                raw = bytearray()
                while b"event: connected" not in raw:
                    raw += await loop.sock_recv(client, 65536)
                await until(lambda: bool(app.open.streams))
                (stream,) = app.open.streams
                sub, fd = stream.sub, stream.fd
                assert sub.fd == fd >= 0
                transport = stream.server.transport

                def shortcut_only_when_nothing_waits() -> None:
                    if sub.fd >= 0:
                        assert not transport.get_write_buffer_size() and stream.blocked is None

                sent = 0

                async def publish() -> None:
                    nonlocal sent
                    sent += 1
                    data = json.dumps({"n": sent, "pad": "x" * 60_000}, separators=(",", ":"))
                    await app.bus.publish("acme", "ch", "big", data)
                    shortcut_only_when_nothing_waits()

                while sub.fd >= 0:  # the client reads nothing: its buffers fill
                    assert sent < 2000, "the socket never filled"
                    await publish()
                for _ in range(3):
                    await publish()
                    assert sub.fd == -1

                async def read_all() -> None:
                    while not (got := events_in(raw)) or got[-1] < sent:
                        raw.extend(await asyncio.wait_for(loop.sock_recv(client, 1 << 20), 5))
                        shortcut_only_when_nothing_waits()

                await read_all()
                await until(lambda: sub.fd == fd)
                await publish()
                await read_all()
                assert events_in(raw) == list(range(1, sent + 1))

                client.close()
                await until(lambda: not app.open.streams)
                assert sub.fd == -1
            finally:
                client.close()
        await app.open.stop()

    on_both_loops(scenario)
