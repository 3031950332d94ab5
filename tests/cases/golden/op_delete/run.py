"""database_delete: by a unique key one row (404 when missing); by another filter every
match (the output is how many)."""

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
            "VALUES (:i, :t, :n, :g, :q, FALSE, '2026-01-22T00:00:00.000Z')",
            {"i": id_, "t": tenant, "n": name, "g": group, "q": qty},
        )


async def check(h: Harness) -> None:
    await seed(h, "op_delete_item")
    assert await h.run("remove", {"itemId": "i3"}) == (200, {"removed": "i3"})
    status, body = await h.run("remove", {"itemId": "i3"})
    assert (status, body["code"]) == (404, "ITEM_NOT_FOUND")
    assert (await h.run("remove", {"itemId": "i4"}))[0] == 404  # globex's row stays
    assert await h.run("clear_group", {"group": "g1"}) == (200, {"removed": 2})
    rows = await h.rows("SELECT id FROM op_delete_item")
    assert [r["id"] for r in rows] == ["i4"]
