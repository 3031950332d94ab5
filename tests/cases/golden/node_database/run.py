"""metabuilder.database: one operation, always filtered by the context tenant; another
tenant's row is the same 404 as a missing one."""

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
    await seed(h, "node_database_item")
    status, body = await h.run("get_item", {"itemId": "i1"})
    assert status == 200 and body["name"] == "alpha" and body["tenantId"] == "acme", body
    missing = (404, {"error": "Item not found", "code": "ITEM_NOT_FOUND"})
    assert await h.run("get_item", {"itemId": "nope"}) == missing
    assert await h.run("get_item", {"itemId": "i4"}) == missing  # globex's row
