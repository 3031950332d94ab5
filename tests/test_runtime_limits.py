"""The runtime's limits on a real server: stream caps, slow and vanishing clients, bodies that
never arrive, shutdown, a database that can no longer be written, routes the compiler flags as
unauthenticated, and what the execution history keeps."""

from __future__ import annotations

import asyncio
import json
import os
import resource
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.server import SECRET, Server
from tests.test_e2e import bearer, live, open_stream, subscribe

INTERNAL_KEY = "internal-key-0123456789-0123456789-abcdef"


def log_lines(server: Server, text: str) -> list[str]:
    return [line for line in server.log().splitlines() if text in line]


def raw_request(
    server: Server, path: str, body: bytes, *, token: str | None = None, send: int | None = None
) -> socket.socket:
    """An HTTP/1.1 POST on a bare socket, sending ``send`` bytes of the body (all by
    default), with a small receive buffer: a client that reads slowly or not at all."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", server.port))
    head = [
        f"POST {path} HTTP/1.1",
        f"Host: 127.0.0.1:{server.port}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
    ]
    if token:
        head.append(f"Authorization: Bearer {token}")
    sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + body[:send])
    return sock


def read_response(sock: socket.socket) -> str:
    """A whole HTTP response (headers and the body its Content-Length announces)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        (int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
         if line.lower().startswith(b"content-length:")),
        0,
    )  # fmt: skip
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return (head + b"\r\n\r\n" + body).decode()


def path_of(server: Server, tenant: str, route: str) -> str:
    return server.api(tenant, route).removeprefix(server.base)


@pytest.fixture(scope="module")
def capped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    env = {
        "MAX_STREAMS_PER_USER": "2",
        "MAX_STREAMS_PER_TENANT": "3",
        "BODY_TIMEOUT_MS": "1000",
        "SSE_SEND_TIMEOUT_MS": "1000",
        "STREAM_QUEUE": "5",
        "RUNTIME_ENV": "production",
        "INTERNAL_KEY": INTERNAL_KEY,
    }
    srv = Server(tmp_path_factory.mktemp("capped"), env).start()
    yield srv
    srv.stop()
    assert "Traceback" not in srv.log(), srv.log()


async def test_stream_caps_per_user_and_per_tenant(capped: Server) -> None:
    channel = live(capped, "acme")
    ada, bo, cy = (capped.mint("acme", u, 1) for u in ("ada", "bo", "cy"))
    async with httpx.AsyncClient(timeout=10) as client:
        held = [subscribe(client, capped, "acme", ada, channel) for _ in range(2)]
        streams = [await open_stream(cm) for cm in held]
        try:
            for s in streams:
                assert (await s.next()).event == "connected"
            over = await client.post(
                capped.api("acme", "subscribe"), json={"channelId": channel}, headers=bearer(ada)
            )
            assert over.status_code == 429
            assert over.json() == {
                "error": "This user holds the most open streams allowed; close one first",
                "code": "TOO_MANY_STREAMS",
                "limit": 2,
            }
            third = subscribe(client, capped, "acme", bo, channel)
            bo_stream = await open_stream(third)
            held.append(third)
            assert (await bo_stream.next()).event == "connected"
            # The tenant holds 3 streams: a new user is refused before the workflow runs.
            full = await client.post(
                capped.api("acme", "subscribe"), json={"channelId": channel}, headers=bearer(cy)
            )
            assert full.status_code == 429 and full.json()["limit"] == 3
            rows = await capped.query(
                "SELECT COUNT(*) FROM stream_subscription WHERE user_id = 'cy'"
            )
            assert rows == [(0,)]
            # Another tenant has caps of its own.
            globex = capped.mint("globex", "ada", 1)
            async with subscribe(client, capped, "globex", globex, live(capped, "globex")) as g:
                assert g.response.status_code == 200
        finally:
            for cm in held:
                await cm.__aexit__(None, None, None)
        # Closed streams give their places back.
        deadline = time.monotonic() + 5
        while capped.health()["subscribers"] and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        async with subscribe(client, capped, "acme", cy, channel) as again:
            assert again.response.status_code == 200


async def test_a_client_that_stops_reading_is_dropped_with_one_log_line(capped: Server) -> None:
    channel = live(capped, "acme")
    viewer = capped.mint("acme", "slow", 1)
    body = json.dumps({"channelId": channel}).encode()
    sock = raw_request(capped, path_of(capped, "acme", "subscribe"), body, token=viewer)
    moderator = capped.token("acme", "moderator")
    scene = "s" * 60_000
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            for _ in range(200):
                r = await client.post(
                    capped.api("acme", f"scenes/{channel}/transition"),
                    json={"sceneId": scene},
                    headers=bearer(moderator),
                )
                assert r.status_code == 200
                if log_lines(capped, "the client read nothing"):
                    break
                await asyncio.sleep(0.02)
            deadline = time.monotonic() + 5
            while capped.health()["subscribers"] and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            assert capped.health()["subscribers"] == 0
            # Its place under the caps is free again.
            for _ in range(2):
                async with subscribe(client, capped, "acme", viewer, channel) as s:
                    assert s.response.status_code == 200
    finally:
        sock.close()
    dropped = log_lines(capped, "the client read nothing")
    assert len(dropped) == 1 and "INFO" in dropped[0], capped.log()


async def test_bodies_that_never_arrive_or_are_abandoned(capped: Server) -> None:
    token = capped.token("acme", "moderator")
    path = path_of(capped, "acme", f"scenes/{live(capped, 'acme')}/transition")
    body = json.dumps({"sceneId": "late"}).encode()
    sock = raw_request(capped, path, body, token=token, send=5)
    try:
        sock.settimeout(5)
        started = time.monotonic()
        answer = read_response(sock)
        assert time.monotonic() - started < 4
    finally:
        sock.close()
    assert answer.startswith("HTTP/1.1 408")
    assert '"code":"BODY_TIMEOUT"' in answer
    # A client that hangs up mid-body: one log line, nothing written, the server carries on.
    for _ in range(3):
        raw_request(capped, path, body, token=token, send=5).close()
    await asyncio.sleep(0.5)
    assert len(log_lines(capped, "disconnected before sending the whole body")) == 3
    rows = await capped.query("SELECT COUNT(*) FROM stream_channel WHERE active_scene_id = 'late'")
    assert rows == [(0,)]
    assert capped.health()["ok"] is True


async def test_unauthenticated_routes_are_guarded_in_production(capped: Server) -> None:
    """`update-counts` never checks the user (the compiler warns): under RUNTIME_ENV=
    production it takes a token of the tenant or the internal key, and refusals are not
    executions."""
    url = capped.api("acme", "update-counts")
    before = capped.health()["history"]["written"]
    async with httpx.AsyncClient(timeout=10) as client:
        for headers in ({}, {"X-Internal-Key": "wrong"}, {"X-Internal-Key": INTERNAL_KEY[:-1]}):
            r = await client.post(url, json={}, headers=headers)
            assert r.status_code == 401 and r.json()["code"] == "AUTH_REQUIRED"
        for _ in range(50):  # a 7 KB tenant name: refused before anything is kept
            r = await client.post(capped.api("t" * 7000, "update-counts"), json={})
            assert r.status_code == 400 and r.json()["code"] == "INVALID_TENANT"
        r = await client.post(url, json={}, headers={"X-Internal-Key": INTERNAL_KEY})
        assert r.status_code == 200 and r.json()["ok"] is True
        r = await client.post(url, json={}, headers=bearer(capped.mint("acme", "ops", 1)))
        assert r.status_code == 200
        # Input the trigger refuses is not an execution either.
        r = await client.post(
            capped.api("acme", f"scenes/{live(capped, 'acme')}/transition"),
            json={"sceneId": 5},
            headers=bearer(capped.token("acme", "moderator")),
        )
        assert r.status_code == 400 and r.json()["code"] == "VALIDATION_FAILED"
    await asyncio.sleep(0.6)  # the history is written off the request path
    assert capped.health()["history"]["written"] - before == 2


def test_production_needs_a_real_secret(tmp_path: Path) -> None:
    srv = Server(tmp_path, {"RUNTIME_ENV": "production", "JWT_SECRET": ""})
    out = srv.cli("serve", check=False)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "RUNTIME_ENV=production needs JWT_SECRET" in out.stderr


async def test_shutdown_sends_closed_to_every_stream(tmp_path: Path) -> None:
    srv = Server(tmp_path).start()
    channel = live(srv, "acme")
    async with httpx.AsyncClient(timeout=10) as client:
        held = [
            subscribe(client, srv, "acme", srv.mint("acme", f"u{i}", 1), channel) for i in range(3)
        ]
        streams = [await open_stream(cm) for cm in held]
        for s in streams:
            assert (await s.next()).event == "connected"
        assert srv.proc is not None
        srv.proc.terminate()
        for s in streams:
            closed = await s.until("closed", timeout=8)
            assert json.loads(closed.data)["reason"].startswith("the server is shutting down")
        for cm in held:
            await cm.__aexit__(None, None, None)
    # uvicorn re-raises the signal once it has shut down cleanly.
    assert srv.proc.wait(10) in (0, -15)
    assert "Traceback" not in srv.log(), srv.log()


async def test_healthz_fails_when_the_disk_is_full(tmp_path: Path) -> None:
    """The server's files may not grow past 64 KiB (RLIMIT_FSIZE): as far as its database is
    concerned, the disk is full."""
    limit = 64 * 1024

    def full_disk() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    srv = Server(tmp_path, preexec=full_disk)
    srv.demo = json.loads(srv.cli("demo", "--json").stdout)  # migrated without the limit
    srv.launch()
    try:
        statuses = []
        async with httpx.AsyncClient(timeout=10) as client:
            for _ in range(60):
                r = await client.get(f"{srv.base}/healthz")
                statuses.append(r.status_code)
                if r.status_code != 200:
                    break
        assert statuses[-1] == 503, statuses
        assert r.json()["code"] == "DATABASE_UNAVAILABLE"
        assert r.json()["error"].startswith("The database cannot be written: ")
    finally:
        srv.stop()
    assert "Traceback" not in srv.log(), srv.log()


async def test_healthz_fails_when_the_database_file_is_deleted(tmp_path: Path) -> None:
    srv = Server(tmp_path).start()
    try:
        assert srv.health()["ok"] is True
        os.unlink(tmp_path / "app.db")
        r = httpx.get(f"{srv.base}/healthz", timeout=5)
        assert r.status_code == 503 and r.json()["code"] == "DATABASE_UNAVAILABLE"
        assert "was deleted" in r.json()["error"]
    finally:
        srv.stop()
    assert "Traceback" not in srv.log(), srv.log()


@pytest.mark.parametrize("secret", [SECRET])
def test_configuration_of_the_limits(secret: str) -> None:
    from runtime import config as configuration
    from runtime.config import ConfigError

    c = configuration.load({"JWT_SECRET": secret})
    assert (c.streams_per_user, c.streams_per_tenant, c.open_routes) == (20, 2000, "allow")
    c = configuration.load({"JWT_SECRET": secret, "RUNTIME_ENV": "production"})
    assert c.open_routes == "protect"
    c = configuration.load(
        {"JWT_SECRET": secret, "RUNTIME_ENV": "production", "OPEN_ROUTES": "allow"}
    )
    assert c.open_routes == "allow"
    for bad in (
        {"OPEN_ROUTES": "sometimes"},
        {"RUNTIME_ENV": "staging"},
        {"INTERNAL_KEY": "short"},
        {"MAX_STREAMS_PER_USER": "-1"},
    ):
        with pytest.raises(ConfigError):
            configuration.load({"JWT_SECRET": secret, **bad})


def test_a_body_is_walked_only_when_its_text_could_hide_a_problem(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A lone surrogate (only a `\\u` escape spells one) and nesting past 64 levels (only as
    many brackets can build it) are refused; text full of brackets inside strings is not;
    an ordinary body is not walked at all."""
    from runtime import endpoint
    from runtime.endpoint import MAX_BODY_DEPTH, parse_body
    from runtime.errors import InvalidJson

    walked: list[object] = []
    check = endpoint._check_values
    monkeypatch.setattr(endpoint, "_check_values", lambda v: walked.append(v) or check(v))
    assert parse_body("application/json", b'{"channelId": "c1", "tags": ["a", {"b": 1}]}')
    assert walked == []  # no escape, few brackets: nothing to look for
    parse_body("application/json", b'{"s": "caf\\u00e9"}')
    assert len(walked) == 1

    deep = b'{"a":' + b"[" * MAX_BODY_DEPTH + b"1" + b"]" * MAX_BODY_DEPTH + b"}"
    with pytest.raises(InvalidJson, match="nests more than"):
        parse_body("application/json", deep)
    shallow = b'{"a":' + b"[" * (MAX_BODY_DEPTH - 2) + b"1" + b"]" * (MAX_BODY_DEPTH - 2) + b"}"
    assert parse_body("application/json", shallow)["a"]
    with pytest.raises(InvalidJson, match="not valid Unicode"):
        parse_body("application/json", b'{"channelId": "x\\ud800"}')
    paired = parse_body("application/json", b'{"s": "\\ud83d\\ude00 [[[{{{"}')
    assert paired == {"s": "\U0001f600 [[[{{{"}
    brackets = b'{"s": "' + b"[{" * 100 + b'"}'
    assert parse_body("application/json", brackets) == {"s": "[{" * 100}
