"""Run one execution of a compiled workflow: transaction, timeout, events, history."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass

from runtime import js
from runtime.context import Context
from runtime.database import DatabaseExecution, Store, is_database_failure
from runtime.effects import Effects
from runtime.errors import ExecutionTimeout, ServiceUnavailable, WorkflowError, WorkflowFailed
from runtime.events import EventBus
from runtime.history import History, Record, bounded
from runtime.history import execution_id as new_execution_id
from runtime.outbox import Outbox
from runtime.results import Result
from runtime.telemetry import Telemetry
from runtime.workflow import CompiledWorkflow

log = logging.getLogger("runtime.engine")

STATEMENT_TIMEOUT = "57014"  # PostgreSQL's query_canceled: statement_timeout expired


@dataclass(frozen=True)
class Done:
    execution_id: str
    result: Result


class Engine:
    def __init__(
        self,
        store: Store,
        bus: EventBus,
        history: History | None,
        effects: Effects | None = None,
        outbox: Outbox | None = None,
        telemetry: Telemetry | None = None,
    ) -> None:
        self.store = store
        self.bus = bus
        self.history = history
        self.effects = effects
        self.outbox = outbox
        self.telemetry = telemetry

    async def run(
        self,
        wf: CompiledWorkflow,
        ctx: Context,
        raw: Mapping[str, object],
        trigger: str = "http",
        origin: str | None = None,
    ) -> Done:
        """Validate the input, run the handler in one transaction bounded by the workflow's
        ``executionTimeout``, then publish its events. Raises WorkflowError with the answer
        for every failure; nothing is written or published for a failed execution."""
        started_ms = js.epoch_ms()
        execution_id = new_execution_id(started_ms)
        t0 = time.perf_counter_ns()
        info = wf.info
        ex: DatabaseExecution | None = None
        # Input that does not match the trigger's fields is refused before anything runs:
        # a 400, not an execution (the history records what ran).
        json_input = wf.parse_input(raw)
        timeout_s = info.settings.execution_timeout_s
        # PostgreSQL: one statement runs alone, bounded by the database's statement_timeout
        # (it completes or is undone, so its outcome is known); anything else in one
        # transaction, bounded by cancelling it (a rollback).
        alone = info.one_statement and self.store.dialect == "postgresql"
        try:
            tenant = ctx["tenantId"]
            store = self.store
            ex = DatabaseExecution(
                None,
                ctx,
                store.dialect,
                opener=(
                    (lambda: store.statement(tenant, timeout_s * 1000))
                    if alone
                    else (lambda: store.transaction(info.writes, tenant, False, timeout_s * 1000))
                ),
                effects_=self.effects,
                execution_id=execution_id,
                workflow_id=info.id,
                origin=origin,
            )
            if alone or not timeout_s:
                result = await _run(wf, ex, json_input)
            else:
                async with asyncio.timeout(timeout_s):
                    result = await _run(wf, ex, json_input)
            if ex.deferred and self.outbox is not None:
                self.outbox.kick()
            for channel, key in ex.releases:
                await self.bus.release(ctx["tenantId"], channel, key)
            telemetry = self.telemetry
            for event in ex.events:
                data = js.to_json_text(event.data)
                await self.bus.publish(ctx["tenantId"], event.channel, event.event, data)
                if telemetry is not None:
                    telemetry.event(ctx["tenantId"], event.channel, event.event, data)
        except WorkflowError as failure:
            self._record(wf, ctx, trigger, execution_id, started_ms, t0, ex, failure)
            raise
        except TimeoutError:
            timeout = _exceeded(timeout_s)
            self._record(wf, ctx, trigger, execution_id, started_ms, t0, ex, timeout)
            raise timeout from None
        except js.JsonTextError as exc:
            node = ex.steps[-1][0] if ex is not None and ex.steps else None
            bad = WorkflowError(f"{exc} (node {node})", "INVALID_JSON_TEXT", node=node)
            self._record(wf, ctx, trigger, execution_id, started_ms, t0, ex, bad)
            raise bad from None
        except js.JsError as exc:
            node = ex.steps[-1][0] if ex is not None and ex.steps else None
            log.warning("workflow %s failed at node %s: %s", info.id, node, exc)
            failed = WorkflowFailed(f"The workflow failed at node {node}: {exc}", node=node)
            self._record(wf, ctx, trigger, execution_id, started_ms, t0, ex, failed)
            raise failed from None
        except Exception as exc:
            if getattr(exc, "sqlstate", None) == STATEMENT_TIMEOUT:
                timeout = _exceeded(timeout_s)
                self._record(wf, ctx, trigger, execution_id, started_ms, t0, ex, timeout)
                raise timeout from None
            if not is_database_failure(exc):
                node = ex.steps[-1][0] if ex is not None and ex.steps else None
                exc.add_note(f"in workflow {info.id} ({info.source}), node {node}")
                raise
            log.error("database failure in %s: %s: %s", info.id, type(exc).__name__, exc)
            raise ServiceUnavailable("The database is unavailable; nothing was written") from None
        self._record(wf, ctx, trigger, execution_id, started_ms, t0, ex, None)
        return Done(execution_id, result)

    def _record(
        self,
        wf: CompiledWorkflow,
        ctx: Context,
        trigger: str,
        execution_id: str,
        started_ms: int,
        t0: int,
        ex: DatabaseExecution | None,
        err: WorkflowError | None,
    ) -> None:
        if self.history is None:
            return
        settings = wf.info.settings
        save = settings.save_data_error_execution if err else settings.save_data_success_execution
        if save == "none":
            return
        end = time.perf_counter_ns()
        failures = ex.failures if ex is not None else []
        user = ctx.get("user")
        self.history.record(
            Record(
                execution_id,
                wf.info.id,
                wf.info.version_id,
                bounded(ctx["tenantId"]),
                bounded(user["id"]) if user is not None else None,
                trigger,
                "error" if err else "partial" if failures else "success",
                err.code if err else None,
                err.status if err else None,
                started_ms,
                t0,
                end,
                ex.steps if ex is not None and settings.save_execution_progress else [],
                failures,
            )
        )


async def _run(wf: CompiledWorkflow, ex: DatabaseExecution, json_input: object) -> Result:
    """The handler, then the end of its transaction: committed, or rolled back when it
    raised. The transaction begins at the first statement (``ex.detach()`` may end it before
    an effect the workflow waits for); the last one ends here."""
    try:
        result = await wf.run(ex, json_input)
    except BaseException as exc:
        await ex.end(exc)
        raise
    await ex.end(None)
    return result


def _exceeded(seconds: int) -> ExecutionTimeout:
    return ExecutionTimeout(
        f"The execution exceeded the workflow's executionTimeout ({seconds} s)",
        timeoutSeconds=seconds,
    )
