"""Execution history: one row per recorded execution, written off the request path.

A request only appends a record to an in-memory queue; a background task writes the queue in
batches. The workflow's ``saveDataSuccessExecution`` / ``saveDataErrorExecution`` settings
(``all`` or ``none``) decide what is recorded; ``saveExecutionProgress`` adds per-node timings.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass

from runtime import js
from runtime.database import (
    HISTORY_COLUMNS,
    HISTORY_NOT_TEXT,
    HISTORY_TABLE,
    Store,
    is_database_failure,
)

log = logging.getLogger("runtime.history")

BATCH = 200
FLUSH_EVERY_S = 0.2
UNIQUE_VIOLATION = "23505"
MAX_PENDING = 50_000  # beyond this (a stalled database) records are dropped, and counted


@dataclass(slots=True)
class Record:
    """One execution as the history stores it. The per-node timings are kept as the raw
    marks the execution took (node, nanoseconds) and summed by the writer, off the request."""

    id: str
    workflow_id: str
    version_id: str
    tenant_id: str
    user_id: str | None
    trigger: str  # "http" or "schedule"
    status: str  # "success", "partial" (errorHandler: log skipped steps) or "error"
    error_code: str | None
    http_status: int | None
    started_ms: int  # epoch milliseconds
    t0_ns: int  # perf_counter_ns at the start and at the end
    end_ns: int
    marks: list[tuple[str, int]]  # (node, perf_counter_ns when it started); [] to omit
    failures: list[tuple[str, str]]  # (node, error) of steps skipped by errorHandler: log

    def values(self, timings: list[tuple[str, float, int]]) -> tuple[object, ...]:
        """The row, with the per-node ``timings`` (:meth:`timings`, which the metrics share)."""
        return (
            self.id,
            self.workflow_id,
            self.version_id,
            self.tenant_id,
            self.user_id,
            self.trigger,
            self.status,
            self.error_code,
            self.http_status,
            js.iso_string(self.started_ms),
            _ms(self.end_ns - self.t0_ns),
            self.nodes_json(timings),
        )

    def timings(self) -> list[tuple[str, float, int]]:
        """(node, milliseconds, runs) per node that ran, in the order they first ran."""
        if not self.marks:
            return []
        nodes, starts = zip(*self.marks, strict=True)
        stops = (*starts[1:], self.end_ns)
        totals: dict[str, list[int]] = {}
        for node, start, stop in zip(nodes, starts, stops, strict=True):
            slot = totals.get(node)
            if slot is None:
                totals[node] = [stop - start, 1]
            else:
                slot[0] += stop - start
                slot[1] += 1
        return [(n, _ms(ns), runs) for n, (ns, runs) in totals.items()]

    def nodes_json(self, timings: list[tuple[str, float, int]]) -> str:
        """``[{"node", "ms", "runs"}..., {"node", "error"}...]`` as JSON text (what
        ``json.dumps`` writes, without building the objects first)."""
        parts = [f'{_timed(n)}{ms!r},"runs":{runs}}}' for n, ms, runs in timings]
        parts += [
            f'{{"node":{json.dumps(n)},"error":{json.dumps(bounded(message))}}}'
            for n, message in self.failures
        ]
        return f"[{','.join(parts)}]"


def _ms(ns: int) -> float:
    """Nanoseconds as milliseconds, to the microsecond (half up)."""
    return (ns + 500) // 1000 / 1000


@functools.cache
def _timed(node: str) -> str:
    """The JSON of a node's timing up to its milliseconds (node ids are the compiled
    workflows' own: few)."""
    return f'{{"node":{json.dumps(node)},"ms":'


_VARIANT = {c: "89ab"[int(c, 16) & 3] for c in "0123456789abcdef"}
_POOL_BYTES = 4096
_pool = ""  # random hex digits, used 19 an id
_used = 0


def _fresh_pool() -> None:
    global _pool, _used
    _pool, _used = os.urandom(_POOL_BYTES).hex(), 0


os.register_at_fork(after_in_child=_fresh_pool)  # a forked worker never repeats its parent's


def execution_id(ms: int) -> str:
    """A UUIDv7 (RFC 9562) for an execution started at epoch milliseconds ``ms``: 48 bits of
    Unix milliseconds, the version, 74 random bits (from ``os.urandom``, drawn 4 KiB at a
    time). Ids sort by start time, so the history's primary key grows at its right edge,
    where random ids land all over the index and each row written costs PostgreSQL more as
    the table grows (``bench/history_bench.py``). Called on the event loop's thread."""
    global _used
    at = _used
    if at + 19 > len(_pool):
        _fresh_pool()
        at = 0
    _used = at + 19
    r = _pool[at : at + 19]
    t = f"{ms:012x}"
    return f"{t[:8]}-{t[8:]}-7{r[:3]}-{_VARIANT[r[3]]}{r[4:7]}-{r[7:]}"


MAX_STORED_CHARS = 500


def bounded(text: str) -> str:
    """A value from a request or a token, as the history stores it: at most 500 characters."""
    return text if len(text) <= MAX_STORED_CHARS else text[: MAX_STORED_CHARS - 1] + "…"


def insert_sql(dialect: str) -> str:
    """One statement for a whole batch. On PostgreSQL the batch is one array per column,
    unnested into rows (one statement to plan and run, where a row at a time would be a
    bind and an execution each); on SQLite one row per execution of the statement.
    A batch sent again after an interrupted flush must not fail on rows already written."""
    columns = ", ".join(HISTORY_COLUMNS)
    if dialect == "postgresql":
        arrays = ", ".join(
            f"${i}::{HISTORY_NOT_TEXT.get(c, 'text')}[]"
            for i, c in enumerate(HISTORY_COLUMNS, start=1)
        )
        return (
            f"INSERT INTO {HISTORY_TABLE} ({columns}) SELECT * FROM unnest({arrays}) "
            "ON CONFLICT (id) DO NOTHING"
        )
    marks = ", ".join("?" for _ in HISTORY_COLUMNS)
    return f"INSERT INTO {HISTORY_TABLE} ({columns}) VALUES ({marks}) ON CONFLICT (id) DO NOTHING"


class History:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._sql = insert_sql(store.dialect)
        self._pending: list[Record] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.dropped = 0
        self.written = 0
        # Told of each record once written, with its per-node timings (the metrics).
        self.on_written: Callable[[str, list[tuple[str, float, int]]], None] | None = None

    @property
    def pending(self) -> int:
        return len(self._pending)

    def record(self, rec: Record) -> None:
        if len(self._pending) >= MAX_PENDING:
            self.dropped += 1
            return
        self._pending.append(rec)
        if len(self._pending) >= BATCH:
            self._wake.set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="execution-history")

    async def stop(self) -> None:
        """Let a flush in progress finish (cancelling it could lose or repeat a batch), then
        write what is left; a database that is down at shutdown costs those records only."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await self._task
            self._task = None
        try:
            await self.flush()
        except Exception as exc:
            if not is_database_failure(exc):
                raise
            log.warning(
                "%d execution history records were not written at shutdown: %s",
                len(self._pending),
                exc,
            )

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), FLUSH_EVERY_S)
            self._wake.clear()
            if self._stopping:
                return
            try:
                await self.flush()
            except Exception as exc:
                if not is_database_failure(exc):
                    raise
                log.warning("writing the execution history failed; will retry: %s", exc)
                await asyncio.sleep(1.0)

    async def flush(self) -> None:
        """Write what is pending now, in one transaction per ``BATCH`` records. Records that
        arrive meanwhile wait for the next flush, so history writes never take turns with
        requests one record at a time."""
        pending, self._pending = self._pending, []
        for start in range(0, len(pending), BATCH):
            batch = pending[start : start + BATCH]
            timed = [r.timings() for r in batch]
            rows = [r.values(t) for r, t in zip(batch, timed, strict=True)]
            try:
                try:
                    await self._write(rows, copy=self.store.dialect == "postgresql")
                except Exception as exc:
                    if getattr(exc, "sqlstate", None) != UNIQUE_VIOLATION:
                        raise
                    # Rows of this batch were written by a flush whose end went unseen (the
                    # connection broke after the commit): write the rest, skipping those.
                    await self._write(rows, copy=False)
            except BaseException:
                self._pending[:0] = pending[start:]
                raise
            self.written += len(batch)
            if self.on_written is not None:
                for r, t in zip(batch, timed, strict=True):
                    self.on_written(r.workflow_id, t)

    async def _write(self, rows: list[tuple[object, ...]], copy: bool) -> None:
        """One round trip for the batch, through the driver (``databases`` would compile
        and send every row on its own): on PostgreSQL binary ``COPY`` (no statement to parse
        or plan, no arrays to unnest), or the statement that skips rows already there."""
        async with self.store.writer() as conn:
            raw = conn.raw_connection
            if copy:
                await raw.copy_records_to_table(
                    HISTORY_TABLE, records=rows, columns=list(HISTORY_COLUMNS)
                )
            elif self.store.dialect == "postgresql":
                await raw.execute(self._sql, *map(list, zip(*rows, strict=True)))
            else:
                await raw.executemany(self._sql, rows)
