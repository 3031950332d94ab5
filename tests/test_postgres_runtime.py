"""Generated handlers on a real PostgreSQL: `errorHandler: log` keeps the execution's
transaction usable after a failed statement (a savepoint per recovered step)."""

from __future__ import annotations

import pytest

from generated import registry
from generated.stream_cast import viewer_count
from runtime.config import Config
from runtime.context import Context
from runtime.database import DatabaseExecution, Store, migrate
from runtime.results import OkResult
from tests.services import Postgres

ACME: Context = {"tenantId": "acme", "request": {"method": "POST", "path": "/", "headers": {}}}


class FailingCount(DatabaseExecution):
    """The viewer count of channel c1 hits a real database error (division by zero), which
    on PostgreSQL aborts the transaction unless the step is rolled back to a savepoint."""

    async def fetch_one(self, sql, params):  # type: ignore[no-untyped-def]
        if "COUNT(*)" in sql and params.get("f_channel_id") == "c1":
            await self.driver.fetch_all("SELECT 1 / 0 AS boom", {})
        return await super().fetch_one(sql, params)


async def test_error_handler_log_goes_on_after_a_failed_statement(postgres: Postgres) -> None:
    database = postgres.create_database()
    store = Store(Config(database_url=postgres.url(database)))
    await store.start()
    try:
        await migrate(store, registry.DDL_POSTGRESQL)
        async with store.writer("acme") as conn:
            for cid in ("c1", "c3"):
                await conn.execute(
                    "INSERT INTO stream_channel (id, tenant_id, name, is_live, started_at) "
                    "VALUES (:id, 'acme', :id, TRUE, '2026-01-22T00:00:00.000Z')",
                    {"id": cid},
                )
        async with store.transaction(writes=False, tenant="acme") as conn:
            ex = FailingCount(conn, ACME, "postgresql")
            result = await viewer_count.run(ex, viewer_count.parse_input({}))
        assert result == OkResult(1)
        assert [e.data["channelId"] for e in ex.events] == ["c3"]  # type: ignore[index]
        ((node, message),) = ex.failures
        assert node == "update_viewer_counts.count_viewers"
        assert "DivisionByZero" in message
    finally:
        await store.stop()


async def test_subscription_limit_is_exact_under_concurrency(postgres: Postgres) -> None:
    """maxSubscriptionsPerUser (100) with many concurrent subscribes of one user to
    different channels: READ COMMITTED alone would let several see 99 and all insert."""
    import asyncio

    from generated.stream_cast import subscribe
    from runtime.engine import Engine
    from runtime.errors import Conflict
    from runtime.events import LocalBus

    database = postgres.create_database()
    store = Store(Config(database_url=postgres.url(database), pool_size=10))
    await store.start()
    try:
        await migrate(store, registry.DDL_POSTGRESQL)
        async with store.writer("acme") as conn:
            for i in range(30):
                await conn.execute(
                    "INSERT INTO stream_channel (id, tenant_id, name, is_live) "
                    "VALUES (:id, 'acme', :id, TRUE)",
                    {"id": f"ch{i}"},
                )
            for i in range(95):
                await conn.execute(
                    "INSERT INTO stream_subscription (id, channel_id, user_id, tenant_id, "
                    "subscribed_at) VALUES (:id, :c, 'greedy', 'acme', '2026-01-22')",
                    {"id": f"old{i}", "c": f"elsewhere{i}"},
                )
        engine = Engine(store, LocalBus(), None)
        user = {"id": "greedy", "name": "G", "level": 1.0, "email": "", "roles": [], "scopes": []}
        ctx: Context = {**ACME, "user": user}  # type: ignore[typeddict-item]

        async def one(i: int) -> str:
            try:
                await engine.run(subscribe.COMPILED, ctx, {"channelId": f"ch{i}"})
                return "ok"
            except Conflict:
                return "limit"

        outcomes = await asyncio.gather(*(one(i) for i in range(30)))
        assert outcomes.count("ok") == 5 and outcomes.count("limit") == 25
        async with store.transaction(writes=False, tenant="acme") as conn:
            row = await conn.fetch_one(
                "SELECT COUNT(*) AS n FROM stream_subscription WHERE user_id = 'greedy'"
            )
        assert row is not None and row[0] == 100
    finally:
        await store.stop()


MODERATOR: Context = {
    **ACME,
    "user": {
        "id": "mod",
        "name": "M",
        "level": 2.0,
        "email": "",
        "roles": [],
        "scopes": ["stream_cast:scenes:manage"],
    },
}


async def _one_connection_store(postgres: Postgres) -> Store:
    """A migrated database with channel c1 of acme, and a store of one connection (so every
    execution below uses the same one)."""
    database = postgres.create_database()
    store = Store(Config(database_url=postgres.url(database), pool_size=1))
    await store.start()
    await migrate(store, registry.DDL_POSTGRESQL)
    async with store.writer("acme") as conn:
        await conn.execute(
            "INSERT INTO stream_channel (id, tenant_id, name, is_live) "
            "VALUES ('c1', 'acme', 'c1', TRUE)"
        )
    return store


async def test_a_one_statement_execution_is_one_round_trip(postgres: Postgres) -> None:
    """The scene transition is one UPDATE that nothing after it can undo (the compiler says
    so): on PostgreSQL it is sent alone, no BEGIN and COMMIT; the tenant binding and the
    statement timeout are the connection's settings, sent once. A workflow of several
    statements (subscribe) still runs in one transaction."""
    import asyncio

    from generated.stream_cast import scene_transition, subscribe
    from runtime.engine import Engine
    from runtime.errors import NotFound
    from runtime.events import LocalBus

    assert scene_transition.WORKFLOW.one_statement and not subscribe.WORKFLOW.one_statement
    store = await _one_connection_store(postgres)
    try:
        sent: list[str] = []
        (conn,) = list(store._pool._queue)  # type: ignore[attr-defined]
        conn.raw_connection.add_query_logger(lambda q: sent.append(q.query.split()[0]))
        engine = Engine(store, LocalBus(), None)
        for i in range(3):
            await engine.run(
                scene_transition.COMPILED, MODERATOR, {"channelId": "c1", "sceneId": f"s{i}"}
            )
        await asyncio.sleep(0.05)  # asyncpg calls its query loggers soon after, not at once
        assert sent == ["SELECT", "UPDATE", "UPDATE", "UPDATE"]  # set_config once
        sent.clear()
        await engine.run(subscribe.COMPILED, MODERATOR, {"channelId": "c1"})
        await asyncio.sleep(0.05)
        assert sent[0] == "BEGIN" and sent[-1] == "COMMIT" and len(sent) > 3
        sent.clear()
        other: Context = {**MODERATOR, "tenantId": "other"}
        with pytest.raises(NotFound):  # another tenant's channel
            await engine.run(scene_transition.COMPILED, other, {"channelId": "c1", "sceneId": "x"})
        await asyncio.sleep(0.05)
        assert sent == ["SELECT", "UPDATE"]  # bound to the other tenant first, then nothing
        async with store.transaction(writes=False, tenant="acme") as c:
            row = await c.fetch_one("SELECT active_scene_id FROM stream_channel WHERE id = 'c1'")
        assert row is not None and row[0] == "s2"
    finally:
        await store.stop()


async def test_a_one_statement_execution_is_bounded_by_the_database(postgres: Postgres) -> None:
    """Its timeout is PostgreSQL's statement_timeout, not a cancellation: a statement held
    up past the workflow's executionTimeout by a lock is undone by the database and the
    answer is 504, with nothing written; the connection serves the next execution."""
    import asyncio
    import dataclasses

    import asyncpg

    from generated.stream_cast import scene_transition
    from runtime.engine import Engine
    from runtime.errors import ExecutionTimeout
    from runtime.events import LocalBus
    from runtime.workflow import CompiledWorkflow

    info = scene_transition.WORKFLOW
    quick = CompiledWorkflow(
        dataclasses.replace(
            info, settings=dataclasses.replace(info.settings, execution_timeout_s=1)
        ),
        scene_transition.parse_input,
        scene_transition.run,
    )
    store = await _one_connection_store(postgres)
    blocker = await asyncpg.connect(store.config.database_url)
    try:
        engine = Engine(store, LocalBus(), None)
        await blocker.execute("BEGIN")
        await blocker.execute("SELECT 1 FROM stream_channel WHERE id = 'c1' FOR UPDATE")
        started = asyncio.get_running_loop().time()
        try:
            await engine.run(quick, MODERATOR, {"channelId": "c1", "sceneId": "late"})
            raise AssertionError("the locked update finished")
        except ExecutionTimeout as exc:
            assert exc.status == 504 and exc.details == {"timeoutSeconds": 1}
        assert 0.9 < asyncio.get_running_loop().time() - started < 5
        await blocker.execute("ROLLBACK")
        await engine.run(quick, MODERATOR, {"channelId": "c1", "sceneId": "on time"})
        rows = await blocker.fetch("SELECT active_scene_id FROM stream_channel WHERE id = 'c1'")
        assert rows[0][0] == "on time"
    finally:
        await blocker.close()
        await store.stop()


async def test_the_history_is_copied_in_and_a_batch_written_twice_is_not_lost(
    postgres: Postgres,
) -> None:
    """PostgreSQL takes a batch by binary COPY; a batch whose first write went unseen (rows
    already there) is written again without them instead of failing for good."""
    import time

    from runtime.database import HISTORY_TABLE, history_ddl
    from runtime.history import History, Record

    database = postgres.create_database()
    store = Store(Config(database_url=postgres.url(database)))
    await store.start()
    try:
        await migrate(store, history_ddl("postgresql"))
        history = History(store)
        seen: list[tuple[str, list[tuple[str, float, int]]]] = []
        history.on_written = lambda wf, timings: seen.append((wf, timings))
        t0 = time.perf_counter_ns()

        def record(rid: str) -> Record:
            marks = [("a", t0), ("b", t0 + 2_000_000), ("a", t0 + 3_000_000)]
            return Record(rid, "wf", "v1", "acme", "u1", "http", "success", None, None,
                          time.time_ns() // 1_000_000, t0, t0 + 3_500_000, marks, [])  # fmt: skip

        history.record(record("r1"))
        history.record(record("r2"))
        await history.flush()
        history.record(record("r2"))  # written already: as after a lost acknowledgement
        history.record(record("r3"))
        await history.flush()
        async with store.transaction(writes=False, scan=True) as conn:
            rows = await conn.fetch_all(
                f"SELECT id, duration_ms, nodes FROM {HISTORY_TABLE} ORDER BY id", {}
            )
        assert [r["id"] for r in rows] == ["r1", "r2", "r3"]
        assert rows[0]["duration_ms"] == 3.5
        assert rows[0]["nodes"] == (
            '[{"node":"a","ms":2.5,"runs":2},{"node":"b","ms":1.0,"runs":1}]'
        )
        assert history.written == 4 and seen[0] == ("wf", [("a", 2.5, 2), ("b", 1.0, 1)])
    finally:
        await store.stop()
