"""Run one execution of a compiled workflow: transaction, timeout, events, history."""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from runtime import js
from runtime.context import Context
from runtime.database import DatabaseExecution, Store, is_database_failure
from runtime.effects import Effects
from runtime.errors import ExecutionTimeout, ServiceUnavailable, WorkflowError, WorkflowFailed
from runtime.events import EventBus
from runtime.history import History, Record
from runtime.outbox import Outbox
from runtime.results import Result
from runtime.workflow import CompiledWorkflow

log = logging.getLogger("runtime.engine")


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
    ) -> None:
        self.store = store
        self.bus = bus
        self.history = history
        self.effects = effects
        self.outbox = outbox

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
        execution_id = str(uuid.uuid4())
        started_at = datetime.now(UTC)
        t0 = time.perf_counter_ns()
        info = wf.info
        ex: DatabaseExecution | None = None
        # Input that does not match the trigger's fields is refused before anything runs:
        # a 400, not an execution (the history records what ran).
        json_input = wf.parse_input(raw)
        try:
            tenant = ctx["tenantId"]
            ex = DatabaseExecution(
                None,
                ctx,
                self.store.dialect,
                opener=lambda: self.store.transaction(info.writes, tenant),
                effects_=self.effects,
                execution_id=execution_id,
                workflow_id=info.id,
                origin=origin,
            )
            async with asyncio.timeout(info.settings.execution_timeout_s or None):
                # The transaction begins at the first statement (ex.detach() may end it
                # before an effect the workflow waits for); the last one commits here.
                try:
                    result = await wf.run(ex, json_input)
                except BaseException as exc:
                    await ex.end(exc)
                    raise
                await ex.end(None)
            if ex.deferred and self.outbox is not None:
                self.outbox.kick()
            for channel, key in ex.releases:
                await self.bus.release(ctx["tenantId"], channel, key)
            for event in ex.events:
                await self.bus.publish(
                    ctx["tenantId"], event.channel, event.event, js.to_json_text(event.data)
                )
        except WorkflowError as failure:
            self._record(wf, ctx, trigger, execution_id, started_at, t0, ex, failure)
            raise
        except TimeoutError:
            timeout = ExecutionTimeout(
                f"The execution exceeded the workflow's executionTimeout "
                f"({info.settings.execution_timeout_s} s)",
                timeoutSeconds=info.settings.execution_timeout_s,
            )
            self._record(wf, ctx, trigger, execution_id, started_at, t0, ex, timeout)
            raise timeout from None
        except js.JsonTextError as exc:
            node = ex.steps[-1][0] if ex is not None and ex.steps else None
            bad = WorkflowError(f"{exc} (node {node})", "INVALID_JSON_TEXT", node=node)
            self._record(wf, ctx, trigger, execution_id, started_at, t0, ex, bad)
            raise bad from None
        except js.JsError as exc:
            node = ex.steps[-1][0] if ex is not None and ex.steps else None
            log.warning("workflow %s failed at node %s: %s", info.id, node, exc)
            failed = WorkflowFailed(f"The workflow failed at node {node}: {exc}", node=node)
            self._record(wf, ctx, trigger, execution_id, started_at, t0, ex, failed)
            raise failed from None
        except Exception as exc:
            if not is_database_failure(exc):
                node = ex.steps[-1][0] if ex is not None and ex.steps else None
                exc.add_note(f"in workflow {info.id} ({info.source}), node {node}")
                raise
            log.error("database failure in %s: %s: %s", info.id, type(exc).__name__, exc)
            raise ServiceUnavailable("The database is unavailable; nothing was written") from None
        self._record(wf, ctx, trigger, execution_id, started_at, t0, ex, None)
        return Done(execution_id, result)

    def _record(
        self,
        wf: CompiledWorkflow,
        ctx: Context,
        trigger: str,
        execution_id: str,
        started_at: datetime,
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
        nodes: list[dict[str, object]] = []
        if ex is not None and settings.save_execution_progress:
            totals: dict[str, list[float]] = {}
            marks = [*ex.steps, ("", end)]
            for (node, start), (_, stop) in itertools.pairwise(marks):
                slot = totals.setdefault(node, [0.0, 0.0])
                slot[0] += (stop - start) / 1e6
                slot[1] += 1
            nodes = [
                {"node": n, "ms": round(ms, 3), "runs": int(runs)}
                for n, (ms, runs) in totals.items()
            ]
        failures = ex.failures if ex is not None else []
        nodes += [{"node": n, "error": _bounded(message)} for n, message in failures]
        user = ctx.get("user")
        self.history.record(
            Record(
                id=execution_id,
                workflow_id=wf.info.id,
                version_id=wf.info.version_id,
                tenant_id=_bounded(ctx["tenantId"]),
                user_id=_bounded(user["id"]) if user is not None else None,
                trigger=trigger,
                status="error" if err else "partial" if failures else "success",
                error_code=err.code if err else None,
                http_status=err.status if err else None,
                started_at=started_at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                duration_ms=round((end - t0) / 1e6, 3),
                nodes=tuple(nodes),
            )
        )


MAX_STORED_CHARS = 500


def _bounded(text: str) -> str:
    """A value from a request or a token, as the history stores it: at most 500 characters."""
    return text if len(text) <= MAX_STORED_CHARS else text[: MAX_STORED_CHARS - 1] + "…"
