"""Real PostgreSQL and Redis servers for tests, from the Debian packages: each in a temporary
directory on a free loopback port, stopped afterwards. No mocks stand in for them.

When the binaries are missing the tests that need them are skipped with the reason, unless
``REQUIRE_SERVICES=1`` (set by ``.ci/run``) makes that a failure.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.server import free_port

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
APP_ROLE = "streamcast_app"


def require(what: str, present: bool) -> None:
    if present:
        return
    message = f"{what} not found; install it (see .ci/run) to run the PostgreSQL/Redis suite"
    if os.environ.get("REQUIRE_SERVICES") == "1":
        pytest.fail(message + " (REQUIRE_SERVICES=1)")
    pytest.skip(message)


def _run(*args: str, user: str | None = None) -> subprocess.CompletedProcess[str]:
    cmd = ["runuser", "-u", user, "--", *args] if user else list(args)
    return subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=120)


@dataclass
class Postgres:
    root: Path
    port: int

    @classmethod
    def start(cls) -> Postgres:
        require("PostgreSQL server binaries", (PG_BIN / "initdb").exists())
        require("runuser", shutil.which("runuser") is not None)
        root = Path(tempfile.mkdtemp(prefix="streamcast-pg-"))
        root.chmod(0o755)
        shutil.chown(root, "postgres", "postgres")
        port = free_port()
        data = root / "data"
        _run(
            str(PG_BIN / "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            user="postgres",
        )
        options = (
            f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        _run(
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(root / "log"),
            "-w",
            "-o",
            options,
            "start",
            user="postgres",
        )
        pg = cls(root, port)
        pg.psql(f"CREATE ROLE {APP_ROLE} LOGIN")
        return pg

    def psql(self, sql: str, database: str = "postgres") -> str:
        return _run(
            str(PG_BIN / "psql"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "-d",
            database,
            "-v",
            "ON_ERROR_STOP=1",
            "-Atc",
            sql,
        ).stdout

    def create_database(self) -> str:
        name = f"e2e_{uuid.uuid4().hex[:10]}"
        self.psql(f"CREATE DATABASE {name}")
        return name

    def url(self, database: str, user: str = "postgres") -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", str(PG_BIN / "pg_ctl"), "-D",
             str(self.root / "data"), "-m", "immediate", "stop"],
            capture_output=True,
            timeout=60,
        )  # fmt: skip
        shutil.rmtree(self.root, ignore_errors=True)


@dataclass
class Redis:
    root: Path
    port: int
    pid: int = 0

    @classmethod
    def start(cls, port: int | None = None, root: Path | None = None) -> Redis:
        require("redis-server", shutil.which("redis-server") is not None)
        root = root or Path(tempfile.mkdtemp(prefix="streamcast-redis-"))
        redis = cls(root, port or free_port())
        redis.launch()
        return redis

    def launch(self) -> None:
        pidfile = self.root / "redis.pid"
        pidfile.unlink(missing_ok=True)
        subprocess.run(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--daemonize",
             "yes", "--save", "", "--appendonly", "no", "--dir", str(self.root),
             "--pidfile", str(pidfile), "--logfile", str(self.root / "log")],
            check=True,
            timeout=30,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if pidfile.exists() and pidfile.read_text().strip():
                self.pid = int(pidfile.read_text())
                if self.ping():
                    return
            time.sleep(0.02)
        raise RuntimeError("redis-server did not start")

    def ping(self) -> bool:
        out = subprocess.run(
            ["redis-cli", "-p", str(self.port), "ping"], capture_output=True, text=True
        )
        return out.stdout.strip() == "PONG"

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def kill(self) -> None:
        if self.pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and self.ping():
                time.sleep(0.02)
            self.pid = 0

    def stop(self) -> None:
        self.kill()
        shutil.rmtree(self.root, ignore_errors=True)
