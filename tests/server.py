"""A real server for end-to-end tests: `python -m runtime serve` in a subprocess on a free
loopback port, with its own SQLite file and demo data."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import typing
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.conftest import ROOT

SECRET = "e2e-secret-0123456789-0123456789-abcdef"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    workdir: Path
    env_extra: dict[str, str] = field(default_factory=dict)
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None
    demo: dict = field(default_factory=dict)
    admin_url: str | None = None  # PostgreSQL: the tables' owner, for migrate and demo
    serve_args: tuple[str, ...] = ()
    preexec: typing.Callable[[], None] | None = None  # run in the server's process before exec
    include_inactive: bool = True  # the spec's workflows are all inactive

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("JWT_", "DATABASE_"))}
        env.update(
            DATABASE_URL=f"sqlite:///{self.workdir / 'app.db'}",
            JWT_SECRET=SECRET,
            SSE_HEARTBEAT_MS="1000",
            PYTHONUNBUFFERED="1",
        )
        env.update(self.env_extra)
        return env

    @property
    def log_path(self) -> Path:
        return self.workdir / "server.log"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def api(self, tenant: str, path: str) -> str:
        return f"{self.base}/api/v1/{tenant}/stream_cast/{path}"

    @property
    def backend(self) -> str:
        return "postgresql" if self.admin_url else "sqlite"

    def cli(
        self, *args: str, check: bool = True, admin: bool = False
    ) -> subprocess.CompletedProcess[str]:
        env = self.env
        if admin and self.admin_url:
            env = {**env, "DATABASE_URL": self.admin_url}
        return subprocess.run(
            [sys.executable, "-m", "runtime", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=check,
            timeout=60,
        )

    def start(self) -> Server:
        if self.admin_url:
            self.cli("migrate", "--grant", "streamcast_app", admin=True)
        self.demo = json.loads(self.cli("demo", "--json", admin=True).stdout)
        return self.launch()

    def launch(self) -> Server:
        """Start the server process (the database already migrated) and wait until ready."""
        self.port = free_port()
        with self.log_path.open("ab") as log:
            self.proc = self._spawn(log)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()}")
            try:
                if httpx.get(f"{self.base}/healthz", timeout=0.5).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"server did not start: {self.log_path.read_text()}")

    def _spawn(self, log: typing.IO[bytes]) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "runtime",
                "serve",
                *(["--include-inactive"] if self.include_inactive else []),
                "--port",
                str(self.port),
                *self.serve_args,
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=self.preexec,
        )

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def health(self) -> dict:
        return dict(httpx.get(f"{self.base}/healthz", timeout=5).json())

    def token(self, tenant: str, role: str) -> str:
        return str(self.demo["tenants"][tenant]["tokens"][role])

    def mint(self, tenant: str, user: str, level: int = 1, *scopes: str, ttl: int = 3600) -> str:
        args = ["token", "--tenant", tenant, "--user", user, "--level", str(level)]
        for s in scopes:
            args += ["--scope", s]
        return self.cli(*args, "--ttl", str(ttl)).stdout.strip()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    async def query(self, sql: str, *args: object) -> list[tuple]:
        """Run SQL as the tables' owner (``?`` placeholders), outside the server."""
        if self.admin_url is None:
            with sqlite3.connect(self.workdir / "app.db") as db:
                return [tuple(r) for r in db.execute(sql, args).fetchall()]
        import asyncpg

        n = 0

        def number(_: re.Match[str]) -> str:
            nonlocal n
            n += 1
            return f"${n}"

        conn = await asyncpg.connect(self.admin_url)
        try:
            rows = await conn.fetch(re.sub(r"\?", number, sql), *args)
            return [tuple(r.values()) for r in rows]
        finally:
            await conn.close()
