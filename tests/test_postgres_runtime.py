"""Generated handlers on a real PostgreSQL: `errorHandler: log` keeps the execution's
transaction usable after a failed statement (a savepoint per recovered step)."""

from __future__ import annotations

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
