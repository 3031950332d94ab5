"""One request through an ASGI app in process (no sockets), timed to its first body bytes:
what the in-process benchmarks measure with."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

App = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


async def call(app: App, method: str, path: str, body: bytes, token: str) -> tuple[int, float]:
    """One request through the ASGI app: (status, seconds to the first body bytes)."""
    first = asyncio.Event()
    got: dict[str, Any] = {"status": 0, "t": 0.0}
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await first.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            got["status"] = message["status"]
        elif (
            message["type"] == "http.response.body"
            and not first.is_set()
            and (message.get("body") or not message.get("more_body", False))
        ):
            got["t"] = time.perf_counter()
            first.set()

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"127.0.0.1"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"authorization", f"Bearer {token}".encode()),
        ],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
    }
    t0 = time.perf_counter()
    task = asyncio.ensure_future(app(scope, receive, send))
    await first.wait()
    elapsed = got["t"] - t0
    await task
    return int(got["status"]), elapsed
