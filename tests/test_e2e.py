"""End to end: `python -m runtime serve` on 127.0.0.1, real HTTP and SSE, twice: on a SQLite
file with the in-process bus, and on PostgreSQL (as a role that does not own the tables,
under row-level security) with Redis as the bus."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import jwt
import pytest
from httpx_sse import ServerSentEvent, aconnect_sse

from tests.conftest import ROOT
from tests.server import SECRET, Server
from tests.services import APP_ROLE, Postgres, Redis

MANAGE = "stream_cast:scenes:manage"


def make_server(request: pytest.FixtureRequest, workdir: Path, backend: str) -> Server:
    if backend == "sqlite":
        return Server(workdir)
    pg: Postgres = request.getfixturevalue("postgres")
    redis: Redis = request.getfixturevalue("redis")
    database = pg.create_database()
    return Server(
        workdir,
        {"DATABASE_URL": pg.url(database, APP_ROLE), "EVENTS_URL": redis.url},
        admin_url=pg.url(database),
    )


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    srv = make_server(request, tmp_path_factory.mktemp("e2e"), request.param).start()
    yield srv
    srv.stop()
    log = srv.log()
    assert "Traceback" not in log, log
    assert "database is locked" not in log


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=20) as c:
        yield c


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def live(server: Server, tenant: str) -> str:
    return next(c["id"] for c in server.demo["tenants"][tenant]["channels"] if c["isLive"])


class Stream:
    """An open SSE subscription: its events as they arrive."""

    def __init__(
        self, events: AsyncIterator[ServerSentEvent], headers: httpx.Headers, opened: object
    ) -> None:
        self.events = events
        self.headers = headers
        # The context manager that opened the stream: were it collected, its generator's
        # finalizer would close the response under the reader (httpx.ReadError at random).
        self.opened = opened

    async def next(self, timeout: float = 5.0) -> ServerSentEvent:
        return await asyncio.wait_for(anext(self.events), timeout)

    async def until(self, name: str, timeout: float = 5.0) -> ServerSentEvent:
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while True:
            event = await self.next(max(0.01, end - loop.time()))
            if event.event == name:
                return event


def subscribe(
    client: httpx.AsyncClient,
    server: Server,
    tenant: str,
    token: str,
    channel: str,
    last_event_id: str | None = None,
):  # type: ignore[no-untyped-def]
    headers = bearer(token)
    if last_event_id:
        headers["Last-Event-ID"] = last_event_id
    return aconnect_sse(
        client,
        "POST",
        server.api(tenant, "subscribe"),
        json={"channelId": channel},
        headers=headers,
    )


async def open_stream(cm) -> Stream:  # type: ignore[no-untyped-def]
    source = await cm.__aenter__()
    source.response.raise_for_status()
    return Stream(source.aiter_sse(), source.response.headers, cm)


# ----------------------------------------------------------------------------- success paths


async def test_subscribe_streams_connected_then_live_events(server: Server, client) -> None:
    channel = live(server, "acme")
    viewer = server.mint("acme", "alice", 1)
    cm = subscribe(client, server, "acme", viewer, channel)
    stream = await open_stream(cm)
    try:
        assert stream.headers["content-type"].startswith("text/event-stream")
        first = await stream.next()
        assert first.event == "connected" and first.retry == 5000
        data = json.loads(first.data)
        assert data["userId"] == "alice" and data["subscriptionId"]

        moderator = server.token("acme", "moderator")
        r = await client.post(
            server.api("acme", f"scenes/{channel}/transition"),
            json={"sceneId": "interview"},
            headers=bearer(moderator),
        )
        assert r.status_code == 200, r.text
        assert r.json()["ok"] is True and r.json()["sceneId"] == "interview"
        changed = await stream.until("scene_changed")
        body = json.loads(changed.data)
        assert body["sceneId"] == "interview" and body["channelId"] == channel
        assert body["tenantId"] == "acme" and changed.id

        r = await client.post(server.api("acme", "update-counts"))
        assert r.status_code == 200 and r.json()["ok"] is True and r.json()["items"] >= 1
        counted = json.loads((await stream.until("viewer_count_updated")).data)
        assert counted["channelId"] == channel and counted["viewerCount"] >= 1
    finally:
        await cm.__aexit__(None, None, None)


async def test_the_same_subscription_over_a_websocket(server: Server, client) -> None:
    """The spec's WebSocket transport: the same workflow, checks and events, one JSON message
    per event; the token and Last-Event-ID may come in the query string; a refusal is told and
    closed with 4000 + its HTTP status."""
    import websockets

    channel = live(server, "acme")
    viewer = server.mint("acme", "wendy", 1)
    base = f"ws://127.0.0.1:{server.port}/api/v1/acme/stream_cast/subscribe"

    async def next_message(ws) -> dict:  # type: ignore[no-untyped-def]
        return dict(json.loads(await asyncio.wait_for(ws.recv(), 5)))

    async with websockets.connect(
        f"{base}?channelId={channel}", additional_headers={"Authorization": f"Bearer {viewer}"}
    ) as ws:
        first = await next_message(ws)
        assert first["event"] == "connected" and first["data"]["userId"] == "wendy"
        r = await client.post(
            server.api("acme", f"scenes/{channel}/transition"),
            json={"sceneId": "over-ws"},
            headers=bearer(server.token("acme", "moderator")),
        )
        assert r.status_code == 200, r.text
        while (changed := await next_message(ws))["event"] != "scene_changed":
            pass
        assert changed["data"]["sceneId"] == "over-ws" and changed["id"]
    # Resume from that event in the query string: what came after it, nothing before.
    r = await client.post(
        server.api("acme", f"scenes/{channel}/transition"),
        json={"sceneId": "while-away"},
        headers=bearer(server.token("acme", "moderator")),
    )
    assert r.status_code == 200
    query = f"channelId={channel}&access_token={viewer}&lastEventId={changed['id']}"
    async with websockets.connect(f"{base}?{query}") as ws:
        assert (await next_message(ws))["event"] == "connected"
        missed = await next_message(ws)
        assert missed["event"] == "scene_changed" and missed["data"]["sceneId"] == "while-away"
    for query, code, status in (
        (f"channelId={channel}", "AUTH_REQUIRED", 4401),
        (f"channelId={channel}&access_token={server.mint('other', 'x', 1)}", None, 4404),
        (f"channelId=nope&access_token={viewer}", "CHANNEL_NOT_FOUND", 4404),
    ):
        async with websockets.connect(f"{base}?{query}") as ws:
            refusal = await next_message(ws)
            assert "error" in refusal and (code is None or refusal["code"] == code), refusal
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await ws.recv()
            assert closed.value.rcvd is not None and closed.value.rcvd.code == status


async def test_a_websocket_token_in_the_query_string_is_never_logged(tmp_path: Path) -> None:
    """With the access log on, the WebSocket's line shows its path and query: without the
    token, which left the query before the connection was accepted."""
    import websockets

    srv = Server(tmp_path, serve_args=("--access-log",)).start()
    try:
        token = srv.mint("acme", "logged", 1)
        url = (
            f"ws://127.0.0.1:{srv.port}/api/v1/acme/stream_cast/subscribe"
            f"?channelId={live(srv, 'acme')}&access_token={token}"
        )
        async with websockets.connect(url) as ws:
            first = json.loads(await asyncio.wait_for(ws.recv(), 5))
            assert first["event"] == "connected"
    finally:
        srv.stop()
    log = srv.log()
    assert "WebSocket /api/v1/acme/stream_cast/subscribe?channelId=" in log, log
    assert token not in log and token.split(".")[2] not in log


async def test_unsubscribe_closes_the_users_stream(server: Server, client) -> None:
    channel = live(server, "acme")
    token = server.mint("acme", "bob", 1)
    cm = subscribe(client, server, "acme", token, channel)
    stream = await open_stream(cm)
    try:
        assert (await stream.next()).event == "connected"
        r = await client.post(
            server.api("acme", "unsubscribe"), json={"channelId": channel}, headers=bearer(token)
        )
        assert r.status_code == 200 and r.json()["message"] == "Unsubscribed successfully"
        closed = await stream.until("closed")
        assert json.loads(closed.data) == {"reason": "unsubscribed"}
        with pytest.raises(StopAsyncIteration):
            await stream.next()
        again = await client.post(
            server.api("acme", "unsubscribe"), json={"channelId": channel}, headers=bearer(token)
        )
        assert again.status_code == 404 and again.json()["code"] == "SUBSCRIPTION_NOT_FOUND"
    finally:
        await cm.__aexit__(None, None, None)


async def test_last_event_id_resumes_what_was_missed(server: Server, client) -> None:
    channel = live(server, "acme")
    token = server.mint("acme", "carol", 1)
    moderator = server.token("acme", "moderator")
    cm = subscribe(client, server, "acme", token, channel)
    stream = await open_stream(cm)
    connected = await stream.next()
    await cm.__aexit__(None, None, None)  # the client goes away
    for scene in ("a", "b"):
        r = await client.post(
            server.api("acme", f"scenes/{channel}/transition"),
            json={"sceneId": scene},
            headers=bearer(moderator),
        )
        assert r.status_code == 200
    cm = subscribe(client, server, "acme", token, channel, last_event_id=connected.id)
    stream = await open_stream(cm)
    try:
        assert (await stream.next()).event == "connected"
        missed = [json.loads((await stream.until("scene_changed")).data)["sceneId"] for _ in "ab"]
        assert missed == ["a", "b"]
    finally:
        await cm.__aexit__(None, None, None)
    # An id the server cannot resume from is reported, not hidden.
    cm = subscribe(client, server, "acme", token, channel, last_event_id="deadbeef-1")
    stream = await open_stream(cm)
    try:
        assert (await stream.next()).event == "connected"
        assert (await stream.next()).event == "gap"
    finally:
        await cm.__aexit__(None, None, None)


async def test_tenants_never_hear_each_other(server: Server, client) -> None:
    globex = subscribe(
        client, server, "globex", server.token("globex", "viewer"), live(server, "globex")
    )
    acme = subscribe(client, server, "acme", server.mint("acme", "dave", 1), live(server, "acme"))
    g, a = await open_stream(globex), await open_stream(acme)
    try:
        await g.next()
        await a.next()
        r = await client.post(
            server.api("acme", f"scenes/{live(server, 'acme')}/transition"),
            json={"sceneId": "only-acme"},
            headers=bearer(server.token("acme", "moderator")),
        )
        assert r.status_code == 200
        await a.until("scene_changed")
        with pytest.raises(TimeoutError):
            await g.until("scene_changed", timeout=0.5)
    finally:
        await globex.__aexit__(None, None, None)
        await acme.__aexit__(None, None, None)


async def test_scheduled_viewer_count_runs_and_is_recorded(server: Server, client) -> None:
    cm = subscribe(client, server, "acme", server.mint("acme", "erin", 1), live(server, "acme"))
    stream = await open_stream(cm)
    try:
        await stream.next()
        # No request triggers it: the schedule (updateInterval, 5 s) does.
        event = await stream.until("viewer_count_updated", timeout=12)
        assert json.loads(event.data)["tenantId"] == "acme"
    finally:
        await cm.__aexit__(None, None, None)
    await asyncio.sleep(0.5)  # the history is written off the request path
    health = server.health()
    assert health["scheduledRuns"] >= 1
    assert health["history"]["written"] >= 1 and health["history"]["dropped"] == 0
    out = server.cli("executions", "--tenant", "acme", "--json", "--limit", "500").stdout
    rows = [json.loads(line) for line in out.splitlines()]
    scheduled = [r for r in rows if r["trigger"] == "schedule"]
    assert scheduled and scheduled[0]["workflow_id"] == "stream_cast_viewer_count_001"
    assert {n["node"] for n in scheduled[0]["nodes"]} >= {"fetch_active_streams"}
    assert all(r["tenant_id"] == "acme" for r in rows)


# ----------------------------------------------------------------------------- errors


async def test_errors_of_the_spec(server: Server, client) -> None:
    channel = live(server, "acme")
    r = await client.post(server.api("acme", "subscribe"), json={"channelId": channel})
    assert r.status_code == 401
    assert r.json() == {"error": "User authentication required", "code": "AUTH_REQUIRED"}

    viewer = server.token("acme", "viewer")
    r = await client.post(
        server.api("acme", "subscribe"), json={"channelId": "nope"}, headers=bearer(viewer)
    )
    assert r.status_code == 404
    assert r.json() == {"error": "Channel not found", "code": "CHANNEL_NOT_FOUND"}

    r = await client.post(
        server.api("acme", f"scenes/{channel}/transition"),
        json={"sceneId": "x"},
        headers=bearer(viewer),
    )
    assert r.status_code == 403
    assert r.json() == {
        "error": "Insufficient permissions",
        "code": "AUTH_INSUFFICIENT_LEVEL",
        "requiredLevel": 2,
        "userLevel": 1,
    }

    # A globex token on acme's path, and an acme channel asked for by globex: both 404.
    r = await client.post(
        server.api("acme", "subscribe"),
        json={"channelId": channel},
        headers=bearer(server.token("globex", "viewer")),
    )
    assert r.status_code == 404 and r.json()["code"] == "CHANNEL_NOT_FOUND"
    r = await client.post(
        server.api("globex", "subscribe"),
        json={"channelId": channel},
        headers=bearer(server.token("globex", "viewer")),
    )
    assert r.status_code == 404 and r.json()["code"] == "CHANNEL_NOT_FOUND"

    r = await client.post(
        server.api("acme", f"scenes/{channel}/transition"),
        json={},
        headers=bearer(server.token("acme", "moderator")),
    )
    assert r.status_code == 400
    assert r.json()["code"] == "VALIDATION_FAILED" and r.json()["field"] == "sceneId"


async def test_bad_tokens_are_refused(server: Server, client) -> None:
    url = server.api("acme", "subscribe")
    body = {"channelId": live(server, "acme")}
    good = server.token("acme", "viewer")
    header, _payload, signature = good.split(".")
    tampered_payload = jwt.utils.base64url_encode(
        json.dumps({**jwt.decode(good, options={"verify_signature": False}), "level": 9}).encode()
    ).decode()
    now = int(time.time())
    claims = {"sub": "u", "tid": "acme", "level": 1, "exp": now + 60}
    none_token = jwt.encode(claims, None, algorithm="none")
    expired = jwt.encode({**claims, "exp": now - 3600}, SECRET, algorithm="HS256")
    wrong_key = jwt.encode(claims, "another-secret-0123456789-0123456789", algorithm="HS256")
    cases = {
        "tampered": f"{header}.{tampered_payload}.{signature}",
        "alg none": none_token,
        "expired": expired,
        "wrong key": wrong_key,
        "garbage": "not-a-jwt",
    }
    for name, token in cases.items():
        r = await client.post(url, json=body, headers=bearer(token))
        assert r.status_code == 401, name
        assert r.json()["code"] == "INVALID_TOKEN", name
    r = await client.post(url, json=body, headers={"Authorization": "Basic abc"})
    assert r.status_code == 401 and r.json()["code"] == "INVALID_TOKEN"
    assert "not-a-jwt" not in server.log()


async def test_bad_bodies_get_clear_4xx(server: Server, client) -> None:
    url = server.api("acme", "subscribe")
    auth = bearer(server.token("acme", "viewer"))
    json_type = {"Content-Type": "application/json", **auth}
    r = await client.post(url, content=b'{"channelId": ', headers=json_type)
    assert r.status_code == 400 and r.json()["code"] == "INVALID_JSON"
    r = await client.post(url, content=b"[1, 2]", headers=json_type)
    assert r.status_code == 400 and r.json()["code"] == "INVALID_BODY"
    r = await client.post(url, content=b'"text"', headers=json_type)
    assert r.status_code == 400 and r.json()["code"] == "INVALID_BODY"
    big = json.dumps({"channelId": "x", "pad": "x" * 70_000}).encode()
    r = await client.post(url, content=big, headers=json_type)
    assert r.status_code == 413 and r.json()["code"] == "PAYLOAD_TOO_LARGE"

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted while read
        for _ in range(80):
            yield b" " * 1024

    r = await client.post(url, content=chunks(), headers=json_type)
    assert r.status_code == 413 and r.json()["code"] == "PAYLOAD_TOO_LARGE"
    r = await client.post(
        url, content=b"channelId=x", headers={"Content-Type": "text/plain", **auth}
    )
    assert r.status_code == 415 and r.json()["code"] == "UNSUPPORTED_MEDIA_TYPE"
    r = await client.post(url, json={"channelId": 42}, headers=auth)
    assert r.status_code == 400 and r.json()["field"] == "channelId"
    r = await client.post(
        server.api("acme", "scenes/acme-main-stage/transition"),
        json={"channelId": "other", "sceneId": "s"},
        headers=bearer(server.token("acme", "moderator")),
    )
    assert r.status_code == 400 and r.json()["field"] == "channelId"
    r = await client.get(url)
    assert r.status_code == 405 and r.json()["code"] == "METHOD_NOT_ALLOWED"
    r = await client.post(f"{server.base}/api/v1/acme/unknown")
    assert r.status_code == 404 and r.json()["code"] == "ROUTE_NOT_FOUND"


async def test_hostile_requests_get_a_4xx_never_a_500(server: Server, client) -> None:
    """Bodies and tokens an attacker would send: each gets a clear 4xx, nothing is written,
    and the server logs no traceback (the fixture checks the log at the end)."""
    url = server.api("acme", "subscribe")
    auth = bearer(server.token("acme", "viewer"))
    json_type = {"Content-Type": "application/json", **auth}
    deep = b'{"channelId": "x", "a": ' + b"[" * 900 + b"]" * 900 + b"}"
    r = await client.post(url, content=deep, headers={"Content-Type": "application/json"})
    assert r.status_code == 401 and r.json()["code"] == "AUTH_REQUIRED"  # authenticate first
    r = await client.post(url, content=deep, headers=json_type)
    assert r.status_code == 400 and r.json()["code"] == "INVALID_JSON"
    for literal in (b"NaN", b"Infinity", b"-Infinity"):
        body = b'{"channelId": "x", "n": ' + literal + b"}"
        r = await client.post(url, content=body, headers=json_type)
        assert r.status_code == 400 and r.json()["code"] == "INVALID_JSON", literal
    r = await client.post(url, content=b'{"channelId": "x\\ud800"}', headers=json_type)
    assert r.status_code == 400 and r.json()["code"] == "INVALID_BODY"
    r = await client.post(url, content=b"", headers={"Content-Type": "application/json"})
    assert r.status_code == 401 and r.json()["code"] == "AUTH_REQUIRED"  # not a 400
    now = int(time.time())
    claims = {"sub": "u", "tid": "acme", "level": 1, "exp": now + 60}
    for bad in ({"level": 10**400}, {"level": "high"}, {"exp": "later"}):
        payload = json.dumps({**claims, **bad}).encode()
        token = _sign(payload)
        r = await client.post(url, json={"channelId": "x"}, headers=bearer(token))
        assert r.status_code == 401 and r.json()["code"] == "INVALID_TOKEN", bad
    nan_exp = _sign(json.dumps(claims).replace(str(now + 60), "NaN").encode())
    r = await client.post(url, json={"channelId": "x"}, headers=bearer(nan_exp))
    assert r.status_code == 401 and r.json()["code"] == "INVALID_TOKEN"


async def test_odd_last_event_ids_resume_nothing_and_never_fail(server: Server, client) -> None:
    """A `Last-Event-ID` the bus never issued (a superscript digit, 4,400 digits, text) is an
    unknown position: the stream opens, with a gap notice, and the server logs no traceback."""
    channel = live(server, "acme")
    token = server.token("acme", "viewer")
    for odd in ("1-\u00b2", "1-" + "9" * 4400, "\u00b2-1", "x", "-", "1-2-3"):
        raw = odd.encode("latin-1")  # as a client may send it: not ASCII
        stream = await open_stream(subscribe(client, server, "acme", token, channel, raw))
        first = await stream.next()
        assert first.event in ("connected", "gap"), (odd, first.event)


def _sign(payload: bytes) -> str:
    """An HS256 token over exactly ``payload`` (PyJWT would refuse to encode NaN or 10**400)."""
    import base64
    import hashlib
    import hmac

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    head = b64(b'{"alg":"HS256","typ":"JWT"}') + "." + b64(payload)
    mac = hmac.new(SECRET.encode(), head.encode(), hashlib.sha256).digest()
    return head + "." + b64(mac)


# ----------------------------------------------------------------------------- concurrency


async def test_200_identical_subscribes_leave_one_row(server: Server) -> None:
    """At once: those past the per-user stream cap (20) get 429 and write nothing; the rest
    share one subscription."""
    channel = live(server, "globex")
    token = server.mint("globex", "zed", 1)
    limits = httpx.Limits(max_connections=200)
    async with httpx.AsyncClient(timeout=30, limits=limits) as c:

        async def one() -> str | None:
            async with subscribe(c, server, "globex", token, channel) as source:
                if source.response.status_code == 429:
                    await source.response.aread()
                    assert source.response.json()["code"] == "TOO_MANY_STREAMS"
                    return None
                assert source.response.status_code == 200
                first = await anext(source.aiter_sse())
                return str(json.loads(first.data)["subscriptionId"])

        ids = await asyncio.gather(*(one() for _ in range(200)))
    admitted = [i for i in ids if i is not None]
    assert len(admitted) >= 20 and len(set(admitted)) == 1
    rows = await server.query("SELECT COUNT(*) FROM stream_subscription WHERE user_id = 'zed'")
    assert rows == [(1,)]


async def test_500_mixed_concurrent_requests_on_sqlite(server: Server) -> None:
    """Subscribe, unsubscribe, scene transition and update-counts at once over 50
    connections: no 5xx, and the server never hits "database is locked"."""
    acme = [c["id"] for c in server.demo["tenants"]["acme"]["channels"]]
    users = [server.mint("acme", f"load{i}", 1) for i in range(10)]
    moderator = server.token("acme", "moderator")
    statuses: list[int] = []
    async with httpx.AsyncClient(
        timeout=60, limits=httpx.Limits(max_connections=50, max_keepalive_connections=50)
    ) as c:

        async def request(i: int) -> None:
            kind, token, channel = i % 4, users[i % len(users)], acme[i % len(acme)]
            if kind == 0:
                async with subscribe(c, server, "acme", token, channel) as source:
                    statuses.append(source.response.status_code)
                    if source.response.status_code == 200:
                        await anext(source.aiter_sse())
                return
            if kind == 1:
                r = await c.post(
                    server.api("acme", "unsubscribe"),
                    json={"channelId": channel},
                    headers=bearer(token),
                )
            elif kind == 2:
                r = await c.post(
                    server.api("acme", f"scenes/{channel}/transition"),
                    json={"sceneId": f"scene-{i}"},
                    headers=bearer(moderator),
                )
            else:
                r = await c.post(server.api("acme", "update-counts"))
            statuses.append(r.status_code)

        await asyncio.gather(*(request(i) for i in range(500)))
    assert len(statuses) == 500
    assert all(s < 500 for s in statuses), sorted(set(statuses))
    assert statuses.count(200) >= 250
    assert "database is locked" not in server.log()


# ----------------------------------------------------------------------------- failures


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_a_failing_database_gives_503_and_writes_nothing(
    request: pytest.FixtureRequest, tmp_path: Path, backend: str
) -> None:
    srv = make_server(request, tmp_path, backend).start()
    try:
        channel = live(srv, "acme")
        token = srv.mint("acme", "frank", 1)
        await srv.query("ALTER TABLE stream_subscription RENAME TO stream_subscription_gone")
        async with httpx.AsyncClient(timeout=20) as c:
            r = await c.post(
                srv.api("acme", "subscribe"), json={"channelId": channel}, headers=bearer(token)
            )
            assert r.status_code == 503, r.text
            assert r.json()["code"] == "DATABASE_UNAVAILABLE"
            await srv.query("ALTER TABLE stream_subscription_gone RENAME TO stream_subscription")
            assert await srv.query("SELECT COUNT(*) FROM stream_subscription") == [(0,)]
            # The server recovers once the database does.
            async with subscribe(c, srv, "acme", token, channel) as source:
                assert source.response.status_code == 200
    finally:
        srv.stop()
    assert "Traceback" not in srv.log(), srv.log()


# ----------------------------------------------------------------------------- operations


async def test_heartbeats_keep_an_idle_stream_alive(server: Server, client) -> None:
    """SSE_HEARTBEAT_MS is 1000 for the test server: an idle stream gets `: ping` comments."""
    async with client.stream(
        "POST",
        server.api("acme", "subscribe"),
        json={"channelId": live(server, "acme")},
        headers=bearer(server.mint("acme", "idle", 1)),
    ) as r:
        assert r.status_code == 200
        seen = ""
        async with asyncio.timeout(5):
            async for text in r.aiter_text():
                seen += text
                if ": ping" in seen:
                    break
        assert seen.index("event: connected") < seen.index(": ping")


def test_migrate_is_idempotent_and_executions_are_listed(server: Server) -> None:
    for _ in range(2):
        out = server.cli("migrate", admin=True)
        assert out.returncode == 0 and "statement(s) applied" in out.stdout
    failed = server.cli("executions", "--failed", "--json", "--limit", "1000").stdout
    rows = [json.loads(line) for line in failed.splitlines()]
    assert rows and all(r["status"] != "success" for r in rows)
    codes = {r["error_code"] for r in rows}
    assert "CHANNEL_NOT_FOUND" in codes  # what ran and failed is recorded
    assert "AUTH_REQUIRED" not in codes  # refused before running (no user): not recorded
    table = server.cli("executions", "--tenant", "globex", "--limit", "5").stdout
    assert table.splitlines()[0].split()[:3] == ["started", "workflow", "tenant"]


def test_bad_configuration_is_a_message_not_a_traceback(server: Server) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "runtime", "migrate"],
        cwd=ROOT,
        env={**server.env, "DATABASE_URL": "mysql://nope"},
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2 and "DATABASE_URL" in proc.stderr
    assert "Traceback" not in proc.stderr


async def test_subscription_limit_over_http(server: Server, client) -> None:
    token = server.mint("acme", "collector", 1)
    values = ", ".join(["(?, ?, 'collector', 'acme', '2026-01-22T00:00:00.000Z')"] * 100)
    await server.query(
        "INSERT INTO stream_subscription (id, channel_id, user_id, tenant_id, subscribed_at) "
        f"VALUES {values}",
        *(v for i in range(100) for v in (f"held-{i}", f"elsewhere-{i}")),
    )
    r = await client.post(
        server.api("acme", "subscribe"),
        json={"channelId": live(server, "acme")},
        headers=bearer(token),
    )
    assert r.status_code == 409
    assert r.json()["code"] == "SUBSCRIPTION_LIMIT_REACHED" and r.json()["limit"] == 100


async def test_the_printed_demo_commands_work(server: Server, client) -> None:
    """`make run` prints curl commands; each one, sent as printed, succeeds."""
    out = server.cli("demo", "--base-url", server.base, admin=True).stdout
    env = dict(re.findall(r"^export (\w+)='([^']+)'$", out, re.M))
    commands = re.findall(
        r"^curl -N -X (\w+) (\S+)(?: -H \"Authorization: Bearer \$(\w+)\")?"
        r"(?: -H 'Content-Type: application/json' -d '([^']*)')?",
        out,
        re.M,
    )
    assert len(commands) == 8 and len(env) == 4
    # Unsubscribe last: it needs the subscription the subscribe command makes.
    commands.sort(key=lambda c: c[1].endswith("/unsubscribe"))
    for method, url, var, body in commands:
        headers = bearer(env[var]) if var else {}
        if url.endswith("/subscribe"):
            async with client.stream(
                method, url, content=body, headers={**headers, "Content-Type": "application/json"}
            ) as r:
                assert r.status_code == 200, url
            continue
        r = await client.request(
            method,
            url,
            content=body or None,
            headers={**headers, "Content-Type": "application/json"},
        )
        assert r.status_code == 200, (url, r.text)


async def test_no_request_gets_a_500(server: Server, client) -> None:
    """Random bodies, content types, tokens and path values on every route: always a JSON
    answer below 500 (a 4xx with error and code, or a success)."""
    import random

    rng = random.Random(20261126)
    viewer, moderator = server.token("acme", "viewer"), server.token("acme", "moderator")
    values: list[object] = [None, True, 0, -1, 1e308, "", "x" * 300, "acme-main-stage", [], {},
                            [1, "a"], {"channelId": {}}, "\u0000", "'; DROP TABLE x; --"]  # fmt: skip
    routes = ["subscribe", "unsubscribe", "update-counts", "scenes/{c}/transition"]
    for i in range(150):
        route = rng.choice(routes).replace(
            "{c}", rng.choice(["acme-main-stage", "%00", "x" * 200])
        )
        kind = rng.randrange(4)
        if kind == 0:
            body = bytes(rng.getrandbits(8) for _ in range(rng.randrange(64)))
        elif kind == 1:
            body = json.dumps(rng.choice(values)).encode()
        else:
            fields = {k: rng.choice(values) for k in rng.sample(["channelId", "sceneId", "x"], 2)}
            body = json.dumps(fields).encode()
        headers = {"Content-Type": rng.choice(["application/json", "text/plain", "", "a/b+json"])}
        token = rng.choice([viewer, moderator, None, "garbage", viewer[:-3]])
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if route.endswith("subscribe") and not route.endswith("unsubscribe"):
            async with client.stream(
                "POST", server.api("acme", route), content=body, headers=headers
            ) as r:
                assert r.status_code < 500, (i, route, body, headers)
                if r.status_code != 200:
                    await r.aread()
                    assert {"error", "code"} <= set(r.json()), r.text
            continue
        r = await client.post(server.api("acme", route), content=body, headers=headers)
        assert r.status_code < 500, (i, route, body, headers, r.text)
        assert r.headers["content-type"].startswith("application/json")
        if r.status_code >= 400:
            assert {"error", "code"} <= set(r.json()), r.text
