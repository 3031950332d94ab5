"""A broadcast's writes (runtime/fanout.py): one payload written straight to many sockets,
in threads past a few hundred; what a socket does not take at once follows through its
transport, in order. Then the same on a real server: hundreds of SSE streams, every event
and heartbeat intact, in order, in valid HTTP chunks; and hundreds of WebSockets, every
frame one that websockets' own client parses."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import jwt
import pytest
from websockets.asyncio.client import ClientConnection, connect

from runtime import fanout
from tests.inproc import on_both_loops
from tests.server import SECRET, Server


class Quiet(asyncio.Protocol):
    pass


def fill(fd: int) -> bytes:
    """Write to a socket until its buffers are full; what it took."""
    taken = bytearray()
    try:
        while True:
            block = os.urandom(65536)
            taken += block[: os.write(fd, block)]
    except BlockingIOError:
        return bytes(taken)


def drain(sock: socket.socket, expected: int, into: bytearray) -> None:
    try:
        while len(into) < expected:
            chunk = sock.recv(1 << 20)
            if not chunk:
                return
            into += chunk
    except TimeoutError:
        return  # the comparison after tells what is missing


Pairs = list[tuple[socket.socket, socket.socket]]


@contextlib.asynccontextmanager
async def socket_pairs() -> AsyncIterator[tuple[Pairs, list[asyncio.WriteTransport]]]:
    """Enough connected pairs for a broadcast to share its writes among threads: ours, each
    with a transport of the running loop, and theirs (reads give up after 5 s)."""
    loop = asyncio.get_running_loop()
    pairs = [socket.socketpair() for _ in range(fanout.PARALLEL_FROM * 2)]
    transports: list[asyncio.WriteTransport] = []
    try:
        for ours, theirs in pairs:
            theirs.settimeout(5)
            transport, _ = await loop.connect_accepted_socket(Quiet, ours)
            transports.append(transport)  # type: ignore[arg-type]
        yield pairs, transports
    finally:
        for t in transports:
            t.abort()
        for _, theirs in pairs:
            theirs.close()
        await asyncio.sleep(0)


def test_every_socket_gets_the_payload_and_a_full_one_gets_it_in_order() -> None:
    async def main() -> None:
        async with socket_pairs() as (pairs, transports):
            payload = b"5\r\nhello\r\n"
            big = os.urandom(4 << 20)  # more than a socket buffer takes at once: a short write

            # A socket the kernel has filled (its peer reads nothing yet): what it does not
            # take goes to the transport, after the bytes already in flight.
            filled = fill(pairs[2][0].fileno())
            pairs[3][1].close()  # a client gone: the write fails; the transport deals with it

            targets: list[fanout.Target] = [
                (ours.fileno(), big if i == 0 else payload, transports[i].write)
                for i, (ours, _) in enumerate(pairs)
            ]
            skipped = ("not this way", "nor this")
            others = fanout.write_all([*targets, *skipped], lambda t: None if t in skipped else t)
            assert sorted(others) == sorted(skipped)  # for the caller to send its own way

            received = [bytearray() for _ in pairs]
            expected = {0: len(big), 1: len(payload), 2: len(filled) + len(payload)}
            readers = [
                threading.Thread(target=drain, args=(pairs[i][1], n, received[i]))
                for i, n in expected.items()
            ]
            for r in readers:
                r.start()
            while any(r.is_alive() for r in readers):
                await asyncio.sleep(0.01)  # the loop sends what the transports hold
            assert bytes(received[0]) == big
            assert bytes(received[1]) == payload
            assert bytes(received[2]) == bytes(filled) + payload
            for i, (_, theirs) in enumerate(pairs):
                if i > 3:
                    assert theirs.recv(64) == payload
            await asyncio.sleep(0.05)
            assert transports[3].is_closing()  # the failed write closed it, quietly

    on_both_loops(main)


def test_a_failing_target_leaves_nothing_found_unwritten_and_the_pool_ready() -> None:
    async def main() -> None:
        async with socket_pairs() as (pairs, transports):
            count = len(pairs)
            targets = [
                (ours.fileno(), b"x", transports[i].write) for i, (ours, _) in enumerate(pairs)
            ]
            failing_at = count - 10

            def target(t: fanout.Target) -> fanout.Target:
                if t is targets[failing_at]:
                    raise RuntimeError("a broken stream")
                return t

            with pytest.raises(RuntimeError, match="a broken stream"):
                fanout.write_all(targets, target)
            got = [
                theirs.recv(8) if i < failing_at else b"" for i, (_, theirs) in enumerate(pairs)
            ]
            assert got == [b"x"] * failing_at + [b""] * (count - failing_at)
            # What was found went out on the helpers too, and they stopped: the pool takes new
            # work, and the next broadcast is written in full.
            assert fanout._pool is not None
            assert fanout._pool.submit(lambda: "idle").result(timeout=5) == "idle"
            assert fanout.write_all(targets, lambda t: t) == []
            assert all(theirs.recv(8) for _, theirs in pairs)

    on_both_loops(main)


# ----------------------------------------------------------------------------- on a server

STREAMS = fanout.PARALLEL_FROM + 44


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    srv = Server(tmp_path_factory.mktemp("fanout"), {"MAX_STREAMS_PER_TENANT": "0"}).start()
    yield srv
    srv.stop()
    assert "Traceback" not in srv.log(), srv.log()


def token(user: str, level: int = 1, *scopes: str) -> str:
    claims = {"sub": user, "tid": "acme", "level": level, "scopes": list(scopes)}
    return jwt.encode({**claims, "exp": int(time.time()) + 600}, SECRET, algorithm="HS256")


def chunks(raw: bytes) -> tuple[bytes, bytes]:
    """An HTTP/1.1 response: its head and its chunked body so far, each chunk checked."""
    head, _, rest = raw.partition(b"\r\n\r\n")
    assert b"transfer-encoding: chunked" in head.lower(), head
    body = bytearray()
    while rest:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line, 16)
        assert rest[size : size + 2] == b"\r\n", "a chunk not followed by CRLF"
        body += rest[:size]
        rest = rest[size + 2 :]
        if size == 0:
            break
    return head, bytes(body)


async def test_hundreds_of_streams_get_every_event_and_heartbeat_intact(
    server: Server,
) -> None:
    channel = next(c["id"] for c in server.demo["tenants"]["acme"]["channels"] if c["isLive"])
    body = json.dumps({"channelId": channel}).encode()
    opened: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    received = [bytearray() for _ in range(STREAMS)]
    for i in range(STREAMS):
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(
            b"POST /api/v1/acme/stream_cast/subscribe HTTP/1.1\r\nHost: t\r\n"
            b"Content-Type: application/json\r\n"
            + f"Authorization: Bearer {token(f'viewer{i}')}\r\n".encode()
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        opened.append((reader, writer))

    async def connected(reader: asyncio.StreamReader, raw: bytearray) -> None:
        while b"event: connected" not in raw:
            raw += await asyncio.wait_for(reader.read(65536), 10)

    await asyncio.gather(
        *(connected(r, raw) for (r, _), raw in zip(opened, received, strict=True))
    )

    moderator = token("moderator", 2, "stream_cast:scenes:manage")
    scenes = [f"scene-{n}" for n in range(5)]
    for scene in scenes:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        payload = json.dumps({"sceneId": scene}).encode()
        writer.write(
            f"POST /api/v1/acme/stream_cast/scenes/{channel}/transition HTTP/1.1\r\n"
            f"Host: t\r\nContent-Type: application/json\r\nConnection: close\r\n"
            f"Authorization: Bearer {moderator}\r\nContent-Length: {len(payload)}\r\n\r\n".encode()
            + payload
        )
        assert (await reader.readline()).split()[1] == b"200"
        writer.close()
    await asyncio.sleep(2.5)  # a heartbeat or two (SSE_HEARTBEAT_MS=1000 here)

    async def settle(reader: asyncio.StreamReader, raw: bytearray) -> None:
        while True:  # what has come: whole frames, once nothing more arrives
            try:
                raw += await asyncio.wait_for(reader.read(65536), 0.3)
            except TimeoutError:
                return

    await asyncio.gather(*(settle(r, raw) for (r, _), raw in zip(opened, received, strict=True)))
    for _, writer in opened:
        writer.close()
    for raw in received:
        head, stream = chunks(bytes(raw))
        assert head.startswith(b"HTTP/1.1 200")
        frames = stream.decode().split("\r\n\r\n")
        changes = [f for f in frames if "event: scene_changed" in f]
        seen = [json.loads(f.split("data: ", 1)[1])["sceneId"] for f in changes]
        assert seen == scenes, seen  # every event, once, in order
        ids = [f.split("id: ", 1)[1].split("\r\n", 1)[0] for f in changes]
        assert len(set(ids)) == len(ids)
        assert ": ping" in frames  # heartbeats are written the same way
        assert frames[-1] == ""  # nothing torn: what came ends at a frame's end


async def test_hundreds_of_websockets_get_every_event_and_heartbeat_intact(
    server: Server,
) -> None:
    """The same over WebSockets: each frame written directly must parse as websockets' own."""

    channel = next(c["id"] for c in server.demo["tenants"]["acme"]["channels"] if c["isLive"])
    base = f"ws://127.0.0.1:{server.port}/api/v1/acme/stream_cast/subscribe?channelId={channel}"
    sockets = [  # websockets offers permessage-deflate, as browsers do: the server declines
        await connect(f"{base}&access_token={token(f'ws{i}')}") for i in range(STREAMS)
    ]
    try:
        assert all(ws.protocol.extensions == [] for ws in sockets)
        for ws in sockets:
            first = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert first["event"] == "connected"
        moderator = token("moderator", 2, "stream_cast:scenes:manage")
        scenes = [f"ws-scene-{n}" for n in range(5)]
        async with httpx.AsyncClient() as client:
            for scene in scenes:
                r = await client.post(
                    server.api("acme", f"scenes/{channel}/transition"),
                    json={"sceneId": scene},
                    headers={"Authorization": f"Bearer {moderator}"},
                )
                assert r.status_code == 200, r.text
        await asyncio.sleep(2.5)  # a heartbeat or two

        async def messages(ws: ClientConnection) -> list[dict[str, Any]]:
            got = []
            while True:
                try:
                    got.append(json.loads(await asyncio.wait_for(ws.recv(), 0.3)))
                except TimeoutError:
                    return got

        for got in await asyncio.gather(*(messages(ws) for ws in sockets)):
            seen = [m["data"]["sceneId"] for m in got if m["event"] == "scene_changed"]
            assert seen == scenes, seen  # every event, once, in order
            assert any(m["event"] == "ping" for m in got)
    finally:
        await asyncio.gather(*(ws.close() for ws in sockets))
