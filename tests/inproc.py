"""A real uvicorn in the test's own process, as ``serve`` runs it (httptools), for tests that
look at what the runtime does on uvicorn's connections; and both event loops to run them on."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

import uvicorn
import uvloop

from tests.server import free_port


def on_both_loops(test: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """The runtime serves on uvloop; asyncio's own loop must behave the same."""
    uvloop.run(test())
    asyncio.run(test())


async def until(check: Callable[[], bool]) -> None:
    for _ in range(200):
        if check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("never happened")


@contextlib.asynccontextmanager
async def served(app: Any) -> AsyncIterator[tuple[uvicorn.Server, int]]:
    """uvicorn serving ``app`` on a free loopback port, as ``serve`` runs it (httptools)."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            http="httptools",
            lifespan="off",
            log_level="error",
            timeout_graceful_shutdown=1,  # a failed test leaves no stream open for long
        )
    )
    serving = asyncio.create_task(server.serve())
    await until(lambda: server.started)
    try:
        yield server, port
    finally:
        server.should_exit = True
        await serving
