"""Runs the golden cases' ``run.py`` scripts against their compiled output on SQLite (or on
PostgreSQL with ``--database URL`` first).

Started by ``tests/test_golden.py`` as ``python tests/golden_harness.py OUT CASES...`` with
OUT's parent first on ``sys.path`` (the compiled packages import as ``generated``). Each
case's ``run.py`` defines ``async def check(h: Harness) -> None`` and asserts what its
workflows do; this script prints one JSON line: the failures by case.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import json
import sys
import tempfile
import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from runtime.config import Config
from runtime.context import Context
from runtime.database import Store, history_ddl, migrate
from runtime.effects import Effects
from runtime.engine import Engine
from runtime.errors import WorkflowError
from runtime.events import LocalBus, Subscriber
from runtime.results import JsonResult, OkResult, StreamResult
from runtime.workflow import CompiledWorkflow


class Harness:
    """What a case's ``check`` may do: seed rows, run workflows, read events."""

    def __init__(
        self, package: str, store: Store, bus: LocalBus, effects: Effects, storage: Path
    ) -> None:
        self.package = package
        self.store = store
        self.bus = bus
        self.effects = effects
        self.storage = storage  # the storage root media and file operations may touch
        self.engine = Engine(store, bus, None, effects)

    async def outbox(self, kind: str | None = None) -> list[dict[str, object]]:
        """The effects queued for after the commit (payloads decoded), oldest first."""
        rows = await self.rows(
            "SELECT id, kind, tenant_id, workflow_id, payload, status, max_attempts "
            "FROM workflow_outbox ORDER BY created_at, id"
        )
        rows = [r for r in rows if str(r["workflow_id"]).startswith(self.package + "_")]
        for r in rows:
            r["payload"] = json.loads(str(r["payload"]))
        return [r for r in rows if kind is None or r["kind"] == kind]

    def workflow(self, module: str) -> CompiledWorkflow:
        mod = importlib.import_module(f"generated.{self.package}.{module}")
        compiled: CompiledWorkflow = mod.COMPILED
        return compiled

    async def sql(self, statement: str, params: Mapping[str, object] | None = None) -> None:
        async with self.store.writer() as conn:
            await conn.execute(statement, dict(params or {}))

    async def rows(
        self, query: str, params: Mapping[str, object] | None = None
    ) -> list[dict[str, object]]:
        async with self.store.transaction(writes=False) as conn:
            return [dict(r._mapping) for r in await conn.fetch_all(query, dict(params or {}))]

    @staticmethod
    def ctx(
        tenant: str = "acme",
        user: str | None = "u1",
        level: int = 1,
        scopes: tuple[str, ...] = (),
        roles: tuple[str, ...] = (),
    ) -> Context:
        ctx: dict[str, Any] = {
            "tenantId": tenant,
            "request": {"method": "POST", "path": "/", "headers": {}},
        }
        if user is not None:
            ctx["user"] = {"id": user, "name": user.title(), "level": float(level),
                           "email": f"{user}@example.com", "roles": list(roles),
                           "scopes": list(scopes)}  # fmt: skip
        return ctx  # type: ignore[return-value]

    async def run(
        self, module: str, raw: Mapping[str, object], ctx: Context | None = None
    ) -> tuple[object, object]:
        """(status, body) of one execution: a JSON answer, an error's answer, or for a stream
        ``("stream", (channel, on_connect, retry, timeout))``."""
        try:
            done = await self.engine.run(self.workflow(module), ctx or self.ctx(), raw)
        except WorkflowError as err:
            return err.status, err.body()
        result = done.result
        if isinstance(result, JsonResult):
            return result.status, result.body
        if isinstance(result, OkResult):
            return 200, {"ok": True, "items": result.items}
        assert isinstance(result, StreamResult)
        return "stream", (result.channel, result.on_connect, result.retry_ms, result.timeout_ms)

    async def subscribe(self, channel: str, tenant: str = "acme") -> Subscriber:
        return await self.bus.subscribe(tenant, channel, None)

    @staticmethod
    def events(sub: Subscriber) -> list[tuple[str, object]]:
        waiting, sub.backlog = sub.backlog or [], None  # events wait there until a stream opens
        return [(e.name, json.loads(e.data)) for e in waiting]


async def main(out: Path, cases: list[Path], database_url: str | None = None) -> dict[str, str]:
    from generated import registry

    failures: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        url = database_url or f"sqlite:///{Path(tmp) / 'golden.db'}"
        storage = Path(tmp) / "storage"
        storage.mkdir()
        config = Config(
            database_url=url, storage_root=str(storage), http_allow=("127.0.0.1", "localhost")
        )
        store = Store(config)
        await store.start()
        effects = Effects(config)
        await effects.start()
        ddl = registry.DDL_SQLITE if store.dialect == "sqlite" else registry.DDL_POSTGRESQL
        await migrate(store, (*ddl, *history_ddl(store.dialect)))
        for case in cases:
            spec = importlib.util.spec_from_file_location(f"golden_{case.name}", case / "run.py")
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            try:
                await module.check(Harness(case.name, store, LocalBus(), effects, storage))
            except Exception:  # a failing case is reported, the others still run
                failures[case.name] = traceback.format_exc()
        await effects.stop()
        await store.stop()
    return failures


if __name__ == "__main__":
    args = sys.argv[1:]
    url = None
    if args[:1] == ["--database"]:  # PostgreSQL instead of a SQLite file
        url, args = args[1], args[2:]
    result = asyncio.run(main(Path(args[0]), [Path(p) for p in args[1:]], url))
    print(json.dumps(result))
