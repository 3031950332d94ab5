"""database_delete_many: deletes every row of the tenant that matches (the output is how
many); none is not a 404."""

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
    await seed(h, "op_delete_many_item")
    assert await h.run("purge", {"below": 3}) == (200, {"deleted": 2})
    assert await h.run("purge", {"below": 3}) == (200, {"deleted": 0})
    left = await h.rows("SELECT id FROM op_delete_many_item ORDER BY id")
    assert [r["id"] for r in left] == ["i3", "i4"]  # globex's i4 (qty 4) was never a candidate
