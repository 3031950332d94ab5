"""The scene transition on PostgreSQL, three ways, in one run on this machine: the generated
handler (token, tenant, scope, row-level security, history and events on), the same SQL
written by hand with Starlette and asyncpg (none of those), and n8n running the equivalent
workflow (webhook, Postgres select, IF, Postgres update, respond; no auth).

Load from wrk on the same machine (Debian's ``wrk``), one server process each, PostgreSQL 15
from the Debian packages (as the tests start it). Every target gets a warm-up, then three
alternating rounds of: 1 connection for ``--short`` seconds (p50 latency) and 16 connections
for ``--long`` seconds (throughput); medians are reported with the server's CPU time per
request and its peak resident memory (n8n: its main process and its task runner).

n8n comes from npm: ``npm install --prefix bench/n8n --legacy-peer-deps`` (the versions and
the overrides its dependency tree needs are in ``bench/n8n/package.json``), or point ``N8N``
at an ``n8n`` binary. Without it the comparison with n8n is skipped and said so.

Run: ``make bench`` or ``.venv/bin/python bench/throughput_bench.py [--rounds 3]``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.server import Server, free_port  # noqa: E402
from tests.services import APP_ROLE, Postgres  # noqa: E402

N8N_DIR = ROOT / "bench" / "n8n"
N8N_WEBHOOK = "b0000000-0000-4000-8000-000000000001"  # the webhook node's id in the workflow
BODY = '{"sceneId":"s1"}'

GOAL_VS_N8N = 40.0  # times n8n's throughput
GOAL_VS_HAND = 0.9  # of the hand-written handler's throughput
GOAL_P50_MS = 1.0
GOAL_IDLE_RSS_MB = 64.0


@dataclass
class Target:
    name: str
    url: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    pids: list[int] = field(default_factory=list)
    stop: list[object] = field(default_factory=list)  # callables, run in order
    idle_rss_mb: float = 0.0
    rps: list[float] = field(default_factory=list)
    p50: list[float] = field(default_factory=list)
    cpu_us: list[float] = field(default_factory=list)
    errors: int = 0
    demo: dict = field(default_factory=dict)  # type: ignore[type-arg]

    def close(self) -> None:
        for fn in self.stop:
            try:
                fn()  # type: ignore[operator]
            except Exception as exc:  # a bench run still prints what it measured
                print(f"  stopping {self.name}: {exc}", file=sys.stderr)


def tree(pid: int) -> list[int]:
    """The process and its descendants."""
    out = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return out
    for child in children:
        out += tree(int(child))
    return out


def cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        for p in tree(pid):
            try:
                fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def memory_mb(pids: list[int], key: str) -> float:
    """Resident memory (``VmRSS``) or its peak (``VmHWM``), summed over the process trees."""
    total = 0
    for pid in pids:
        for p in tree(pid):
            try:
                for line in Path(f"/proc/{p}/status").read_text().splitlines():
                    if line.startswith(key + ":"):
                        total += int(line.split()[1])
            except OSError:
                continue
    return total / 1024


def wrk(target: Target, connections: int, seconds: float) -> tuple[float, float, int]:
    """(requests per second, p50 ms, requests) from one wrk run."""
    script = Path(tempfile.mkstemp(suffix=".lua")[1])
    lines = ['wrk.method = "POST"', f"wrk.body = '{BODY}'"]
    lines += [f'wrk.headers["{k}"] = "{v}"' for k, v in target.headers.items()]
    script.write_text("\n".join(lines) + "\n")
    try:
        out = subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "-s", str(script),
             "--latency", target.url],
            capture_output=True, text=True, check=True, timeout=seconds + 60,
        ).stdout  # fmt: skip
    finally:
        script.unlink()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    target.errors += int(bad.group(1)) if bad else 0
    value, unit = re.search(r"50%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
    p50 = float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]
    return rps, p50, requests


def measure(target: Target, short: float, long: float) -> None:
    _, p50, _ = wrk(target, 1, short)
    before = cpu_seconds(target.pids)
    rps, _, requests = wrk(target, 16, long)
    target.cpu_us.append((cpu_seconds(target.pids) - before) / max(requests, 1) * 1e6)
    target.rps.append(rps)
    target.p50.append(p50)


def wait_ok(url: str, headers: dict[str, str], seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    last = ""
    while time.monotonic() < deadline:
        try:
            r = httpx.post(url, content=BODY, headers=headers, timeout=5)
            if r.status_code == 200:
                return
            last = f"{r.status_code} {r.text[:200]}"
        except httpx.TransportError as exc:
            last = str(exc)
        time.sleep(0.5)
    raise RuntimeError(f"{url} did not answer 200: {last}")


def generated(
    tmp: Path,
    pg: Postgres,
    database: str,
    history: bool = True,
    demo: dict[str, Any] | None = None,
) -> Target:
    work = tmp / ("generated" if history else "generated-no-history")
    work.mkdir()
    env = {"DATABASE_URL": pg.url(database, APP_ROLE)}
    if not history:
        env["EXECUTION_HISTORY"] = "off"
    server = Server(work, env, admin_url=pg.url(database))
    if history:
        server.start()
    else:  # the database is migrated and its demo rows loaded already
        server.demo = demo or {}
        server.launch()
    channel = next(c["id"] for c in server.demo["tenants"]["acme"]["channels"] if c["isLive"])
    assert server.proc is not None
    target = Target(
        "generated (this project)" if history else "  the same, EXECUTION_HISTORY=off",
        server.api("acme", f"scenes/{channel}/transition"),
        {"Content-Type": "application/json",
         "Authorization": f"Bearer {server.token('acme', 'moderator')}"},
        [server.proc.pid],
        [server.stop],
        demo=server.demo,
    )  # fmt: skip
    time.sleep(1.0)
    target.idle_rss_mb = memory_mb(target.pids, "VmRSS")
    return target


def handwritten(pg: Postgres, database: str) -> Target:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": pg.url(database)}
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "handwritten_pg.py"), str(port)], env=env
    )
    url = f"http://127.0.0.1:{port}/api/v1/acme/stream_cast/scenes/acme-main-stage/transition"
    target = Target(
        "hand-written Starlette + asyncpg",
        url,
        {"Content-Type": "application/json"},
        [proc.pid],
        [lambda: _end(proc)],
    )
    wait_ok(url, target.headers)
    target.idle_rss_mb = memory_mb(target.pids, "VmRSS")
    return target


def n8n_binary() -> Path | None:
    given = os.environ.get("N8N")
    if given:
        return Path(given)
    local = N8N_DIR / "node_modules" / ".bin" / "n8n"
    return local if local.exists() else None


def n8n(tmp: Path, pg: Postgres, database: str, binary: Path) -> Target:
    """n8n with its own data in PostgreSQL (database ``n8n``), the workflow imported and
    published, its credentials pointing at the benchmark's database."""
    home = tmp / "n8n"
    home.mkdir()
    pg.psql("CREATE DATABASE n8n_bench")
    port = free_port()
    env = {
        **os.environ,
        "N8N_USER_FOLDER": str(home),
        "DB_TYPE": "postgresdb",
        "DB_POSTGRESDB_HOST": "127.0.0.1",
        "DB_POSTGRESDB_PORT": str(pg.port),
        "DB_POSTGRESDB_DATABASE": "n8n_bench",
        "DB_POSTGRESDB_USER": "postgres",
        "DB_POSTGRESDB_PASSWORD": "",
        "N8N_PORT": str(port),
        "N8N_LISTEN_ADDRESS": "127.0.0.1",
        "N8N_RUNNERS_BROKER_PORT": str(free_port()),
        "N8N_ENCRYPTION_KEY": "bench-only-encryption-key",
        "GENERIC_TIMEZONE": "UTC",
        "N8N_DIAGNOSTICS_ENABLED": "false",
        "N8N_VERSION_NOTIFICATIONS_ENABLED": "false",
        "N8N_TEMPLATES_ENABLED": "false",
        "N8N_PERSONALIZATION_ENABLED": "false",
        "N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS": "false",
        "NODE_ENV": "production",
    }
    credentials = home / "credentials.json"
    credentials.write_text(
        json.dumps(
            [{"id": "streamcastPg01", "name": "Stream Cast PostgreSQL", "type": "postgres",
              "data": {"host": "127.0.0.1", "port": pg.port, "database": database,
                       "user": "postgres", "password": "", "ssl": "disable",
                       "allowUnauthorizedCerts": False, "maxConnections": 10}}]
        )
    )  # fmt: skip
    for args in (
        ["import:credentials", f"--input={credentials}"],
        ["import:workflow", f"--input={N8N_DIR / 'scene_transition.json'}"],
        ["publish:workflow", "--id=streamcastScene01"],
    ):
        subprocess.run(
            [str(binary), *args], env=env, cwd=home, check=True, capture_output=True, timeout=180
        )
    log = (home / "n8n.log").open("wb")
    proc = subprocess.Popen(
        [str(binary), "start"], env=env, cwd=home, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}/webhook/{N8N_WEBHOOK}/scenes/acme/acme-main-stage/transition"
    target = Target(
        "n8n 2.8.4 (webhook, Postgres, IF, respond; no auth)",
        url,
        {"Content-Type": "application/json"},
        [proc.pid],
        [lambda: _end(proc), log.close],
    )
    try:
        wait_ok(url, target.headers, 180)
    except RuntimeError:
        target.close()
        print((home / "n8n.log").read_text()[-2000:], file=sys.stderr)
        raise
    time.sleep(2.0)
    target.idle_rss_mb = memory_mb(target.pids, "VmRSS")
    return target


def _end(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT MET"


def main(rounds: int, short: float, long: float) -> None:
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (apt-get install wrk)")
    binary = n8n_binary()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        pg = Postgres.start()
        targets: list[Target] = []
        try:
            database = pg.create_database()
            targets.append(generated(tmp, pg, database))
            targets.append(handwritten(pg, database))
            targets.append(generated(tmp, pg, database, False, targets[0].demo))
            if binary is not None:
                targets.append(n8n(tmp, pg, database, binary))
            for t in targets:  # warm-up: JIT, statement caches, pools
                wrk(t, 16, 3)
                t.errors = 0
            for _ in range(rounds):
                for t in targets:
                    measure(t, short, long)
            peaks = [memory_mb(t.pids, "VmHWM") for t in targets]
        finally:
            for t in targets:
                t.close()
            pg.stop()

    print(f"scene transition on PostgreSQL 15, wrk on this machine ({os.cpu_count()} cores); "
          f"medians of {rounds} alternating rounds")  # fmt: skip
    print(f"  {'system':52} {'c=1 p50':>9} {'c=16 req/s':>11} {'idle RSS':>9} "
          f"{'peak RSS':>9} {'CPU/req':>9}")  # fmt: skip
    for t, peak in zip(targets, peaks, strict=True):
        print(
            f"  {t.name:52} {statistics.median(t.p50):7.2f}ms {statistics.median(t.rps):11.0f} "
            f"{t.idle_rss_mb:7.0f}MB {peak:7.0f}MB {statistics.median(t.cpu_us) / 1e3:7.2f}ms"
            + (f"  ({t.errors} non-2xx)" if t.errors else "")
        )
    gen, hand = targets[0], targets[1]
    rps = statistics.median(gen.rps)
    print("goals")
    if binary is not None:
        ratio = rps / statistics.median(targets[3].rps)
        print(f"  throughput vs n8n:          {ratio:6.1f}x    goal >= {GOAL_VS_N8N:.0f}x     "
              f"{verdict(ratio >= GOAL_VS_N8N)}")  # fmt: skip
    else:
        print("  throughput vs n8n:          skipped: npm install --prefix bench/n8n "
              "--legacy-peer-deps (or set N8N)")  # fmt: skip
    share = rps / statistics.median(hand.rps)
    print(f"  throughput vs hand-written: {share:6.2f}     goal >= {GOAL_VS_HAND:.2f}    "
          f"{verdict(share >= GOAL_VS_HAND)}")  # fmt: skip
    p50 = statistics.median(gen.p50)
    print(f"  c=1 p50:                    {p50:6.2f} ms  goal < {GOAL_P50_MS:.0f} ms     "
          f"{verdict(p50 < GOAL_P50_MS)}")  # fmt: skip
    print(f"  idle RSS (four workflows):  {gen.idle_rss_mb:6.1f} MB  goal <= {GOAL_IDLE_RSS_MB:.0f} MB   "
          f"{verdict(gen.idle_rss_mb <= GOAL_IDLE_RSS_MB)}; {peaks[0]:.0f} MB at peak under load")  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--short", type=float, default=5)
    parser.add_argument("--long", type=float, default=10)
    args = parser.parse_args()
    main(args.rounds, args.short, args.long)
