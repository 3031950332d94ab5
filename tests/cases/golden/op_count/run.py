"""database_count: how many rows of the tenant match (a number)."""

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
    await seed(h, "op_count_item")
    assert await h.run("size", {"group": "g1"}) == (200, {"size": 2, "big": True})
    assert await h.run("size", {"group": "g1"}, h.ctx(tenant="globex")) == (
        200,
        {"size": 1, "big": False},
    )
    assert await h.run("size", {"group": "none"}) == (200, {"size": 0, "big": False})
