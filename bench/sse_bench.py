"""SSE fan-out on one uvicorn worker (SQLite, in-process bus), with 1,000 and 5,000 open
streams (stream caps lifted): the broadcast cost (the transition's answer time, how many
receive ``scene_changed`` within 1 s, the delivery latency) and the memory per idle stream.
Then the caps at their defaults: one user trying to hold 5,000 streams.

Run: ``make bench`` or ``.venv/bin/python bench/sse_bench.py [--subscribers 1000,5000]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import jwt

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.server import SECRET, Server  # noqa: E402


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def token(user: str, level: int = 1, scopes: tuple[str, ...] = ()) -> str:
    now = int(time.time())
    claims = {"sub": user, "tid": "acme", "level": level, "scopes": list(scopes)}
    return jwt.encode({**claims, "exp": now + 3600}, SECRET, algorithm="HS256")


class Subscriber:
    def __init__(self, port: int, channel: str, user: str) -> None:
        self.port, self.channel, self.user = port, channel, user
        self.connected = asyncio.Event()
        self.refused = False
        self.received_at: float | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def run(self, gate: asyncio.Semaphore) -> None:
        async with gate:
            reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
            body = json.dumps({"channelId": self.channel}).encode()
            self.writer.write(
                b"POST /api/v1/acme/stream_cast/subscribe HTTP/1.1\r\n"
                b"Host: 127.0.0.1\r\nContent-Type: application/json\r\n"
                + f"Authorization: Bearer {token(self.user)}\r\n".encode()
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            await self.writer.drain()
            buffer = b""
            while b"event: connected" not in buffer:
                chunk = await reader.read(4096)
                buffer += chunk
                if buffer.startswith(b"HTTP/1.1 429"):
                    self.refused = True
                    self.connected.set()
                    return
                if not chunk:
                    raise RuntimeError(f"subscriber {self.user}: closed: {buffer[:300]!r}")
        self.connected.set()
        while b"event: scene_changed" not in buffer:
            chunk = await reader.read(4096)
            if not chunk:
                return
            buffer += chunk
        self.received_at = time.perf_counter()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def open_all(subs: list[Subscriber]) -> tuple[list[asyncio.Task[None]], float]:
    """Open every subscriber's stream, 64 at a time; their tasks and the seconds it took."""
    gate = asyncio.Semaphore(64)
    t0 = time.perf_counter()
    tasks = [asyncio.create_task(s.run(gate)) for s in subs]
    await asyncio.wait_for(asyncio.gather(*(s.connected.wait() for s in subs)), timeout=600)
    return tasks, time.perf_counter() - t0


async def fan_out(n: int) -> None:
    env = {"SSE_HEARTBEAT_MS": "15000", "MAX_STREAMS_PER_TENANT": "0"}
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(Path(tmp), env).start()
        try:
            assert server.proc is not None
            pid = server.proc.pid
            channel = next(
                c["id"] for c in server.demo["tenants"]["acme"]["channels"] if c["isLive"]
            )
            await asyncio.sleep(0.5)
            before = rss_kib(pid)
            subs = [Subscriber(server.port, channel, f"viewer{i}") for i in range(n)]
            tasks, opened_s = await open_all(subs)
            await asyncio.sleep(2.0)  # idle
            after = rss_kib(pid)

            moderator = token("mod", 2, ("stream_cast:scenes:manage",))
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            body = b'{"sceneId": "bench"}'
            t0 = time.perf_counter()
            writer.write(
                f"POST /api/v1/acme/stream_cast/scenes/{channel}/transition HTTP/1.1\r\n".encode()
                + b"Host: 127.0.0.1\r\nContent-Type: application/json\r\n"
                + f"Authorization: Bearer {moderator}\r\n".encode()
                + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                + body
            )
            await writer.drain()
            status = (await reader.readline()).decode().strip()
            answered_ms = (time.perf_counter() - t0) * 1e3
            writer.close()
            await asyncio.wait(tasks, timeout=10)
            latencies = sorted(
                (s.received_at - t0) * 1e3 for s in subs if s.received_at is not None
            )
            for s in subs:
                s.close()
        finally:
            server.stop()

    within = sum(1 for ms in latencies if ms <= 1000)
    print(f"SSE fan-out, one uvicorn worker, {n} subscribers on one channel (SQLite)")
    print(f"  subscribes opened in {opened_s:.1f} s ({n / opened_s:.0f}/s)")
    print(f"  scene transition answered in {answered_ms:.0f} ms ({status})")
    print(f"  received scene_changed: {len(latencies)}/{n}; within 1 s: {within}/{n}")
    if latencies:
        p50 = statistics.median(latencies)
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
        print(
            f"  delivery latency: p50 {p50:.0f} ms, p99 {p99:.0f} ms, max {latencies[-1]:.0f} ms"
        )
    print(
        f"  server RSS {before / 1024:.1f} MiB idle -> {after / 1024:.1f} MiB with {n} streams: "
        f"{(after - before) / n:.1f} KiB per idle stream"
    )


async def one_user(n: int) -> None:
    """One user asks for ``n`` streams on one channel with the default caps."""
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(Path(tmp), {"SSE_HEARTBEAT_MS": "15000"}).start()
        try:
            assert server.proc is not None
            channel = next(
                c["id"] for c in server.demo["tenants"]["acme"]["channels"] if c["isLive"]
            )
            await asyncio.sleep(0.5)
            before = rss_kib(server.proc.pid)
            subs = [Subscriber(server.port, channel, "greedy") for _ in range(n)]
            tasks, took = await open_all(subs)
            await asyncio.sleep(1.0)
            after = rss_kib(server.proc.pid)
            for t in tasks:
                t.cancel()
            for s in subs:
                s.close()
        finally:
            server.stop()
    held = sum(1 for s in subs if not s.refused)
    print(f"Stream caps (defaults: 20 per user, 2000 per tenant): one user asks for {n} streams")
    print(f"  held {held}, refused with 429: {n - held} (in {took:.1f} s)")
    print(f"  server RSS {before / 1024:.1f} MiB -> {after / 1024:.1f} MiB")


async def main(counts: list[int]) -> None:
    for n in counts:
        await fan_out(n)
    await one_user(max(counts))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscribers", default="1000,5000")
    asyncio.run(main([int(n) for n in parser.parse_args().subscribers.split(",")]))
