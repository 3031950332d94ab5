"""Live streams on one worker (SQLite, in-process bus): 20,000 concurrent SSE streams, the
memory an idle stream costs, a broadcast to 5,000 subscribers of one channel (delivery
latency, p50/p99) and to all 20,000; then the same 5,000-subscriber broadcast over
WebSockets, beside SSE.

The subscribers are held by ``bench/stream_client.c`` (compiled here with ``cc``; the time an
event arrives is taken when its bytes are read, on the clock this script reads): a client in
Python costs about ten times its CPU per event, and on a machine whose cores the server
shares it measured itself as much as the server. Without a C compiler the streams are held by
this process (one asyncio protocol per connection) and the report says so.

Streams need more file descriptors than the default soft limit, so the clients and the server
raise their soft limit to the hard limit (``RLIMIT_NOFILE``, in the server process before it
starts): the runtime's defaults are not changed. Where the hard limit is lower than the
streams asked for plus the descriptors a process needs of its own, fewer streams are opened
and the report says so: raising a hard limit needs CAP_SYS_RESOURCE, which not every machine
grants. One broadcast goes first and is not counted (the first after thousands of streams
opened runs on cold caches). The stream caps are lifted for the run
(``MAX_STREAMS_PER_TENANT=0``); each stream is a user of its own.

Last, the machine's floor for the same broadcast: the client's 5,000 streams served by this
process with no server logic at all, each marker written to every socket with ``os.write``
from as many threads as a broadcast uses. What the server adds is the difference.

Run: ``make bench`` or ``.venv/bin/python bench/streams_bench.py [--streams 20000]``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import math
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from asyncio.subprocess import PIPE
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import jwt

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from runtime.events import http_chunk  # noqa: E402
from runtime.fanout import THREADS  # noqa: E402
from tests.server import SECRET, Server  # noqa: E402

SPARE_FDS = 100  # the server's own: listening socket, database, epoll, logs
GOAL_IDLE_KIB = 10.0
GOAL_P99_MS = 50.0
GOAL_ALL_MS = 1000.0


def raise_fd_limit() -> int:
    """The soft limit raised to the hard one; the descriptors a process may now hold."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def raise_server_limit() -> None:
    raise_fd_limit()


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def token(user: str, level: int = 1, scopes: tuple[str, ...] = ()) -> str:
    now = int(time.time())
    claims = {"sub": user, "tid": "acme", "level": level, "scopes": list(scopes)}
    return jwt.encode({**claims, "exp": now + 7200}, SECRET, algorithm="HS256")


def request(channel: str, user: str, ws: bool) -> bytes:
    """The request that opens one stream (each subscriber a user of its own)."""
    if ws:
        key = base64.b64encode(os.urandom(16)).decode()
        return (
            f"GET /api/v1/acme/stream_cast/subscribe?channelId={channel}"
            f"&access_token={token(user)} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    body = json.dumps({"channelId": channel}).encode()
    return (
        b"POST /api/v1/acme/stream_cast/subscribe HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\n"
        + f"Authorization: Bearer {token(user)}\r\n".encode()
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )


def build_client(folder: Path) -> Path | None:
    """``bench/stream_client.c`` compiled into ``folder``; None without a C compiler."""
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if cc is None:
        return None
    exe = folder / "stream_client"
    subprocess.run(
        [cc, "-O2", "-o", str(exe), str(ROOT / "bench" / "stream_client.c")], check=True
    )
    return exe


class CGroup:
    """Streams held by one ``stream_client`` process."""

    def __init__(self, proc: asyncio.subprocess.Process, count: int) -> None:
        self.proc = proc
        self.count = count

    @classmethod
    async def open(cls, exe: Path, port: int, requests: list[bytes], folder: Path) -> CGroup:
        listing = folder / f"requests-{port}-{time.monotonic_ns()}"
        listing.write_bytes(b"".join(b"%d\n%b" % (len(r), r) for r in requests))
        proc = await asyncio.create_subprocess_exec(
            str(exe), str(port), str(listing), stdin=PIPE, stdout=PIPE, limit=1 << 24
        )
        assert proc.stdout is not None
        line = await proc.stdout.readline()
        if not line.startswith(b"ready"):
            raise RuntimeError(f"the stream client stopped: {line!r}")
        return cls(proc, len(requests))

    async def arm(self, marker: bytes) -> None:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(b"watch %b 10000\n" % marker)
        await self.proc.stdin.drain()
        assert await self.proc.stdout.readline() == b"watching\n"

    async def times(self, marker: bytes) -> list[float]:
        assert self.proc.stdout is not None
        line = await self.proc.stdout.readline()
        return [float(t) if t != b"-1.000000" else math.inf for t in line.split()]

    async def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"quit\n")
        await self.proc.stdin.drain()
        await self.proc.wait()


class Client(asyncio.Protocol):
    """One subscriber held by this process: opened when its first event (``connected``)
    arrives; then the time a marker first appears in what it received."""

    def __init__(self, group: PyGroup) -> None:
        self.opened = asyncio.get_running_loop().create_future()
        self.tail = b""
        self.seen: dict[bytes, float] = {}
        self.group = group
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is no subclass

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter()
        text = self.tail + data
        if not self.opened.done():
            if b"connected" in text:
                self.opened.set_result(None)
            elif b" 4" in text[:16] or b"HTTP/1.1 5" in text[:16]:
                self.opened.set_exception(RuntimeError(text[:300].decode(errors="replace")))
        marker = self.group.marker
        if marker and marker not in self.seen and marker in text:
            self.seen[marker] = now
        self.tail = text[-64:]

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_exception(RuntimeError("connection lost"))


class PyGroup:
    """Streams held by this process (no C compiler here)."""

    def __init__(self) -> None:
        self.clients: list[Client] = []
        self.marker = b""

    @classmethod
    async def open(cls, port: int, requests: list[bytes]) -> PyGroup:
        group = cls()
        loop = asyncio.get_running_loop()
        gate = asyncio.Semaphore(64)

        async def one(i: int, req: bytes) -> None:
            async with gate:
                transport, client = await loop.create_connection(
                    lambda: Client(group), "127.0.0.1", port
                )
                transport.write(req)
                try:
                    await asyncio.wait_for(client.opened, 60)
                except TimeoutError:
                    raise RuntimeError(f"stream {i} did not open: {client.tail!r}") from None
                group.clients.append(client)

        await asyncio.gather(*(one(i, r) for i, r in enumerate(requests)))
        return group

    async def arm(self, marker: bytes) -> None:
        self.marker = marker

    async def times(self, marker: bytes) -> list[float]:
        deadline = time.perf_counter() + 10
        while time.perf_counter() < deadline and any(marker not in c.seen for c in self.clients):
            await asyncio.sleep(0.005)
        return [c.seen.get(marker, math.inf) for c in self.clients]

    async def close(self) -> None:
        for c in self.clients:
            if c.transport is not None:
                c.transport.close()


Group = CGroup | PyGroup


async def open_streams(
    exe: Path | None, folder: Path, port: int, channel: str, count: int, first: int, ws: bool
) -> Group:
    requests = [request(channel, f"u{first + i}", ws) for i in range(count)]
    if exe is None:
        return await PyGroup.open(port, requests)
    return await CGroup.open(exe, port, requests, folder)


async def broadcast(port: int, channel: str, groups: list[Group], scene: str) -> list[float]:
    """One scene transition: ms from sending it to each subscriber's receipt."""
    marker = f'"sceneId":"{scene}"'.encode()
    for g in groups:
        await g.arm(marker)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    body = json.dumps({"sceneId": scene}).encode()
    moderator = token("moderator", 2, ("stream_cast:scenes:manage",))
    start = time.perf_counter()  # CLOCK_MONOTONIC, as the stream client's
    writer.write(
        f"POST /api/v1/acme/stream_cast/scenes/{channel}/transition HTTP/1.1\r\n"
        f"Host: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {moderator}\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body
    )
    await writer.drain()
    status = (await reader.readline()).split()[1]
    assert status == b"200", status
    arrived = [t for g in groups for t in await g.times(marker)]
    writer.close()
    return [(t - start) * 1e3 for t in arrived]


async def floor(exe: Path, folder: Path, fanout: int, rounds: int) -> list[float]:
    """The same broadcast with no server in between, as a measure of this machine: this
    process accepts the client's streams, answers each with ``connected``, and writes each
    marker to every socket with ``os.write``, split among as many threads as a broadcast's
    (runtime/fanout.py), with nothing else to do. ms from the first write to each receipt."""
    listener = socket.create_server(("127.0.0.1", 0), backlog=4096)
    port = listener.getsockname()[1]
    head = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
    sockets: list[socket.socket] = []

    def accept() -> None:
        while len(sockets) < fanout:
            conn, _ = listener.accept()
            conn.recv(65536)  # the request, whatever it asks
            conn.sendall(head + http_chunk(b"event: connected\r\ndata: {}\r\n\r\n"))
            conn.setblocking(False)
            sockets.append(conn)

    requests = [b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"] * fanout
    accepting = asyncio.create_task(asyncio.to_thread(accept))
    group = await CGroup.open(exe, port, requests, folder)
    await accepting
    fds = [s.fileno() for s in sockets]
    shares = max(1, THREADS)
    pool = ThreadPoolExecutor(max(1, shares - 1))  # and this thread

    def write(first: int, payload: bytes) -> None:
        for i in range(first, len(fds), shares):
            os.write(fds[i], payload)

    latencies: list[float] = []
    try:
        for r in range(rounds + 1):  # the first not counted, as for the server
            marker = f'"sceneId":"floor-{r}"'.encode()
            await group.arm(marker)
            payload = http_chunk(b"event: scene_changed\r\ndata: {%b}\r\n\r\n" % marker)
            start = time.perf_counter()
            done = [pool.submit(write, k, payload) for k in range(1, shares)]
            write(0, payload)
            for d in done:
                d.result()
            arrived = await group.times(marker)
            if r:
                latencies += [(t - start) * 1e3 for t in arrived]
    finally:
        await group.close()
        pool.shutdown()
        for s in sockets:
            s.close()
        listener.close()
    return latencies


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT MET"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


async def run(streams: int, fanout: int, rounds: int, transports: tuple[str, ...]) -> None:
    limit = raise_fd_limit()
    asked = streams
    streams = min(streams, limit - SPARE_FDS)
    env = {"MAX_STREAMS_PER_TENANT": "0", "SSE_HEARTBEAT_MS": "15000"}
    results: dict[str, Any] = {}
    idle = 0
    with tempfile.TemporaryDirectory() as work:
        exe = build_client(Path(work))
        for ws in [t == "ws" for t in transports]:  # each transport on a server of its own
            kind = "WebSocket" if ws else "SSE"
            with tempfile.TemporaryDirectory() as tmp:
                server = Server(Path(tmp), env, preexec=raise_server_limit)
                server.start()
                assert server.proc is not None
                pid, port = server.proc.pid, server.port
                live = server.demo["tenants"]["acme"]["channels"]
                channel = next(c["id"] for c in live if c["isLive"])
                await asyncio.sleep(1.0)
                groups: list[Group] = []
                try:
                    before = rss_kib(pid)
                    idle = idle or before
                    groups.append(
                        await open_streams(exe, Path(work), port, channel, fanout, 0, ws)
                    )
                    await asyncio.sleep(1.0)
                    per_stream = (rss_kib(pid) - before) / fanout
                    await broadcast(port, channel, groups, f"{kind}-warm-up")  # not counted
                    latencies: list[float] = []
                    for r in range(rounds):
                        latencies += await broadcast(port, channel, groups, f"{kind}-{r}")
                    results[kind] = (per_stream, latencies)
                    if not ws:
                        more = streams - fanout
                        groups.append(
                            await open_streams(exe, Path(work), port, channel, more, fanout, ws)
                        )
                        await asyncio.sleep(1.0)
                        rss_all = rss_kib(pid)
                        per_all = (rss_all - before) / streams
                        whole = await broadcast(port, channel, groups, "all")
                        results["all"] = (per_all, whole, rss_all)
                finally:
                    for g in groups:
                        await g.close()
                    await asyncio.sleep(1.0)
                    server.stop()

        machine = await floor(exe, Path(work), fanout, rounds) if exe is not None else None

    all_mem, all_lat, all_rss = results["all"]
    client = "bench/stream_client.c" if exe is not None else "Python (no C compiler found)"
    print(f"live streams on one worker ({os.cpu_count()} cores; the subscribers on the same "
          f"machine, held by {client})")  # fmt: skip
    if streams < asked:
        print(f"  {streams} streams, not {asked}: a process may hold {limit} descriptors here "
              "(RLIMIT_NOFILE's hard limit)")  # fmt: skip
    print(f"  server RSS idle, no stream: {idle / 1024:.1f} MiB; with {streams} streams: "
          f"{all_rss / 1024:.1f} MiB")  # fmt: skip
    print(f"  idle memory per SSE stream ({streams} open):   {all_mem:6.1f} KiB   "
          f"goal <= {GOAL_IDLE_KIB:g} KiB   {verdict(all_mem <= GOAL_IDLE_KIB)}")  # fmt: skip
    for kind in ("SSE", "WebSocket"):
        if kind not in results:
            continue
        mem, lat = results[kind]
        p50, p99 = statistics.median(lat), percentile(lat, 0.99)
        goal = (
            f"goal p99 < {GOAL_P99_MS:g} ms   {verdict(p99 < GOAL_P99_MS)}"
            if kind == "SSE"
            else "(measured beside SSE; the goal is SSE's)"
        )
        print(f"  {kind:9} broadcast to {fanout}, {rounds} rounds: p50 {p50:6.1f} ms, "
              f"p99 {p99:6.1f} ms   {goal}; {mem:.1f} KiB a stream")  # fmt: skip
    if machine is not None:
        print(f"  the same {fanout} sockets written by {THREADS} threads with nothing "
              f"else to do (this machine's floor): p50 {statistics.median(machine):6.1f} ms, "
              f"p99 {percentile(machine, 0.99):6.1f} ms")  # fmt: skip
    last = max(all_lat)
    print(f"  SSE broadcast to all {streams}: p50 {statistics.median(all_lat):6.1f} ms, "
          f"last {last:6.1f} ms   goal all < {GOAL_ALL_MS:g} ms   {verdict(last < GOAL_ALL_MS)}")  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--streams", type=int, default=20_000)
    parser.add_argument("--fanout", type=int, default=5_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--transports", default="sse,ws", help="sse, ws or both")
    args = parser.parse_args()
    import uvloop

    uvloop.run(run(args.streams, args.fanout, args.rounds, tuple(args.transports.split(","))))
