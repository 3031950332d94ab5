"""The generated handlers imported and executed against a real SQLite file."""

from __future__ import annotations

from pathlib import Path

import pytest

from generated import registry
from generated.stream_cast import scene_transition, subscribe, unsubscribe, viewer_count
from runtime.config import Config
from runtime.context import Context
from runtime.database import DatabaseExecution, Store, migrate
from runtime.errors import AuthRequired, Conflict, Forbidden, NotFound, ValidationFailed
from runtime.results import JsonResult, OkResult, StreamResult


def ctx(tenant: str, level: int | None = 1, scopes: tuple[str, ...] = ()) -> Context:
    c: Context = {"tenantId": tenant, "request": {"method": "POST", "path": "/", "headers": {}}}
    if level is not None:
        c["user"] = {
            "id": f"u{level}",
            "name": "Ada",
            "level": float(level),
            "email": "a@example.com",
            "roles": [],
            "scopes": list(scopes),
        }
    return c


class Db:
    """The runtime's store on a SQLite file, with the small query helpers the tests use."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def execute(self, sql: str, values: dict | None = None) -> None:
        async with self.store.writer() as conn:
            await conn.execute(sql, values)

    async def fetch_all(self, sql: str) -> list:
        async with self.store.transaction(writes=False) as conn:
            return list(await conn.fetch_all(sql))

    async def fetch_val(self, sql: str) -> object:
        rows = await self.fetch_all(sql)
        return rows[0][0] if rows else None


@pytest.fixture
async def db(tmp_path: Path):
    store = Store(Config(database_url=f"sqlite:///{tmp_path / 'app.db'}"))
    await store.start()
    await migrate(store, registry.DDL_SQLITE)
    database = Db(store)
    for tenant, cid, live in (("acme", "c1", True), ("acme", "c2", False), ("globex", "g1", True)):
        await database.execute(
            "INSERT INTO stream_channel (id, tenant_id, name, is_live, started_at) VALUES (:i, :t, :n, :l, :s)",
            {"i": cid, "t": tenant, "n": cid, "l": live, "s": "2026-01-22T00:00:00.000Z"},
        )
    yield database
    await store.stop()


async def run(db: Db, module, c: Context, raw: dict):
    async with db.store.transaction(writes=module.WORKFLOW.writes) as conn:
        ex = DatabaseExecution(conn, c)
        return await module.run(ex, module.parse_input(raw)), ex


async def test_subscribe_is_idempotent_and_streams(db: Db) -> None:
    first, _ex = await run(db, subscribe, ctx("acme"), {"channelId": "c1"})
    again, _ = await run(db, subscribe, ctx("acme"), {"channelId": "c1"})
    assert (
        isinstance(first, StreamResult) and first.channel == "stream:c1" and first.retry_ms == 5000
    )
    assert isinstance(first.on_connect, dict) and first.on_connect["userId"] == "u1"
    assert isinstance(again, StreamResult) and again.on_connect == first.on_connect
    assert await db.fetch_val("SELECT COUNT(*) FROM stream_subscription") == 1


async def test_errors_of_the_spec(db: Db) -> None:
    with pytest.raises(AuthRequired):
        await run(db, subscribe, ctx("acme", level=None), {"channelId": "c1"})
    with pytest.raises(NotFound) as nf:
        await run(db, subscribe, ctx("acme"), {"channelId": "nope"})
    assert nf.value.body() == {"error": "Channel not found", "code": "CHANNEL_NOT_FOUND"}
    with pytest.raises(ValidationFailed):
        subscribe.parse_input({})
    with pytest.raises(Forbidden) as fb:
        await run(db, scene_transition, ctx("acme", level=1), {"channelId": "c1", "sceneId": "s"})
    assert fb.value.body()["code"] == "AUTH_INSUFFICIENT_LEVEL"
    assert fb.value.body()["requiredLevel"] == 2 and fb.value.body()["userLevel"] == 1
    with pytest.raises(NotFound):
        await run(db, unsubscribe, ctx("acme"), {"channelId": "c1"})


async def test_cross_tenant_reads_nothing(db: Db) -> None:
    await run(db, subscribe, ctx("globex"), {"channelId": "g1"})
    with pytest.raises(NotFound):
        await run(db, subscribe, ctx("acme"), {"channelId": "g1"})
    rows = await db.fetch_all("SELECT tenant_id FROM stream_subscription")
    assert [r[0] for r in rows] == ["globex"]


async def test_scene_transition_updates_and_emits(db: Db) -> None:
    c = ctx("acme", level=2, scopes=("stream_cast:scenes:manage",))
    res, ex = await run(db, scene_transition, c, {"channelId": "c1", "sceneId": "intro"})
    assert isinstance(res, JsonResult) and res.status == 200
    assert (
        isinstance(res.body, dict)
        and res.body["sceneId"] == "intro"
        and res.body["timestamp"].endswith("Z")
    )
    assert [(e.channel, e.event) for e in ex.events] == [("stream:c1", "scene_changed")]
    assert (
        await db.fetch_val(
            "SELECT active_scene_id FROM stream_channel WHERE id='c1' AND tenant_id='acme'"
        )
        == "intro"
    )
    assert await db.fetch_val("SELECT active_scene_id FROM stream_channel WHERE id='g1'") is None
    with pytest.raises(NotFound) as nf:  # the lookup is fused into the update; the 404 stays
        await run(db, scene_transition, c, {"channelId": "nope", "sceneId": "intro"})
    assert nf.value.body() == {"error": "Channel not found", "code": "CHANNEL_NOT_FOUND"}


async def test_viewer_count_fans_out_over_live_channels(db: Db) -> None:
    await run(db, subscribe, ctx("acme"), {"channelId": "c1"})
    res, ex = await run(db, viewer_count, ctx("acme", level=None), {})
    assert res == OkResult(1)
    (event,) = ex.events
    assert event.event == "viewer_count_updated" and isinstance(event.data, dict)
    assert event.data["viewerCount"] == 1 and event.data["liveTime"] > 0


async def test_unsubscribe(db: Db) -> None:
    await run(db, subscribe, ctx("acme"), {"channelId": "c1"})
    res, _ = await run(db, unsubscribe, ctx("acme"), {"channelId": "c1"})
    assert isinstance(res, JsonResult) and isinstance(res.body, dict) and res.body["ok"] is True
    assert await db.fetch_val("SELECT COUNT(*) FROM stream_subscription") == 0


async def test_unsubscribe_releases_the_row_the_stream_is_held_by(db: Db) -> None:
    sub, _ = await run(db, subscribe, ctx("acme"), {"channelId": "c1"})
    assert isinstance(sub, StreamResult) and isinstance(sub.on_connect, dict)
    assert sub.held_by == ("stream_subscription", sub.on_connect["subscriptionId"])
    _, ex = await run(db, unsubscribe, ctx("acme"), {"channelId": "c1"})
    assert ex.releases == [("stream_subscription", sub.on_connect["subscriptionId"])]


async def test_subscription_limit_per_user(db: Db) -> None:
    """staticData.maxSubscriptionsPerUser (100): the 101st channel is refused with 409, and
    subscribing again to a channel already held still succeeds at the limit."""
    for i in range(100):
        await db.execute(
            "INSERT INTO stream_subscription (id, channel_id, user_id, tenant_id, subscribed_at) "
            "VALUES (:i, :c, 'u1', 'acme', '2026-01-22T00:00:00.000Z')",
            {"i": f"s{i}", "c": "c1" if i == 0 else f"other{i}"},
        )
    again, _ = await run(db, subscribe, ctx("acme"), {"channelId": "c1"})
    assert isinstance(again, StreamResult)
    with pytest.raises(Conflict) as limit:
        await run(db, subscribe, ctx("acme"), {"channelId": "c2"})
    assert limit.value.status == 409
    assert limit.value.body()["code"] == "SUBSCRIPTION_LIMIT_REACHED"
    assert limit.value.body()["limit"] == 100
    assert await db.fetch_val("SELECT COUNT(*) FROM stream_subscription") == 100
    # Another user of the same tenant, and the same user in another tenant, are not limited.
    other = ctx("acme", level=2)
    assert isinstance((await run(db, subscribe, other, {"channelId": "c2"}))[0], StreamResult)


class FailingCount(DatabaseExecution):
    """Fails the viewer count of one channel, as a broken query would."""

    async def fetch_one(self, sql, params):
        if "COUNT(*)" in sql and params.get("f_channel_id") == "c1":
            raise RuntimeError("count failed")
        return await super().fetch_one(sql, params)


async def test_error_handler_log_records_the_failed_step_and_goes_on(db: Db) -> None:
    await db.execute(
        "INSERT INTO stream_channel (id, tenant_id, name, is_live, started_at) "
        "VALUES ('c3', 'acme', 'c3', TRUE, '2026-01-22T00:00:00.000Z')"
    )
    assert viewer_count.WORKFLOW.settings.error_handler == "log"
    async with db.store.transaction(writes=False) as conn:
        ex = FailingCount(conn, ctx("acme", level=None))
        res = await viewer_count.run(ex, viewer_count.parse_input({}))
    assert res == OkResult(1)  # c1 failed, c3 went on
    assert [e.data["channelId"] for e in ex.events] == ["c3"]  # type: ignore[index]
    assert ex.failures == [("update_viewer_counts.count_viewers", "RuntimeError: count failed")]
    assert [n for n, _ in ex.steps][:2] == [
        "fetch_active_streams",
        "update_viewer_counts.count_viewers",
    ]
