"""The outbox on a real SQLite file: rows written in an execution's transaction (none for a
rolled-back one), one delivery when two workers race for them, retries with backoff until
the row's attempts are spent, and old rows pruned. (Real SMTP and HTTP deliveries are in
tests/test_effects_e2e.py.)"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from runtime.config import Config
from runtime.context import Context
from runtime.database import DatabaseExecution, Driver, Store, history_ddl, migrate
from runtime.effects import Effects
from runtime.outbox import Outbox

CTX: Context = {"tenantId": "acme", "request": {"method": "POST", "path": "/", "headers": {}}}


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = Store(Config(database_url=f"sqlite:///{tmp_path / 'o.db'}", outbox_poll_s=0.05))
    await s.start()
    await migrate(s, history_ddl("sqlite"))
    yield s
    await s.stop()


async def queue(store: Store, payloads: list[object], fail: bool = False) -> None:
    ex = DatabaseExecution(
        None, CTX, "sqlite", opener=lambda: store.transaction(True, "acme"),
        execution_id=f"ex-{time.monotonic_ns()}", workflow_id="wf",
    )  # fmt: skip
    error: BaseException | None = None
    for p in payloads:
        await ex.defer("test", p, 3, ex.next_effect())
    if fail:
        error = RuntimeError("the execution failed after queueing")
    await ex.end(error)


async def rows(store: Store) -> list[dict[str, object]]:
    async with store.transaction(writes=False) as conn:
        found = await Driver(conn, "sqlite").fetch_all(
            "SELECT id, status, attempts, payload, last_error FROM workflow_outbox ORDER BY id", {}
        )
    return [dict(r) for r in found]


async def test_rolled_back_executions_queue_nothing_and_racing_workers_deliver_once(
    store: Store,
) -> None:
    await queue(store, [{"n": 1}, {"n": 2}])
    await queue(store, [{"n": 3}], fail=True)
    delivered: list[tuple[str, object]] = []

    def worker(name: str) -> Outbox:
        box = Outbox(store, Effects(store.config))

        async def handler(effects: Effects, payload: dict[str, object]) -> None:
            await asyncio.sleep(0.01)
            delivered.append((name, payload["n"]))

        box.handlers = {"test": handler}
        return box

    a, b = worker("a"), worker("b")
    await asyncio.gather(a.deliver_due(), b.deliver_due(), a.deliver_due(), b.deliver_due())
    assert sorted(n for _, n in delivered) == [1, 2]  # each once; nothing from the rollback
    assert [(r["status"], r["payload"]) for r in await rows(store)] == [("sent", "{}")] * 2


async def test_failed_deliveries_are_retried_with_backoff_then_given_up(store: Store) -> None:
    await queue(store, [{"n": 1}])
    box = Outbox(store, Effects(store.config))
    calls: list[float] = []

    async def broken(effects: Effects, payload: dict[str, object]) -> None:
        calls.append(time.monotonic())
        raise ConnectionRefusedError("the server said no")

    box.handlers = {"test": broken}
    await box.start()
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            [row] = await rows(store)
            if row["status"] == "failed":
                break
            await asyncio.sleep(0.05)
    finally:
        await box.stop()
    assert row["status"] == "failed" and row["attempts"] == 3 and row["payload"] == "{}"
    assert "ConnectionRefusedError: the server said no" in str(row["last_error"])
    gaps = [round(b - a, 1) for a, b in itertools.pairwise(calls)]
    assert len(calls) == 3 and gaps[0] >= 0.9 and gaps[1] >= 1.9, gaps  # 1 s, then 2 s


async def test_old_delivered_rows_are_pruned(store: Store) -> None:
    await queue(store, [{"n": 1}, {"n": 2}])
    box = Outbox(store, Effects(store.config))

    async def ok(effects: Effects, payload: dict[str, object]) -> None:
        return None

    box.handlers = {"test": ok}
    assert await box.deliver_due() == 2
    await queue(store, [{"n": 3}])  # still pending: never pruned
    await box.prune(now=time.time() + 8 * 24 * 3600)
    [left] = await rows(store)
    assert left["status"] == "pending" and json.loads(str(left["payload"])) == {"n": 3}
