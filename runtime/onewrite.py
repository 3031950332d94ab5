"""A complete HTTP answer in one write.

uvicorn's httptools protocol writes a response's head when the app sends
``http.response.start`` and its body when the app sends ``http.response.body``: two system
calls, two TCP segments and two wakeups of the client for an answer whose every byte is
known at once. Where uvicorn serves the request that way (``serve``), :func:`send_whole`
lends the request's cycle a stand-in transport for the two messages: uvicorn builds the head
and checks the length as always, and what it writes goes out in one ``write`` on the real
transport. Anything else (another server, another protocol, a client that is not reading)
gets the two messages as they are.
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.types import Message, Send
from uvicorn.protocols.http.httptools_impl import RequestResponseCycle


class _Gathered:
    """What uvicorn writes while it sends a whole response, gathered for one write. A close
    (a connection that is not kept alive) writes what was gathered first, as uvicorn writes
    the body before it closes."""

    __slots__ = ("parts", "transport")

    def __init__(self, transport: asyncio.Transport) -> None:
        self.transport = transport
        self.parts: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.parts.append(data)

    def flush(self) -> None:
        if self.parts:
            self.transport.write(b"".join(self.parts))
            self.parts.clear()

    def close(self) -> None:
        self.flush()
        self.transport.close()


async def send_whole(send: Send, start: Message, body: Message) -> None:
    """Send ``start`` and the last ``body`` message, in one write where uvicorn's httptools
    protocol serves the request and the connection takes writes now."""
    cycle: Any = getattr(send, "__self__", None)
    if type(cycle) is not RequestResponseCycle or cycle.flow.write_paused:
        await send(start)
        await send(body)
        return
    # uvicorn awaits nothing else in these two sends while writes are not paused: nothing
    # runs in between, and the cycle has its own transport back before anything else does.
    transport = cycle.transport
    gathered = _Gathered(transport)
    cycle.transport = gathered  # type: ignore[assignment]  # write and close, as used here
    try:
        await send(start)
        await send(body)
    finally:
        cycle.transport = transport
        gathered.flush()
