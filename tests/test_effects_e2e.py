"""Effects on a real server (``tests/cases/effects/accounts``, compiled and served by uvicorn
on a SQLite file): sign-up, log-in and password reset with mail read from a real SMTP server
in this process (aiosmtpd), rate limits (one worker, and two workers sharing Redis), outbound
HTTP to local servers (answers read, fire-and-forget after the commit, a call held open while
other requests commit), mail that outlives a restart, and image metadata from a PNG made here.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from aiosmtpd.controller import Controller

from tests.conftest import ROOT
from tests.server import Server, free_port
from tests.services import Redis

CASE = ROOT / "tests" / "cases" / "effects"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("effects")
    shutil.copytree(CASE, work / "src")
    run = subprocess.run(
        [sys.executable, "-m", "compiler", "compile", "src", "--out", "generated"],
        capture_output=True, text=True, cwd=work, env={"PYTHONPATH": str(ROOT), "PATH": ""},
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    return work / "generated"


class Inbox:
    """Messages a real SMTP server (aiosmtpd, on 127.0.0.1) received."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        with self.lock:
            self.messages.append(message_from_bytes(envelope.content))  # type: ignore[attr-defined]
        return "250 OK"

    def wait(self, count: int, timeout: float = 10.0) -> list[Message]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            time.sleep(0.05)
        raise AssertionError(f"{len(self.messages)} of {count} messages arrived")


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def serve(work: Path, gen: Path, **env: str) -> Server:
    storage = work / "storage"
    storage.mkdir(exist_ok=True)
    srv = Server(
        work,
        {"HTTP_ALLOW_HOSTS": "127.0.0.1", "STORAGE_ROOT": str(storage), "OUTBOX_POLL_MS": "100",
         **env},
        serve_args=("--generated", str(gen)),
    )  # fmt: skip
    if not (work / "app.db").exists():
        srv.cli("migrate", "--generated", str(gen))
    return srv.launch()


def url(srv: Server, path: str, tenant: str = "acme") -> str:
    return f"{srv.base}/api/v1/{tenant}/accounts/{path}"


def text_of(msg: Message) -> str:
    part = msg.get_body(preferencelist=("plain",)) if hasattr(msg, "get_body") else msg
    payload = (part or msg).get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


def parts(msg: Message) -> dict[str, str]:
    out = {}
    for p in msg.walk():
        if p.get_content_maintype() == "text":
            payload = p.get_payload(decode=True)
            assert isinstance(payload, bytes)
            out[p.get_content_subtype()] = payload.decode()
    return out


def test_signup_login_and_password_reset_with_real_mail(
    generated: Path, tmp_path: Path, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    srv = serve(
        tmp_path, generated, SMTP_URL=f"smtp://127.0.0.1:{port}", MAIL_FROM="no-reply@app.example"
    )
    try:
        ann = {"email": "ann@example.com", "password": "correct horse", "displayName": "Ann <3"}
        r = httpx.post(url(srv, "register"), json=ann)
        assert r.status_code == 201, r.text
        user_id = r.json()["userId"]
        [mail] = inbox.wait(1)
        assert mail["To"] == "ann@example.com" and mail["From"] == "no-reply@app.example"
        assert mail["Subject"] == "Verify your email address"
        body = parts(mail)
        token = re.search(r"verify/([A-Za-z0-9_-]+)", body["plain"])
        assert token is not None and len(base64.urlsafe_b64decode(token[1] + "=")) == 32
        assert "Hello Ann <3," in body["plain"] and "Hello Ann &lt;3," in body["html"]
        [(stored_token, stored_hash)] = asyncio.run(
            srv.query("SELECT verification_token, password_hash FROM acct_user")
        )
        assert stored_token == token[1] and str(stored_hash).startswith("$2b$04$")
        # The same address again: the unique rule answers before anything is written or sent.
        again = httpx.post(url(srv, "register"), json=ann)
        assert (again.status_code, again.json()["field"], again.json()["rule"]) == (
            400,
            "email",
            "unique",
        ), again.text

        wrong = httpx.post(url(srv, "login"), json={"email": ann["email"], "password": "nope"})
        assert (wrong.status_code, wrong.json()["code"]) == (401, "INVALID_CREDENTIALS")
        nobody = httpx.post(url(srv, "login"), json={"email": "zed@example.com", "password": "x"})
        assert (nobody.status_code, nobody.json()["code"]) == (401, "INVALID_CREDENTIALS")
        ok = httpx.post(
            url(srv, "login"), json={"email": ann["email"], "password": ann["password"]}
        )
        assert ok.status_code == 200 and ok.json()["userId"] == user_id, ok.text
        session = ok.json()["token"]
        # The token the workflow signed opens the runtime's own authenticated routes.
        me = httpx.get(url(srv, "me"), headers={"Authorization": f"Bearer {session}"})
        assert me.status_code == 200, me.text
        claims = json.loads(base64.urlsafe_b64decode(session.split(".")[1] + "=="))
        assert me.json() == {"userId": user_id, "session": claims["sid"], "hasToken": True}
        assert claims["tid"] == "acme" and claims["email"] == ann["email"]
        assert asyncio.run(srv.query("SELECT token FROM acct_session")) == [(session,)]

        reset = httpx.post(url(srv, "forgot-password"), json={"email": ann["email"]})
        unknown = httpx.post(url(srv, "forgot-password"), json={"email": "zed@example.com"})
        assert reset.status_code == unknown.status_code == 200 and reset.json() == unknown.json()
        mails = inbox.wait(2)
        time.sleep(0.3)
        assert len(inbox.messages) == 2  # nothing for an address without an account
        link = re.search(r"reset/([A-Za-z0-9_-]+)", parts(mails[1])["plain"])
        assert link is not None and mails[1]["Subject"] == "Reset your password"
        [(digest,)] = asyncio.run(srv.query("SELECT token_hash FROM acct_reset"))
        assert digest == hashlib.sha256(link[1].encode()).hexdigest()
        # Secrets stay out of the log and the execution history.
        history = asyncio.run(srv.query("SELECT nodes, error_code FROM workflow_execution"))
        for secret in (session, link[1], token[1], ann["password"]):
            assert secret not in srv.log() and secret not in repr(history)
        delivered = asyncio.run(srv.query("SELECT status, payload FROM workflow_outbox"))
        assert delivered == [("sent", "{}"), ("sent", "{}")]  # the payloads are cleared
    finally:
        srv.stop()
    assert "Traceback" not in srv.log(), srv.log()


def test_login_rate_limit_answers_429_with_retry_after(generated: Path, tmp_path: Path) -> None:
    srv = serve(tmp_path, generated)
    try:
        attempt = {"email": "ann@example.com", "password": "whatever"}
        codes = [httpx.post(url(srv, "login"), json=attempt).status_code for _ in range(5)]
        assert codes == [401] * 5
        refused = httpx.post(url(srv, "login"), json=attempt)
        assert refused.status_code == 429, refused.text
        assert refused.json() == {
            "error": "Too many login attempts",
            "code": "RATE_LIMITED",
            "retryAfter": int(refused.headers["retry-after"]),
        }
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        # Another address, and the same one in another tenant, have their own windows.
        assert (
            httpx.post(url(srv, "login"), json={**attempt, "email": "bo@example.com"}).status_code
            == 401
        )
        assert httpx.post(url(srv, "login", "globex"), json=attempt).status_code == 401
    finally:
        srv.stop()


def test_two_workers_share_one_rate_limit_through_redis(
    generated: Path, tmp_path: Path, redis: Redis
) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = serve(tmp_path / "a", generated, RATE_LIMIT_URL=redis.url)
    b = serve(tmp_path / "b", generated, RATE_LIMIT_URL=redis.url)
    try:
        attempt = {"email": "shared@example.com", "password": "whatever"}
        codes = [httpx.post(url(srv, "login"), json=attempt).status_code for srv in (a, b) * 3]
        assert codes == [401, 401, 401, 401, 401, 429], codes  # six hits, one window of five
        assert httpx.post(url(a, "login"), json=attempt).status_code == 429
    finally:
        a.stop()
        b.stop()


class Upstream:
    """A local HTTP server the workflows call: JSON answers, a slow path, a record of what
    arrived."""

    def __init__(self, delay: float = 1.0) -> None:
        self.seen: list[tuple[str, str, bytes]] = []
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                return None

            def _answer(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                upstream.seen.append((self.command, self.path, body))
                if self.path.startswith("/slow"):
                    time.sleep(delay)
                status = 404 if "missing" in self.path else 200
                data = json.dumps({"path": self.path, "ok": status == 200}).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _answer

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Upstream:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_outbound_http_answers_fire_and_forget_and_destination_checks(
    generated: Path, tmp_path: Path
) -> None:
    srv = serve(tmp_path, generated)
    try:
        with Upstream() as up:
            r = httpx.post(url(srv, "lookup"), json={"url": up.base + "/quote", "q": "a b"})
            assert r.json() == {"status": 200, "body": {"path": "/quote?q=a+b", "ok": True}}
            missing = httpx.post(url(srv, "lookup"), json={"url": up.base + "/missing", "q": ""})
            assert missing.json()["status"] == 404  # an answer, whatever its status, is data
            for bad in ("http://10.0.0.7/x", "http://169.254.169.254/latest", "file:///etc/passwd",
                        f"http://localhost:{srv.port}/healthz"):  # fmt: skip
                refused = httpx.post(url(srv, "lookup"), json={"url": bad, "q": ""})
                assert (refused.status_code, refused.json()["code"]) == (
                    400,
                    "URL_NOT_ALLOWED",
                ), bad
            closed = httpx.post(
                url(srv, "lookup"), json={"url": f"http://127.0.0.1:{free_port()}/", "q": ""}
            )
            assert (closed.status_code, closed.json()["code"]) == (502, "UPSTREAM_FAILED")
            # Nobody reads the hook's answer: it is made after the commit, from the outbox.
            hook = httpx.post(url(srv, "hook"), json={"url": up.base + "/hook", "text": "hi"})
            assert hook.status_code == 201, hook.text
            deadline = time.monotonic() + 10
            while not any(p == "/hook" for _, p, _ in up.seen) and time.monotonic() < deadline:
                time.sleep(0.05)
            [(method, _, body)] = [s for s in up.seen if s[1] == "/hook"]
            assert method == "POST" and json.loads(body) == {
                "noteId": hook.json()["noteId"],
                "text": "hi",
            }
    finally:
        srv.stop()
    assert "Traceback" not in srv.log(), srv.log()


def test_an_http_call_held_open_does_not_hold_the_database(
    generated: Path, tmp_path: Path
) -> None:
    """`slow` reads, waits a second on an HTTP call, then writes. The read-only transaction
    ends before the call (on SQLite a writing workflow's transaction holds the process's
    write lock), so writes of other requests commit while the call is open."""
    srv = serve(tmp_path, generated)
    try:
        with Upstream(delay=1.0) as up:

            async def scenario() -> tuple[float, list[float]]:
                async with httpx.AsyncClient(timeout=20) as client:
                    started = time.monotonic()
                    slow = asyncio.create_task(
                        client.post(url(srv, "slow"), json={"url": up.base + "/slow"})
                    )
                    await asyncio.sleep(0.2)  # the call is open now
                    times = []
                    for n in range(5):
                        t0 = time.monotonic()
                        r = await client.post(
                            url(srv, "hook"), json={"url": up.base + "/h", "text": f"n{n}"}
                        )
                        assert r.status_code == 201, r.text
                        times.append(time.monotonic() - t0)
                    done = await slow
                    assert done.status_code == 200 and done.json() == {"before": 0, "status": 200}
                    return time.monotonic() - started, times

            total, hooks = asyncio.run(scenario())
        assert total >= 1.0
        # Five writes committed while the call was held open (each far below its second).
        assert sum(hooks) < 0.9, hooks
        notes = asyncio.run(srv.query("SELECT text FROM acct_note ORDER BY created_at"))
        assert [t for (t,) in notes][-1] == "slow answered 200" and len(notes) == 6
    finally:
        srv.stop()


def test_mail_queued_when_smtp_is_down_is_delivered_after_a_restart(
    generated: Path, tmp_path: Path
) -> None:
    port = free_port()  # nothing listens yet: every delivery attempt fails
    env = {"SMTP_URL": f"smtp://127.0.0.1:{port}"}
    srv = serve(tmp_path, generated, **env)
    try:
        r = httpx.post(url(srv, "register"), json={"email": "cy@example.com", "password": "long enough",
                                                   "displayName": "Cy"})  # fmt: skip
        assert r.status_code == 201, r.text
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            [(status, attempts)] = asyncio.run(
                srv.query("SELECT status, attempts FROM workflow_outbox")
            )
            if attempts >= 1 and status == "pending":
                break
            time.sleep(0.05)
        assert status == "pending" and attempts >= 1  # failed once, waiting for a retry
    finally:
        srv.stop()  # the worker goes away with the message undelivered
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        again = serve(tmp_path, generated, **env)  # a new worker on the same database
        try:
            [mail] = inbox.wait(1, timeout=15)
            assert mail["To"] == "cy@example.com" and "Hello Cy," in parts(mail)["plain"]
            time.sleep(0.3)
            assert len(inbox.messages) == 1  # once
            [(status,)] = asyncio.run(again.query("SELECT status FROM workflow_outbox"))
            assert status == "sent"
        finally:
            again.stop()
    finally:
        controller.stop()


def test_image_metadata_from_a_generated_png(generated: Path, tmp_path: Path) -> None:
    from PIL import Image

    srv = serve(tmp_path, generated)
    try:
        Image.new("RGBA", (64, 48), (0, 128, 255, 200)).save(tmp_path / "storage" / "me.png")
        r = httpx.post(url(srv, "avatar"), json={"path": "me.png"})
        assert r.json() == {"width": 64, "height": 48, "format": "png", "alpha": True}, r.text
        outside = httpx.post(url(srv, "avatar"), json={"path": "../app.db"})
        assert (outside.status_code, outside.json()["code"]) == (400, "PATH_NOT_ALLOWED")
    finally:
        srv.stop()
