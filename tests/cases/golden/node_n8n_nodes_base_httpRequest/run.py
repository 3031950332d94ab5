"""n8n-nodes-base.httpRequest: an answer the workflow reads is data ({status, headers,
body}); an unread call is queued in the outbox and made after the commit; destinations
outside the allow-list (loopback here is listed) are refused before any connection."""

from __future__ import annotations

import asyncio
import json

from tests.golden_harness import Harness


async def serve(seen: list[bytes]) -> tuple[asyncio.Server, str]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        body = await reader.readexactly(length)
        seen.append(head + body)
        status = b"200 OK" if b"symbol=ACME" in head else b"404 Not Found"
        payload = json.dumps({"price": 12.5}).encode()
        writer.write(
            b"HTTP/1.1 " + status + b"\r\ncontent-type: application/json\r\n"
            b"content-length: " + str(len(payload)).encode() + b"\r\n"
            b"connection: close\r\n\r\n" + payload
        )
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}"


async def check(h: Harness) -> None:
    seen: list[bytes] = []
    server, base = await serve(seen)
    async with server:
        got = await h.run("lookup", {"base": base, "symbol": "ACME"})
        assert got == (200, {"price": 12.5, "type": "application/json"}), got
        request = seen[-1].decode()
        assert request.startswith("POST /quote?symbol=ACME ")
        assert "x-tenant: acme" in request.lower() and '"user":"u1"' in request
        # A non-2xx answer is data: the workflow's own condition refuses it.
        status, body = await h.run("lookup", {"base": base, "symbol": "NONE"})
        assert (status, body["code"]) == (502, "QUOTE_FAILED"), body  # type: ignore[index]
        # Private and reserved addresses are refused unless listed (127.0.0.1 is, here).
        status, body = await h.run("lookup", {"base": "http://10.1.2.3:9", "symbol": "ACME"})
        assert (status, body["code"]) == (400, "URL_NOT_ALLOWED"), body  # type: ignore[index]
    # Nobody reads the notification's answer: it waits in the outbox for the commit.
    assert await h.run("notify", {"url": base + "/hook"}) == (202, {"queued": True})
    [row] = await h.outbox("http")
    assert row["payload"]["url"] == base + "/hook" and row["status"] == "pending"  # type: ignore[index]
    assert (await h.run("notify", {"url": "http://169.254.169.254/latest"}))[0] == 400
