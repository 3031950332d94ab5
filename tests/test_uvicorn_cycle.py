"""The shortcuts taken where uvicorn's httptools protocol serves a request
(runtime/uvicorn_cycle.py). A complete answer leaves in one write: the head uvicorn builds and
the body, together; the bytes on the wire are uvicorn's own, on a kept-alive connection, on
one that closes, for HEAD and for pipelined requests. A body that came with its head is read
without a timer; one still on its way is not in hand. Served here by a real uvicorn on
loopback, on both loops."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from runtime.endpoint import Reply
from runtime.uvicorn_cycle import body_in_hand, send_whole
from tests.inproc import on_both_loops, served

BODY = b'{"ok":true,"n":1}'
CLOSE = b"GET /b HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"


async def app(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] == "http":
        await Reply(200, BODY + scope["path"].encode()).send(send)


async def exchange(port: int, request: bytes, expected: bytes) -> bytes:
    """Send ``request`` and read until as much as ``expected`` came (dates aside)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    got = b""
    try:
        while len(without_date(got)) < len(expected):
            data = await asyncio.wait_for(reader.read(65536), 5)
            if not data:
                break
            got += data
    finally:
        writer.close()
    return got


def answer(path: str, close: bool = False, head: bool = False) -> bytes:
    body = BODY + path.encode()
    lines = [b"HTTP/1.1 200 OK", b"content-type: application/json"]
    lines.append(b"content-length: %d" % len(body))
    if close:
        lines.append(b"connection: close")
    return b"\r\n".join(lines) + b"\r\n\r\n" + (b"" if head else body)


def without_date(raw: bytes) -> bytes:
    """The answers as sent, without uvicorn's own date and server headers."""
    return b"".join(
        line
        for line in raw.splitlines(keepends=True)
        if not line.lower().startswith((b"date:", b"server:"))
    )


def test_answers_are_uvicorns_bytes_kept_alive_closed_head_and_pipelined() -> None:
    async def scenario() -> None:
        async with served(app) as (_, port):
            for request, expected in [
                (b"GET /a HTTP/1.1\r\nhost: x\r\n\r\n", answer("/a")),
                (CLOSE, answer("/b", close=True)),
                (b"HEAD /c HTTP/1.1\r\nhost: x\r\n\r\n", answer("/c", head=True)),
                (
                    b"".join(b"GET /%d HTTP/1.1\r\nhost: x\r\n\r\n" % i for i in range(3)),
                    b"".join(answer(f"/{i}") for i in range(3)),
                ),
            ]:
                assert without_date(await exchange(port, request, expected)) == expected

    on_both_loops(scenario)


def test_head_and_body_go_out_in_one_write(monkeypatch: pytest.MonkeyPatch) -> None:
    """On asyncio's loop, where a transport's writes can be seen: one per answer."""
    from asyncio.selector_events import _SelectorSocketTransport

    writes: list[bytes] = []
    write = _SelectorSocketTransport.write

    def recorded(self: Any, data: bytes) -> None:
        if isinstance(self.get_protocol(), HttpToolsProtocol):  # the server's side
            writes.append(bytes(data))
        write(self, data)

    monkeypatch.setattr(_SelectorSocketTransport, "write", recorded)

    async def scenario() -> None:
        async with served(app) as (_, port):
            got = await exchange(port, b"GET /a HTTP/1.1\r\nhost: x\r\n\r\n", answer("/a"))
            closed = await exchange(port, CLOSE, answer("/b", close=True))
        assert writes == [got, closed]
        assert without_date(writes[1]) == answer("/b", close=True)

    asyncio.run(scenario())


def test_any_other_send_gets_the_two_messages_as_they_are() -> None:
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    start = {"type": "http.response.start", "status": 204, "headers": []}
    body = {"type": "http.response.body", "body": b""}
    asyncio.run(send_whole(send, start, body))
    assert sent == [start, body]


def test_a_body_is_in_hand_only_once_all_of_it_came() -> None:
    async def scenario() -> None:
        seen: list[tuple[bool, bytes]] = []

        async def reader(scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] == "http":
                in_hand = body_in_hand(receive)
                message = await receive()
                seen.append((in_hand, message["body"]))
                await Reply(200, BODY).send(send)

        async with served(reader) as (_, port):
            head = b"POST /x HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n\r\n"
            await exchange(port, head + b"{}", answer(""))
            await exchange(port, b"GET /x HTTP/1.1\r\nhost: x\r\n\r\n", answer(""))
            reader_, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(head)
            await asyncio.sleep(0.2)  # the app runs with the head alone
            writer.write(b"{}")
            await asyncio.wait_for(reader_.readuntil(BODY), 5)
            writer.close()
        assert seen == [(True, b"{}"), (True, b""), (False, b"{}")]

    on_both_loops(scenario)
