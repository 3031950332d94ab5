"""Scheduled runs: every ``ScheduleTrigger.every_ms`` (``staticData.updateInterval``) or at
the times of its cron expression (in the workflow's timezone), once for each tenant the workflow's schedule query names (the tenants that have the rows its first
read selects)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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
            (wf, t) for wf in workflows for t in wf.info.triggers if isinstance(t, ScheduleTrigger)
        ]
        self._tasks: list[asyncio.Task[None]] = []
        self.runs = 0  # scheduled executions started (reported by /healthz)

    async def start(self) -> None:
        for wf, trigger in self.jobs:
            job = (
                self._cron_loop(wf, trigger.cron)
                if trigger.cron is not None
                else self._loop(wf, trigger.every_ms)
            )
            self._tasks.append(asyncio.create_task(job, name=f"schedule:{wf.info.id}"))

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
            await self._run_logged(wf)

    async def _cron_loop(self, wf: CompiledWorkflow, cron: str) -> None:
        """Run at each time the cron expression names, in the workflow's timezone. Each
        firing is its own lease, so among several workers exactly one runs it."""
        zone = _zone(wf.info.settings.timezone)
        after = datetime.now(zone)
        while True:
            fire = next_fire(cron, zone, after)
            await asyncio.sleep(max(0.0, (fire - datetime.now(zone)).total_seconds()))
            after = fire
            if not await self.bus.lead(f"schedule:{wf.info.id}:{int(fire.timestamp())}", 60_000):
                continue
            await self._run_logged(wf)

    async def _run_logged(self, wf: CompiledWorkflow) -> None:
        """One scheduled run; a failure is logged, and the schedule goes on."""
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


def next_fire(cron: str, zone: tzinfo, after: datetime) -> datetime:
    """The first time after ``after`` that ``cron`` names, read in ``zone`` (so ``0 2 * * *``
    is 2 a.m. local time, daylight saving included)."""
    from croniter import croniter  # only a cron schedule needs it

    fire: datetime = croniter(cron, after.astimezone(zone)).get_next(datetime)
    return fire


def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("unknown timezone %r; schedules run in UTC", name)
        return UTC
