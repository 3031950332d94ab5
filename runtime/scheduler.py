"""Scheduled runs: every ``ScheduleTrigger.every_ms`` (``staticData.updateInterval``), once
for each tenant the workflow's schedule query names (the tenants that have the rows its first
read selects)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

from runtime.context import Context
from runtime.database import Store, is_database_failure
from runtime.engine import Engine
from runtime.errors import WorkflowError
from runtime.events import EventBus
from runtime.workflow import CompiledWorkflow, ScheduleTrigger

log = logging.getLogger("runtime.scheduler")


class Scheduler:
    def __init__(
        self,
        engine: Engine,
        store: Store,
        bus: EventBus,
        workflows: Sequence[CompiledWorkflow],
        tenant_selects: Sequence[str] = (),
    ) -> None:
        self.engine = engine
        self.store = store
        self.bus = bus
        self.tenant_selects = tuple(tenant_selects)  # compiled: tables and columns checked
        self.jobs = [
            (wf, t.every_ms)
            for wf in workflows
            for t in wf.info.triggers
            if isinstance(t, ScheduleTrigger)
        ]
        self._tasks: list[asyncio.Task[None]] = []
        self.runs = 0  # scheduled executions started (reported by /healthz)

    async def start(self) -> None:
        for wf, every_ms in self.jobs:
            self._tasks.append(
                asyncio.create_task(self._loop(wf, every_ms), name=f"schedule:{wf.info.id}")
            )

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    async def _loop(self, wf: CompiledWorkflow, every_ms: int) -> None:
        """Run every interval while this worker leads the schedule. The lease lasts 1.5
        intervals and followers ask for it every quarter interval, so when the leader dies
        another worker takes over within two intervals."""
        loop = asyncio.get_running_loop()
        interval = max(every_ms, 1) / 1000
        next_at = loop.time() + interval
        lease = f"schedule:{wf.info.id}"
        while True:
            await asyncio.sleep(max(0.0, next_at - loop.time()))
            if not await self.bus.lead(lease, int(every_ms * 1.5)):
                next_at = loop.time() + interval / 4
                continue
            # A run that overran its interval is not followed by a burst of catch-up runs.
            next_at = max(next_at + interval, loop.time())
            try:
                await self.run_once(wf)
            except Exception as exc:
                if not is_database_failure(exc):
                    log.exception("scheduled run of %s failed", wf.info.id)
                else:
                    log.warning("scheduled run of %s: database unavailable: %s", wf.info.id, exc)

    async def tenants(self, wf: CompiledWorkflow) -> list[str]:
        query = wf.info.schedule_tenants
        async with self.store.transaction(writes=False, scan=True) as conn:
            if query is not None:
                rows = await conn.fetch_all(query.sql, dict(query.params))
            elif self.tenant_selects:
                union = " UNION ".join(self.tenant_selects)
                rows = await conn.fetch_all(f"SELECT DISTINCT tenant FROM ({union}) t")
            else:
                rows = []
        return sorted(str(r._mapping["tenant"]) for r in rows)

    async def run_once(self, wf: CompiledWorkflow) -> int:
        """One scheduled round: a run per tenant; the number of runs that succeeded."""
        ok = 0
        for tenant in await self.tenants(wf):
            ctx: Context = {
                "tenantId": tenant,
                "request": {"method": "SCHEDULE", "headers": {}, "path": ""},
            }
            self.runs += 1
            try:
                await self.engine.run(wf, ctx, {}, trigger="schedule")
                ok += 1
            except WorkflowError as err:
                log.warning("scheduled run of %s for %s: %s", wf.info.id, tenant, err.message)
        return ok
