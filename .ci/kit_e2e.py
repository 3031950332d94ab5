"""MetaBuilder's conformance kit, served: compile `dev-fixed`, type-check the output with
mypy --strict, migrate it on SQLite and on PostgreSQL, seed a few rows for two tenants, and
drive routes of every compiled package over HTTP (a success, a 4xx, another tenant's row
answering 404), with no 5xx and no traceback.

Run by `.ci/run` when the kit is beside the project (`make test` never reads it):

    .venv/bin/python .ci/kit_e2e.py ../shared/metabuilder/dev-fixed

Effects talk to real components started here: an SMTP server (aiosmtpd) whose mail is read
back, a local HTTP server standing in for the push service (dispatch's FCM URL is pointed at
it in the copy of the kit), a storage root with a PNG made here. A workflow that does not
compile is left out and listed, and every package with a compiled route must be driven.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import bcrypt
import httpx
from aiosmtpd.controller import Controller

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from runtime.config import Config  # noqa: E402
from runtime.database import Store  # noqa: E402
from tests.server import Server, free_port  # noqa: E402
from tests.services import APP_ROLE, Postgres  # noqa: E402

ERROR = re.compile(r"^(\S+/workflow/[^:]+\.json):\d+:\d+: error\[", re.M)


def compile_kit(kit: Path, work: Path, push_port: int) -> tuple[Path, list[str]]:
    """Compile the kit's packages into ``work/generated``; the workflows that do not compile
    yet are set aside (and returned) until the rest compiles. Dispatch's push goes to a local
    server on ``push_port`` instead of FCM (no traffic leaves the machine)."""
    tree = work / "kit"
    shutil.copytree(kit, tree)
    dispatch = tree / "root" / "packages" / "notification_center" / "workflow" / "dispatch.json"
    if dispatch.exists():
        text = dispatch.read_text(encoding="utf-8")
        local = f"http://127.0.0.1:{push_port}/fcm/send"
        dispatch.write_text(text.replace("https://fcm.googleapis.com/fcm/send", local))
    out = work / "generated"
    left_out: list[str] = []
    for _ in range(10):
        run = subprocess.run(
            [sys.executable, "-m", "compiler", "compile", "--metabuilder", str(tree / "root"),
             "--overlay", str(tree / "overlay"), "--out", str(out)],
            capture_output=True, text=True, cwd=ROOT,
        )  # fmt: skip
        if "Traceback" in run.stderr:
            raise SystemExit(f"the compiler crashed:\n{run.stderr}")
        if run.returncode == 0:
            return out, sorted(left_out)
        failing = sorted({Path(m) for m in ERROR.findall(run.stderr)})
        if not failing:
            raise SystemExit(f"compile failed without a workflow error:\n{run.stderr}")
        for f in failing:
            path = f if f.is_absolute() else (ROOT / f).resolve()
            left_out.append(f"{path.parent.parent.name}/{path.stem}")
            path.unlink()
    raise SystemExit("the kit did not converge to a compiling subset")


async def columns(store: Store, table: str) -> dict[str, tuple[str, bool]]:
    """(type, required without a default) of each column of ``table``."""
    async with store.writer() as conn:
        if store.dialect == "sqlite":
            rows = await conn.fetch_all(f'PRAGMA table_info("{table}")')
            return {
                r["name"]: (str(r["type"]).upper(), bool(r["notnull"]) and r["dflt_value"] is None)
                for r in rows
            }
        rows = await conn.fetch_all(
            "SELECT column_name, data_type, is_nullable, column_default "
            "FROM information_schema.columns WHERE table_name = :t",
            {"t": table},
        )
        return {
            r["column_name"]: (
                str(r["data_type"]).upper(),
                r["is_nullable"] == "NO" and r["column_default"] is None,
            )
            for r in rows
        }


def filler(kind: str) -> object:
    if "BOOL" in kind:
        return False
    if "INT" in kind:
        return 0
    if "REAL" in kind or "DOUBLE" in kind:
        return 0.0
    if "JSON" in kind:
        return None
    return "x"


async def seed(store: Store, table: str, rows: list[dict[str, object]]) -> None:
    """Insert ``rows``, filling the required columns they leave out with placeholders."""
    cols = await columns(store, table)
    if not cols:
        raise SystemExit(f"no table {table}")
    async with store.writer() as conn:
        for row in rows:
            full = dict(row)
            for name, (kind, required) in cols.items():
                if required and name not in full:
                    full[name] = filler(kind)
            names = ", ".join(f'"{c}"' for c in full)
            values = ", ".join(f":{c}" for c in full)
            await conn.execute(f'INSERT INTO "{table}" ({names}) VALUES ({values})', full)


NOW = int(time.time() * 1000) - 3_600_000  # an hour ago, epoch milliseconds
ADA_PASSWORD = "Correct horse 1"


async def seed_all(url: str) -> None:
    store = Store(Config(database_url=url))
    await store.start()
    try:
        await seed(store, "audit_log", [
            {"id": f"log{i}", "tenant_id": t, "action": a, "entity": "Script", "timestamp": NOW}
            for i, (t, a) in enumerate(
                [("acme", "create"), ("acme", "update"), ("acme", "create"), ("globex", "delete")]
            )
        ])  # fmt: skip
        await seed(store, "notification", [
            {"id": "n1", "tenant_id": "acme", "user_id": "ada", "type": "info", "title": "Hi",
             "message": "m", "read": False, "created_at": NOW},
            {"id": "n2", "tenant_id": "acme", "user_id": "ada", "type": "info", "title": "Yo",
             "message": "m", "read": False, "created_at": NOW + 1},
            {"id": "n9", "tenant_id": "globex", "user_id": "ada", "type": "info",
             "title": "Theirs", "message": "m", "read": False, "created_at": NOW},
        ])  # fmt: skip
        await seed(store, "json_script", [
            {"id": "s1", "tenant_id": "acme", "name": "ours", "script": '{"version":"2.2.0"}',
             "created_by": "ada", "created_at": "2026-01-22T00:00:00.000Z"},
            {"id": "s9", "tenant_id": "globex", "name": "theirs", "script": "{}",
             "created_by": "bo", "created_at": "2026-01-22T00:00:00.000Z"},
        ])  # fmt: skip
        await seed(store, "media_asset", [
            {"id": "m1", "tenant_id": "acme", "user_id": "ada", "mime_type": "image/png",
             "size": 10, "created_at": NOW},
            {"id": "m2", "tenant_id": "acme", "user_id": "ada", "mime_type": "video/mp4",
             "size": 30, "created_at": NOW + 1},
            {"id": "m3", "tenant_id": "acme", "user_id": "bo", "mime_type": "image/png",
             "size": 20, "created_at": NOW},
            {"id": "m9", "tenant_id": "globex", "user_id": "ada", "mime_type": "image/png",
             "size": 40, "created_at": NOW},
        ])  # fmt: skip
        ada_hash = bcrypt.hashpw(ADA_PASSWORD.encode(), bcrypt.gensalt(12)).decode()
        await seed(store, "user", [
            {"id": "ada", "tenant_id": "acme", "username": "ada", "email": "ada@acme.example",
             "display_name": "Ada", "password_hash": ada_hash, "is_active": True,
             "fcm_token": "fcm-ada"},
            {"id": "bo", "tenant_id": "globex", "username": "bo", "email": "bo@globex.example",
             "display_name": "Bo", "password_hash": ada_hash, "is_active": True},
        ])  # fmt: skip
        await seed(store, "notification_preference", [
            {"id": "p1", "tenant_id": "acme", "user_id": "ada", "enable_in_app": True,
             "enable_email": True, "enable_push": True},
        ])  # fmt: skip
        await seed(store, "stream_channel", [
            {"id": "c1", "tenant_id": "acme", "created_at": NOW, "created_by": "ada"},
            {"id": "c9", "tenant_id": "globex", "created_at": NOW, "created_by": "bo"},
        ])  # fmt: skip
    finally:
        await store.stop()


Check = Callable[[httpx.Response], bool]


class Driver:
    def __init__(self, srv: Server, backend: str) -> None:
        self.srv, self.backend = srv, backend
        self.failures: list[str] = []
        self.driven: set[str] = set()

    def headers(self, tenant: str = "acme", user: str = "ada", level: int = 1) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.srv.mint(tenant, user, level)}"}

    async def expect(
        self,
        client: httpx.AsyncClient,
        package: str,
        method: str,
        path: str,
        status: int,
        check: Check = lambda r: True,
        **kwargs: object,
    ) -> httpx.Response:
        url = f"{self.srv.base}/api/v1/acme/{package}/{path}"
        r = await client.request(method, url, **kwargs)  # type: ignore[arg-type]
        label = f"[{self.backend}] {method} {package}/{path}"
        if r.status_code >= 500:
            self.failures.append(f"{label}: {r.status_code} {r.text}")
        elif r.status_code != status or not check(r):
            self.failures.append(f"{label}: expected {status}, got {r.status_code} {r.text}")
        else:
            print(f"ok   {label} -> {r.status_code}")
        self.driven.add(package)
        return r


class Effects:
    """The real components effects talk to: an SMTP server and a push endpoint."""

    def __init__(self, push_port: int) -> None:
        self.mail: list[Message] = []
        self.pushes: list[dict[str, object]] = []
        fx = self

        class Mailbox:
            async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
                fx.mail.append(message_from_bytes(envelope.content))  # type: ignore[attr-defined]
                return "250 OK"

        class Push(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                return None

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                fx.pushes.append({"path": self.path, "auth": self.headers.get("authorization"),
                                  "body": json.loads(body or b"null")})  # fmt: skip
                self.send_response(200)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

        self.smtp_port = free_port()
        self.controller = Controller(Mailbox(), hostname="127.0.0.1", port=self.smtp_port)
        self.push = ThreadingHTTPServer(("127.0.0.1", push_port), Push)
        self.thread = threading.Thread(target=self.push.serve_forever, daemon=True)

    def start(self) -> None:
        self.controller.start()
        self.thread.start()

    def stop(self) -> None:
        self.controller.stop()
        self.push.shutdown()
        self.push.server_close()

    async def wait(self, what: Callable[[], bool], timeout: float = 10) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if what():
                return True
            await asyncio.sleep(0.05)
        return False


def plain(msg: Message) -> str:
    for part in msg.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            return payload.decode() if isinstance(payload, bytes) else ""
    return ""


async def drive_effects(
    d: Driver, c: httpx.AsyncClient, packages: set[str], fx: Effects, storage: Path
) -> None:
    """ui_auth (sign-up, log-in, reset with the mail read back), dispatch (mail and push),
    image metadata from a PNG."""
    backend = d.backend
    fx.mail.clear()
    fx.pushes.clear()
    if "ui_auth" in packages:
        login = {"email": "ada@acme.example", "password": ADA_PASSWORD, "ipAddress": "127.0.0.1",
                 "userAgent": "kit-e2e"}  # fmt: skip
        r = await d.expect(c, "ui_auth", "POST", "auth/login", 200,
                           lambda r: r.json()["user"]["id"] == "ada", json=login)  # fmt: skip
        token = r.json().get("token") if r.status_code == 200 else None
        if token is not None:
            claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
            if claims.get("tid") != "acme" or claims.get("sub") != "ada":
                d.failures.append(f"[{backend}] login token claims: {claims}")
        # A wrong password fails the workflow's own guard (no status given: 422).
        await d.expect(c, "ui_auth", "POST", "auth/login", 422,
                       lambda r: r.json()["node"] == "check_password_valid",
                       json={**login, "password": "wrong password"})  # fmt: skip
        for _ in range(3):
            await d.expect(c, "ui_auth", "POST", "auth/login", 200, json=login)
        for _ in range(2):  # five attempts a minute: the sixth and seventh are refused
            await d.expect(c, "ui_auth", "POST", "auth/login", 429,
                           lambda r: r.json()["code"] == "RATE_LIMITED"
                           and int(r.headers["retry-after"]) >= 1, json=login)  # fmt: skip
        new = {"email": "eve@acme.example", "username": "eve", "password": "Str0ng enough",
               "displayName": "Eve"}  # fmt: skip
        await d.expect(c, "ui_auth", "POST", "auth/register", 201,
                       lambda r: bool(r.json()["userId"]), json=new)  # fmt: skip
        await d.expect(c, "ui_auth", "POST", "auth/register", 400,
                       lambda r: r.json()["field"] == "email", json=new)  # fmt: skip
        await d.expect(c, "ui_auth", "POST", "auth/forgot-password", 200,
                       json={"email": "ada@acme.example"})  # fmt: skip
        got = await fx.wait(lambda: len(fx.mail) >= 2)
        subjects = sorted(str(m["Subject"]) for m in fx.mail)
        if not got or subjects != ["Reset your password", "Verify your email address"]:
            d.failures.append(f"[{backend}] ui_auth mail: {subjects}")
        else:
            reset = next(m for m in fx.mail if m["Subject"] == "Reset your password")
            link = re.search(r"/auth/reset-password/([A-Za-z0-9_-]+)", plain(reset))
            rows = await d.srv.query("SELECT token FROM password_reset_token")
            want = hashlib.sha256(link[1].encode()).hexdigest() if link else None
            if reset["To"] != "ada@acme.example" or rows != [(want,)]:
                d.failures.append(f"[{backend}] reset mail/token: {plain(reset)!r} {rows}")
            else:
                print(f"ok   [{backend}] ui_auth mail: verification and reset link read back")
    if "notification_center" in packages:
        fx.mail.clear()
        body = {"userId": "ada", "type": "info", "title": "Deploy done", "message": "v2 is live",
                "channels": ["in_app", "email", "push"]}  # fmt: skip
        await d.expect(c, "notification_center", "POST", "notifications/dispatch", 202,
                       lambda r: bool(r.json()["notificationId"]), json=body,
                       headers=d.headers())  # fmt: skip
        delivered = await fx.wait(lambda: bool(fx.pushes) and bool(fx.mail))
        push = fx.pushes[0] if fx.pushes else {}
        sent = push.get("body") if isinstance(push.get("body"), dict) else {}
        mail_ok = bool(fx.mail) and fx.mail[0]["To"] == "ada@acme.example"
        if not delivered or sent.get("to") != "fcm-ada" or not mail_ok:  # type: ignore[union-attr]
            d.failures.append(f"[{backend}] dispatch: pushes {fx.pushes}, mail {len(fx.mail)}")
        else:
            print(f"ok   [{backend}] dispatch: mail and push delivered after the commit")
    if "data_table" in packages:
        # fetch-data calls this server itself (a relative URL) with the caller's own token.
        body = {"entity": "audit_log/audit-logs", "limit": 10, "page": 1, "sortOrder": "asc"}
        await d.expect(c, "data_table", "POST", "data-table/fetch", 200,
                       lambda r: r.json()["pagination"]["limit"] == 10, json=body,
                       headers=d.headers(level=3))  # fmt: skip
    if "email_client" in packages:
        fx.mail.clear()
        send = {
            "to": ["bo@example.com"],
            "subject": "Hi",
            "body": "Hello",
            "from": "ada@acme.example",
        }
        await d.expect(c, "email_client", "POST", "accounts/acc1/send", 400,
                       lambda r: r.json()["code"] == "INVALID_SUBJECT",
                       json={**send, "subject": ""}, headers=d.headers())  # fmt: skip
        # The stored copy reads `sentFolderId` from the SMTP plugin's output, which has none:
        # a 400 naming the field, and the queued mail is rolled back with the rest.
        await d.expect(c, "email_client", "POST", "accounts/acc1/send", 400,
                       lambda r: r.json()["field"] == "folderId", json=send,
                       headers=d.headers())  # fmt: skip
        await asyncio.sleep(0.5)
        if fx.mail:
            d.failures.append(f"[{backend}] email_client sent mail for a failed execution")
    if "media_center" in packages:
        from PIL import Image

        Image.new("RGB", (120, 80), (10, 20, 30)).save(storage / "m1.png")
        await d.expect(c, "media_center", "POST", "media/extract/image-metadata", 200,
                       lambda r: r.json()["metadata"]["dimensions"]
                       == {"width": 120, "height": 80, "aspectRatio": 1.5, "format": "png"},
                       json={"assetId": "m1", "filePath": "m1.png"},
                       headers=d.headers())  # fmt: skip
        await d.expect(c, "media_center", "POST", "media/extract/image-metadata", 400,
                       lambda r: r.json()["code"] == "PATH_NOT_ALLOWED",
                       json={"assetId": "m1", "filePath": "../app.db"},
                       headers=d.headers())  # fmt: skip


async def drive(
    srv: Server, backend: str, packages: set[str], fx: Effects, storage: Path
) -> list[str]:
    d = Driver(srv, backend)
    ada, admin, other = d.headers(), d.headers(level=3), d.headers("globex", "bo", 3)
    async with httpx.AsyncClient(timeout=20) as c:
        if "audit_log" in packages:
            await d.expect(c, "audit_log", "GET", "audit-logs?limit=2", 200,
                           lambda r: [x["id"] for x in r.json()["logs"]] == ["log0", "log1"]
                           and r.json()["pagination"]["total"] == 3, headers=ada)  # fmt: skip
            await d.expect(
                c,
                "audit_log",
                "GET",
                "audit-logs?limit=many",
                400,
                lambda r: r.json()["code"] == "VALIDATION_FAILED",
                headers=ada,
            )
            await d.expect(c, "audit_log", "GET", "audit-logs/stats", 200,
                           lambda r: r.json()["totalEntries"] == 3, headers=ada)  # fmt: skip
        if "notification_center" in packages:
            await d.expect(c, "notification_center", "GET", "notifications/unread", 200,
                           lambda r: r.json()["unreadCount"] == 2, headers=ada)  # fmt: skip
            await d.expect(c, "notification_center", "GET", "notifications/unread", 401)
            await d.expect(c, "notification_center", "POST", "notifications/mark-read", 404,
                           lambda r: r.json()["code"] == "NOTIFICATION_NOT_FOUND",
                           json={"notificationId": "n9"}, headers=ada)  # fmt: skip
            await d.expect(
                c,
                "notification_center",
                "POST",
                "notifications/mark-read",
                200,
                json={"notificationIds": ["n1", "n9"]},
                headers=ada,
            )
            await d.expect(c, "notification_center", "GET", "notifications/unread", 200,
                           lambda r: r.json()["unreadCount"] == 1, headers=ada)  # fmt: skip
        if "media_center" in packages:
            ids = lambda r: [a["id"] for a in r.json()["assets"]]  # noqa: E731
            await d.expect(c, "media_center", "GET", "media/my-assets", 200,
                           lambda r: ids(r) == ["m2", "m1"] and r.json()["pagination"]["total"] == 2,
                           headers=ada)  # fmt: skip
            await d.expect(
                c,
                "media_center",
                "GET",
                "media/my-assets?type=image/png",
                200,
                lambda r: ids(r) == ["m1"],
                headers=ada,
            )
            await d.expect(c, "media_center", "GET", "media/my-assets?sortBy=size&sortOrder=asc",
                           200, lambda r: ids(r) == ["m1", "m2"], headers=ada)  # fmt: skip
            await d.expect(
                c,
                "media_center",
                "GET",
                "media/my-assets?sortBy=nope",
                400,
                lambda r: r.json()["field"] == "sort",
                headers=ada,
            )
            await d.expect(c, "media_center", "GET", "media/my-assets", 401)  # no user
        if "stream_cast" in packages:
            path = "streams/{}/scenes/s2/activate"
            await d.expect(c, "stream_cast", "POST", path.format("c1"), 200, headers=admin)
            await d.expect(c, "stream_cast", "POST", path.format("c1"), 403, headers=ada)
            await d.expect(
                c,
                "stream_cast",
                "POST",
                path.format("c9"),
                404,
                lambda r: r.json()["code"].endswith("_NOT_FOUND"),
                headers=admin,
            )
        if "ui_json_script_editor" in packages:
            pkg = "ui_json_script_editor"
            script = json.dumps({"version": "2.2.0", "nodes": [{"id": "a", "type": "t"}]})
            await d.expect(
                c, pkg, "POST", "json-editor/validate", 200, json={"script": script}, headers=ada
            )
            await d.expect(
                c,
                pkg,
                "POST",
                "json-editor/validate",
                400,
                json={"script": '{"version": "1.0"}'},
                headers=ada,
            )
            await d.expect(
                c,
                pkg,
                "POST",
                "json-editor/import",
                400,
                lambda r: r.json()["code"] == "INVALID_JSON_TEXT",
                json={"fileContent": "{not json", "name": "x"},
                headers=admin,
            )
            r = await d.expect(
                c,
                pkg,
                "POST",
                "json-editor/import",
                201,
                json={"fileContent": script, "name": "mine"},
                headers=admin,
            )
            new = r.json().get("id") if r.status_code == 201 else None
            await d.expect(c, pkg, "GET", f"json-editor/scripts/{new}/export", 200,
                           lambda r: r.headers["content-disposition"].endswith("mine.jsonscript"),
                           headers=ada)  # fmt: skip
            await d.expect(c, pkg, "GET", "json-editor/scripts/s9/export", 404, headers=ada)
            await d.expect(c, pkg, "GET", "json-editor/scripts", 200,
                           lambda r: {s["name"] for s in r.json()["scripts"]} == {"ours", "mine"},
                           headers=ada)  # fmt: skip
        r = await c.get(f"{srv.base}/api/v1/globex/ui_json_script_editor/json-editor/scripts",
                        headers=other)  # fmt: skip
        if "ui_json_script_editor" in packages and r.json()["pagination"]["total"] != 1:
            d.failures.append(f"[{backend}] globex sees {r.text}")
        await drive_effects(d, c, packages, fx, storage)
    undriven = packages - d.driven
    if undriven:
        d.failures.append(f"[{backend}] packages with routes no check drives: {sorted(undriven)}")
    return d.failures


def mounted_packages(gen: Path) -> set[str]:
    """Packages with at least one HTTP route (internal-only packages are not mounted)."""
    return {
        p.parent.name
        for p in gen.glob("*/*.py")
        if "HttpTrigger(" in p.read_text(encoding="utf-8")
    }


def type_check(gen: Path) -> list[str]:
    """mypy --strict over the compiled kit (check.py type-checks only when its whole
    compile-expected set compiles, which needs the side-effect nodes)."""
    run = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", gen.name],
        capture_output=True, text=True, cwd=gen.parent, env={**os.environ, "MYPYPATH": str(ROOT)},
    )  # fmt: skip
    print(f"mypy --strict over the compiled kit: {run.stdout.strip().splitlines()[-1]}")
    return [] if run.returncode == 0 else [f"mypy:\n{run.stdout}"]


def run_backend(
    gen: Path, work: Path, backend: str, pg: Postgres | None, fx: Effects
) -> list[str]:
    serve = ("--generated", str(gen))
    storage = work / "storage"
    storage.mkdir()
    env = {
        "SMTP_URL": f"smtp://127.0.0.1:{fx.smtp_port}",
        "HTTP_ALLOW_HOSTS": "127.0.0.1",
        "STORAGE_ROOT": str(storage),
        "APP_URL": "https://app.example",
        "OUTBOX_POLL_MS": "100",
    }
    if pg is None:
        srv = Server(work, env, serve_args=serve)
        srv.cli("migrate", "--generated", str(gen))
        asyncio.run(seed_all(f"sqlite:///{work / 'app.db'}"))
    else:
        database = pg.create_database()
        srv = Server(
            work, {**env, "DATABASE_URL": pg.url(database, APP_ROLE)},
            admin_url=pg.url(database), serve_args=serve,
        )  # fmt: skip
        srv.cli("migrate", "--generated", str(gen), "--grant", APP_ROLE, admin=True)
        asyncio.run(seed_all(pg.url(database)))
    srv.launch()
    try:
        failures = asyncio.run(drive(srv, backend, mounted_packages(gen), fx, storage))
    finally:
        srv.stop()
    log = srv.log()
    if "Traceback" in log:
        failures.append(f"[{backend}] the server logged a traceback:\n{log}")
    return failures


def main() -> int:
    kit = Path(sys.argv[1]).resolve()
    push_port = free_port()
    fx = Effects(push_port)
    fx.start()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        gen, left_out = compile_kit(kit, work, push_port)
        print(f"compiled {kit.name}; left out: {', '.join(left_out) or 'none'}")
        failures: list[str] = type_check(gen)
        (work / "sqlite").mkdir()
        failures += run_backend(gen, work / "sqlite", "sqlite", None, fx)
        pg = Postgres.start()
        try:
            (work / "pg").mkdir()
            failures += run_backend(gen, work / "pg", "postgresql", pg, fx)
        finally:
            pg.stop()
    fx.stop()
    for f in failures:
        print(f"FAIL {f}")
    print(f"kit e2e: {len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
