"""An SSE stream served by uvicorn's httptools protocol takes its connection over once the
response is under way (runtime/sse.py: ``Held``): uvicorn no longer counts the connection,
the request's task has ended, and the stream alone writes to the socket, is told when the
client leaves, and ends the response (its ``closed`` event, the last chunk) at its deadline.
Served here by a real uvicorn on loopback, the stream endpoint's own calls, on both loops."""

from __future__ import annotations

import asyncio
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
