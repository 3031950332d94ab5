"""Token verification (HS256, RS256, algorithm confusion) and the SSE stream's own rules."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from runtime import config as configuration
from runtime.auth import mint_token, user_from_token
from runtime.config import Config, ConfigError
from runtime.errors import InvalidToken
from runtime.events import LocalBus
from runtime.results import StreamResult
from runtime.sse import OpenStreams, Stream, open_stream
from tests.conftest import ROOT
from tests.server import Server


def rsa_pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def test_rs256_tokens_and_algorithm_confusion() -> None:
    private, public = rsa_pair()
    config = configuration.load({"JWT_PUBLIC_KEY": public, "JWT_PRIVATE_KEY": private})
    assert config.jwt_algorithm == "RS256"
    token = mint_token(config, tenant="acme", user="ada", level=2, scopes=["a:b"])
    tenant, user = user_from_token(config, token)
    assert tenant == "acme" and user["id"] == "ada" and user["level"] == 2.0
    assert user["scopes"] == ["a:b"]
    # The public key used as an HS256 secret (the classic confusion attack) is refused.
    claims = {"sub": "eve", "tid": "acme", "level": 9, "exp": int(time.time()) + 60}
    forged = jwt.encode(claims, "x" * 64, algorithm="HS256")
    with pytest.raises(InvalidToken):
        user_from_token(config, forged)
    with pytest.raises(InvalidToken):
        user_from_token(config, jwt.encode(claims, None, algorithm="none"))


def test_hs256_claims_are_checked() -> None:
    config = configuration.load({"JWT_SECRET": "s" * 40})
    now = int(time.time())
    for claims in (
        {"sub": "u", "exp": now + 60},  # no tenant
        {"tid": "acme", "exp": now + 60},  # no user
        {"sub": "u", "tid": "acme"},  # no expiry
        {"sub": "u", "tid": "acme", "exp": now + 60, "level": "high"},
    ):
        with pytest.raises(InvalidToken):
            user_from_token(config, jwt.encode(claims, "s" * 40, algorithm="HS256"))


def test_configuration_errors_are_explained() -> None:
    with pytest.raises(ConfigError, match="not both"):
        configuration.load({"JWT_SECRET": "a", "JWT_PUBLIC_KEY": "b"})
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        configuration.load({"DATABASE_URL": "mysql://x"})
    with pytest.raises(ConfigError, match="MAX_BODY_BYTES"):
        configuration.load({"MAX_BODY_BYTES": "big"})


class Client:
    """The server side of one stream, without a server: what the stream sends, and a
    connection that stays open until told to leave."""

    def __init__(self, blocked: bool = False) -> None:
        self.sent: list[dict[str, object]] = []
        self.gone = asyncio.Event()
        self.unblock = asyncio.Event()
        if not blocked:
            self.unblock.set()

    async def send(self, message: dict[str, object]) -> None:
        if message.get("more_body") and self.sent:  # a client that stopped reading
            await self.unblock.wait()
        self.sent.append(message)

    async def receive(self) -> dict[str, object]:
        await self.gone.wait()
        return {"type": "http.disconnect"}

    def events(self) -> list[tuple[str, str]]:
        body = b"".join(m.get("body", b"") for m in self.sent).decode()  # type: ignore[misc]
        out = []
        for block in body.split("\r\n\r\n"):
            fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
            if "event" in fields:
                out.append((fields["event"], fields.get("data", "")))
        return out


async def run_stream(
    bus: LocalBus, result: StreamResult, client: Client, last_event_id: str | None = None,
    config: Config | None = None,
) -> tuple[Stream, asyncio.Task[None]]:  # fmt: skip
    stream, opening = await open_stream(
        client.send,  # type: ignore[arg-type]
        config or Config(),
        bus,
        OpenStreams(3600),
        "acme",
        result,
        last_event_id,
        None,
        "execution",
    )
    task = asyncio.create_task(stream.run(client.receive, opening))  # type: ignore[arg-type]
    await asyncio.sleep(0.01)
    return stream, task


async def test_stream_closes_at_subscription_timeout() -> None:
    bus = LocalBus()
    client = Client()
    result = StreamResult("ch", {"subscriptionId": "s"}, 5000, 200)
    _, task = await run_stream(bus, result, client)
    await asyncio.wait_for(task, 2)
    assert [e for e, _ in client.events()] == ["connected", "closed"]
    assert json.loads(client.events()[-1][1]) == {"reason": "subscriptionTimeout reached"}
    first = client.sent[1]["body"]
    assert b"retry: 5000" in first and b"id: " in first  # type: ignore[operator]
    assert client.sent[-1]["more_body"] is False
    assert bus.subscriber_count() == 0  # the stream unsubscribed when it ended


async def test_a_slow_subscriber_is_dropped_not_buffered_forever() -> None:
    """Before its stream is open, and after: a stream that cannot keep up is closed."""
    bus = LocalBus(queue_size=3)
    sub = await bus.subscribe("acme", "ch", None)
    for i in range(5):
        await bus.publish("acme", "ch", "e", str(i))
    assert sub.closed == "overflow"
    await bus.unsubscribe(sub)

    client = Client(blocked=True)
    _, task = await run_stream(
        bus, StreamResult("ch", {}, None, None), client, config=Config(stream_queue=3)
    )
    for i in range(6):
        await bus.publish("acme", "ch", "e", str(i))
    client.unblock.set()
    await asyncio.wait_for(task, 2)
    assert [e for e, _ in client.events()][-1] == "closed"
    assert json.loads(client.events()[-1][1])["reason"].startswith("the client fell too far")
    assert bus.subscriber_count() == 0


async def test_a_resumed_stream_skips_what_the_client_already_had() -> None:
    """A client reconnecting with Last-Event-ID gets what it missed from the buffer, then
    live events, each once."""
    bus = LocalBus()
    await bus.publish("acme", "ch", "e", "1")
    e2 = await bus.publish("acme", "ch", "e", "2")
    e3 = await bus.publish("acme", "ch", "e", "3")
    client = Client()
    stream, task = await run_stream(bus, StreamResult("ch", {}, None, 300), client, e2.id)
    stream.offer(e3)  # a bus whose reader is behind hands it over again
    await bus.publish("acme", "ch", "e", "4")
    await asyncio.wait_for(task, 2)
    assert [d for e, d in client.events() if e == "e"] == ["3", "4"]


async def test_one_encoding_reaches_every_stream_without_a_task_each() -> None:
    """A broadcast writes the event's one frame to every stream in the publisher's call."""
    bus = LocalBus()
    clients = [Client() for _ in range(50)]
    streams = [await run_stream(bus, StreamResult("ch", {}, None, None), c) for c in clients]
    tasks_before = len(asyncio.all_tasks())
    event = await bus.publish("acme", "ch", "e", '{"n":1}')
    assert len(asyncio.all_tasks()) == tasks_before  # nothing scheduled to deliver it
    bodies = [c.sent[-1]["body"] for c in clients]
    assert all(b is event.frame for b in bodies)  # the same bytes object, encoded once
    for c in clients:
        c.gone.set()
    await asyncio.gather(*(t for _, t in streams))
    assert bus.subscriber_count() == 0


def test_event_ids_order() -> None:
    from runtime.events import newer

    assert newer("ab12-5", "ab12-4") and not newer("ab12-4", "ab12-4")
    assert newer("1700000000001-0", "1700000000000-7")
    assert not newer("1700000000000-0", "1700000000000-3")
    assert newer("cafe-1", "beef-9")  # another process's ids: never withheld


def test_verified_tokens_are_remembered_but_expiry_is_checked_each_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from runtime import auth

    cfg = configuration.load({"JWT_SECRET": "s" * 40})
    token = mint_token(cfg, tenant="acme", user="ann", level=2, ttl_s=60)
    monkeypatch.setattr(auth, "_verified", auth.OrderedDict())
    tenant, user, _ = auth.verify_token(cfg, token)
    assert (tenant, user["id"], user["level"]) == ("acme", "ann", 2.0)
    user["id"] = "mallory"  # a caller changing its copy changes nothing remembered

    def no_pyjwt(*args: object, **kwargs: object) -> object:
        raise AssertionError("verified again")

    real_decode = jwt.decode
    monkeypatch.setattr(auth.jwt, "decode", no_pyjwt)
    assert auth.verify_token(cfg, token)[1]["id"] == "ann"  # from the cache
    # Another key never hits what this one verified.
    other = configuration.load({"JWT_SECRET": "t" * 40})
    with pytest.raises(AssertionError, match="verified again"):
        auth.verify_token(other, token)
    # Past its expiry (and the leeway), a remembered token is not taken from the cache: PyJWT
    # decides again (and refuses it when the clock it reads agrees).
    later = time.time() + 60 + auth.LEEWAY_S + 1
    monkeypatch.setattr(auth.time, "time", lambda: later)
    calls: list[int] = []

    def counting(*args: object, **kwargs: object) -> object:
        calls.append(1)
        return real_decode(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(auth.jwt, "decode", counting)
    auth.verify_token(cfg, token)
    assert calls == [1]


def test_the_token_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from runtime import auth

    cfg = configuration.load({"JWT_SECRET": "s" * 40})
    monkeypatch.setattr(auth, "_verified", auth.OrderedDict())
    monkeypatch.setattr(auth, "CACHE_SIZE", 3)
    tokens = [mint_token(cfg, tenant="acme", user=f"u{n}", level=1) for n in range(5)]
    for t in tokens:
        auth.verify_token(cfg, t)
    assert [k[2] for k in auth._verified] == tokens[2:]


def test_an_hs256_server_never_loads_cryptography_and_an_rs256_one_does(
    tmp_path: Path,
) -> None:
    """PyJWT loads cryptography (a second OpenSSL, about 9 MB a worker) for RSA only."""
    private, public = rsa_pair()
    rsa_env = {"JWT_SECRET": "", "JWT_PUBLIC_KEY": public, "JWT_PRIVATE_KEY": private}
    for name, env, loaded in (("hs256", {}, False), ("rs256", rsa_env, True)):
        srv = Server(tmp_path / name, env).start()
        try:
            assert srv.proc is not None
            maps = Path(f"/proc/{srv.proc.pid}/maps").read_text()
            assert ("cryptography" in maps) is loaded, name
            channel = next(c["id"] for c in srv.demo["tenants"]["acme"]["channels"])
            moderator = srv.mint("acme", "mod", 2, "stream_cast:scenes:manage")
            assert jwt.get_unverified_header(moderator)["alg"] == name.upper()
            r = httpx.post(
                srv.api("acme", f"scenes/{channel}/transition"),
                json={"sceneId": "intro"},
                headers={"Authorization": f"Bearer {moderator}"},
            )
            assert r.status_code in (200, 409), r.text  # verified: past the token check
        finally:
            srv.stop()


def test_rsa_configured_apart_from_the_environment_is_a_clear_error() -> None:
    """A process whose environment named no RSA key has PyJWT without RSA: a configuration
    with one, passed in on its own, is refused when the app is made, not at a request."""
    _, public = rsa_pair()
    script = (
        "import sys\n"
        "from runtime import config\n"
        "from runtime.auth import check_algorithm\n"
        "try:\n"
        "    check_algorithm(config.load({'JWT_PUBLIC_KEY': sys.argv[1]}))\n"
        "except config.ConfigError as e:\n"
        "    print(e)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("JWT_")}
    out = subprocess.run(
        [sys.executable, "-c", script, public], capture_output=True, text=True, env=env, cwd=ROOT
    )
    assert out.returncode == 0, out.stderr
    assert "RS256 tokens need cryptography" in out.stdout
    assert "JWT_PUBLIC_KEY or JWT_PRIVATE_KEY in the environment" in out.stdout
