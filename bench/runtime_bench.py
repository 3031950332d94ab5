"""Per-request time of the generated handlers against hand-written Starlette + databases
handlers doing the same SQL, in the same run, in process (ASGI calls, no sockets), on SQLite.

For subscribe the time runs until the first SSE event (``connected``) is sent.
Run: ``make bench`` or ``.venv/bin/python bench/runtime_bench.py [--n 2000]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.asgi import App, call  # noqa: E402
from bench.handwritten import create_handwritten_app  # noqa: E402
from generated import registry  # noqa: E402
from runtime.app import create_app  # noqa: E402
from runtime.auth import mint_token  # noqa: E402
from runtime.config import Config  # noqa: E402
from runtime.database import Store, history_ddl, migrate  # noqa: E402

CHANNELS = [f"bench-{i}" for i in range(10)]


async def seed(config: Config) -> None:
    store = Store(config)
    await store.start()
    await migrate(store, (*registry.DDL_SQLITE, *history_ddl("sqlite")))
    async with store.writer() as conn:
        for c in CHANNELS:
            await conn.execute(
                "INSERT INTO stream_channel (id, tenant_id, name, is_live, started_at) "
                "VALUES (:id, 'acme', :id, TRUE, '2026-01-22T00:00:00.000Z')",
                {"id": c},
            )
    await store.stop()


async def workload(app: App, tokens: list[str], moderator: str, n: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"subscribe": [], "unsubscribe": [], "scene transition": []}
    base = "/api/v1/acme/stream_cast"
    for i in range(n):
        token, channel = tokens[i % len(tokens)], CHANNELS[i % len(CHANNELS)]
        body = json.dumps({"channelId": channel}).encode()
        for name, path, data, tok in (
            ("subscribe", f"{base}/subscribe", body, token),
            ("unsubscribe", f"{base}/unsubscribe", body, token),
            (
                "scene transition",
                f"{base}/scenes/{channel}/transition",
                json.dumps({"sceneId": f"s{i}"}).encode(),
                moderator,
            ),
        ):
            status, seconds = await call(app, "POST", path, data, tok)
            if status != 200:
                raise SystemExit(f"{name}: HTTP {status}")
            times[name].append(seconds)
    return times


async def main(n: int, rounds: int) -> None:
    config = Config()
    tokens = [mint_token(config, tenant="acme", user=f"user{i}", level=1) for i in range(50)]
    moderator = mint_token(
        config, tenant="acme", user="mod", level=2, scopes=["stream_cast:scenes:manage"]
    )
    results: dict[str, dict[str, list[float]]] = {"generated": {}, "hand-written": {}}
    with tempfile.TemporaryDirectory() as tmp:
        apps: dict[str, Any] = {}
        for label in results:
            Path(tmp, label).mkdir()
            cfg = Config(database_url=f"sqlite:///{tmp}/{label}/bench.db")
            await seed(cfg)
            apps[label] = (
                create_app(cfg, registry.WORKFLOWS, include_inactive=True, schedule=False)
                if label == "generated"
                else create_handwritten_app(cfg)
            )
        gen, hand = apps["generated"], apps["hand-written"]
        async with gen.router.lifespan_context(gen), hand.router.lifespan_context(hand):
            for app in apps.values():  # warm-up
                await workload(app, tokens, moderator, 50)
            # Alternate rounds so drift (caches, the WAL growing) hits both alike.
            for _ in range(rounds):
                for label, app in apps.items():
                    t = await workload(app, tokens, moderator, n // rounds)
                    for name, values in t.items():
                        results[label].setdefault(name, []).extend(values)

    print(f"per-request time, in process on SQLite, {n} requests per route and app")
    print(f"{'route':18} {'generated p50':>14} {'hand p50':>10} {'p50 ratio':>10} "
          f"{'gen mean':>10} {'hand mean':>10} {'mean ratio':>10} {'gen p99':>9}")  # fmt: skip
    for name in ("subscribe", "unsubscribe", "scene transition"):
        g, h = results["generated"][name], results["hand-written"][name]
        gp, hp = statistics.median(g) * 1e3, statistics.median(h) * 1e3
        gm, hm = statistics.fmean(g) * 1e3, statistics.fmean(h) * 1e3
        g99 = statistics.quantiles(g, n=100)[98] * 1e3
        print(
            f"{name:18} {gp:12.3f}ms {hp:8.3f}ms {gp / hp:9.2f}x "
            f"{gm:8.3f}ms {hm:8.3f}ms {gm / hm:9.2f}x {g99:7.3f}ms"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    asyncio.run(main(args.n, args.rounds))
