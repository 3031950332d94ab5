"""Past one process: scene-transition throughput with 2 workers on PostgreSQL + Redis against
1 worker on SQLite, and event delivery latency across workers, on this machine.

Real servers: PostgreSQL and Redis from the Debian packages (as the tests start them), each
worker a `python -m runtime serve` process. The load generator is a small keep-alive HTTP/1.1
client on the same machine, so all of it shares the two cores.
Run: ``make bench`` or ``.venv/bin/python bench/scale_bench.py [--seconds 10]``.
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.server import Server  # noqa: E402
from tests.services import APP_ROLE, Postgres, Redis  # noqa: E402


class Connection:
    """One keep-alive HTTP/1.1 connection."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes, token: str) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        self.writer.write(
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Authorization: Bearer {token}\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body
        )
        await self.writer.drain()
        status = int((await self.reader.readline()).split()[1])
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        await self.reader.readexactly(length)
        return status

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def throughput(servers: list[Server], seconds: float, clients: int) -> tuple[float, int]:
    channel = next(c["id"] for c in servers[0].demo["tenants"]["acme"]["channels"] if c["isLive"])
    token = servers[0].token("acme", "moderator")
    path = f"/api/v1/acme/stream_cast/scenes/{channel}/transition"
    done = errors = 0
    end = time.perf_counter() + seconds

    async def client(i: int) -> None:
        nonlocal done, errors
        conn = Connection(servers[i % len(servers)].port)
        n = 0
        try:
            while time.perf_counter() < end:
                n += 1
                status = await conn.post(
                    path, json.dumps({"sceneId": f"s{i}-{n}"}).encode(), token
                )
                if status == 200:
                    done += 1
                else:
                    errors += 1
        finally:
            conn.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(clients)))
    return done / (time.perf_counter() - t0), errors


async def delivery(source: Server, target: Server, n: int) -> list[float]:
    """Subscribe on `target`, change scenes through `source`: ms until the event arrives."""
    channel = next(c["id"] for c in source.demo["tenants"]["acme"]["channels"] if c["isLive"])
    reader, writer = await asyncio.open_connection("127.0.0.1", target.port)
    body = json.dumps({"channelId": channel}).encode()
    writer.write(
        b"POST /api/v1/acme/stream_cast/subscribe HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: application/json\r\n"
        + f"Authorization: Bearer {source.token('acme', 'viewer')}\r\n".encode()
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    buffer = b""
    while b"event: connected" not in buffer:
        buffer += await reader.read(4096)
    buffer = b""
    conn = Connection(source.port)
    token = source.token("acme", "moderator")
    path = f"/api/v1/acme/stream_cast/scenes/{channel}/transition"
    latencies = []
    for i in range(n):
        t0 = time.perf_counter()
        assert await conn.post(path, json.dumps({"sceneId": f"d{i}"}).encode(), token) == 200
        marker = f'"sceneId":"d{i}"'.encode()
        while marker not in buffer:
            buffer += await reader.read(4096)
        latencies.append((time.perf_counter() - t0) * 1e3)
        buffer = buffer[buffer.index(marker) :]
    conn.close()
    writer.close()
    return latencies


def summary(values: list[float]) -> str:
    values = sorted(values)
    p99 = values[min(len(values) - 1, int(len(values) * 0.99))]
    return f"p50 {statistics.median(values):.2f} ms, p99 {p99:.2f} ms"


async def main(seconds: float, clients: int, samples: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "sqlite").mkdir()
        sqlite = Server(Path(tmp, "sqlite")).start()
        try:
            sqlite_rps, sqlite_err = await throughput([sqlite], seconds, clients)
            sqlite_latency = await delivery(sqlite, sqlite, samples)
        finally:
            sqlite.stop()

        pg, redis = Postgres.start(), Redis.start()
        workers: list[Server] = []
        try:
            database = pg.create_database()
            env = {"DATABASE_URL": pg.url(database, APP_ROLE), "EVENTS_URL": redis.url}
            for i in range(2):
                Path(tmp, f"pg{i}").mkdir()
                w = Server(Path(tmp, f"pg{i}"), env, admin_url=pg.url(database))
                if i == 0:
                    w.start()
                else:
                    w.demo = workers[0].demo
                    w.launch()
                workers.append(w)
            pg_rps, pg_err = await throughput(workers, seconds, clients)
            cross_latency = await delivery(workers[0], workers[1], samples)
        finally:
            for w in workers:
                w.stop()
            redis.stop()
            pg.stop()

    print(f"scene transition throughput, {clients} keep-alive clients for {seconds:.0f} s")
    print(
        f"  1 worker, SQLite, in-process bus:       {sqlite_rps:7.0f} req/s ({sqlite_err} errors)"
    )
    print(f"  2 workers, PostgreSQL + Redis:           {pg_rps:7.0f} req/s ({pg_err} errors)")
    print(f"event delivery, request sent to event received ({samples} transitions)")
    print(f"  same worker, SQLite:                     {summary(sqlite_latency)}")
    print(f"  across workers, PostgreSQL + Redis:      {summary(cross_latency)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--samples", type=int, default=300)
    args = parser.parse_args()
    asyncio.run(main(args.seconds, args.clients, args.samples))
