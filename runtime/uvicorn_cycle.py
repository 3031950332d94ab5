"""Two shortcuts where uvicorn's httptools protocol serves a request (``serve``): its
request/response cycle is what ``receive`` and ``send`` are bound to, and the runtime looks
at it (``uvicorn`` is pinned: its cycle is this version's). Anything else (another server,
another protocol) gets plain ASGI.

A complete answer in one write (:func:`send_whole`). uvicorn writes a response's head when
the app sends ``http.response.start`` and its body when the app sends ``http.response.body``:
two system calls, two TCP segments and two wakeups of the client for an answer whose every
byte is known at once. The cycle is lent a stand-in transport for the two messages: uvicorn
builds the head and checks the length as always, and what it writes goes out in one
``write`` on the real transport.

A body in hand (:func:`body_in_hand`). A request's body is read within a time limit (a
client that never sends it must not hold a request open); when the whole body came with the
head, as a small request's does, there is nothing to wait for, and no timer to arm.
"""

from __future__ import annotations

import asyncio

from starlette.types import Message, Receive, Send
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


def cycle_of(channel: Receive | Send) -> RequestResponseCycle | None:
    """The httptools cycle ``receive`` or ``send`` belongs to, where uvicorn's httptools
    protocol serves the request (they are its bound methods)."""
    cycle = getattr(channel, "__self__", None)
    return cycle if type(cycle) is RequestResponseCycle else None


def body_in_hand(receive: Receive) -> bool:
    """Whether the request's whole body has arrived: ``receive`` returns it without waiting."""
    cycle = cycle_of(receive)
    return cycle is not None and not cycle.more_body and cycle.message_event.is_set()


async def send_whole(send: Send, start: Message, body: Message) -> None:
    """Send ``start`` and the last ``body`` message, in one write where uvicorn's httptools
    protocol serves the request and the connection takes writes now."""
    cycle = cycle_of(send)
    if cycle is None or cycle.flow.write_paused:
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
