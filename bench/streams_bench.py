"""Live streams on one worker (SQLite, in-process bus): 20,000 concurrent SSE streams, the
memory an idle stream costs, a broadcast to 5,000 subscribers of one channel (delivery
latency, p50/p99) and to all 20,000; then the same 5,000-subscriber broadcast over
WebSockets, beside SSE.

The client is this process: one asyncio protocol per connection (no reader task), the time an
event arrives taken when its bytes do. It needs more file descriptors than the default soft
limit, so it raises its own soft limit and the server's to the hard limit (``RLIMIT_NOFILE``,
in the server process before it starts): the runtime's defaults are not changed. Where the
hard limit is lower than the streams asked for plus the descriptors a process needs of its
own (about 20), fewer streams are opened and the report says so: raising a hard limit needs
CAP_SYS_RESOURCE, which not every machine grants. The stream caps are lifted for
the run (``MAX_STREAMS_PER_TENANT=0``); each stream is a user of its own.

Run: ``make bench`` or ``.venv/bin/python bench/streams_bench.py [--streams 20000]``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import jwt

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

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


class Client(asyncio.Protocol):
    """One subscriber: opened when its first event (``connected``) arrives; then the time a
    marker (the scene id of a transition) first appears in what it received."""

    def __init__(self, marker_wait: dict[bytes, bytes]) -> None:
        self.opened = asyncio.get_running_loop().create_future()
        self.tail = b""
        self.seen: dict[bytes, float] = {}
        self.watch = marker_wait  # shared by every client: b"" -> the marker now awaited
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
        marker = self.watch.get(b"")  # the one being broadcast now
        if marker is not None and marker not in self.seen and marker in text:
            self.seen[marker] = now
        self.tail = text[-64:]

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_exception(RuntimeError("connection lost"))


async def open_streams(
    port: int, channel: str, count: int, first: int, watch: dict[bytes, bytes], ws: bool
) -> list[Client]:
    loop = asyncio.get_running_loop()
    gate = asyncio.Semaphore(64)
    clients: list[Client] = []

    async def one(i: int) -> None:
        async with gate:
            transport, client = await loop.create_connection(
                lambda: Client(watch), "127.0.0.1", port
            )
            user = f"u{first + i}"
            if ws:
                key = base64.b64encode(os.urandom(16)).decode()
                transport.write(
                    f"GET /api/v1/acme/stream_cast/subscribe?channelId={channel}"
                    f"&access_token={token(user)} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                    f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
                )
            else:
                body = json.dumps({"channelId": channel}).encode()
                transport.write(
                    b"POST /api/v1/acme/stream_cast/subscribe HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    b"Content-Type: application/json\r\n"
                    + f"Authorization: Bearer {token(user)}\r\n".encode()
                    + f"Content-Length: {len(body)}\r\n\r\n".encode()
                    + body
                )
            try:
                await asyncio.wait_for(client.opened, 60)
            except TimeoutError:
                raise RuntimeError(f"stream {i} did not open: {client.tail!r}") from None
            clients.append(client)

    await asyncio.gather(*(one(i) for i in range(count)))
    return clients


async def broadcast(port: int, channel: str, clients: list[Client], scene: str) -> list[float]:
    """One scene transition: ms from sending it to each subscriber's receipt."""
    marker = f'"sceneId":"{scene}"'.encode()
    for c in clients:
        c.watch[b""] = marker
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    body = json.dumps({"sceneId": scene}).encode()
    moderator = token("moderator", 2, ("stream_cast:scenes:manage",))
    start = time.perf_counter()
    writer.write(
        f"POST /api/v1/acme/stream_cast/scenes/{channel}/transition HTTP/1.1\r\n"
        f"Host: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {moderator}\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body
    )
    await writer.drain()
    status = (await reader.readline()).split()[1]
    assert status == b"200", status
    deadline = time.perf_counter() + 10
    while time.perf_counter() < deadline and any(marker not in c.seen for c in clients):
        await asyncio.sleep(0.005)
    writer.close()
    return [(c.seen.get(marker, float("inf")) - start) * 1e3 for c in clients]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def close(clients: list[Client]) -> None:
    for c in clients:
        if c.transport is not None:
            c.transport.close()


async def run(streams: int, fanout: int, rounds: int, transports: tuple[str, ...]) -> None:
    limit = raise_fd_limit()
    asked = streams
    streams = min(streams, limit - SPARE_FDS)
    env = {"MAX_STREAMS_PER_TENANT": "0", "SSE_HEARTBEAT_MS": "15000"}
    watch: dict[bytes, bytes] = {}
    results: dict[str, object] = {}
    idle = 0
    for ws in [t == "ws" for t in transports]:  # each transport on a server of its own
        kind = "WebSocket" if ws else "SSE"
        with tempfile.TemporaryDirectory() as tmp:
            server = Server(Path(tmp), env, preexec=raise_server_limit)
            server.start()
            assert server.proc is not None
            pid = server.proc.pid
            live = server.demo["tenants"]["acme"]["channels"]
            channel = next(c["id"] for c in live if c["isLive"])
            await asyncio.sleep(1.0)
            try:
                before = rss_kib(pid)
                idle = idle or before
                clients = await open_streams(server.port, channel, fanout, 0, watch, ws)
                await asyncio.sleep(1.0)
                per_stream = (rss_kib(pid) - before) / fanout
                latencies: list[float] = []
                for r in range(rounds):
                    latencies += await broadcast(server.port, channel, clients, f"{kind}-{r}")
                results[kind] = (per_stream, latencies)
                if not ws:
                    more = await open_streams(
                        server.port, channel, streams - fanout, fanout, watch, False
                    )
                    everyone = clients + more
                    await asyncio.sleep(1.0)
                    rss_all = rss_kib(pid)
                    per_all = (rss_all - before) / streams
                    whole = await broadcast(server.port, channel, everyone, "all")
                    results["all"] = (per_all, whole, rss_all)
                    clients = everyone
                close(clients)
                await asyncio.sleep(1.0)
            finally:
                server.stop()

    all_mem, all_lat, all_rss = results["all"]  # type: ignore[misc]
    print(f"live streams on one worker ({os.cpu_count()} cores; client in the same machine)")
    if streams < asked:
        print(f"  {streams} streams, not {asked}: a process may hold {limit} descriptors here "
              "(RLIMIT_NOFILE's hard limit)")  # fmt: skip
    print(f"  server RSS idle, no stream: {idle / 1024:.1f} MiB; with {streams} streams: "
          f"{all_rss / 1024:.1f} MiB")  # fmt: skip
    verdict = lambda ok: "met" if ok else "NOT MET"  # noqa: E731
    print(f"  idle memory per SSE stream ({streams} open):   {all_mem:6.1f} KiB   "
          f"goal <= {GOAL_IDLE_KIB:g} KiB   {verdict(all_mem <= GOAL_IDLE_KIB)}")  # fmt: skip
    for kind in ("SSE", "WebSocket"):
        if kind not in results:
            continue
        mem, lat = results[kind]  # type: ignore[misc]
        p50, p99 = statistics.median(lat), percentile(lat, 0.99)
        print(f"  {kind:9} broadcast to {fanout}, {rounds} rounds: p50 {p50:6.1f} ms, "
              f"p99 {p99:6.1f} ms   goal p99 < {GOAL_P99_MS:g} ms   "
              f"{verdict(p99 < GOAL_P99_MS)}; {mem:.1f} KiB a stream")  # fmt: skip
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
