"""database_aggregate: count, sum, avg, min and max over the tenant's matching rows, per
group (one object each, in the group's order) or in all (one object)."""

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
    await seed(h, "op_aggregate_item")
    status, body = await h.run("stats", {"min": "2"})
    assert status == 200
    assert body == {
        "groups": [
            {"group": "g1", "count": 1, "total": 2, "mean": 2},
            {"group": "g2", "count": 1, "total": 3, "mean": 3},
        ],
        "overall": {"count": 3, "top": 3},
        "groupCount": 2,
    }
    status, body = await h.run("stats", {}, h.ctx(tenant="initech"))
    assert body == {"groups": [], "overall": {"count": 0, "top": None}, "groupCount": 0}
