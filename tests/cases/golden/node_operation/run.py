"""metabuilder.operation: two tasks on the execution's connection, each output read through
$steps.<node>.tasks.<task>."""

from __future__ import annotations

from tests.golden_harness import Harness


async def seed(h: Harness, table: str) -> None:
    rows = [
        ("i1", "acme", "alpha", "g1", 1),
        ("i2", "acme", "beta", "g1", 2),
        ("i3", "acme", "gamma", "g2", 3),
        ("i4", "globex", "delta", "g1", 4),
    ]
    for id_, tenant, name, group, qty in rows:
        await h.sql(
            f"INSERT INTO {table} (id, tenant_id, name, group_name, qty, archived, created_at) "
            "VALUES (:i, :t, :n, :g, :q, 0, '2026-01-22T00:00:00.000Z')",
            {"i": id_, "t": tenant, "n": name, "g": group, "q": qty},
        )


async def check(h: Harness) -> None:
    await seed(h, "node_operation_item")
    assert await h.run("summary", {"group": "g1", "firstId": "i2"}) == (
        200,
        {"count": 2, "first": "beta"},
    )
    status, body = await h.run("summary", {"group": "g1", "firstId": "i4"})
    assert (status, body["code"]) == (404, "ITEM_NOT_FOUND"), body
